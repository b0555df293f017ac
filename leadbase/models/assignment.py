"""Assignment: ordered rules, their round-robin state, and reassignment jobs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from leadbase.db.base import Base, TenantOwned
from leadbase.models.exports import JobState

STRATEGIES = ("round_robin", "weighted", "least_loaded", "territory", "specific_user")
JOB_KINDS = ("reassign_user", "new_leads")


class AssignmentRule(Base, TenantOwned):
    """One rule of the workspace's ordered list: the first enabled rule whose condition
    holds picks the owner. ``members`` is ``[{"user_id", "weight"}]``; ``territory`` is
    ``{"field", "entries": [{"values", "user_ids"}]}`` for the territory strategy."""

    __tablename__ = "assignment_rules"
    __table_args__ = (
        CheckConstraint(
            "strategy IN ('round_robin', 'weighted', 'least_loaded', 'territory', "
            "'specific_user')", name="strategy"),
        CheckConstraint("fallback IN ('unassigned', 'user')", name="fallback"),
        Index("ix_assignment_rules_tenant_position", "tenant_id", "position", "id"),
    )

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    condition: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    strategy: Mapped[str] = mapped_column(String(16), nullable=False)
    members: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False,
                                                          server_default="[]")
    territory: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    respect_working_hours: Mapped[bool] = mapped_column(Boolean, nullable=False,
                                                        server_default=text("true"))
    respect_capacity: Mapped[bool] = mapped_column(Boolean, nullable=False,
                                                   server_default=text("true"))
    fallback: Mapped[str] = mapped_column(String(12), nullable=False,
                                          server_default="unassigned")
    fallback_user_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")


class AssignmentState(Base):
    """Where a rule's rotation stands: the schedule slot of its last pick, per bucket
    (0 for round-robin and weighted rules, the entry's index for a territory's users).
    Updated by one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` per pick: the row
    lock serialises concurrent picks of one rule."""

    __tablename__ = "assignment_state"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    rule_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("assignment_rules.id", ondelete="CASCADE"),
        primary_key=True)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    picks: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                 server_default=func.now())


class AssignmentJob(Base, TenantOwned, JobState):
    """A background pass of the rules over many leads: all open leads of a user
    (``reassign_user``), or the new leads of an import (``new_leads``, listed in
    :class:`AssignmentJobLead`)."""

    __tablename__ = "assignment_jobs"
    __table_args__ = (
        CheckConstraint("kind IN ('reassign_user', 'new_leads')", name="kind"),
        Index("ix_assignment_jobs_tenant_created", "tenant_id", text("created_at DESC"),
              text("id DESC")),
    )

    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    import_job_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    reason: Mapped[str | None] = mapped_column(String(500))
    actor: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    total: Mapped[int | None] = mapped_column(BigInteger)
    processed: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    assigned: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    unassigned: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")


class AssignmentJobLead(Base):
    """A lead a ``new_leads`` job still has to assign (rows go as they are done)."""

    __tablename__ = "assignment_job_leads"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    job_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("assignment_jobs.id", ondelete="CASCADE"),
        primary_key=True)
    lead_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
