"""Activities: the entries of a lead's timeline (what people did, and what the system did)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from leadbase.db.base import Base, TenantOwned, UserData

LIVE = text("deleted_at IS NULL")


class Activity(Base, TenantOwned, UserData):
    """A typed timeline entry of a lead. ``type`` names a user type (call, email, meeting,
    note, task, demo, proposal, document, message) or a system one (stage_change,
    status_change, assignment, task_event, system); ``attributes`` holds the type's typed
    attributes, validated by ``leadbase.activities.types``. ``occurred_at`` orders the
    timeline: when it happened, or when it is scheduled for."""

    __tablename__ = "activities"
    __table_args__ = (
        Index("ix_activities_tenant_lead_time", "tenant_id", "lead_id",
              text("occurred_at DESC"), text("id DESC"), postgresql_where=LIVE),
        Index("ix_activities_tenant_author_time", "tenant_id", "author_user_id",
              text("occurred_at DESC"), text("id DESC"), postgresql_where=LIVE),
        Index("ix_activities_tenant_time", "tenant_id", text("occurred_at DESC"),
              text("id DESC"), postgresql_where=LIVE),
        Index("ix_activities_tenant_upcoming", "tenant_id", "author_user_id", "scheduled_for",
              postgresql_where=text(
                  "deleted_at IS NULL AND completed_at IS NULL AND scheduled_for IS NOT NULL")),
        Index("ix_activities_tenant_opportunity_time", "tenant_id", "opportunity_id",
              text("occurred_at DESC"), text("id DESC"),
              postgresql_where=text("deleted_at IS NULL AND opportunity_id IS NOT NULL")),
        # A merge moves a lead's deleted entries too (migration 0025).
        Index("ix_activities_tenant_lead_deleted", "tenant_id", "lead_id",
              postgresql_where=text("deleted_at IS NOT NULL")),
        CheckConstraint("lead_id IS NOT NULL OR opportunity_id IS NOT NULL",
                        name="lead_or_opportunity"),
    )

    # NULL only for an entry of an opportunity that came from no lead (migration 0021).
    lead_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("leads.id", ondelete="CASCADE")
    )
    type: Mapped[str] = mapped_column(String(32), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False,
                                                      server_default="{}")
    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=text("now()")
    )
    scheduled_for: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    author_user_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )
    task_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tasks.id", ondelete="SET NULL")
    )
    listing_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("listings.id", ondelete="SET NULL")
    )
    # The opportunity it is about (migration 0021); its lead's timeline shows it too.
    opportunity_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("opportunities.id", ondelete="SET NULL")
    )
