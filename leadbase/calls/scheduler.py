"""The scheduler: each minute it claims the due dial tasks of every active agent and
places what the law and the agent's concurrency allow.

One transaction per workspace. The workspace's active agents are locked ``FOR UPDATE
SKIP LOCKED`` (two workers never tick one agent at once, so its concurrency holds), and
each agent's due tasks are claimed ``FOR UPDATE SKIP LOCKED``, oldest first. A claimed
task is then, in this order:

- **closed** (done, ``do_not_call``) when its lead is marked do-not-contact or its number
  is on the workspace's do-not-call list; closed ``failed`` when its lead is gone or has
  no phone;
- **moved** to its next allowed minute (:func:`leadbase.calls.hours.next_allowed`) when
  now is outside the agent's business hours or 08:00-21:00 in the callee's zone;
- **started** while the agent has room: a ``calls`` row (queued), the task in progress
  with it, and a ``place_call`` job deferred in the same transaction.

The callee's zone is the lead's own ``timezone`` when set, else the one of its phone
number (phonenumbers), else the workspace's.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.calls import hours
from leadbase.calls.repository import tasks as repository
from leadbase.db import raw
from leadbase.db.session import Database
from leadbase.kit.contact import parse_phone
from leadbase.kit.errors import ValidationFailed
from leadbase.kit.ids import new_id
from leadbase.tenants import service as tenants_service
from leadbase.worker.defer import defer_many

log = logging.getLogger(__name__)

PLACE_JOB = "calls_place_call"
QUEUE = "calls"
# Tasks read per agent and tick beyond its free lines (those outside the window are moved
# on, so they never hold the queue up for long).
LOOKAHEAD = 200
NO_WINDOW_RETRY = timedelta(days=1)


@dataclass
class TickResult:
    placed: list[uuid.UUID] = field(default_factory=list)
    moved: int = 0
    closed: int = 0
    reasons: dict[uuid.UUID, str] = field(default_factory=dict)  # task -> why not placed


def callee_zone(lead_timezone: str | None, phone: str | None, fallback: str) -> str:
    """The zone the callee's legal hours are checked in."""
    if lead_timezone:
        try:
            hours.zone(lead_timezone)
            return lead_timezone
        except (ValueError, KeyError, OSError):
            pass
    if phone:
        try:
            found = parse_phone(phone, region="US").timezone
        except ValidationFailed:
            found = None
        if found:
            return found
    return fallback


async def claim_agent(session: AsyncSession, *, tenant_id: uuid.UUID, agent: dict[str, Any],
                      now: datetime, fallback_zone: str,
                      task_id: uuid.UUID | None = None) -> TickResult:
    """Claim and place the due tasks of one locked agent (``task_id``: that task only)."""
    result = TickResult()
    room = max(0, agent["max_concurrent_calls"] - agent["in_flight"])
    limit = 1 if task_id else room + LOOKAHEAD
    due = await repository.claim_due(session, tenant_id=tenant_id, agent_id=agent["id"],
                                     now=now, limit=limit, task_id=task_id)
    agent_hours = hours.parse_hours(agent["business_hours"] or {})
    blocked: list[uuid.UUID] = []
    unreachable: list[uuid.UUID] = []
    moved_ids: list[uuid.UUID] = []
    moved_at: list[datetime] = []
    starting: list[dict[str, Any]] = []
    for task in due:
        if task["do_not_contact"] or task["on_dnc"]:
            blocked.append(task["id"])
            result.reasons[task["id"]] = "do_not_call"
            continue
        if task["lead_gone"] or not task["phone"]:
            unreachable.append(task["id"])
            result.reasons[task["id"]] = "no_phone"
            continue
        zone = callee_zone(task["lead_timezone"], task["phone"], fallback_zone)
        if not hours.is_allowed(now, agent_hours, agent["timezone"], zone):
            try:
                allowed = hours.next_allowed(now, agent_hours, agent["timezone"], zone)
            except hours.NoWindow:
                allowed = hours.ceil_minute(now + NO_WINDOW_RETRY)
            moved_ids.append(task["id"])
            moved_at.append(allowed)
            result.reasons[task["id"]] = "outside_calling_hours"
            continue
        if len(starting) >= room:
            result.reasons[task["id"]] = "agent_busy"
            continue  # stays due: the next tick takes it
        starting.append({"id": new_id(), "task_id": task["id"], "lead_id": task["lead_id"],
                         "attempt": task["attempts"] + 1, "to_number": task["phone"],
                         "callee_timezone": zone})
    await repository.close_tasks(session, tenant_id=tenant_id, ids=blocked,
                                 disposition="do_not_call", outcome="do_not_call")
    await repository.close_tasks(session, tenant_id=tenant_id, ids=unreachable,
                                 disposition="failed", outcome="no_phone")
    await repository.move_tasks(session, tenant_id=tenant_id, ids=moved_ids, times=moved_at)
    await repository.start_calls(session, tenant_id=tenant_id, agent_id=agent["id"],
                                 provider=agent["provider"], calls=starting)
    await defer_many(session, PLACE_JOB, queue=QUEUE, jobs=[
        {"tenant_id": str(tenant_id), "call_id": str(c["id"])} for c in starting])
    result.placed = [c["id"] for c in starting]
    result.moved, result.closed = len(moved_ids), len(blocked) + len(unreachable)
    return result


async def tick_workspace(session: AsyncSession, *, tenant_id: uuid.UUID,
                         now: datetime) -> TickResult:
    """One tick of one workspace, in the caller's transaction."""
    total = TickResult()
    agents = await repository.lock_agents(session, tenant_id=tenant_id)
    if not agents:
        return total
    fallback = (await tenants_service.defaults(session, tenant_id=tenant_id)).timezone or "UTC"
    for agent in agents:
        found = await claim_agent(session, tenant_id=tenant_id, agent=agent, now=now,
                                  fallback_zone=fallback)
        total.placed += found.placed
        total.moved += found.moved
        total.closed += found.closed
    return total


async def tick(db: Database, *, now: datetime | None = None) -> TickResult:
    """One tick of every workspace that has an active agent (one transaction each)."""
    now = now or datetime.now(UTC)
    async with db.transaction(None, system=True) as session:
        tenants = [r["id"] for r in await raw.fetch_all(
            session, "SELECT id FROM tenants ORDER BY id", ())]
    total = TickResult()
    for tenant_id in tenants:
        async with db.transaction(tenant_id) as session:
            found = await tick_workspace(session, tenant_id=tenant_id, now=now)
        total.placed += found.placed
        total.moved += found.moved
        total.closed += found.closed
    if total.placed or total.moved or total.closed:
        log.info("dialer tick: %d placed, %d moved, %d closed", len(total.placed),
                 total.moved, total.closed)
    return total
