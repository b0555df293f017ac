"""``/leads/.../score`` and ``/leads/scoring/...``: over the scoring service (the model in
force is the canonical ``/api/v1/scoring/model``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from leadbase.auth.deps import ManagerScope, Scope
from leadbase.compat.crm import limits, views
from leadbase.compat.crm.leads import lead_id
from leadbase.kit.idempotency import idempotent
from leadbase.kit.pagination import MAX_PER_PAGE, PageParams
from leadbase.leads import service as leads
from leadbase.leads.filters import LeadFilter
from leadbase.scoring import service as scoring

router = APIRouter(prefix="/leads", tags=["scoring"])

HOT, COLD = 70, 30  # the document's example thresholds, the defaults
ListLimit = Annotated[int, Query(ge=1, le=MAX_PER_PAGE,
                                 description=f"At most this many (default 100, at most "
                                             f"{MAX_PER_PAGE})")]
Threshold = Annotated[int, Query(ge=0, le=100)]


@router.post("/{id}/calculate-score")
async def calculate_score(request: Request, id: str, scope: Scope) -> Response:
    """Recompute the lead's score with the scoring model in force and answer ``{score}``
    (the score is kept: the lead shows what was answered). No model yet: 409."""
    row = await scoring.rescore_lead(scope.session, ctx=scope.ctx,
                                     lead_id=lead_id(request, id))
    return views.respond({"score": row["score"]})


@router.post("/{id}/update-score")
async def update_score(request: Request, id: str, scope: Scope) -> Response:
    """Recompute and store the lead's score: ``{id, score, temperature}``."""
    raw = lead_id(request, id)
    row = await scoring.rescore_lead(scope.session, ctx=scope.ctx, lead_id=raw)
    return views.respond({"id": id, "score": row["score"],
                          "temperature": str(row["temperature"]).upper()})


async def _scored(scope: Scope, f: LeadFilter, sort: str, limit: int) -> Response:
    found = await leads.list_leads(scope.session, ctx=scope.ctx, f=f, sort=sort,
                                   params=PageParams(page=1, per_page=limit, cursor=None,
                                                     count="none"), count_cap=0)
    return views.respond([views.short_lead(r) for r in found.rows])


@router.get("/scoring/hot")
async def hot_leads(scope: Scope, threshold: Threshold = HOT,
                    limit: ListLimit = 100) -> Response:
    """Leads scoring ``threshold`` (70) or more, best first: a JSON array of at most
    ``limit``."""
    return await _scored(scope, LeadFilter(score_gte=threshold), "-score", limit)


@router.get("/scoring/cold")
async def cold_leads(scope: Scope, threshold: Threshold = COLD,
                     limit: ListLimit = 100) -> Response:
    """Leads scoring ``threshold`` (30) or less, lowest first: a JSON array of at most
    ``limit``."""
    return await _scored(scope, LeadFilter(score_lte=threshold), "score", limit)


@router.post("/scoring/recalculate-all", status_code=202)
@limits.category("bulk")
async def recalculate_all(request: Request, scope: ManagerScope) -> Response:
    """Recalculate every lead's score as a job (managers and above): 202 ``{message,
    jobId, status, total}``; follow it at ``GET /api/v1/scoring/jobs/{id}``. Accepts
    ``Idempotency-Key``."""

    async def work() -> Response:
        job = await scoring.queue_recalculation(scope.session, ctx=scope.ctx)
        return views.respond({"message": "Score recalculation started",
                              "jobId": str(job["id"]), "status": str(job["status"]).upper(),
                              "total": job["total"]}, 202,
                             headers={"Location": f"/api/v1/scoring/jobs/{job['id']}"})

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)
