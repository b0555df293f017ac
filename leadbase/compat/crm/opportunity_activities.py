"""``/opportunities/{id}/activities``, ``schedule-follow-up`` and
``/opportunities/activities/upcoming``, over ``leadbase.opportunities.activity``.

Activities are the Activities API's (``act_…``, the same attributes per type as
``/activities/log-<type>``), carrying ``opportunityId`` and the opportunity's lead (so
that the lead's timeline shows them; an agent's deal on another agent's lead names no
lead). Lists are JSON arrays of at most ``limit`` (50; 200), the next page at
``?cursor=`` with the ``X-Next-Cursor`` header's value: an opportunity's newest first,
the upcoming ones soonest first (overdue first).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from leadbase.auth.deps import Scope
from leadbase.compat.crm import ids, views
from leadbase.compat.crm.activities import Cursor, Limit, TypeQuery, attributes
from leadbase.compat.crm.opportunities import opportunity_id
from leadbase.compat.crm.opportunity_schemas import FollowUp, OpportunityActivity
from leadbase.compat.crm.schemas import ActivityOut
from leadbase.kit.idempotency import idempotent
from leadbase.opportunities import activity
from leadbase.opportunities import schemas as canonical

router = APIRouter(prefix="/opportunities", tags=["opportunities"])


def _listed(rows: list[dict[str, Any]], next_cursor: str | None) -> Response:
    return views.respond([views.activity(r) for r in rows],
                         headers={"X-Next-Cursor": next_cursor} if next_cursor else None)


def _created(row: dict[str, Any]) -> Response:
    return views.respond(views.activity(row), 201, headers=views.etag_of(row))


@router.get("/activities/upcoming", response_model=list[ActivityOut])
async def upcoming_activities(request: Request, scope: Scope,
                              agent: Annotated[str | None, Query(
                                  alias="agentId", max_length=64,
                                  description="agent_…: the activities they planned")] = None,
                              limit: Limit = 50, cursor: Cursor = None) -> Response:
    """Planned, not completed activities on the opportunities you reach, soonest first
    (overdue ones first); ``agentId``: those that agent planned."""
    owner = None if agent is None else ids.resolve(request, "agent", agent)
    rows, next_cursor = await activity.upcoming(scope.session, ctx=scope.ctx, owner_id=owner,
                                                cursor=cursor, limit=limit)
    return _listed(rows, next_cursor)


@router.get("/{id}/activities", response_model=list[ActivityOut])
async def list_activities(request: Request, id: str, scope: Scope, type_: TypeQuery = None,
                          limit: Limit = 50, cursor: Cursor = None) -> Response:
    """The opportunity's activities and system entries (stage moves, closing), newest
    first; ``type`` filters."""
    rows, next_cursor = await activity.list_activities(
        scope.session, ctx=scope.ctx, opportunity_id=opportunity_id(request, id),
        types=(type_.lower(),) if type_ else (), cursor=cursor, limit=limit)
    return _listed(rows, next_cursor)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@router.post("/{id}/activities", status_code=201, response_model=ActivityOut)
async def log_activity(request: Request, id: str, body: OpportunityActivity,
                       scope: Scope) -> Response:
    """Log an activity of ``type`` on the opportunity (and its lead's timeline), with the
    type's attributes as ``/activities/log-<type>`` takes them; ``scheduledFor`` plans
    it, ``completedAt`` dates it (default: done now). Accepts ``Idempotency-Key``."""

    async def work() -> Response:
        kind = body.type.lower()
        sent = body.model_dump(exclude_unset=True)
        planned = sent.get("scheduled_for") or (sent.get("due_date") if kind == "task"
                                                else None)
        row = await activity.log_activity(
            scope.session, ctx=scope.ctx, opportunity_id=opportunity_id(request, id),
            body=views.canonical(canonical.OpportunityActivityCreate, {
                "type": kind, "description": body.description,
                "attributes": attributes(kind, sent), "scheduled_for": _iso(planned),
                "completed_at": _iso(body.completed_at)}))
        return _created(row)

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


@router.post("/{id}/schedule-follow-up", status_code=201, response_model=ActivityOut)
async def schedule_follow_up(request: Request, id: str, body: FollowUp,
                             scope: Scope) -> Response:
    """Plan a follow-up (``type``, default CALL) at ``scheduledFor``: a scheduled
    activity, open until ``PUT /activities/{id} {completedAt}``. Accepts
    ``Idempotency-Key``."""

    async def work() -> Response:
        kind = body.type.lower()
        sent = body.model_dump(exclude_unset=True)
        row = await activity.schedule_follow_up(
            scope.session, ctx=scope.ctx, opportunity_id=opportunity_id(request, id),
            body=views.canonical(canonical.FollowUpBody, {
                "type": kind, "description": body.description,
                "attributes": attributes(kind, sent),
                "scheduled_for": _iso(body.scheduled_for)}))
        return _created(row)

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)
