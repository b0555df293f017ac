"""Customers, opportunities (deals) and the history of their stage moves (migration 0021)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from leadbase.db.base import Base, TenantOwned, UserData

CUSTOMER_KINDS = ("company", "person")
OPPORTUNITY_STATUSES = ("open", "won", "lost")

LIVE = text("deleted_at IS NULL")


class Customer(Base, TenantOwned, UserData):
    """Who bought (or is buying): a company or a person. Its contacts are the leads
    converted into it (``leads.customer_id``). ``name_key`` (lower-cased, spaces folded)
    and ``email_domain`` are what conversion matches an existing customer by."""

    __tablename__ = "customers"
    __table_args__ = (
        CheckConstraint("kind IN ('company', 'person')", name="kind"),
        Index("ix_customers_tenant_created", "tenant_id", text("created_at DESC"),
              text("id DESC"), postgresql_where=LIVE),
        Index("ix_customers_tenant_name_key", "tenant_id", "name_key", postgresql_where=LIVE),
        Index("ix_customers_tenant_email_domain", "tenant_id", "email_domain",
              postgresql_where=LIVE),
        Index("ix_customers_tenant_owner", "tenant_id", "owner_id", text("created_at DESC"),
              postgresql_where=LIVE),
        # GET /customers?q= (migration 0023)
        Index("ix_customers_tenant_search", "tenant_id",
              text("(lower(name || ' ' || coalesce(email, ''))) gin_trgm_ops"),
              postgresql_using="gin", postgresql_where=LIVE),
    )

    kind: Mapped[str] = mapped_column(String(8), nullable=False, server_default="company")
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    name_key: Mapped[str] = mapped_column(String(300), nullable=False)
    email: Mapped[str | None] = mapped_column(String(320))
    email_domain: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(32))
    website: Mapped[str | None] = mapped_column(String(500))
    industry: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL"))
    notes: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, nullable=False, server_default="{}")


class Opportunity(Base, TenantOwned, UserData):
    """A deal in a deal pipeline. ``probability`` NULL: the stage's default applies.
    ``status`` follows the stage's category when it moves (open, won, lost); closing won
    records ``actual_value`` and ``close_date``, closing lost the reason, competitor and
    notes; reopening puts it back to ``open`` in an open stage."""

    __tablename__ = "opportunities"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'won', 'lost')", name="status"),
        CheckConstraint("probability IS NULL OR probability BETWEEN 0 AND 100",
                        name="probability"),
        CheckConstraint("value >= 0", name="value"),
        Index("ix_opportunities_tenant_created", "tenant_id", text("created_at DESC"),
              text("id DESC"), postgresql_where=LIVE),
        Index("ix_opportunities_tenant_stage", "tenant_id", "stage_id",
              text("created_at DESC"), text("id DESC"), postgresql_where=LIVE),
        Index("ix_opportunities_tenant_owner", "tenant_id", "owner_id",
              text("created_at DESC"), text("id DESC"), postgresql_where=LIVE),
        Index("ix_opportunities_tenant_close", "tenant_id", "expected_close_date",
              postgresql_where=text("deleted_at IS NULL AND status = 'open'")),
        Index("ix_opportunities_tenant_stale", "tenant_id", "last_activity_at",
              postgresql_where=text("deleted_at IS NULL AND status = 'open'")),
        Index("ix_opportunities_tenant_lead", "tenant_id", "lead_id", postgresql_where=LIVE),
        Index("ix_opportunities_tenant_lead_deleted", "tenant_id", "lead_id",
              postgresql_where=text("deleted_at IS NOT NULL")),  # merges (migration 0025)
        Index("ix_opportunities_tenant_customer", "tenant_id", "customer_id",
              postgresql_where=LIVE),
    )

    name: Mapped[str] = mapped_column(String(300), nullable=False)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("customers.id", ondelete="SET NULL"))
    lead_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("leads.id", ondelete="SET NULL"))
    pipeline_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("pipelines.id", ondelete="RESTRICT"), nullable=False)
    stage_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("pipeline_stages.id", ondelete="RESTRICT"),
        nullable=False)
    stage_entered_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=text("now()"))
    status: Mapped[str] = mapped_column(String(8), nullable=False, server_default="open")
    value: Mapped[Decimal] = mapped_column(Numeric(18, 2), nullable=False, server_default="0")
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    probability: Mapped[int | None] = mapped_column(SmallInteger)
    expected_close_date: Mapped[date | None] = mapped_column(Date)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL"))
    source: Mapped[str | None] = mapped_column(String(100))
    notes: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    close_date: Mapped[date | None] = mapped_column(Date)
    actual_value: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    lost_reason: Mapped[str | None] = mapped_column(Text)
    competitor: Mapped[str | None] = mapped_column(String(200))
    close_notes: Mapped[str | None] = mapped_column(Text)
    reopened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reopen_reason: Mapped[str | None] = mapped_column(Text)
    last_activity_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, nullable=False, server_default="{}")


class OpportunityStageChange(Base, TenantOwned):
    """One move of an opportunity between stages of its deal pipeline (``from_stage_id``
    NULL: it entered its first). Probability from history reads which closed deals passed
    a stage from here."""

    __tablename__ = "opportunity_stage_changes"
    __table_args__ = (
        Index("ix_opportunity_stage_changes_tenant_opp", "tenant_id", "opportunity_id",
              text("changed_at DESC"), text("id DESC")),
        Index("ix_opportunity_stage_changes_tenant_to", "tenant_id", "to_stage_id",
              "opportunity_id"),
    )

    opportunity_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("opportunities.id", ondelete="CASCADE"), nullable=False)
    pipeline_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("pipelines.id", ondelete="CASCADE"), nullable=False)
    from_stage_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("pipeline_stages.id", ondelete="SET NULL"))
    to_stage_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("pipeline_stages.id", ondelete="CASCADE"),
        nullable=False)
    changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=text("now()"))
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(Text)
    seconds_in_previous: Mapped[int | None] = mapped_column(BigInteger)
