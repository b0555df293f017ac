"""``/opportunities/pipeline/...`` and ``/opportunities/forecast/revenue``: the pipeline
view, a stage's opportunities, stale opportunities and the revenue forecast, over
``leadbase.opportunities.views``.

- ``pipeline/view?agentId=`` answers ``{stages: {STAGE: {count, value, weightedValue,
  name, probability, category, opportunities, nextCursor}}, totalValue,
  totalWeightedValue, totalCount, currency}``: every stage of the default deal pipeline
  in order (the closed ones hold the won and lost deals), its newest 20 opportunities
  (``perStage``, 0-50) and the cursor of the next ones (``pipeline/by-stage/{stage}?
  cursor=``). Values are in the workspace's currency (``currency=`` another); counts
  count every currency.
- ``pipeline/by-stage/{stage}`` and ``pipeline/stale?days=`` are JSON arrays (newest
  first; least recently touched first) of at most ``limit`` (20; 200), the next page at
  ``?cursor=`` with the ``X-Next-Cursor`` header's value; ``stale`` also says how many
  there are in ``X-Total-Count``, and adds ``touchedAt`` and ``idleDays`` to each.
- ``forecast/revenue?months=`` (3; 1-24): the open opportunities expected to close from
  the current month (the workspace's time zone) for that many months: ``{period: "Next 3
  months", predictedRevenue, weightedRevenue, opportunities, currency, months: [{month,
  predictedRevenue, weightedRevenue, opportunities}]}`` — predicted is the sum of
  values, weighted the sum of value × probability; ``opportunities`` counts them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from leadbase.auth.deps import Scope
from leadbase.compat.crm import ids, views
from leadbase.compat.crm.opportunity_schemas import Forecast, OpportunityOut, PipelineView
from leadbase.kit.errors import NotFound
from leadbase.kit.pagination import MAX_PER_PAGE
from leadbase.listings.schemas import Currency
from leadbase.opportunities import views as canonical

router = APIRouter(prefix="/opportunities", tags=["opportunities"])

Agent = Annotated[str | None, Query(alias="agentId", max_length=64,
                                    description="agent_…: only that agent's")]
Cursor = Annotated[str | None, Query(max_length=2048, description="X-Next-Cursor of the "
                                                                  "previous page")]
Limit = Annotated[int, Query(ge=1, le=MAX_PER_PAGE, description="At most (default 20)")]
ViewCurrency = Annotated[Currency | None, Query(description="Default: the workspace's")]


def _agent(request: Request, raw: str | None) -> Any:
    return None if raw is None else ids.resolve(request, "agent", raw)


def _rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows the canonical views presented already (``service.presented``)."""
    return [views.opportunity(r) for r in rows]


def _listed(items: list[dict[str, Any]], next_cursor: str | None,
            **headers: str) -> Response:
    if next_cursor:
        headers["X-Next-Cursor"] = next_cursor
    return views.respond(items, headers=headers or None)


@router.get("/pipeline/view", response_model=PipelineView)
async def pipeline_view(request: Request, scope: Scope, agent: Agent = None,
                        currency: ViewCurrency = None,
                        per_stage: Annotated[int, Query(alias="perStage", ge=0, le=50)] = 20
                        ) -> Response:
    """Per stage of the default deal pipeline: ``count``, ``value``, ``weightedValue``
    and its newest opportunities; ``totalValue``, ``totalCount``. ``agentId``: that
    agent's opportunities (an agent sees its own and its leads')."""
    body = await canonical.pipeline_view(scope.session, ctx=scope.ctx,
                                         owner_id=_agent(request, agent), currency=currency,
                                         per_page=per_stage)
    stages = {}
    for column in body["stages"]:
        stage = column["stage"]
        stages[stage["code"].upper()] = {
            "count": column["count"], "value": views.number(column["value"]),
            "weightedValue": views.number(column["weighted_value"]),
            "name": stage["name"], "probability": stage["probability"],
            "category": str(stage["category"]).upper(),
            "opportunities": _rows(column["opportunities"]["data"]),
            "nextCursor": column["opportunities"]["next_cursor"]}
    totals = body["totals"]
    return views.respond({"stages": stages, "totalValue": views.number(totals["value"]),
                          "totalWeightedValue": views.number(totals["weighted_value"]),
                          "totalCount": totals["count"], "currency": body["currency"]})


@router.get("/pipeline/by-stage/{stage}", response_model=list[OpportunityOut])
async def by_stage(request: Request, stage: Annotated[str, Path(max_length=64)], scope: Scope,
                   agent: Agent = None,
                   limit: Limit = 20, cursor: Cursor = None) -> Response:
    """The opportunities in ``stage`` of the default deal pipeline (``PROPOSAL``...),
    newest first. A stage the pipeline has not: 404."""
    try:
        body = await canonical.stage_page(scope.session, ctx=scope.ctx, stage=stage.lower(),
                                          owner_id=_agent(request, agent), cursor=cursor,
                                          per_page=limit)
    except NotFound as exc:
        if exc.code != "STAGE_NOT_FOUND":
            raise
        raise NotFound(f"Stage {stage} not found", code="STAGE_NOT_FOUND") from None
    return _listed(_rows(body["data"]), body["next_cursor"])


@router.get("/pipeline/stale", response_model=list[OpportunityOut])
async def stale(request: Request, scope: Scope,
                days: Annotated[int, Query(ge=0, le=3650)] = 30, agent: Agent = None,
                limit: Limit = 20, cursor: Cursor = None) -> Response:
    """Open opportunities with no activity and no stage move for ``days`` days (30),
    least recently touched first, each with ``touchedAt`` and ``idleDays``;
    ``X-Total-Count`` counts them all."""
    body = await canonical.stale(scope.session, ctx=scope.ctx, days=days,
                                 owner_id=_agent(request, agent), cursor=cursor,
                                 per_page=limit)
    items = [{**views.opportunity(r), "touchedAt": r["touched_at"], "idleDays": r["idle_days"]}
             for r in body["data"]]
    return _listed(items, body["next_cursor"], **{"X-Total-Count": str(body["total"])})


def _period(months: int) -> str:
    return "Next month" if months == 1 else f"Next {months} months"


@router.get("/forecast/revenue", response_model=Forecast)
async def forecast_revenue(request: Request, scope: Scope,
                           months: Annotated[int, Query(ge=1, le=canonical.MAX_MONTHS)] = 3,
                           agent: Agent = None, currency: ViewCurrency = None) -> Response:
    """The revenue expected from the open opportunities closing in the next ``months``
    months (the current one first): ``{period, predictedRevenue, weightedRevenue,
    opportunities}`` and each month's figures."""
    body = await canonical.forecast(scope.session, ctx=scope.ctx, months=months,
                                    owner_id=_agent(request, agent), currency=currency,
                                    per_page=0)
    totals = body["totals"]
    return views.respond({
        "period": _period(months), "predictedRevenue": views.number(totals["value"]),
        "weightedRevenue": views.number(totals["weighted_value"]),
        "opportunities": totals["count"], "currency": body["currency"],
        "months": [{"month": p["month"], "predictedRevenue": views.number(p["value"]),
                    "weightedRevenue": views.number(p["weighted_value"]),
                    "opportunities": p["count"]} for p in body["periods"]]})
