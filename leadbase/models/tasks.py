"""Tasks: ordered action items about a lead and optionally a listing."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    FetchedValue,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from leadbase.db.base import Base, TenantOwned, UserData

TASK_STATUSES = ("open", "completed", "not_needed", "cancelled")
TASK_PRIORITIES = ("low", "normal", "high", "urgent")

LIVE = text("deleted_at IS NULL")
# q= over title and tag and the lead's search_text (names, email, phone, company), all
# lower-cased and unaccented: kept by triggers (migration 0020), since a generated column
# cannot read the lead.


class Task(Base, TenantOwned, UserData):
    """``position`` is a fractional rank: moving one task between two others writes that one
    row (the midpoint of its neighbours)."""

    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'completed', 'not_needed', 'cancelled')",
                        name="status"),
        Index("ix_tasks_tenant_position", "tenant_id", "position", "id", postgresql_where=LIVE),
        Index("ix_tasks_tenant_listing_position", "tenant_id", "listing_id", "position", "id",
              postgresql_where=LIVE),
        Index("ix_tasks_tenant_lead_position", "tenant_id", "lead_id", "position", "id",
              postgresql_where=LIVE),
        # A lead's deleted tasks (their search_text follows a rename of the lead).
        Index("ix_tasks_tenant_lead_deleted", "tenant_id", "lead_id",
              postgresql_where=text("deleted_at IS NOT NULL")),
        Index("ix_tasks_tenant_assignee_due", "tenant_id", "assignee_id", "status", "due_at",
              postgresql_where=LIVE),
        Index("ix_tasks_tenant_status_due", "tenant_id", "status", "due_at",
              postgresql_where=LIVE),
        Index("ix_tasks_tenant_search", "tenant_id", text("search_text gin_trgm_ops"),
              postgresql_using="gin", postgresql_where=LIVE),
        Index("ix_tasks_tenant_due", "tenant_id", "due_at", "id", postgresql_where=LIVE),
        Index("ix_tasks_tenant_created", "tenant_id", text("created_at DESC"),
              text("id DESC"), postgresql_where=LIVE),
    )

    lead_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("leads.id", ondelete="CASCADE"), nullable=False
    )
    listing_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("listings.id", ondelete="SET NULL")
    )
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="open")
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    priority: Mapped[str] = mapped_column(String(8), nullable=False, server_default="normal")
    tag: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    position: Mapped[Decimal] = mapped_column(Numeric, nullable=False)
    # Free JSON (a profile's own fields of the task).
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSONB, nullable=False,
                                                     server_default="{}")
    search_text: Mapped[str] = mapped_column(Text, nullable=False,
                                             server_default=FetchedValue())
