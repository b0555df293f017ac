"""Predictive scoring: train a logistic regression of conversion on the workspace's
history, accept it, and give every lead its predicted conversion with its top factors.

- Labels: converted is positive; lost and unqualified are negative (deals won, once the
  opportunities exist, will count as positive too). Fewer than 50 of either: refused
  (422 ``NOT_ENOUGH_LABELLED_LEADS``), nothing stored.
- Training is deterministic given the data. With more than ``TRAIN_INLINE_MAX`` labelled
  leads it runs as a job (202; poll the job); beyond ``MAX_TRAIN_ROWS`` a fixed sample.
- A trained model is stored (versioned) with its holdout AUC and strongest factors; it
  predicts once accepted: then a job computes every lead's prediction (in batches of lead
  numbers, one read and one write per batch), and each rescore of a lead refreshes its own.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.audit import service as audit
from leadbase.auth.context import Context, actor_of
from leadbase.kit.checks import found
from leadbase.kit.errors import Conflict, NotFound, ValidationFailed
from leadbase.scoring import repository as scoring_repository
from leadbase.scoring.predictive import features, repository, train
from leadbase.scoring.schemas import TrainIn
from leadbase.worker.defer import defer

MIN_PER_CLASS = 50
TRAIN_INLINE_MAX = 20_000
MAX_TRAIN_ROWS = 200_000
PREDICT_BATCH = 5_000
QUEUE = "scoring"


def not_found() -> NotFound:
    return NotFound("Predictive model not found.", code="PREDICTOR_NOT_FOUND")


def _refusal(positive: int, negative: int) -> ValidationFailed:
    return ValidationFailed(
        f"Training needs at least {MIN_PER_CLASS} converted leads and {MIN_PER_CLASS} lost "
        f"or unqualified ones; the workspace has {positive} and {negative}.",
        code="NOT_ENOUGH_LABELLED_LEADS",
        extra={"converted": positive, "lost_or_unqualified": negative,
               "needed_per_class": MIN_PER_CLASS})


async def check_history(session: AsyncSession, *, tenant_id: uuid.UUID) -> tuple[int, int]:
    positive, negative = await features.label_counts(session, tenant_id=tenant_id)
    if positive < MIN_PER_CLASS or negative < MIN_PER_CLASS:
        raise _refusal(positive, negative)
    return positive, negative


async def _fit_and_store(session: AsyncSession, *, ctx: Context,
                         holdout: float) -> dict[str, Any]:
    tenant_id = ctx.tenant_id
    rows = await features.labelled_rows(session, tenant_id=tenant_id, limit=MAX_TRAIN_ROWS)
    positive = sum(features.label(r["status"]) for r in rows)
    if positive < MIN_PER_CLASS or len(rows) - positive < MIN_PER_CLASS:
        raise _refusal(positive, len(rows) - positive)
    spec = features.vocabulary(rows, await features.field_types(session, tenant_id=tenant_id))
    if not spec:
        raise ValidationFailed("The labelled leads share no feature to learn from.",
                               code="NO_FEATURES")
    fitted = await asyncio.to_thread(train.fit, rows, spec, holdout=holdout)
    await repository.lock(session, tenant_id=tenant_id)
    version = await repository.next_version(session, tenant_id=tenant_id)
    row = await repository.insert(session, tenant_id=tenant_id, values={
        "version": version, "status": "trained", "features": fitted.spec,
        "intercept": fitted.intercept, "auc": fitted.auc, "metrics": fitted.metrics,
        "factors": fitted.factors, "created_by": ctx.actor_user_id})
    await audit.record(session, ctx=ctx, action="scoring.predictor_trained",
                       entity_type="scoring_predictor", entity_id=row["id"],
                       changes={"version": version, "auc": fitted.auc})
    return row


@dataclass(frozen=True)
class Training:
    predictor: dict[str, Any] | None
    job: dict[str, Any] | None


async def request_training(session: AsyncSession, *, ctx: Context, body: TrainIn) -> Training:
    """Train now, or (many labelled leads) queue the training as a job."""
    positive, negative = await check_history(session, tenant_id=ctx.tenant_id)
    if positive + negative > TRAIN_INLINE_MAX:
        queued = await scoring_repository.JOB_ROWS.insert(session, tenant_id=ctx.tenant_id, values={
            "kind": "train", "actor": actor_of(ctx), "created_by": ctx.actor_user_id,
            "total": min(positive + negative, MAX_TRAIN_ROWS),
            "result": {"accept": body.accept, "holdout": body.holdout}})
        await defer(session, "scoring_run", queue=QUEUE, tenant_id=str(ctx.tenant_id),
                    job_id=str(queued["id"]))
        return Training(predictor=None, job=queued)
    row = await _fit_and_store(session, ctx=ctx, holdout=body.holdout)
    job: dict[str, Any] | None = None
    if body.accept:
        row, job = await accept(session, ctx=ctx, version=row["version"])
    return Training(predictor=row, job=job)


async def train_for_job(session: AsyncSession, *, ctx: Context,
                        job: dict[str, Any]) -> dict[str, Any]:
    """The training of a queued job; the job's result names the version."""
    row = await _fit_and_store(session, ctx=ctx, holdout=float(job["result"]["holdout"]))
    result: dict[str, Any] = {**job["result"], "predictor_version": row["version"],
                              "auc": row["auc"]}
    if job["result"].get("accept"):
        _, predict_job = await accept(session, ctx=ctx, version=row["version"])
        result["predict_job_id"] = str(predict_job["id"])
    return result


