"""``/opportunities``: CRUD, ``move-stage``, ``close-won``, ``close-lost``, ``reopen``,
``calculate-probability`` and ``update-probability``, over ``leadbase.opportunities``
(service, records, stages, views).

An opportunity: ``{id: "opp_…", name, leadId, customerId, stage, stageName, status,
value, currency, probability, weightedValue, expectedCloseDate, assignedToId, source,
notes, actualValue, closeDate, closedAt, lostReason, competitor, closeNotes, reopenedAt,
reopenReason, lastActivityAt, stageEnteredAt, lead, customer, createdAt, updatedAt}``.
Stages are the deal pipeline's codes in capitals (``QUALIFIED``, ``PROPOSAL``,
``NEGOTIATION``, ``CLOSED_WON``, ``CLOSED_LOST`` by default); statuses ``OPEN``, ``WON``,
``LOST``; money a JSON number; ``expectedCloseDate`` a day (given as a date or the
document's timestamp, answered as midnight UTC). Every opportunity is shown through
``service.presented``: an agent's deal on another agent's lead names no lead.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from leadbase.auth.context import Context
from leadbase.auth.deps import IfMatch, Scope
from leadbase.compat.crm import ids, views
from leadbase.compat.crm.leads import DEFAULT_LIMIT, Limit, Page
from leadbase.compat.crm.opportunity_schemas import (
    CloseLost,
    CloseWon,
    MoveStage,
    OpportunityCreate,
    OpportunityOut,
    OpportunityPage,
    OpportunityStatus,
    OpportunityUpdate,
    ProbabilityOut,
    Reopen,
)
from leadbase.kit.errors import ValidationFailed
from leadbase.kit.idempotency import idempotent
from leadbase.kit.pagination import PageParams
from leadbase.opportunities import records, service, stages
from leadbase.opportunities import schemas as canonical
from leadbase.opportunities import views as opportunity_views
from leadbase.opportunities.repository import OpportunityFilter

router = APIRouter(prefix="/opportunities", tags=["opportunities"])

RefQuery = Annotated[str | None, Query(max_length=64)]


def opportunity_id(request: Request, raw: str) -> uuid.UUID:
    return ids.resolve(request, "opportunity", raw)


def one(ctx: Context, row: dict[str, Any], status: int = 200) -> Response:
    """The opportunity as ``ctx`` may see it, with its ETag."""
    return views.respond(views.opportunity(service.presented(ctx, row)), status,
                         headers=views.etag_of(row))


def _ref(request: Request, kind: ids.Kind, raw: str | None) -> uuid.UUID | None:
    return None if raw is None else ids.resolve(request, kind, raw)


def _values(request: Request, sent: dict[str, Any]) -> dict[str, Any]:
    """The document's attributes (those sent) → the canonical opportunity's."""
    plain = ("name", "value", "probability", "expected_close_date", "currency", "notes")
    values = {k: sent[k] for k in plain if k in sent}
    refs: tuple[tuple[str, ids.Kind, str], ...] = (
        ("lead_id", "lead", "lead_id"), ("customer_id", "customer", "customer_id"),
        ("assigned_to_id", "agent", "owner_id"))
    for name, kind, target in refs:
        if name in sent:
            values[target] = _ref(request, kind, sent[name])
    if "source" in sent:
        values["source"] = sent["source"].lower() if sent["source"] else None
    if sent.get("stage") is not None:
        values["stage"] = sent["stage"].lower()
    return values


@router.post("", status_code=201, response_model=OpportunityOut)
async def create_opportunity(request: Request, body: OpportunityCreate,
                             scope: Scope) -> Response:
    """Create an open opportunity in the default deal pipeline at ``stage`` (an open one;
    default its first), worth ``value`` (default 0) in ``currency`` (default the
    workspace's). ``probability`` unset: the stage's. ``leadId`` of a lead you cannot
    read: 404. Accepts ``Idempotency-Key``."""

    async def work() -> Response:
        values = {k: v for k, v in _values(request, body.model_dump(exclude_unset=True))
                  .items() if v is not None or k in ("owner_id",)}
        row = await service.create_opportunity(
            scope.session, ctx=scope.ctx,
            body=views.canonical(canonical.OpportunityCreate, values))
        return one(scope.ctx, row, 201)

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


@router.get("", response_model=OpportunityPage)
async def list_opportunities(request: Request, scope: Scope, page: Page = 1,
                             limit: Limit = DEFAULT_LIMIT,
                             stage: Annotated[str | None, Query(max_length=64)] = None,
                             status: Annotated[OpportunityStatus | None, Query()] = None,
                             agent: Annotated[str | None, Query(alias="agentId",
                                                                max_length=64)] = None,
                             lead: Annotated[str | None, Query(alias="leadId",
                                                               max_length=64)] = None,
                             customer: Annotated[str | None, Query(alias="customerId",
                                                                   max_length=64)] = None,
                             search: Annotated[str | None, Query(min_length=1,
                                                                 max_length=200)] = None
                             ) -> Response:
    """Opportunities, newest first: ``{data, total, page, limit, totalPages}``. Filters:
    ``stage``, ``status`` (OPEN, WON, LOST), ``agentId`` (the owner), ``leadId``,
    ``customerId``, ``search`` (part of the name). ``total`` is exact up to
    ``LEADBASE_COUNT_EXACT_LIMIT`` (1,000); beyond it one more than that, said so by
    ``X-Total-Count-Estimated: true``. Agents: their own and their leads'."""
    owner, lead_ref = _ref(request, "agent", agent), _ref(request, "lead", lead)
    customer_ref = _ref(request, "customer", customer)
    f = records.OpportunityQuery(filter=OpportunityFilter(
        statuses=(status.lower(),) if status else (),
        owner_ids=(owner,) if owner else (), lead_ids=(lead_ref,) if lead_ref else (),
        customer_ids=(customer_ref,) if customer_ref else (), q=search),
        stages=(stage.lower(),) if stage else ())
    cap = request.app.state.settings.count_exact_limit
    found = await records.list_opportunities(
        scope.session, ctx=scope.ctx, f=f,
        params=PageParams(page=page, per_page=limit, cursor=None, count="auto"),
        count_cap=cap)
    total = found.total if found.total is not None else len(found.rows)
    return views.page([views.opportunity(service.presented(scope.ctx, r)) for r in found.rows],
                      total=total, page=page, limit=limit, estimated=total > cap)


@router.get("/{id}", response_model=OpportunityOut)
async def get_opportunity(request: Request, id: str, scope: Scope) -> Response:
    row = await service.get_opportunity(scope.session, ctx=scope.ctx,
                                        opportunity_id=opportunity_id(request, id))
    return one(scope.ctx, row)


@router.put("/{id}", response_model=OpportunityOut)
async def update_opportunity(request: Request, id: str, body: OpportunityUpdate,
                             scope: Scope, if_match: IfMatch) -> Response:
    """Change the attributes sent (``probability: null``: the stage's again). The stage
    moves through ``move-stage``, the status through ``close-won``, ``close-lost`` and
    ``reopen`` (sending them here: 400). ``If-Match`` refuses a stale change (412)."""
    sent = body.model_dump(exclude_unset=True)
    for name, route in (("stage", "move-stage"), ("status", "close-won, close-lost, reopen")):
        if name in sent:
            raise ValidationFailed(f"{name}: changes through {route}", code="READ_ONLY_FIELD",
                                   errors=[{"field": name,
                                            "message": f"changes through {route}"}])
    row = await records.update_opportunity(
        scope.session, ctx=scope.ctx, opportunity_id=opportunity_id(request, id),
        body=views.canonical(canonical.OpportunityUpdate, _values(request, sent)),
        expected_version=if_match)
    return one(scope.ctx, row)


@router.delete("/{id}", status_code=204)
async def delete_opportunity(request: Request, id: str, scope: Scope,
                             if_match: IfMatch) -> Response:
    """Delete it (a soft delete: its history and activities stay)."""
    await records.delete_opportunity(scope.session, ctx=scope.ctx,
                                     opportunity_id=opportunity_id(request, id),
                                     expected_version=if_match)
    return Response(status_code=204)


@router.post("/{id}/move-stage", response_model=OpportunityOut)
async def move_stage(request: Request, id: str, body: MoveStage, scope: Scope,
                     if_match: IfMatch) -> Response:
    """Move an open opportunity to ``stage`` of its pipeline, with history. Into
    ``CLOSED_WON`` it closes won; into ``CLOSED_LOST`` lost, with ``reason`` (required
    then). A closed one: 409 (reopen it first). Answers the opportunity."""
    row, _ = await stages.move_stage(
        scope.session, ctx=scope.ctx, opportunity_id=opportunity_id(request, id),
        body=canonical.StageMoveBody(stage=body.stage.lower(), reason=body.reason),
        expected_version=if_match)
    return one(scope.ctx, row)


@router.post("/{id}/close-won", response_model=OpportunityOut)
async def close_won(request: Request, id: str, body: CloseWon, scope: Scope,
                    if_match: IfMatch) -> Response:
    """Close it won: ``actualValue`` (default: its value), ``notes``, ``closeDate``
    (default: today). Closed already: 409."""
    row = await stages.close_won(
        scope.session, ctx=scope.ctx, opportunity_id=opportunity_id(request, id),
        body=canonical.CloseWonBody(actual_value=body.actual_value, notes=body.notes,
                                    close_date=body.close_date),
        expected_version=if_match)
    return one(scope.ctx, row)


@router.post("/{id}/close-lost", response_model=OpportunityOut)
async def close_lost(request: Request, id: str, body: CloseLost, scope: Scope,
                     if_match: IfMatch) -> Response:
    """Close it lost: ``reason`` (required), ``notes``, ``competitor``. Closed already:
    409."""
    row = await stages.close_lost(
        scope.session, ctx=scope.ctx, opportunity_id=opportunity_id(request, id),
        body=canonical.CloseLostBody(reason=body.reason, notes=body.notes,
                                     competitor=body.competitor, close_date=body.close_date),
        expected_version=if_match)
    return one(scope.ctx, row)


@router.post("/{id}/reopen", response_model=OpportunityOut)
async def reopen(request: Request, id: str, body: Reopen, scope: Scope,
                 if_match: IfMatch) -> Response:
    """Reopen a won or lost one (``reason`` required) into ``stage`` or the open stage it
    closed from. An open one: 409."""
    row = await stages.reopen(
        scope.session, ctx=scope.ctx, opportunity_id=opportunity_id(request, id),
        body=canonical.ReopenBody(reason=body.reason,
                                  stage=body.stage.lower() if body.stage else None),
        expected_version=if_match)
    return one(scope.ctx, row)


def _probability(found: dict[str, Any]) -> dict[str, Any]:
    return {"probability": found["probability"], "method": found["method"].upper(),
            "sampleSize": found["sample_size"], "won": found["won"], "lost": found["lost"],
            "stageDefault": found["stage_default"], "minSample": found["min_sample"],
            "stage": found["stage"].upper()}


@router.post("/{id}/calculate-probability", response_model=ProbabilityOut)
async def calculate_probability(request: Request, id: str, scope: Scope) -> Response:
    """The chance to win from the workspace's closed deals that passed the opportunity's
    stage (``method: HISTORY``, ``sampleSize`` of them); below ``minSample`` the stage's
    default (``STAGE_DEFAULT``). Nothing is stored (``update-probability`` stores it). A
    closed opportunity: 409."""
    found = await opportunity_views.calculate_probability(
        scope.session, ctx=scope.ctx, opportunity_id=opportunity_id(request, id))
    return views.respond(_probability(found))


@router.post("/{id}/update-probability", response_model=OpportunityOut)
async def update_probability(request: Request, id: str, scope: Scope,
                             if_match: IfMatch) -> Response:
    """Calculate the probability (as ``calculate-probability``) and store it as the
    opportunity's; answers the opportunity."""
    found = await opportunity_views.calculate_probability(
        scope.session, ctx=scope.ctx, opportunity_id=opportunity_id(request, id),
        store=True, expected_version=if_match)
    row = found["opportunity"]
    return views.respond({**views.opportunity(row), "probabilityMethod":
                          found["method"].upper(), "sampleSize": found["sample_size"]},
                         headers=views.etag_of(row))
