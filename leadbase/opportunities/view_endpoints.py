"""Opportunity views (``/api/v1/opportunities/...``): the pipeline view, stale
opportunities, the forecast, and the probability from history.

Reading needs any role (agents: their own opportunities and those of their leads);
calculating a probability is a POST (agent or higher), storing it changes the
opportunity as a PATCH would (optional ``If-Match``). Registered before the core router
so that its ``/{opportunity_id}`` never meets these paths (it only matches UUIDs anyway).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from leadbase.auth.deps import IfMatch, Scope
from leadbase.kit.http import json_response
from leadbase.kit.idempotency import idempotent
from leadbase.listings.schemas import Currency
from leadbase.opportunities import views
from leadbase.opportunities.view_schemas import (
    ForecastRead,
    OpportunityRows,
    PipelineViewRead,
    ProbabilityRead,
    ProbabilityRequest,
    StalePage,
)

router = APIRouter(prefix="/opportunities", tags=["opportunities"])

Cursor = Annotated[str | None, Query(max_length=2048, description="next_cursor of a page")]
Owner = Annotated[uuid.UUID | None, Query(description="Only the opportunities this user "
                                                      "owns")]
Pipeline = Annotated[uuid.UUID | None, Query(description="A deal pipeline (default: the "
                                                         "workspace's default one)")]
ViewCurrency = Annotated[Currency | None, Query(description=(
    "The currency of value and weighted_value (default: the workspace's); other "
    "currencies are in by_currency, never converted"))]
StagePerPage = Annotated[int, Query(ge=0, le=50, description="Opportunities per stage "
                                                            "(0-50)")]
MonthPerPage = Annotated[int, Query(ge=0, le=50, description="Opportunities per month "
                                                            "(0-50)")]


@router.get("/pipeline", response_model=PipelineViewRead, responses={
    422: {"description": "PIPELINE_NOT_FOUND, NO_DEAL_PIPELINE"}})
async def pipeline_view(scope: Scope, pipeline_id: Pipeline = None, owner_id: Owner = None,
                        currency: ViewCurrency = None, per_page: StagePerPage = 20
                        ) -> Response:
    """Per stage of the deal pipeline, in order: count, total value and weighted value
    (value x probability; a probability left unset is the stage's), and the newest
    ``per_page`` opportunities with a cursor for the next page
    (``/opportunities/pipeline/stages/{stage}``); the totals."""
    body = await views.pipeline_view(scope.session, ctx=scope.ctx, pipeline_id=pipeline_id,
                                     owner_id=owner_id, currency=currency, per_page=per_page)
    return json_response(PipelineViewRead.model_validate(body))


@router.get("/pipeline/stages/{stage}", response_model=OpportunityRows, responses={
    404: {"description": "STAGE_NOT_FOUND"}})
async def pipeline_stage(scope: Scope, stage: str, pipeline_id: Pipeline = None,
                         owner_id: Owner = None, cursor: Cursor = None,
                         per_page: Annotated[int, Query(ge=1, le=100)] = 20) -> Response:
    """The next page of a stage's opportunities in the pipeline view (``stage``: id or
    code), newest first."""
    body = await views.stage_page(scope.session, ctx=scope.ctx, stage=stage,
                                  pipeline_id=pipeline_id, owner_id=owner_id, cursor=cursor,
                                  per_page=per_page)
    return json_response(OpportunityRows.model_validate(body))


@router.get("/stale", response_model=StalePage)
async def stale(scope: Scope, days: Annotated[int, Query(ge=0, le=3650, description=(
                    "Days without activity (or stage move)"))] = 30,
                owner_id: Owner = None, cursor: Cursor = None,
                per_page: Annotated[int, Query(ge=1, le=200)] = 25) -> Response:
    """Open opportunities with no activity and no stage move for ``days`` days, least
    recently touched first (cursor-paged; ``total`` counts them all)."""
    body = await views.stale(scope.session, ctx=scope.ctx, days=days, owner_id=owner_id,
                             cursor=cursor, per_page=per_page)
    return json_response(StalePage.model_validate(body))


@router.get("/forecast", response_model=ForecastRead, responses={
    422: {"description": "months outside 1-24; PIPELINE_NOT_FOUND"}})
async def forecast(scope: Scope,
                   months: Annotated[int, Query(ge=1, le=views.MAX_MONTHS)] = 3,
                   owner_id: Owner = None,
                   pipeline_id: Annotated[uuid.UUID | None, Query(
                       description="One deal pipeline (default: all)")] = None,
                   currency: ViewCurrency = None, per_page: MonthPerPage = 10) -> Response:
    """The open opportunities by month of expected close for ``months`` months from the
    current one (the workspace's time zone): per month the expected value (sum of values)
    and the weighted value, their count, and the soonest ``per_page`` of them with a
    cursor (``/opportunities/forecast/months/{YYYY-MM}``); the overdue ones (expected
    before this month, still open) and the undated apart."""
    body = await views.forecast(scope.session, ctx=scope.ctx, months=months,
                                owner_id=owner_id, pipeline_id=pipeline_id,
                                currency=currency, per_page=per_page)
    return json_response(ForecastRead.model_validate(body))


@router.get("/forecast/months/{month}", response_model=OpportunityRows, responses={
    422: {"description": "INVALID_MONTH"}})
async def forecast_month(scope: Scope, month: Annotated[str, Path(
                             max_length=10, description="YYYY-MM or 'overdue'")],
                         owner_id: Owner = None,
                         pipeline_id: Annotated[uuid.UUID | None, Query()] = None,
                         cursor: Cursor = None,
                         per_page: Annotated[int, Query(ge=1, le=100)] = 10) -> Response:
    """A page of the open opportunities expected to close in ``month`` (``overdue``:
    before the current month), soonest first."""
    body = await views.month_page(scope.session, ctx=scope.ctx, month=month,
                                  owner_id=owner_id, pipeline_id=pipeline_id, cursor=cursor,
                                  per_page=per_page)
    return json_response(OpportunityRows.model_validate(body))


@router.post("/{opportunity_id:uuid}/calculate-probability", response_model=ProbabilityRead,
             responses={404: {"description": "OPPORTUNITY_NOT_FOUND"},
                        409: {"description": "OPPORTUNITY_CLOSED"},
                        412: {"description": "If-Match names an older version"}})
async def calculate_probability(request: Request, opportunity_id: uuid.UUID, scope: Scope,
                                if_match: IfMatch,
                                body: ProbabilityRequest | None = None) -> Response:
    """The chance to win from the workspace's closed deals (won or lost) that passed the
    opportunity's current stage; with fewer than ``min_sample`` of them the stage's
    default (``method: stage_default``). ``store: true`` saves it as the opportunity's
    probability (audited, version bumped). Accepts ``Idempotency-Key``."""
    store = body.store if body is not None else False

    async def work() -> Response:
        result = await views.calculate_probability(
            scope.session, ctx=scope.ctx, opportunity_id=opportunity_id, store=store,
            expected_version=if_match)
        return json_response(ProbabilityRead.model_validate(result))

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)
