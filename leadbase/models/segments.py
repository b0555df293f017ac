"""Segments (named saved rules over leads, or fixed member lists) and the auto-advance
rules of pipeline stages: both keep a condition of the rule language (leadbase.rules) as
normalised JSON, parsed again when used."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from leadbase.db.base import Base, TenantOwned, UserData

SEGMENT_KINDS = ("dynamic", "static")
LIVE = text("deleted_at IS NULL")


class Segment(Base, TenantOwned, UserData):
    """``dynamic``: ``condition`` is evaluated when the segment is used; ``static``: the
    members are the rows of ``segment_members``."""

    __tablename__ = "segments"
    __table_args__ = (
        CheckConstraint("kind IN ('dynamic', 'static')", name="kind"),
        CheckConstraint("(kind = 'dynamic') = (condition IS NOT NULL)", name="condition"),
        Index("uq_segments_tenant_name", "tenant_id", text("lower(name)"), unique=True,
              postgresql_where=LIVE),
    )

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    condition: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL"))


class SegmentMember(Base):
    """A lead of a static segment."""

    __tablename__ = "segment_members"
    __table_args__ = (
        PrimaryKeyConstraint("tenant_id", "segment_id", "lead_id"),
        Index("ix_segment_members_tenant_lead", "tenant_id", "lead_id"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False)
    segment_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("segments.id", ondelete="CASCADE"), nullable=False)
    lead_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("leads.id", ondelete="CASCADE"), nullable=False)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                               server_default=text("now()"))
    added_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL"))


class AdvanceRule(Base, TenantOwned, UserData):
    """A rule of a lead pipeline's stage: a lead in ``stage_id`` whose condition holds
    moves to ``target_stage_id`` (a stage of the same pipeline). A stage's rules are tried
    in ``position`` order; the first that matches fires."""

    __tablename__ = "stage_advance_rules"
    __table_args__ = (
        CheckConstraint("target_stage_id <> stage_id", name="target"),
        Index("ix_stage_advance_rules_tenant_stage", "tenant_id", "stage_id", "position",
              postgresql_where=LIVE),
    )

    pipeline_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("pipelines.id", ondelete="CASCADE"), nullable=False)
    stage_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("pipeline_stages.id", ondelete="CASCADE"),
        nullable=False)
    target_stage_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("pipeline_stages.id", ondelete="CASCADE"),
        nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    condition: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
