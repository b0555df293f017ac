"""Pipelines, their ordered stages, and the history of stage moves."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from leadbase.db.base import Base, TenantOwned, UserData

PIPELINE_KINDS = ("lead", "deal")
STAGE_CATEGORIES = ("open", "won", "lost")

LIVE = text("deleted_at IS NULL")


class Pipeline(Base, TenantOwned, UserData):
    """A lead or deal pipeline. Every workspace has one default pipeline of each kind."""

    __tablename__ = "pipelines"
    __table_args__ = (
        CheckConstraint("kind IN ('lead', 'deal')", name="kind"),
        Index("ix_pipelines_tenant_kind", "tenant_id", "kind", "position",
              postgresql_where=LIVE),
        Index("uq_pipelines_tenant_default", "tenant_id", "kind", unique=True,
              postgresql_where=text("is_default AND deleted_at IS NULL")),
    )

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    is_default: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    position: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")


class Stage(Base, TenantOwned, UserData):
    """An ordered stage of a pipeline; ``code`` is stable (profiles and rules name it)."""

    __tablename__ = "pipeline_stages"
    __table_args__ = (
        CheckConstraint("category IN ('open', 'won', 'lost')", name="category"),
        CheckConstraint("probability BETWEEN 0 AND 100", name="probability"),
        Index("ix_pipeline_stages_tenant_pipeline", "tenant_id", "pipeline_id", "position",
              postgresql_where=LIVE),
        Index("uq_pipeline_stages_tenant_code", "tenant_id", "pipeline_id", "code",
              unique=True, postgresql_where=LIVE),
    )

    pipeline_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("pipelines.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    probability: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default="0")
    category: Mapped[str] = mapped_column(String(8), nullable=False, server_default="open")
    rot_days: Mapped[int | None] = mapped_column(Integer)


class StageChange(Base, TenantOwned):
    """One move of a lead between stages (``from_stage_id`` NULL: it entered its first)."""

    __tablename__ = "stage_changes"
    __table_args__ = (
        Index("ix_stage_changes_tenant_lead", "tenant_id", "lead_id",
              text("changed_at DESC"), text("id DESC")),
        Index("ix_stage_changes_tenant_pipeline", "tenant_id", "pipeline_id", "changed_at"),
        Index("ix_stage_changes_tenant_to", "tenant_id", "to_stage_id", "changed_at"),
        # The metrics' exact medians read it alone (an index-only scan).
        Index("ix_stage_changes_tenant_from", "tenant_id", "from_stage_id", "changed_at",
              postgresql_include=["seconds_in_previous"]),
    )

    lead_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("leads.id", ondelete="CASCADE"), nullable=False
    )
    pipeline_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("pipelines.id", ondelete="CASCADE"), nullable=False
    )
    from_stage_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("pipeline_stages.id", ondelete="SET NULL")
    )
    to_stage_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("pipeline_stages.id", ondelete="CASCADE"), nullable=False
    )
    changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=text("now()")
    )
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )
    reason: Mapped[str | None] = mapped_column(Text)
    # Seconds the lead spent in ``from_stage_id`` before this move (NULL for the first).
    seconds_in_previous: Mapped[int | None] = mapped_column(BigInteger)
    # When the lead later reached a stage of a higher position in this pipeline (the
    # metrics' stage-to-stage conversion); NULL while it has not.
    advanced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StageCount(Base):
    """Live leads per (stage, owner), in shard rows summed on read; kept exact by the
    ``lb_stage_counts_*`` statement triggers on ``leads`` (migration 0016)."""

    __tablename__ = "pipeline_stage_counts"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    stage_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("pipeline_stages.id", ondelete="CASCADE"),
        primary_key=True)
    owner_key: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    leads: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")


class StageDay(Base):
    """Per-day statistics of a stage (entries, exits with their time in stage and its
    histogram, conversions of that day's entries), in shard rows summed on read."""

    __tablename__ = "pipeline_stage_days"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    stage_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("pipeline_stages.id", ondelete="CASCADE"),
        primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    entered: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    exited: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    exited_seconds: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    converted: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    hist: Mapped[list[int]] = mapped_column(ARRAY(Integer), nullable=False,
                                            server_default="{}")


class StageMonth(Base):
    """A closed month's exits of a stage and their time-in-stage histogram (the sum of its
    days' rows), folded by the ``fold_stage_months`` job so that metrics over long periods
    read a row a month instead of a row a day and shard (migration 0020). Exits are only
    ever written to the day of the move, so a closed month's figures do not change."""

    __tablename__ = "pipeline_stage_months"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    stage_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("pipeline_stages.id", ondelete="CASCADE"),
        primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    exited: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    hist: Mapped[list[int]] = mapped_column(ARRAY(Integer), nullable=False,
                                            server_default="{}")
