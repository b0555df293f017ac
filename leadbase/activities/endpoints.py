"""Activities (``/api/v1/activities``) and a lead's timeline (``/api/v1/leads/{id}/timeline``).

Lists here are cursor-paged only (``per_page`` up to 200, ``cursor`` from
``next_cursor``): keyset pages cost the same at any depth. ``total`` is not counted."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from leadbase.activities import agenda, service, timeline
from leadbase.activities.schemas import (
    ActivityCreate,
    ActivityPage,
    ActivityRead,
    ActivitySummary,
    ActivityUpdate,
    TimelinePage,
)
from leadbase.auth.deps import IfMatch, Scope
from leadbase.kit.http import etag, json_response
from leadbase.kit.idempotency import idempotent
from leadbase.kit.pagination import DEFAULT_PER_PAGE, MAX_PER_PAGE
from leadbase.kit.schemas import Timestamp

router = APIRouter(prefix="/activities", tags=["activities"])
lead_router = APIRouter(prefix="/leads", tags=["leads"])

PerPage = Annotated[int, Query(ge=1, le=MAX_PER_PAGE, description="Rows per page (max 200)")]
Cursor = Annotated[str | None, Query(max_length=2048,
                                     description="Opaque cursor from next_cursor")]
UserParam = Annotated[uuid.UUID | None, Query(description="Default: yourself. Agents: "
                                                          "only themselves")]


def _page(rows: list[dict[str, Any]], per_page: int, next_cursor: str | None) -> Response:
    return json_response(ActivityPage(data=[service.read_model(r) for r in rows], total=None,
                                      page=None, per_page=per_page, next_cursor=next_cursor))


def _one(row: dict[str, Any], status: int = 200, **headers: str) -> Response:
    return json_response(service.read_model(row), status,
                         headers={"ETag": etag(row["version"]), **headers})


@router.post("", status_code=201, response_model=ActivityRead)
async def create_activity(request: Request, body: ActivityCreate, scope: Scope) -> Response:
    """Log an activity on a lead. ``attributes`` are checked against the type (422 naming
    ``attributes.<name>``). With ``scheduled_for`` and no ``completed_at`` it is planned
    (``status=scheduled``) until a PATCH sets ``completed_at``. System types
    (stage_change, status_change, assignment, task_event, system) are written by Leadbase
    only. Accepts ``Idempotency-Key``."""

    async def work() -> Response:
        row = await service.create(scope.session, ctx=scope.ctx, body=body)
        return _one(row, 201, Location=f"/api/v1/activities/{row['id']}")

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


@router.get("", response_model=ActivityPage)
async def list_activities(
    scope: Scope, per_page: PerPage = DEFAULT_PER_PAGE, cursor: Cursor = None,
    type: Annotated[str | None, Query(max_length=500, description="Types, comma-separated")]
    = None,
    lead_id: uuid.UUID | None = None,
    author_id: uuid.UUID | None = None,
    status: Literal["scheduled", "completed"] | None = None,
    start: Annotated[Timestamp | None, Query(alias="from",
                                             description="occurred_at from (inclusive)")]
    = None,
    end: Annotated[Timestamp | None, Query(alias="to", description="occurred_at before")]
    = None,
) -> Response:
    """Activities of the leads you read, newest first (by ``occurred_at``)."""
    types = [t.strip() for t in type.split(",") if t.strip()] if type else None
    rows, next_cursor = await service.list_activities(
        scope.session, ctx=scope.ctx, cursor=cursor, limit=per_page,
        f={"types": types, "lead_id": lead_id, "author_id": author_id, "state": status,
           "start": start, "end": end})
    return _page(rows, per_page, next_cursor)


@router.get("/upcoming", response_model=ActivityPage)
async def upcoming_activities(scope: Scope, user_id: UserParam = None,
                              until: Timestamp | None = None,
                              per_page: PerPage = DEFAULT_PER_PAGE,
                              cursor: Cursor = None) -> Response:
    """Scheduled, not completed activities the user planned, soonest first (overdue ones
    first), up to ``until``."""
    rows, next_cursor = await agenda.upcoming(scope.session, ctx=scope.ctx, user_id=user_id,
                                              until=until, cursor=cursor, limit=per_page)
    return _page(rows, per_page, next_cursor)


@router.get("/recent", response_model=ActivityPage)
async def recent_activities(scope: Scope, user_id: UserParam = None,
                            days: Annotated[int, Query(ge=1, le=agenda.MAX_DAYS)] = 7,
                            per_page: PerPage = DEFAULT_PER_PAGE,
                            cursor: Cursor = None) -> Response:
    """What the user logged that happened in the last ``days`` days, newest first."""
    rows, next_cursor = await agenda.recent(scope.session, ctx=scope.ctx, user_id=user_id,
                                            days=days, cursor=cursor, limit=per_page)
    return _page(rows, per_page, next_cursor)


@router.get("/summary", response_model=ActivitySummary)
async def activity_summary(
    scope: Scope, user_id: UserParam = None, period: agenda.Period = "week",
    start: Annotated[Timestamp | None, Query(alias="from")] = None,
    end: Annotated[Timestamp | None, Query(alias="to")] = None,
) -> Response:
    """Completed activities by type and in total, and tasks completed and pending, for a
    period: ``day``, ``week`` (from Monday), ``month`` (the current one, in the
    workspace's time zone) or ``custom`` (``from`` and ``to``)."""
    result = await agenda.summary(scope.session, ctx=scope.ctx, user_id=user_id,
                                  period=period, start=start, end=end)
    return json_response(ActivitySummary.model_validate(result))


@router.get("/{activity_id}", response_model=ActivityRead)
async def get_activity(activity_id: uuid.UUID, scope: Scope) -> Response:
    return _one(await service.get(scope.session, ctx=scope.ctx, activity_id=activity_id))


@router.patch("/{activity_id}", response_model=ActivityRead)
async def update_activity(activity_id: uuid.UUID, body: ActivityUpdate, scope: Scope,
                          if_match: IfMatch) -> Response:
    """Change an activity; ``completed_at`` completes a scheduled one (it then sits on the
    timeline at that moment). Send ``If-Match``. System entries: 403."""
    row = await service.update(scope.session, ctx=scope.ctx, activity_id=activity_id,
                               body=body, expected_version=if_match)
    return _one(row)


@router.delete("/{activity_id}", status_code=204)
async def delete_activity(activity_id: uuid.UUID, scope: Scope,
                          if_match: IfMatch) -> Response:
    """Soft-delete. The lead's ``last_activity_at`` stays where it is."""
    await service.delete(scope.session, ctx=scope.ctx, activity_id=activity_id,
                         expected_version=if_match)
    return Response(status_code=204)


@lead_router.get("/{lead_id}/timeline", response_model=TimelinePage)
async def lead_timeline(
    lead_id: uuid.UUID, scope: Scope, per_page: PerPage = DEFAULT_PER_PAGE,
    cursor: Cursor = None,
    types: Annotated[str | None, Query(
        max_length=500, description="Comma-separated activity types (call, email, ..., "
                                    "stage_change, status_change, assignment, task_event, "
                                    "system) and 'change' for the lead's audited changes")]
    = None,
) -> Response:
    """The lead's activities (system entries included) and its own audited changes, newest
    first, in one cursor-paged stream."""
    rows, next_cursor = await timeline.page(scope.session, ctx=scope.ctx, lead_id=lead_id,
                                            types_filter=types, cursor=cursor,
                                            limit=per_page)
    body = {"data": rows, "total": None, "total_is_estimate": False, "page": None,
            "per_page": per_page, "next_cursor": next_cursor}
    return Response(orjson.dumps(body, option=orjson.OPT_UTC_Z), media_type="application/json")
