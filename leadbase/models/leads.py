"""Leads and lead lists."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from leadbase.db.base import Base, TenantOwned, UserData

LEAD_STATUSES = ("new", "contacted", "qualified", "unqualified", "converted", "lost")
TEMPERATURES = ("hot", "warm", "cold")

LIVE = text("deleted_at IS NULL")
# A lead still being worked (counts toward its owner's capacity).
CLOSED_STATUSES = ("converted", "lost", "unqualified")
OPEN_SQL = ("deleted_at IS NULL AND status NOT IN ('converted', 'lost', 'unqualified') "
            "AND owner_id IS NOT NULL")


class LeadList(Base, TenantOwned, UserData):
    """A named set of leads with its own field schema. Every workspace has a default one."""

    __tablename__ = "lead_lists"
    __table_args__ = (
        Index("uq_lead_lists_tenant_number", "tenant_id", "number", unique=True),
        Index(
            "uq_lead_lists_tenant_default",
            "tenant_id",
            unique=True,
            postgresql_where=text("is_default AND deleted_at IS NULL"),
        ),
    )

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    is_default: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    # Bumped by every change to the list's field schema: the key of compiled-schema caches.
    schema_version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")


SEARCH_TEXT = (
    "lb_search_text(first_name, last_name, email, phone, company)"
)


class Lead(Base, TenantOwned, UserData):
    __tablename__ = "leads"
    __table_args__ = (
        Index("uq_leads_tenant_number", "tenant_id", "number", unique=True),
        Index(
            "ix_leads_tenant_created",
            "tenant_id",
            text("created_at DESC"),
            text("id DESC"),
            postgresql_where=LIVE,
        ),
        Index(
            "ix_leads_tenant_updated",
            "tenant_id",
            text("updated_at DESC"),
            text("id DESC"),
            postgresql_where=LIVE,
        ),
        Index(
            "ix_leads_tenant_status_created",
            "tenant_id",
            "status",
            text("created_at DESC"),
            text("id DESC"),
            postgresql_where=LIVE,
        ),
        Index(
            "ix_leads_tenant_owner_created",
            "tenant_id",
            "owner_id",
            text("created_at DESC"),
            text("id DESC"),
            postgresql_where=LIVE,
        ),
        Index("ix_leads_tenant_email", "tenant_id", "email", postgresql_where=LIVE),
        Index("ix_leads_tenant_list", "tenant_id", "list_id", postgresql_where=LIVE),
        Index("ix_leads_tenant_phone", "tenant_id", "phone", postgresql_where=LIVE),
        Index(
            "ix_leads_tenant_score",
            "tenant_id",
            text("score DESC"),
            text("id DESC"),
            postgresql_where=LIVE,
        ),
        Index(
            "ix_leads_tenant_tags",
            "tenant_id",
            "tags",
            postgresql_using="gin",
            postgresql_where=LIVE,
        ),
        Index(
            "ix_leads_tenant_search",
            "tenant_id",
            text("search_text gin_trgm_ops"),
            postgresql_using="gin",
            postgresql_where=LIVE,
        ),
        Index(
            "ix_leads_tenant_fields",
            "tenant_id",
            text("fields jsonb_path_ops"),
            postgresql_using="gin",
            postgresql_where=LIVE,
        ),
        Index(
            "ix_leads_tenant_stage_created",
            "tenant_id",
            "stage_id",
            text("created_at DESC"),
            text("id DESC"),
            postgresql_where=LIVE,
        ),
        # Open leads per owner: the load that assignment's capacities and least_loaded
        # count (leadbase.assignment).
        Index("ix_leads_tenant_owner_open", "tenant_id", "owner_id",
              postgresql_where=text(OPEN_SQL)),
        Index("ix_leads_tenant_deleted", "tenant_id", "deleted_at",
              postgresql_where=text("deleted_at IS NOT NULL")),
        Index("ix_leads_tenant_customer", "tenant_id", "customer_id",
              postgresql_where=text("customer_id IS NOT NULL")),
        Index("ix_leads_tenant_merged_into", "tenant_id", "merged_into_id",
              postgresql_where=text("merged_into_id IS NOT NULL")),
        # Duplicate candidates and scans (migration 0025, leadbase.duplicates).
        Index("ix_leads_tenant_email_key", "tenant_id", text("lb_email_key(email)"),
              postgresql_where=text("deleted_at IS NULL AND email IS NOT NULL")),
        Index("ix_leads_tenant_name_key", "tenant_id",
              text("lb_name_key(first_name, last_name)"),
              postgresql_where=text("deleted_at IS NULL AND (first_name IS NOT NULL "
                                    "OR last_name IS NOT NULL)")),
        Index("ix_leads_tenant_domain_last", "tenant_id",
              text("lb_domain_last(email, last_name)"),
              postgresql_where=text("deleted_at IS NULL AND email IS NOT NULL "
                                    "AND last_name IS NOT NULL")),
    )

    list_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("lead_lists.id", ondelete="RESTRICT"), nullable=False
    )
    first_name: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(32))
    company: Mapped[str | None] = mapped_column(String(300))
    job_title: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default="new")
    pipeline_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("pipelines.id", ondelete="RESTRICT")
    )
    stage_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("pipeline_stages.id", ondelete="RESTRICT")
    )
    stage_entered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    score: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default="0")
    score_breakdown: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default="{}"
    )
    temperature: Mapped[str] = mapped_column(String(8), nullable=False, server_default="cold")
    owner_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    notes: Mapped[str | None] = mapped_column(Text)
    fields: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, nullable=False, server_default="{}"
    )
    do_not_contact: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("false")
    )
    consent: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    timezone: Mapped[str | None] = mapped_column(String(64))
    country: Mapped[str | None] = mapped_column(String(2))
    last_contacted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_activity_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    search_text: Mapped[str] = mapped_column(Text, Computed(SEARCH_TEXT, persisted=True))
    # Qualification and conversion (migration 0021): the customer it was converted into,
    # when, and the reason of the last unqualify (kept for reports).
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("customers.id", ondelete="SET NULL"))
    converted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    qualified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unqualified_reason: Mapped[str | None] = mapped_column(Text)
    # A lead merged into another (kept, hidden, for the unmerge window).
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("leads.id", ondelete="SET NULL"))
    merged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The opportunity its conversion created (migration 0023): a repeated convert
    # answers the first result.
    converted_opportunity_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("opportunities.id", ondelete="SET NULL"))
