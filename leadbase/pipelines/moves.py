"""Rules of moving a lead between stages, and its stage history.

A move (``POST /leads/{id}/stage``) names the stage by id or by code: a code is looked up
in the lead's pipeline, or in ``pipeline_id`` (another lead pipeline: the lead moves
there). In one transaction it writes the ``stage_changes`` row (from, to, when, who, why,
the seconds spent in the previous stage), updates the lead (stage, pipeline,
``stage_entered_at``, version), puts a ``stage_change`` entry on the lead's timeline,
records an audit entry and the ``lead.stage_changed`` event, and adds the move to the day
statistics. Moving a lead to the stage it is in changes nothing and answers the lead with
``change: null``. Agents move only their own leads (the readable set); viewers none.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.activities import service as activities
from leadbase.audit import service as audit
from leadbase.auth.context import Context
from leadbase.events import outbox
from leadbase.kit.checks import check_version
from leadbase.kit.errors import ValidationFailed
from leadbase.kit.ids import new_id
from leadbase.kit.pagination import PageParams, decode_cursor, encode_cursor
from leadbase.leads import service as leads_service
from leadbase.leads.repository import readable
from leadbase.pipelines import placement
from leadbase.pipelines.repository import moves as sql
from leadbase.pipelines.schemas import StageChangeRead, StageMove

HISTORY_SORT = "stage-history:-changed_at,-id"


def _target(lead: dict[str, Any], body: StageMove,
            found: list[dict[str, Any]]) -> dict[str, Any]:
    """The stage the move names: in the pipeline it names (else the lead's), or, when it
    names none, another lead pipeline's stage given by id (the lead moves there)."""
    pipeline_id = body.pipeline_id or lead["pipeline_id"]
    for stage in found:
        if stage["pipeline_id"] == pipeline_id:
            return stage
    if body.pipeline_id is None:
        for stage in found:
            if str(stage["id"]) == body.stage:
                return stage
    raise placement.unknown_stage("stage", body.stage)


async def move_lead(session: AsyncSession, *, ctx: Context, lead_id: uuid.UUID,
                    body: StageMove, expected_version: int | None,
                    event_extra: dict[str, Any] | None = None
                    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The lead after the move and its stage change (None: it was in that stage).
    ``event_extra``: more keys of the ``lead.stage_changed`` payload (an auto-advance
    names its rule there: ``pipelines.advance``).

    Two round trips: the lead's lock with the stages the move may name, then every write
    (timeline entry, audit entry, event, stage change, the lead's one UPDATE, day
    statistics) in one pipeline."""
    scope = readable(ctx)
    lead, found = await sql.lock_lead(session, scope=scope, lead_id=lead_id,
                                      stage=body.stage, pipeline_id=body.pipeline_id)
    if lead is None:
        raise leads_service.lead_not_found()
    check_version(lead, expected_version, what="lead")
    target = _target(lead, body, found)
    if target["id"] == lead["stage_id"]:
        return lead, None
    now = datetime.now(UTC)
    entered_at = lead["stage_entered_at"] or lead["created_at"]
    seconds = max(0, int((now - entered_at).total_seconds()))
    from_stage_id, from_pipeline_id = lead["stage_id"], lead["pipeline_id"]
    if from_stage_id is None or from_pipeline_id is None:
        raise ValidationFailed("The lead has no stage.", code="LEAD_WITHOUT_STAGE")
    attributes = {"from_stage_id": str(from_stage_id), "from_stage": lead["stage"],
                  "to_stage_id": str(target["id"]), "to_stage": target["code"],
                  "reason": body.reason}
    # The timeline entry without its own touch of the lead: the move's UPDATE of the lead
    # moves last_activity_at (to now) with the stage.
    _, entry = activities.system_entry(ctx, lead_id=lead_id, type="stage_change",
                                       attributes=attributes, occurred_at=now)
    change_id = new_id()
    touched = lead["last_activity_at"]
    after = {**lead, "stage_id": target["id"], "pipeline_id": target["pipeline_id"],
             "stage": target["code"], "stage_entered_at": now, "updated_at": now,
             "version": lead["version"] + 1,
             "last_activity_at": now if touched is None else max(touched, now)}
    change = {"id": change_id, "lead_id": lead_id, "pipeline_id": target["pipeline_id"],
              "from_stage_id": from_stage_id, "from_stage": lead["stage"],
              "to_stage_id": target["id"], "to_stage": target["code"], "changed_at": now,
              "actor_user_id": ctx.actor_user_id, "reason": body.reason,
              "seconds_in_previous": seconds}
    also = [entry,
            audit.entry(ctx=ctx, action="lead.stage_changed", entity_type="lead",
                        entity_id=lead_id, changes={"fields": ["pipeline_id", "stage_id"]}),
            outbox.event(tenant_id=ctx.tenant_id, type="lead.stage_changed",
                         entity_type="lead", entity_id=lead_id,
                         payload={"lead": leads_service.event_payload(after),
                                  "change": StageChangeRead.model_validate(change)
                                  .model_dump(mode="json"), **(event_extra or {})})]
    moved = await sql.record_move(
        session, scope=scope, change_id=change_id, lead_id=lead_id,
        from_pipeline_id=from_pipeline_id, from_stage_id=from_stage_id,
        entered_at=entered_at, to_pipeline_id=target["pipeline_id"],
        to_stage_id=target["id"], to_position=target["position"], now=now,
        actor_user_id=ctx.actor_user_id, reason=body.reason, seconds=seconds, also=also)
    return moved, change


async def stage_history(session: AsyncSession, *, ctx: Context, lead_id: uuid.UUID,
                        params: PageParams) -> tuple[list[dict[str, Any]], str | None]:
    """The lead's stage changes, newest first, cursor-paged."""
    await leads_service.get_lead(session, ctx=ctx, lead_id=lead_id, include_deleted=True)
    after = None
    if params.cursor:
        at, change_id = decode_cursor(params.cursor, HISTORY_SORT, (datetime, uuid.UUID))
        after = (at, change_id)
    rows = await sql.history(session, tenant_id=ctx.tenant_id, lead_id=lead_id, after=after,
                             limit=params.per_page + 1)
    next_cursor = None
    if len(rows) > params.per_page:
        rows = rows[: params.per_page]
        next_cursor = encode_cursor(HISTORY_SORT, [rows[-1]["changed_at"], rows[-1]["id"]])
    return rows, next_cursor
