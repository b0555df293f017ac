"""Opportunities (``/api/v1/opportunities``): create, read, list, change, delete; stage
moves and history; close won, close lost, reopen; activities and follow-ups.

Who may: viewers read; agents the opportunities they own and those of their leads;
managers and above the workspace. The id segment only matches a UUID
(``{opportunity_id:uuid}``), so other routes under ``/opportunities`` (the views) are
free of it whatever the order of the routers.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from leadbase.activities import service as activities_service
from leadbase.activities.endpoints import Cursor, PerPage
from leadbase.activities.schemas import ActivityPage, ActivityRead
from leadbase.auth.context import Context
from leadbase.auth.deps import IfMatch, Scope
from leadbase.kit.errors import ValidationFailed
from leadbase.kit.http import etag, json_response
from leadbase.kit.idempotency import idempotent
from leadbase.kit.pagination import DEFAULT_PER_PAGE, PageParams, page_params
from leadbase.models.deals import OPPORTUNITY_STATUSES
from leadbase.opportunities import activity, records, service, stages
from leadbase.opportunities.repository import OpportunityFilter
from leadbase.opportunities.schemas import (
    CloseLostBody,
    CloseWonBody,
    FollowUpBody,
    OpportunityActivityCreate,
    OpportunityCreate,
    OpportunityPage,
    OpportunityRead,
    OpportunityStageChangePage,
    OpportunityStageChangeRead,
    OpportunityUpdate,
    ReopenBody,
    StageMoveBody,
    StageMoveResult,
)

router = APIRouter(prefix="/opportunities", tags=["opportunities"])
ONE = "/{opportunity_id:uuid}"

CSV = Annotated[str | None, Query(max_length=2000, description="Comma-separated values")]
SORT = Annotated[str | None, Query(max_length=200, description=(
    "created_at (default: -created_at), updated_at, number, name, value, probability, "
    "weighted_value, expected_close_date, stage_entered_at, last_activity_at, status; "
    "'-' for descending; ties by id"))]


def _csv(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def _bad(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"Invalid filter {field}: {message}.", code="INVALID_FILTER",
                            errors=[{"field": field, "message": message}])


def _uuids(field: str, value: str | None) -> tuple[uuid.UUID, ...]:
    try:
        return tuple(uuid.UUID(v) for v in _csv(value))
    except ValueError:
        raise _bad(field, "not a list of UUIDs") from None


async def opportunity_query(
    status: CSV = None, pipeline_id: CSV = None,
    stage: Annotated[str | None, Query(max_length=2000,
                                       description="Stage ids or codes, comma-separated")]
    = None,
    owner_id: CSV = None, customer_id: CSV = None, lead_id: CSV = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200,
                                   description="Part of the name (case-insensitive)")] = None,
    value_min: Annotated[Decimal | None, Query(ge=0)] = None,
    value_max: Annotated[Decimal | None, Query(ge=0)] = None,
    close_from: Annotated[date | None, Query(description="expected_close_date from")] = None,
    close_to: Annotated[date | None, Query(description="expected_close_date up to")] = None,
) -> records.OpportunityQuery:
    statuses = _csv(status)
    if any(s not in OPPORTUNITY_STATUSES for s in statuses):
        raise _bad("status", f"one of {', '.join(OPPORTUNITY_STATUSES)}")
    return records.OpportunityQuery(filter=OpportunityFilter(
        statuses=statuses, pipeline_ids=_uuids("pipeline_id", pipeline_id),
        owner_ids=_uuids("owner_id", owner_id), customer_ids=_uuids("customer_id", customer_id),
        lead_ids=_uuids("lead_id", lead_id), q=q, value_min=value_min, value_max=value_max,
        close_from=close_from, close_to=close_to), stages=_csv(stage))


def _read(ctx: Context, row: dict[str, Any]) -> OpportunityRead:
    return OpportunityRead.model_validate(service.presented(ctx, row))


def _one(ctx: Context, row: dict[str, Any], status: int = 200, **headers: str) -> Response:
    return json_response(_read(ctx, row), status,
                         headers={"ETag": etag(row["version"]), **headers})


def _activities(rows: list[dict[str, Any]], per_page: int, next_cursor: str | None
                ) -> Response:
    return json_response(ActivityPage(
        data=[activities_service.read_model(r) for r in rows], total=None, page=None,
        per_page=per_page, next_cursor=next_cursor))


@router.post("", status_code=201, response_model=OpportunityRead,
             responses={422: {"description": "PIPELINE_NOT_FOUND, STAGE_NOT_FOUND, "
                                             "STAGE_NOT_OPEN, OPPORTUNITY_LEAD_NOT_FOUND, "
                                             "CUSTOMER_NOT_FOUND, OWNER_NOT_FOUND"}})
async def create_opportunity(request: Request, body: OpportunityCreate,
                             scope: Scope) -> Response:
    """Create an open opportunity: in ``pipeline_id`` (a deal pipeline; default the
    workspace's default one) at ``stage`` (id or code; default its first open stage).
    ``value`` is a decimal string (or number); ``currency`` defaults to the workspace's;
    ``probability`` unset means the stage's. Accepts ``Idempotency-Key``."""

    async def work() -> Response:
        row = await service.create_opportunity(scope.session, ctx=scope.ctx, body=body)
        return _one(scope.ctx, row, 201, Location=f"/api/v1/opportunities/{row['id']}")

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


@router.get("", response_model=OpportunityPage)
async def list_opportunities(
        request: Request, scope: Scope,
        f: Annotated[records.OpportunityQuery, Depends(opportunity_query)],
        params: Annotated[PageParams, Depends(page_params)], sort: SORT = None) -> Response:
    """Opportunities with filters, sorts and page or cursor pagination."""
    found = await records.list_opportunities(
        scope.session, ctx=scope.ctx, f=f, sort=sort, params=params,
        count_cap=request.app.state.settings.count_exact_limit)
    return json_response(OpportunityPage(
        data=[_read(scope.ctx, r) for r in found.rows], total=found.total,
        page=params.page if params.cursor is None else None, per_page=params.per_page,
        next_cursor=found.next_cursor))


@router.get("/activities/upcoming", response_model=ActivityPage)
async def upcoming_activities(
        scope: Scope, owner_id: uuid.UUID | None = None,
        per_page: PerPage = DEFAULT_PER_PAGE, cursor: Cursor = None) -> Response:
    """Scheduled, not completed activities on the opportunities you reach, soonest first
    (overdue ones first); ``owner_id``: those that user planned."""
    rows, next_cursor = await activity.upcoming(scope.session, ctx=scope.ctx,
                                                owner_id=owner_id, cursor=cursor,
                                                limit=per_page)
    return _activities(rows, per_page, next_cursor)


@router.get(ONE, response_model=OpportunityRead)
async def get_opportunity(opportunity_id: uuid.UUID, scope: Scope,
                          include_deleted: bool = False) -> Response:
    row = await service.get_opportunity(scope.session, ctx=scope.ctx,
                                        opportunity_id=opportunity_id,
                                        include_deleted=include_deleted)
    return _one(scope.ctx, row)


@router.patch(ONE, response_model=OpportunityRead,
              responses={412: {"description": "If-Match names an older version"}})
async def update_opportunity(opportunity_id: uuid.UUID, body: OpportunityUpdate,
                             scope: Scope, if_match: IfMatch) -> Response:
    """Change some fields (``probability: null``: the stage's default again). The stage
    and status change through ``/stage``, ``/close-won``, ``/close-lost``, ``/reopen``.
    Send ``If-Match: "<version>"``."""
    row = await records.update_opportunity(scope.session, ctx=scope.ctx,
                                           opportunity_id=opportunity_id, body=body,
                                           expected_version=if_match)
    return _one(scope.ctx, row)


@router.delete(ONE, status_code=204)
async def delete_opportunity(opportunity_id: uuid.UUID, scope: Scope,
                             if_match: IfMatch) -> Response:
    """Soft-delete (``include_deleted=true`` still reads it)."""
    await records.delete_opportunity(scope.session, ctx=scope.ctx,
                                     opportunity_id=opportunity_id, expected_version=if_match)
    return Response(status_code=204)


@router.post(ONE + "/stage", response_model=StageMoveResult)
async def move_stage(opportunity_id: uuid.UUID, body: StageMoveBody, scope: Scope,
                     if_match: IfMatch) -> Response:
    """Move an open opportunity to another stage of its pipeline (id or code), with
    history. Into a won stage it closes won; into a lost stage it closes lost, the
    ``reason`` (required then) its lost reason. ``change`` is null when it was there."""
    row, change = await stages.move_stage(scope.session, ctx=scope.ctx,
                                          opportunity_id=opportunity_id, body=body,
                                          expected_version=if_match)
    return json_response(StageMoveResult(
        opportunity=_read(scope.ctx, row),
        change=OpportunityStageChangeRead.model_validate(change) if change else None),
        headers={"ETag": etag(row["version"])})


@router.get(ONE + "/stage-history", response_model=OpportunityStageChangePage)
async def stage_history(opportunity_id: uuid.UUID, scope: Scope,
                        params: Annotated[PageParams, Depends(page_params)]) -> Response:
    """Its stage changes, newest first (cursor-paged)."""
    rows, next_cursor = await stages.stage_history(scope.session, ctx=scope.ctx,
                                                   opportunity_id=opportunity_id,
                                                   params=params)
    return json_response(OpportunityStageChangePage(
        data=[OpportunityStageChangeRead.model_validate(r) for r in rows], total=None,
        page=None, per_page=params.per_page, next_cursor=next_cursor))


@router.post(ONE + "/close-won", response_model=OpportunityRead,
             responses={409: {"description": "OPPORTUNITY_CLOSED"}})
async def close_won(opportunity_id: uuid.UUID, body: CloseWonBody, scope: Scope,
                    if_match: IfMatch) -> Response:
    """Close won: ``actual_value`` (default: its value), ``close_date`` (default: today),
    into the pipeline's won stage."""
    row = await stages.close_won(scope.session, ctx=scope.ctx, opportunity_id=opportunity_id,
                                 body=body, expected_version=if_match)
    return _one(scope.ctx, row)


@router.post(ONE + "/close-lost", response_model=OpportunityRead,
             responses={409: {"description": "OPPORTUNITY_CLOSED"}})
async def close_lost(opportunity_id: uuid.UUID, body: CloseLostBody, scope: Scope,
                     if_match: IfMatch) -> Response:
    """Close lost with a ``reason`` (required), ``competitor`` and ``notes``."""
    row = await stages.close_lost(scope.session, ctx=scope.ctx,
                                  opportunity_id=opportunity_id, body=body,
                                  expected_version=if_match)
    return _one(scope.ctx, row)


@router.post(ONE + "/reopen", response_model=OpportunityRead,
             responses={409: {"description": "OPPORTUNITY_NOT_CLOSED"}})
async def reopen(opportunity_id: uuid.UUID, body: ReopenBody, scope: Scope,
                 if_match: IfMatch) -> Response:
    """Reopen a won or lost one (``reason`` required) into ``stage`` or the open stage it
    closed from."""
    row = await stages.reopen(scope.session, ctx=scope.ctx, opportunity_id=opportunity_id,
                              body=body, expected_version=if_match)
    return _one(scope.ctx, row)


@router.get(ONE + "/activities", response_model=ActivityPage)
async def list_activities(
        opportunity_id: uuid.UUID, scope: Scope, per_page: PerPage = DEFAULT_PER_PAGE,
        cursor: Cursor = None,
        type: Annotated[str | None, Query(max_length=500,
                                          description="Types, comma-separated")] = None
) -> Response:
    """Its activities and system entries, newest first."""
    rows, next_cursor = await activity.list_activities(
        scope.session, ctx=scope.ctx, opportunity_id=opportunity_id, types=_csv(type),
        cursor=cursor, limit=per_page)
    return _activities(rows, per_page, next_cursor)


@router.post(ONE + "/activities", status_code=201, response_model=ActivityRead)
async def log_activity(request: Request, opportunity_id: uuid.UUID,
                       body: OpportunityActivityCreate, scope: Scope) -> Response:
    """Log an activity on it (on its lead's timeline too). Accepts ``Idempotency-Key``."""

    async def work() -> Response:
        row = await activity.log_activity(scope.session, ctx=scope.ctx,
                                          opportunity_id=opportunity_id, body=body)
        return json_response(activities_service.read_model(row), 201, headers={
            "ETag": etag(row["version"]), "Location": f"/api/v1/activities/{row['id']}"})

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


@router.post(ONE + "/follow-ups", status_code=201, response_model=ActivityRead)
async def schedule_follow_up(request: Request, opportunity_id: uuid.UUID,
                             body: FollowUpBody, scope: Scope) -> Response:
    """Plan a follow-up (a scheduled activity, open until completed through
    ``PATCH /activities/{id}``). Accepts ``Idempotency-Key``."""

    async def work() -> Response:
        row = await activity.schedule_follow_up(scope.session, ctx=scope.ctx,
                                                opportunity_id=opportunity_id, body=body)
        return json_response(activities_service.read_model(row), 201, headers={
            "ETag": etag(row["version"]), "Location": f"/api/v1/activities/{row['id']}"})

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)
