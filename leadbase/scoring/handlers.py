"""The events after which a lead's score may change: each queues the lead for the
worker's rescore (one row per lead, so a burst of events is one rescore) and makes sure a
rescore job is queued for the workspace. The job takes the queue in batches: every event
of a drain, and those that arrive while it runs, are scored together, set-based. A
completed import queues a recalculation of the workspace."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.auth.context import system_context
from leadbase.db import raw
from leadbase.events.handlers import on
from leadbase.scoring import repository, service
from leadbase.scoring.predictive import service as predictive
from leadbase.worker.defer import defer

QUEUE = "scoring"
RESCORE_JOB = "scoring_rescore"
# What a lead.updated may change that no rule reads (the rule language's fields).
UNSCORED = frozenset({"notes", "metadata"})
EVENTS = ("lead.created", "lead.updated", "lead.stage_changed", "activity.created",
          "activity.updated", "activity.deleted", "task.created", "task.updated",
          "task.deleted",
          # The survivor of a merge got the merged leads' activities and tasks (and an
          # unmerge took them back): leadbase.duplicates.
          "lead.merged", "lead.unmerged")
_HAS_SCORING = ("SELECT EXISTS (SELECT 1 FROM scoring_models WHERE tenant_id = %(t)s) "
                "OR EXISTS (SELECT 1 FROM scoring_predictors WHERE tenant_id = %(t)s "
                "AND status = 'accepted')")


def lead_ids_of(event: dict[str, Any]) -> list[uuid.UUID]:
    """The leads an event is about."""
    payload = event["payload"] or {}
    if event["entity_type"] == "lead":
        if event["type"] == "lead.updated" and set(payload.get("changed") or ()) <= UNSCORED \
                and payload.get("changed"):
            return []
        return [event["entity_id"]] if event["entity_id"] else []
    found: list[str] = []
    for part in (payload, payload.get("activity"), payload.get("task")):
        if isinstance(part, dict) and part.get("lead_id"):
            found.append(str(part["lead_id"]))
    return sorted({uuid.UUID(i) for i in found})


async def queue_rescore(session: AsyncSession, event: dict[str, Any]) -> None:
    lead_ids = lead_ids_of(event)
    if not lead_ids:
        return
    tenant_id = event["tenant_id"]
    scoring = await raw.fetch_row(session, _HAS_SCORING, {"t": tenant_id})
    if not scoring or not scoring[0]:
        return
    await repository.enqueue(session, tenant_id=tenant_id, lead_ids=lead_ids)
    await defer(session, RESCORE_JOB, queue=QUEUE, queueing_lock=f"{RESCORE_JOB}:{tenant_id}",
                tenant_id=str(tenant_id))


for _event in EVENTS:
    on(_event)(queue_rescore)


@on("import.completed")
async def rescore_import(session: AsyncSession, event: dict[str, Any]) -> None:
    """An import writes leads set-based without a lead event each: the whole workspace is
    recalculated (set-based; only changed leads are written) and, with a predictive model
    in force, predicted again."""
    payload = event["payload"] or {}
    if payload.get("dry_run") or not (payload.get("created") or payload.get("updated")):
        return
    tenant_id = event["tenant_id"]
    ctx = system_context(tenant_id)
    if await repository.current_model(session, tenant_id=tenant_id) is not None:
        await service.queue_recalculation(session, ctx=ctx)
    predictor = await predictive.in_force(session, tenant_id=tenant_id)
    if predictor is not None:
        await predictive.queue_prediction(session, ctx=ctx, version=predictor["version"])
