"""Auto-advance after the events that can change a lead: an outbox handler queues one job
per lead whose stage has enabled rules, and the job evaluates and moves it in its own
transaction (the drain's batch transaction never holds a lead's stage counters).

Handled: ``lead.created``, ``lead.updated``, ``lead.stage_changed`` (not those of an
auto-advance move: the chain ends there), ``activity.created``/``activity.updated`` and
``task.created``/``task.updated`` (rules count activities and tasks). A lead changed
several times before its job runs is evaluated once (``queueing_lock`` per lead), on its
state when the job runs. Registered by importing this module (``leadbase.worker.app``
does; so does anything that drains the outbox in-process with the worker's handlers)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import procrastinate
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.auth.context import system_context
from leadbase.events import handlers
from leadbase.kit.errors import NotFound
from leadbase.kit.ids import parse_uuid
from leadbase.pipelines.advance import evaluate, repository
from leadbase.worker.defer import defer
from leadbase.worker.runtime import get_runtime

log = logging.getLogger(__name__)

blueprint = procrastinate.Blueprint()
QUEUE = "advance"
TASK = "auto_advance_lead"
EVENTS = ("lead.created", "lead.updated", "lead.stage_changed", "activity.created",
          "activity.updated", "task.created", "task.updated")


def lead_of(event: dict[str, Any]) -> uuid.UUID | None:
    """The lead an event is about, or None when it starts no evaluation (the move of an
    auto-advance rule, a task about no lead)."""
    kind, payload = event["type"], event.get("payload") or {}
    if kind.startswith("lead."):
        if kind == "lead.stage_changed" and payload.get("auto_advance"):
            return None  # the chain ends with the move a rule made
        entity: Any = event.get("entity_id")
        return entity if isinstance(entity, uuid.UUID) else parse_uuid(str(entity))
    inner = payload.get("activity") or payload.get("task") or payload
    lead_id = inner.get("lead_id") if isinstance(inner, dict) else None
    return parse_uuid(str(lead_id)) if lead_id else None


async def queue_evaluation(session: AsyncSession, event: dict[str, Any]) -> None:
    """Outbox handler: queue the lead's evaluation when its stage has enabled rules."""
    lead_id = lead_of(event)
    if lead_id is None:
        return
    tenant_id = event["tenant_id"]
    if not await repository.lead_has_rules(session, tenant_id=tenant_id, lead_id=lead_id):
        return
    await defer(session, TASK, queue=QUEUE, queueing_lock=f"{TASK}:{lead_id}",
                tenant_id=str(tenant_id), lead_id=str(lead_id))


for _event in EVENTS:
    handlers.on(_event)(queue_evaluation)


async def run(tenant_id: uuid.UUID, lead_id: uuid.UUID) -> str:
    """Evaluate one lead as the platform (no actor: the stage change names the rule)."""
    async with get_runtime().db.transaction(tenant_id) as session:
        try:
            result = await evaluate.auto_advance(session, ctx=system_context(tenant_id),
                                                 lead_id=lead_id, dry_run=False)
        except NotFound:
            return "missing"  # deleted since the event
    if result["moved"]:
        fired = result["fired"]
        log.info("auto-advance: lead %s moved to %s by '%s'", lead_id,
                 fired["target_stage"], fired["name"])
        return "moved"
    return "stayed"


@blueprint.task(name=TASK, queue=QUEUE,
                retry=procrastinate.RetryStrategy(max_attempts=3, wait=5))
async def auto_advance_lead(tenant_id: str, lead_id: str) -> str:
    """Evaluate a lead's auto-advance rules and make the move of the one that fires. Each
    run reads the lead as it is then; a failed run leaves nothing (one transaction)."""
    return await run(uuid.UUID(tenant_id), uuid.UUID(lead_id))
