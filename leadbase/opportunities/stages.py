"""An opportunity's way through its deal pipeline: stage moves, closing won or lost,
reopening, and the stage history.

Every one of these writes, in the caller's transaction: the ``opportunity_stage_changes``
row (from, to, when, who, why, the seconds spent in the previous stage), the
opportunity's UPDATE (stage, ``stage_entered_at``, status columns, version), an
``opportunity_event`` on its lead's timeline (when it has a lead), an audit entry, and
the events: ``opportunity.stage_changed`` for every change of stage, and besides it
``opportunity.won`` / ``opportunity.lost`` / ``opportunity.reopened``.

Rules (DECISIONS, "Opportunity stages and status"): the status follows the stage's
category. A move (``POST /opportunities/{id}/stage``) of an open opportunity into a won
stage closes it won (actual value: its value, close date: today), into a lost stage
closes it lost with the move's ``reason`` as the lost reason (required there). A closed
opportunity does not move: 409 ``OPPORTUNITY_CLOSED`` (reopen it first). Closing a closed
one is 409 ``OPPORTUNITY_CLOSED``; reopening an open one 409 ``OPPORTUNITY_NOT_CLOSED``.
Closing clears an explicit ``probability`` (the won or lost stage's 100 or 0 applies).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.audit import service as audit
from leadbase.auth.context import Context
from leadbase.events import outbox
from leadbase.kit.checks import check_version
from leadbase.kit.errors import Conflict
from leadbase.kit.pagination import PageParams, decode_cursor, encode_cursor
from leadbase.opportunities import repository
from leadbase.opportunities.schemas import (
    CloseLostBody,
    CloseWonBody,
    OpportunityStageChangeRead,
    ReopenBody,
    StageMoveBody,
)
from leadbase.opportunities.service import (
    event_payload,
    first_of,
    get_opportunity,
    invalid,
    log_timeline,
    match_stage,
    read_any,
)

HISTORY_SORT = "opportunity-stage-history:-changed_at,-id"
_CLEARED_CLOSE = {"closed_at": None, "close_date": None, "actual_value": None,
                  "lost_reason": None, "competitor": None, "close_notes": None}


def closed_error(row: dict[str, Any]) -> Conflict:
    return Conflict(f"The opportunity is already closed ({row['status']}); reopen it first.",
                    code="OPPORTUNITY_CLOSED", extra={"status": row["status"]})


async def _current(session: AsyncSession, ctx: Context, opportunity_id: uuid.UUID,
                   expected_version: int | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The opportunity locked, its version checked, and its pipeline's live stages."""
    row = await get_opportunity(session, ctx=ctx, opportunity_id=opportunity_id,
                                for_update=True)
    check_version(row, expected_version, what="opportunity")
    stages = await repository.stages(session, tenant_id=ctx.tenant_id,
                                     pipeline_id=row["pipeline_id"])
    return row, stages


