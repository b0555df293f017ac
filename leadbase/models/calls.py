"""The dialer: voice agents, the dial queue, calls, their provider events and the
workspace's do-not-call list (migration 0026, ``leadbase.calls``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from leadbase.db.base import Base, TenantOwned, UserData

PROVIDERS = ("vapi", "bland", "simulator")
TASK_STATUSES = ("new", "in_progress", "done")
DISPOSITIONS = ("completed", "no_answer", "not_interested", "hung_up", "busy", "voicemail",
                "failed", "do_not_call")
CALL_STATUSES = ("queued", "initiated", "ringing", "in_progress", "completed", "failed")
OPEN_CALL = text("status NOT IN ('completed', 'failed')")
LIVE = text("deleted_at IS NULL")
# A task the scheduler may claim: not done, not deleted, no call in flight.
CLAIMABLE = text("status <> 'done' AND deleted_at IS NULL AND active_call_id IS NULL")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class CallAgent(Base, TenantOwned, UserData):
    """A voice agent: which provider calls, with which settings (``settings`` plain,
    ``secrets`` a Fernet token of a JSON object, never answered back), when (business
    hours per weekday in ``timezone``), how often (attempts, retry delays) and how many
    at once. ``webhook_secret`` (Fernet) checks the provider's webhooks."""

    __tablename__ = "call_agents"
    __table_args__ = (
        CheckConstraint(_in("provider", PROVIDERS), name="provider"),
        CheckConstraint("max_attempts BETWEEN 1 AND 20", name="max_attempts"),
        CheckConstraint("max_concurrent_calls BETWEEN 1 AND 1000", name="concurrency"),
        Index("ix_call_agents_tenant_created", "tenant_id", text("created_at DESC"),
              text("id DESC"), postgresql_where=LIVE),
        Index("uq_call_agents_tenant_name", "tenant_id", text("lower(name)"), unique=True,
              postgresql_where=LIVE),
    )

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    provider: Mapped[str] = mapped_column(String(16), nullable=False)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False,
                                                     server_default="{}")
    secrets: Mapped[str | None] = mapped_column(Text)
    secret_keys: Mapped[list[str]] = mapped_column(JSONB, nullable=False, server_default="[]")
    webhook_secret: Mapped[str] = mapped_column(Text, nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    business_hours: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False,
                                                           server_default="{}")
    max_attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="3")
    retry_delay_minutes: Mapped[int] = mapped_column(Integer, nullable=False,
                                                     server_default="60")
    retry_delays: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False,
                                                         server_default="{}")
    max_concurrent_calls: Mapped[int] = mapped_column(Integer, nullable=False,
                                                      server_default="1")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    enqueue_on_lead_create: Mapped[bool] = mapped_column(Boolean, nullable=False,
                                                         server_default=text("false"))


class DialTask(Base, TenantOwned, UserData):
    """A lead queued for calling by an agent (one live task per agent and lead).
    ``next_attempt_at`` is when it is due; ``active_call_id`` the call in flight (the
    scheduler claims only tasks without one)."""

    __tablename__ = "dial_tasks"
    __table_args__ = (
        CheckConstraint(_in("status", TASK_STATUSES), name="status"),
        CheckConstraint("disposition IS NULL OR " + _in("disposition", DISPOSITIONS),
                        name="disposition"),
        Index("uq_dial_tasks_tenant_agent_lead", "tenant_id", "agent_id", "lead_id",
              unique=True, postgresql_where=LIVE),
        # The scheduler's claim: due tasks of an agent, oldest first.
        Index("ix_dial_tasks_tenant_agent_due", "tenant_id", "agent_id", "next_attempt_at",
              "id", postgresql_where=CLAIMABLE),
        Index("ix_dial_tasks_tenant_created", "tenant_id", text("created_at DESC"),
              text("id DESC"), postgresql_where=LIVE),
        Index("ix_dial_tasks_tenant_lead", "tenant_id", "lead_id", postgresql_where=LIVE),
    )

    agent_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("call_agents.id", ondelete="CASCADE"), nullable=False)
    lead_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("leads.id", ondelete="CASCADE"), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="new")
    disposition: Mapped[str | None] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                      server_default=func.now())
    last_outcome: Mapped[str | None] = mapped_column(String(32))
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    active_call_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    source: Mapped[str] = mapped_column(String(16), nullable=False, server_default="api")


class Call(Base, TenantOwned):
    """One provider call of a dial task. ``status`` only moves forward
    (``providers.voice.base.STATUS_ORDER``); ``callee_timezone`` is the zone its legal
    hours were checked in (metrics by hour of day, callee local)."""

    __tablename__ = "calls"
    __table_args__ = (
        CheckConstraint(_in("status", CALL_STATUSES), name="status"),
        Index("ix_calls_tenant_created", "tenant_id", text("created_at DESC"),
              text("id DESC")),
        Index("ix_calls_tenant_agent_created", "tenant_id", "agent_id",
              text("created_at DESC"), text("id DESC")),
        Index("ix_calls_tenant_open", "tenant_id", "agent_id", "queued_at",
              postgresql_where=OPEN_CALL),
        Index("ix_calls_tenant_task", "tenant_id", "dial_task_id"),
        Index("ix_calls_tenant_lead", "tenant_id", "lead_id"),
        Index("uq_calls_tenant_provider_external", "tenant_id", "provider", "external_id",
              unique=True, postgresql_where=text("external_id IS NOT NULL")),
    )

    agent_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("call_agents.id", ondelete="CASCADE"), nullable=False)
    lead_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("leads.id", ondelete="CASCADE"), nullable=False)
    dial_task_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("dial_tasks.id", ondelete="SET NULL"))
    provider: Mapped[str] = mapped_column(String(16), nullable=False)
    external_id: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="queued")
    outcome: Mapped[str | None] = mapped_column(String(32))
    attempt: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    to_number: Mapped[str] = mapped_column(String(32), nullable=False)
    callee_timezone: Mapped[str | None] = mapped_column(String(64))
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    transcript: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    recording_url: Mapped[str | None] = mapped_column(Text)
    cost: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    error: Mapped[str | None] = mapped_column(Text)
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                server_default=func.now())
    placed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    activity_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))


class CallEventRow(Base):
    """A provider event as received (``event_key`` unique per workspace and provider: the
    same event five times is one row); ``processed_at`` once applied to its call."""

    __tablename__ = "call_events"
    __table_args__ = (
        Index("uq_call_events_tenant_key", "tenant_id", "provider", "event_key", unique=True),
        Index("ix_call_events_tenant_call", "tenant_id", "call_id", "occurred_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False)
    call_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("calls.id", ondelete="CASCADE"), nullable=False)
    provider: Mapped[str] = mapped_column(String(16), nullable=False)
    event_key: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                  server_default=func.now())
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DncNumber(Base, TenantOwned):
    """A number of the workspace's do-not-call list (E.164)."""

    __tablename__ = "dnc_numbers"
    __table_args__ = (
        Index("uq_dnc_numbers_tenant_phone", "tenant_id", "phone", unique=True),
        Index("ix_dnc_numbers_tenant_created", "tenant_id", text("created_at DESC"),
              text("id DESC")),
    )

    phone: Mapped[str] = mapped_column(String(32), nullable=False)
    reason: Mapped[str | None] = mapped_column(String(500))
