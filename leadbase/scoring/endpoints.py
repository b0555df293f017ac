"""Scoring (``/api/v1/scoring``) and a lead's score (``/api/v1/leads/{id}/score``).
Reading the model needs any role; changing it, previewing a draft, recalculating and
training need manager or higher. A lead's score is read by whoever may read the lead and
recomputed by whoever may write it."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from starlette.responses import Response

from leadbase.auth.deps import IfMatch, ManagerScope, Scope
from leadbase.kit.http import etag, json_response
from leadbase.kit.idempotency import idempotent
from leadbase.kit.pagination import PageParams, decode_cursor, encode_cursor, page_params
from leadbase.scoring import service
from leadbase.scoring.predictive import service as predictive
from leadbase.scoring.schemas import (
    JobPage,
    JobRead,
    ModelIn,
    ModelPage,
    ModelRead,
    PredictorPage,
    PredictorRead,
    PreviewRead,
    ScoreRead,
    TrainIn,
    TrainResult,
)

router = APIRouter(prefix="/scoring", tags=["scoring"])
leads_router = APIRouter(prefix="/leads", tags=["scoring"])
VERSION_SORT = "-version"
Version = Annotated[int, Path(ge=1, le=2**31 - 1)]
_412: dict[int | str, dict[str, Any]] = {412: {"description": "If-Match names another "
                                               "version than the one in force"}}


def _model(row: dict[str, Any]) -> Response:
    return json_response(ModelRead.model_validate(row), headers={"ETag": etag(row["version"])})


def _before(params: PageParams) -> int | None:
    if params.cursor is None:
        return None
    value = decode_cursor(params.cursor, VERSION_SORT, (int,))[0]
    return int(value)


def _next(rows: list[dict[str, Any]], limit: int) -> tuple[list[dict[str, Any]], str | None]:
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode_cursor(VERSION_SORT, [rows[-1]["version"]])
    return rows, None


@router.get("/model", response_model=ModelRead)
async def get_model(scope: Scope) -> Response:
    """The scoring model in force: its rules (each with its condition in words), decay
    and thresholds. ``version`` 0 (empty) until the first PUT. The ETag is the version."""
    return _model(await service.get_model(scope.session, ctx=scope.ctx))


@router.put("/model", response_model=ModelRead, responses={
    422: {"description": "INVALID_RULE (errors name rules[i].condition...), "
                         "INVALID_SCORING_MODEL, VALIDATION_ERROR"}, **_412})
async def put_model(body: ModelIn, scope: ManagerScope, if_match: IfMatch) -> Response:
    """Replace the model: a new version (the previous ones are kept). Send ``If-Match``
    with the ETag read. Scores follow on ``POST /scoring/recalculate`` (and lead by lead
    as events arrive)."""
    return _model(await service.put_model(scope.session, ctx=scope.ctx, body=body,
                                          expected_version=if_match))


@router.get("/model/versions", response_model=ModelPage)
async def list_versions(scope: Scope,
                        params: Annotated[PageParams, Depends(page_params)]) -> Response:
    """Every saved version, newest first (cursor pages; ``page`` is ignored)."""
    rows, total = await service.list_versions(scope.session, ctx=scope.ctx,
                                              before=_before(params),
                                              limit=params.per_page + 1)
    rows, cursor = _next(rows, params.per_page)
    return json_response(ModelPage(data=[ModelRead.model_validate(r) for r in rows],
                                   total=total, page=None, per_page=params.per_page,
                                   next_cursor=cursor))


@router.get("/model/versions/{version}", response_model=ModelRead)
async def get_version(version: Version, scope: Scope) -> Response:
    return _model(await service.get_model(scope.session, ctx=scope.ctx, version=version))


@router.post("/preview", response_model=PreviewRead)
async def preview(body: ModelIn, scope: ManagerScope) -> Response:
    """What a draft model would do to the workspace's leads: the score histogram (steps of
    10), leads per temperature (now and with the draft), how many would change
    temperature and a sample of them. Writes nothing."""
    return json_response(PreviewRead.model_validate(
        await service.preview(scope.session, ctx=scope.ctx, body=body)))


@router.post("/recalculate", status_code=202, response_model=JobRead,
             responses={409: {"description": "SCORING_MODEL_MISSING"}})
async def recalculate(request: Request, scope: ManagerScope) -> Response:
    """Recalculate every lead's score with the model in force, as a job: poll
    ``GET /scoring/jobs/{id}`` (``processed`` of ``total``). Accepts ``Idempotency-Key``."""

    async def work() -> Response:
        job = await service.queue_recalculation(scope.session, ctx=scope.ctx)
        return json_response(JobRead.model_validate(job), 202,
                             headers={"Location": f"/api/v1/scoring/jobs/{job['id']}"})

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


@router.get("/jobs", response_model=JobPage)
async def list_jobs(scope: ManagerScope,
                    params: Annotated[PageParams, Depends(page_params)]) -> Response:
    """Scoring jobs, newest first."""
    rows, total = await service.list_jobs(scope.session, ctx=scope.ctx, offset=params.offset,
                                          limit=params.per_page)
    return json_response(JobPage(data=[JobRead.model_validate(r) for r in rows], total=total,
                                 page=params.page, per_page=params.per_page, next_cursor=None))


@router.get("/jobs/{job_id}", response_model=JobRead)
async def get_job(job_id: uuid.UUID, scope: ManagerScope) -> Response:
    return json_response(JobRead.model_validate(
        await service.get_job(scope.session, ctx=scope.ctx, job_id=job_id)))


@router.post("/jobs/{job_id}/cancel", response_model=JobRead,
             responses={409: {"description": "SCORING_JOB_FINISHED"}})
async def cancel_job(job_id: uuid.UUID, scope: ManagerScope) -> Response:
    """Stop a job before its next batch; what was done stays done."""
    return json_response(JobRead.model_validate(
        await service.cancel_job(scope.session, ctx=scope.ctx, job_id=job_id)))


def _predictor(row: dict[str, Any]) -> PredictorRead:
    return PredictorRead.model_validate({**row, "features": len(row["features"])})


@router.post("/train", status_code=201, response_model=TrainResult, responses={
    202: {"description": "Many labelled leads: training runs as a job"},
    422: {"description": "NOT_ENOUGH_LABELLED_LEADS (fewer than 50 in a class), "
                         "NO_FEATURES"}})
async def train(request: Request, body: TrainIn, scope: ManagerScope) -> Response:
    """Fit a logistic regression of conversion (converted against lost or unqualified)
    on the workspace's leads: lead fields, custom fields, activity counts. Answers the
    holdout AUC and the strongest factors. ``accept: true`` puts it in force at once
    (otherwise ``POST /scoring/predictors/{version}/accept``). Accepts
    ``Idempotency-Key``."""

    async def work() -> Response:
        result = await predictive.request_training(scope.session, ctx=scope.ctx, body=body)
        body_out = TrainResult(
            predictor=_predictor(result.predictor) if result.predictor else None,
            job=JobRead.model_validate(result.job) if result.job else None)
        return json_response(body_out, 201 if result.predictor else 202)

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


@router.get("/predictors", response_model=PredictorPage)
async def list_predictors(scope: Scope,
                          params: Annotated[PageParams, Depends(page_params)]) -> Response:
    """Trained predictive models, newest first (cursor pages)."""
    rows = await predictive.list_predictors(scope.session, ctx=scope.ctx,
                                            before=_before(params), limit=params.per_page + 1)
    rows, cursor = _next(rows, params.per_page)
    return json_response(PredictorPage(data=[_predictor(r) for r in rows], total=None,
                                       page=None, per_page=params.per_page,
                                       next_cursor=cursor))


@router.get("/predictors/{version}", response_model=PredictorRead)
async def get_predictor(version: Version, scope: Scope) -> Response:
    return json_response(_predictor(await predictive.get_predictor(
        scope.session, ctx=scope.ctx, version=version)))


@router.post("/predictors/{version}/accept", response_model=TrainResult,
             responses={409: {"description": "PREDICTOR_RETIRED"}})
async def accept_predictor(version: Version, scope: ManagerScope) -> Response:
    """Put a trained model in force; a job predicts every lead (answered as ``job``)."""
    row, job = await predictive.accept(scope.session, ctx=scope.ctx, version=version)
    return json_response(TrainResult(predictor=_predictor(row),
                                     job=JobRead.model_validate(job)))


@leads_router.get("/{lead_id}/score", response_model=ScoreRead)
async def get_lead_score(lead_id: uuid.UUID, scope: Scope) -> Response:
    """The lead's score with its breakdown (every rule that counted, its points and why
    in words; the cap and the decay), and its predicted conversion with its top
    factors when a predictive model is in force."""
    return json_response(ScoreRead.model_validate(
        await service.lead_score(scope.session, ctx=scope.ctx, lead_id=lead_id)))


@leads_router.post("/{lead_id}/score", response_model=ScoreRead,
                   responses={409: {"description": "SCORING_MODEL_MISSING"}})
async def rescore_lead(lead_id: uuid.UUID, scope: Scope) -> Response:
    """Recompute the lead's score now and answer it."""
    return json_response(ScoreRead.model_validate(
        await service.rescore_lead(scope.session, ctx=scope.ctx, lead_id=lead_id)))