async def _change(session: AsyncSession, ctx: Context, row: dict[str, Any],
                  target: dict[str, Any], *, reason: str | None, values: dict[str, Any],
                  event: str | None, extra: dict[str, Any] | None = None
                  ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Move ``row`` to ``target`` with ``values``; the history row, timeline entry, audit
    entry and events (``event``: ``won``, ``lost``, ``reopened`` or None)."""
    now = datetime.now(UTC)
    seconds = max(0, int((now - row["stage_entered_at"]).total_seconds()))
    change = await repository.insert_change(session, tenant_id=ctx.tenant_id, values={
        "opportunity_id": row["id"], "pipeline_id": row["pipeline_id"],
        "from_stage_id": row["stage_id"], "to_stage_id": target["id"], "changed_at": now,
        "actor_user_id": ctx.actor_user_id, "reason": reason, "seconds_in_previous": seconds})
    change.update(from_stage=row["stage"], to_stage=target["code"])
    await repository.update_opportunity(session, tenant_id=ctx.tenant_id,
                                        opportunity_id=row["id"],
                                        values={"stage_id": target["id"],
                                                "stage_entered_at": now, **values})
    after = await read_any(session, ctx, row["id"])
    change_json = OpportunityStageChangeRead.model_validate(change).model_dump(mode="json")
    await log_timeline(session, ctx, after, event or "stage_changed",
                       {"from_stage": row["stage"], "to_stage": target["code"],
                        "reason": reason, **(extra or {})})
    payload = {"opportunity": event_payload(after), "change": change_json}
    more = []
    if event is not None:
        more.append(outbox.event(tenant_id=ctx.tenant_id, type=f"opportunity.{event}",
                                 entity_type="opportunity", entity_id=row["id"],
                                 payload=payload))
    await audit.record(session, ctx=ctx, action=f"opportunity.{event or 'stage_changed'}",
                       entity_type="opportunity", entity_id=row["id"],
                       changes={"fields": sorted({"stage_id", *values}),
                                "from_stage_id": str(row["stage_id"]),
                                "to_stage_id": str(target["id"])},
                       event=outbox.event(tenant_id=ctx.tenant_id,
                                          type="opportunity.stage_changed",
                                          entity_type="opportunity", entity_id=row["id"],
                                          payload=payload),
                       more=more)
    return after, change


def _won_values(row: dict[str, Any], actual_value: Any, close_date: date | None,
                notes: str | None = None) -> dict[str, Any]:
    return {**_CLEARED_CLOSE, "status": "won", "closed_at": datetime.now(UTC),
            "close_date": close_date or datetime.now(UTC).date(),
            "actual_value": row["value"] if actual_value is None else actual_value,
            "close_notes": notes, "probability": None}


def _lost_values(reason: str, competitor: str | None, notes: str | None,
                 close_date: date | None) -> dict[str, Any]:
    return {**_CLEARED_CLOSE, "status": "lost", "closed_at": datetime.now(UTC),
            "close_date": close_date or datetime.now(UTC).date(), "lost_reason": reason,
            "competitor": competitor, "close_notes": notes, "probability": None}


async def move_stage(session: AsyncSession, *, ctx: Context, opportunity_id: uuid.UUID,
                     body: StageMoveBody, expected_version: int | None = None
                     ) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The opportunity after the move and its stage change (None: it was in that stage
    already; nothing is written)."""
    row, stages = await _current(session, ctx, opportunity_id, expected_version)
    if row["status"] != "open":
        raise closed_error(row)
    target = match_stage(stages, body.stage)
    if target["id"] == row["stage_id"]:
        return row, None
    if target["category"] == "won":
        return await _change(session, ctx, row, target, reason=body.reason,
                             values=_won_values(row, None, None), event="won")
    if target["category"] == "lost":
        if not body.reason:
            raise invalid("REASON_REQUIRED", "reason",
                          "moving into a lost stage closes the opportunity lost: say why")
        return await _change(session, ctx, row, target, reason=body.reason,
                             values=_lost_values(body.reason, None, None, None),
                             event="lost")
    return await _change(session, ctx, row, target, reason=body.reason, values={},
                         event=None)


def _closing_stage(stages: list[dict[str, Any]], ref: str | None,
                   category: str) -> dict[str, Any]:
    if ref is not None:
        stage = match_stage(stages, ref)
        if stage["category"] != category:
            raise invalid(f"STAGE_NOT_{category.upper()}", "stage",
                          f"not a {category} stage of the opportunity's pipeline")
        return stage
    first = first_of(stages, category)
    if first is None:
        raise Conflict(f"The opportunity's pipeline has no {category} stage.",
                       code=f"NO_{category.upper()}_STAGE")
    return first


async def close_won(session: AsyncSession, *, ctx: Context, opportunity_id: uuid.UUID,
                    body: CloseWonBody, expected_version: int | None = None
                    ) -> dict[str, Any]:
    """Close it won: into ``body.stage`` (a won stage) or its pipeline's first won one;
    ``actual_value`` (default: its value), ``close_date`` (default: today, UTC) and
    ``notes`` (kept as ``close_notes``)."""
    row, stages = await _current(session, ctx, opportunity_id, expected_version)
    if row["status"] != "open":
        raise closed_error(row)
    target = _closing_stage(stages, body.stage, "won")
    after, _ = await _change(session, ctx, row, target, reason=None,
                             values=_won_values(row, body.actual_value, body.close_date,
                                                body.notes),
                             event="won")
    return after


async def close_lost(session: AsyncSession, *, ctx: Context, opportunity_id: uuid.UUID,
                     body: CloseLostBody, expected_version: int | None = None
                     ) -> dict[str, Any]:
    """Close it lost: into ``body.stage`` (a lost stage) or its pipeline's first lost
    one, with the reason, competitor and notes."""
    row, stages = await _current(session, ctx, opportunity_id, expected_version)
    if row["status"] != "open":
        raise closed_error(row)
    target = _closing_stage(stages, body.stage, "lost")
    after, _ = await _change(
        session, ctx, row, target, reason=body.reason,
        values=_lost_values(body.reason, body.competitor, body.notes, body.close_date),
        event="lost", extra={"competitor": body.competitor})
    return after


async def reopen(session: AsyncSession, *, ctx: Context, opportunity_id: uuid.UUID,
                 body: ReopenBody, expected_version: int | None = None) -> dict[str, Any]:
    """Reopen a closed one: into ``body.stage`` (an open stage), else the open stage it
    left when it closed (if it still is one), else the pipeline's first open stage. The
    close columns are cleared; ``reopened_at`` and ``reopen_reason`` kept."""
    row, stages = await _current(session, ctx, opportunity_id, expected_version)
    if row["status"] == "open":
        raise Conflict("The opportunity is open; only a closed one reopens.",
                       code="OPPORTUNITY_NOT_CLOSED", extra={"status": row["status"]})
    target: dict[str, Any] | None
    if body.stage is not None:
        target = match_stage(stages, body.stage)
        if target["category"] != "open":
            raise invalid("STAGE_NOT_OPEN", "stage", "a reopened opportunity is in an "
                                                     "open stage")
    else:
        came = await repository.last_change_into(session, tenant_id=ctx.tenant_id,
                                                 opportunity_id=row["id"],
                                                 stage_id=row["stage_id"])
        before = came["from_stage_id"] if came else None
        target = next((s for s in stages if s["id"] == before and s["category"] == "open"),
                      None) or first_of(stages, "open")
        if target is None:
            raise Conflict("The opportunity's pipeline has no open stage.",
                           code="NO_OPEN_STAGE")
    after, _ = await _change(session, ctx, row, target, reason=body.reason,
                             values={**_CLEARED_CLOSE, "status": "open",
                                     "reopened_at": datetime.now(UTC),
                                     "reopen_reason": body.reason},
                             event="reopened", extra={"from_status": row["status"]})
    return after


async def stage_history(session: AsyncSession, *, ctx: Context, opportunity_id: uuid.UUID,
                        params: PageParams) -> tuple[list[dict[str, Any]], str | None]:
    """The opportunity's stage changes, newest first, cursor-paged (the first one:
    ``from_stage_id`` null, when it was created)."""
    await get_opportunity(session, ctx=ctx, opportunity_id=opportunity_id,
                          include_deleted=True)
    after = None
    if params.cursor:
        at, change_id = decode_cursor(params.cursor, HISTORY_SORT, (datetime, uuid.UUID))
        after = (at, change_id)
    rows = await repository.history(session, tenant_id=ctx.tenant_id,
                                    opportunity_id=opportunity_id, after=after,
                                    limit=params.per_page + 1)
    next_cursor = None
    if len(rows) > params.per_page:
        rows = rows[: params.per_page]
        next_cursor = encode_cursor(HISTORY_SORT, [rows[-1]["changed_at"], rows[-1]["id"]])
    return rows, next_cursor
