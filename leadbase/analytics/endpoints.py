"""Analytics (``/api/v1/analytics/...``): the figures of the console's dashboard. Any role
reads them, each within what it may read (agents: their own leads; import figures:
managers and above). Ranges are days in the workspace's time zone, both ends inclusive;
a reversed or oversized range is a 422 problem (``INVALID_RANGE``, ``RANGE_TOO_LARGE``)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from starlette.responses import Response

from leadbase.analytics import service
from leadbase.analytics.repository import Bucket
from leadbase.analytics.schemas import Dashboard, Funnel, PipelineValue, TimeSeries
from leadbase.auth.deps import Scope
from leadbase.kit.http import json_response
from leadbase.listings.schemas import Currency

router = APIRouter(prefix="/analytics", tags=["analytics"])

From = Annotated[date | None, Query(alias="from", description=(
    "First day, inclusive (default: a few buckets before 'to')"))]
To = Annotated[date | None, Query(alias="to", description="Last day, inclusive (default: "
                                                          "today)")]
BucketParam = Annotated[Bucket, Query(description="day, week (from Monday) or month")]
_RANGE_ERRORS: dict[int | str, dict[str, str]] = {
    422: {"description": "INVALID_RANGE ('from' after 'to'), RANGE_TOO_LARGE (more than "
                         "366 days, 260 weeks or 120 months)"}}


def _out(model: type[BaseModel], body: dict[str, object]) -> Response:
    return json_response(model.model_validate(body).model_dump(mode="json", by_alias=True))


@router.get("/leads/by-source", response_model=TimeSeries, responses=_RANGE_ERRORS)
async def leads_by_source(scope: Scope, start: From = None, end: To = None,
                          bucket: BucketParam = "week") -> Response:
    """Leads created per period and source: one series per source, the largest first
    (past eight, the rest summed as ``other``; ``key`` null: no source)."""
    return _out(TimeSeries, await service.leads_by_source(
        scope.session, ctx=scope.ctx, start=start, end=end, bucket=bucket))


@router.get("/leads/funnel", response_model=Funnel, responses=_RANGE_ERRORS)
async def funnel(scope: Scope, start: From = None, end: To = None) -> Response:
    """The leads created in [from, to] (default: the last 90 days, at most 3660) by their
    status now, and as a funnel new → contacted → qualified → converted."""
    return _out(Funnel, await service.funnel(scope.session, ctx=scope.ctx, start=start,
                                             end=end))


@router.get("/pipeline-value", response_model=PipelineValue, responses={
    422: {"description": "PIPELINE_NOT_FOUND, NO_DEAL_PIPELINE"}})
async def pipeline_value(scope: Scope, pipeline_id: Annotated[uuid.UUID | None, Query(
                             description="A deal pipeline (default: the default one)")] = None,
                         currency: Annotated[Currency | None, Query()] = None) -> Response:
    """Count, value and weighted value of the opportunities per stage of a deal pipeline,
    in stage order (the same sums as ``/opportunities/pipeline``)."""
    return _out(PipelineValue, await service.pipeline_value(
        scope.session, ctx=scope.ctx, pipeline_id=pipeline_id, currency=currency))


@router.get("/imports", response_model=TimeSeries, responses={
    **_RANGE_ERRORS, 403: {"description": "ROLE_REQUIRED (managers and above)"}})
async def imports(scope: Scope, start: From = None, end: To = None,
                  bucket: BucketParam = "week") -> Response:
    """Import jobs per period (series ``jobs``, ``dry_runs``, ``failed``) and the rows of
    the completed ones (``created``, ``updated``, ``skipped``, ``invalid``)."""
    return _out(TimeSeries, await service.imports(scope.session, ctx=scope.ctx, start=start,
                                                  end=end, bucket=bucket))


@router.get("/activities", response_model=TimeSeries, responses=_RANGE_ERRORS)
async def activities(scope: Scope, start: From = None, end: To = None,
                     bucket: BucketParam = "week") -> Response:
    """Timeline entries per period, one series per type (call, note, stage_change...)."""
    return _out(TimeSeries, await service.activities(scope.session, ctx=scope.ctx,
                                                     start=start, end=end, bucket=bucket))


@router.get("/dashboard", response_model=Dashboard, responses=_RANGE_ERRORS)
async def dashboard(scope: Scope, start: From = None, end: To = None,
                    bucket: BucketParam = "week") -> Response:
    """Every figure above over one range, in one answer (what the console draws)."""
    return _out(Dashboard, await service.dashboard(scope.session, ctx=scope.ctx,
                                                   start=start, end=end, bucket=bucket))
