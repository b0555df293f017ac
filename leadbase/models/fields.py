"""The field schema: per list, field definitions and validation rules; per workspace,
sections and code lists."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from leadbase.db.base import Base, TenantOwned, UserData

FIELD_TYPES = ("STRING", "TEXT", "INT", "DECIMAL", "DATE", "DATETIME", "BOOL", "EMAIL",
               "PHONE", "URL", "SELECTOR", "CHECKBOX", "LEAD", "CALCULATED")
FIELD_SUBTYPES = ("SELECTOR_SINGLE", "SELECTOR_MULTIPLE", "CHECKBOX_SINGLE",
                  "CHECKBOX_MULTIPLE")
RULE_TYPES = ("REGEX", "MIN_LENGTH", "MAX_LENGTH", "MIN_VALUE", "MAX_VALUE", "MIN_DATE",
              "MAX_DATE", "ONE_OF", "CHECKSUM")


class FieldSection(Base, TenantOwned, UserData):
    """A group of fields on a form, the workspace's: fields of any list sit in it (each
    field keeps its own ``position``); sections are ordered by ``position``."""

    __tablename__ = "field_sections"
    __table_args__ = (
        Index("uq_field_sections_tenant_number", "tenant_id", "number", unique=True),
        Index("ix_field_sections_tenant_position", "tenant_id", "position"),
    )

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")


class CodeList(Base, TenantOwned, UserData):
    """A "nomenclator": a named list of codes that SELECTOR and CHECKBOX fields draw on."""

    __tablename__ = "code_lists"
    __table_args__ = (
        Index("uq_code_lists_tenant_number", "tenant_id", "number", unique=True),
        Index("ix_code_lists_tenant_name", "tenant_id", "name"),
    )

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)


class CodeListItem(Base, TenantOwned):
    __tablename__ = "code_list_items"
    __table_args__ = (
        Index("uq_code_list_items_tenant_number", "tenant_id", "number", unique=True),
        Index("uq_code_list_items_code", "tenant_id", "code_list_id", "code", unique=True),
    )

    code_list_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("code_lists.id", ondelete="CASCADE"), nullable=False
    )
    code: Mapped[str] = mapped_column(String(100), nullable=False)
    label: Mapped[str] = mapped_column(String(300), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")


class FieldDefinition(Base, TenantOwned):
    """One custom field of a list. ``code`` is the key in ``lead.fields``; ``active=false``
    is the soft delete (data kept) once the list has leads."""

    __tablename__ = "field_definitions"
    __table_args__ = (
        Index("uq_field_definitions_tenant_number", "tenant_id", "number", unique=True),
        Index("uq_field_definitions_code", "tenant_id", "list_id", func.lower(text("code")),
              unique=True),
        Index("ix_field_definitions_tenant_list", "tenant_id", "list_id", "position"),
        # Read by the lead_field_keys trigger on every lead write with custom values.
        Index("ix_field_definitions_primary", "tenant_id", "list_id",
              postgresql_where=text("is_primary AND active")),
    )

    list_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("lead_lists.id", ondelete="CASCADE"), nullable=False
    )
    section_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("field_sections.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    code: Mapped[str] = mapped_column(String(100), nullable=False)
    type: Mapped[str] = mapped_column(String(20), nullable=False)
    subtype: Mapped[str | None] = mapped_column(String(30))
    required: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    default_value: Mapped[Any] = mapped_column(JSONB, nullable=True)
    is_primary: Mapped[bool] = mapped_column(Boolean, nullable=False,
                                             server_default=text("false"))
    is_visible: Mapped[bool] = mapped_column(Boolean, nullable=False,
                                             server_default=text("true"))
    position: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    input_mask: Mapped[str | None] = mapped_column(String(100))
    code_list_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("code_lists.id", ondelete="RESTRICT")
    )
    related_list_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("lead_lists.id", ondelete="RESTRICT")
    )
    calculation_expression: Mapped[str | None] = mapped_column(Text)
    template_code: Mapped[str | None] = mapped_column(String(40))
    # An expression index on leads for sorting and ranges (built by a worker job).
    indexed: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")


class ValidationRule(Base, TenantOwned):
    __tablename__ = "validation_rules"
    __table_args__ = (
        Index("uq_validation_rules_tenant_number", "tenant_id", "number", unique=True),
        Index("ix_validation_rules_tenant_field", "tenant_id", "field_id", "position"),
    )

    field_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("field_definitions.id", ondelete="CASCADE"),
        nullable=False,
    )
    type: Mapped[str] = mapped_column(String(20), nullable=False)
    value: Mapped[Any] = mapped_column(JSONB, nullable=True)
    message: Mapped[str | None] = mapped_column(String(500))
    position: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")


class LeadFieldKey(Base):
    """A primary custom-field value held by a live lead: the UNIQUE key that makes primary
    values unique per list. Kept by triggers on ``leads`` (migration 0009), never written
    by the application; ``value`` is ``lb_field_key(fields ->> code)``."""

    __tablename__ = "lead_field_keys"
    __table_args__ = (Index("ix_lead_field_keys_lead", "tenant_id", "lead_id"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    list_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    code: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text, primary_key=True)
    lead_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