async def accept(session: AsyncSession, *, ctx: Context,
                 version: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Accept a trained version: it predicts from now on. Queues the job that predicts
    every lead; answers (predictor, job)."""
    await repository.lock(session, tenant_id=ctx.tenant_id)
    current = found(await repository.get(session, tenant_id=ctx.tenant_id, version=version,
                                         for_update=True), not_found)
    if current["status"] == "retired":
        raise Conflict("A retired model cannot be accepted again; train a new one.",
                       code="PREDICTOR_RETIRED")
    row = await repository.accept(session, tenant_id=ctx.tenant_id, version=version,
                                  user_id=ctx.actor_user_id)
    job = await queue_prediction(session, ctx=ctx, version=version)
    await audit.record(session, ctx=ctx, action="scoring.predictor_accepted",
                       entity_type="scoring_predictor", entity_id=row["id"],
                       changes={"version": version})
    return row, job


async def queue_prediction(session: AsyncSession, *, ctx: Context,
                           version: int) -> dict[str, Any]:
    """A job predicting every lead with the accepted ``version``."""
    total, _ = await scoring_repository.number_span(session, tenant_id=ctx.tenant_id)
    job = await scoring_repository.JOB_ROWS.insert(session, tenant_id=ctx.tenant_id, values={
        "kind": "predict", "actor": actor_of(ctx), "created_by": ctx.actor_user_id,
        "predictor_version": version, "total": total})
    await defer(session, "scoring_run", queue=QUEUE, tenant_id=str(ctx.tenant_id),
                job_id=str(job["id"]))
    return job


async def predict_range(session: AsyncSession, *, tenant_id: uuid.UUID,
                        predictor: dict[str, Any], low: int, high: int) -> int:
    """Predict the live leads numbered ``low < number <= high``; how many."""
    rows = await features.rows_where(session, tenant_id=tenant_id,
                                     where="l.number > %(lo)s AND l.number <= %(hi)s",
                                     params={"lo": low, "hi": high})
    await _write(session, tenant_id, predictor, rows)
    return len(rows)


async def predict_leads(session: AsyncSession, *, tenant_id: uuid.UUID,
                        predictor: dict[str, Any], lead_ids: list[uuid.UUID]) -> None:
    rows = await features.rows_where(session, tenant_id=tenant_id, where="l.id = ANY(%(ids)s)",
                                     params={"ids": lead_ids})
    await _write(session, tenant_id, predictor, rows)


async def _write(session: AsyncSession, tenant_id: uuid.UUID, predictor: dict[str, Any],
                 rows: list[dict[str, Any]]) -> None:
    predicted = train.predict(predictor["features"], predictor["intercept"], rows)
    await scoring_repository.write_predictions(
        session, tenant_id=tenant_id, version=predictor["version"],
        rows=[(r["id"], p, f) for r, (p, f) in zip(rows, predicted, strict=True)])


async def in_force(session: AsyncSession, *, tenant_id: uuid.UUID) -> dict[str, Any] | None:
    return await repository.in_force(session, tenant_id=tenant_id)


async def get_predictor(session: AsyncSession, *, ctx: Context,
                        version: int) -> dict[str, Any]:
    return found(await repository.get(session, tenant_id=ctx.tenant_id, version=version),
                 not_found)


async def list_predictors(session: AsyncSession, *, ctx: Context, before: int | None,
                          limit: int) -> list[dict[str, Any]]:
    return await repository.page(session, tenant_id=ctx.tenant_id, before=before,
                                 limit=limit)
