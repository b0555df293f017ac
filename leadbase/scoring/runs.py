"""Scoring jobs, run by the worker: recalculating every score (asked, or the daily decay),
predicting every lead, training, and the rescore of the leads events queued.

A recalculation walks the workspace's lead numbers in ranges (``batch_for``); each
range is one statement (``scoring.sql.recalculate``) in its own transaction together with
the job's counters, so the progress polled is what is committed. A cancelled job stops
before its next range."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import psycopg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.audit import service as audit
from leadbase.auth.context import context_of
from leadbase.db import raw
from leadbase.db.session import Database
from leadbase.leads.repository import Readable
from leadbase.scoring import engine, repository, sql
from leadbase.scoring.model import Model
from leadbase.scoring.predictive import repository as predictor_repository
from leadbase.scoring.predictive import service as predictive

log = logging.getLogger(__name__)

RECALC_BATCH = 10_000
# A model with counts reads them per lead (one index probe per lead and source), so its
# ranges are as large as any other's.
RECALC_BATCH_COUNTS = RECALC_BATCH
# The recalculation statement is planned above the JIT threshold; compiling its ~60
# expressions took 0.3 s per range of 10,000 leads (a quarter of computing them).
_NO_JIT_SQL = "SET LOCAL jit = off"
QUEUE_BATCH = 500
RANGE_ATTEMPTS = 3
_RETRYABLE = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)


async def _start(db: Database, tenant_id: uuid.UUID, job_id: uuid.UUID) -> dict[str, Any] | None:
    async with db.transaction(tenant_id) as session:
        job = await repository.get_job(session, tenant_id=tenant_id, job_id=job_id,
                                       for_update=True)
        if job is None or job["status"] != "queued":
            return job
        return await repository.JOB_ROWS.update(session, tenant_id=tenant_id, row_id=job_id,
                                                values={"status": "running",
                                                        "started_at": datetime.now(UTC)})


async def run_job(db: Database, *, tenant_id: uuid.UUID, job_id: uuid.UUID,
                  batch: int | None = None) -> str:
    """Run a queued scoring job (safe to run twice: only a queued job is taken)."""
    job = await _start(db, tenant_id, job_id)
    if job is None:
        return "missing"
    if job["status"] != "running" or job["started_at"] is None:
        return str(job["status"])
    values: dict[str, Any]
    try:
        if job["kind"] == "train":
            async with db.transaction(tenant_id) as session:
                ctx = context_of(tenant_id, job["actor"])
                result = await predictive.train_for_job(session, ctx=ctx, job=job)
                await repository.JOB_ROWS.update(session, tenant_id=tenant_id, row_id=job_id,
                                                 values={"result": result,
                                                         "processed": job["total"] or 0})
            status = "completed"
        else:
            status = await _walk(db, tenant_id, job, batch)
        values = {"status": status, "finished_at": datetime.now(UTC)}
    except Exception as exc:  # recorded on the job; committed ranges stay committed
        log.warning("scoring job %s failed: %s", job_id, exc)
        values = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"[:2000],
                  "finished_at": datetime.now(UTC)}
    async with db.transaction(tenant_id) as session:
        current = await repository.get_job(session, tenant_id=tenant_id, job_id=job_id,
                                           for_update=True)
        if current is None or current["status"] == "cancelled":
            return "cancelled"
        done = await repository.JOB_ROWS.update(session, tenant_id=tenant_id, row_id=job_id,
                                                values=values)
        await audit.record(session, ctx=context_of(tenant_id, job["actor"]),
                           action=f"scoring.{job['kind']}_{values['status']}",
                           entity_type="scoring_job", entity_id=job_id,
                           changes={"processed": done["processed"], "changed": done["changed"],
                                    "temperature_changed": done["temperature_changed"]})
    return str(values["status"])


Step = Callable[[AsyncSession, int, int], Awaitable[tuple[int, int, int]]]


def batch_for(model: Model | None) -> int:
    """Lead numbers per statement (the same with or without counts: a range's counts
    are probed per lead, ``scoring.sql``)."""
    return RECALC_BATCH_COUNTS if model is not None and model.needs else RECALC_BATCH


async def _walk(db: Database, tenant_id: uuid.UUID, job: dict[str, Any],
                batch: int | None) -> str:
    """Apply the job's step to every range of lead numbers; 'completed' or 'cancelled'."""
    step: Step
    async with db.transaction(tenant_id) as session:
        total, top = await repository.number_span(session, tenant_id=tenant_id)
        if job["kind"] == "predict":
            predictor = await predictor_repository.get(
                session, tenant_id=tenant_id, version=job["predictor_version"])
            if predictor is None or predictor["status"] != "accepted":
                return "cancelled"  # another version was accepted since

            async def predict_step(s: AsyncSession, low: int, high: int) -> tuple[int, int, int]:
                n = await predictive.predict_range(s, tenant_id=tenant_id,
                                                   predictor=predictor, low=low, high=high)
                return n, n, 0

            step = predict_step
            batch = batch or predictive.PREDICT_BATCH
        else:
            model = await engine.load_model(session, tenant_id=tenant_id,
                                            version=job["model_version"])
            if model is None:
                raise RuntimeError("the scoring model is gone")
            now = datetime.now(UTC)  # one moment for the whole run
            reason = job["kind"]

            async def score_step(s: AsyncSession, low: int, high: int) -> tuple[int, int, int]:
                assert model is not None
                q = sql.recalculate(model, tenant_id=tenant_id, now=now,
                                    where=sql.live_range(tenant_id, low, high), reason=reason)
                await raw.execute(s, _NO_JIT_SQL, ())
                row = (await s.execute(q)).one()
                return int(row.leads), int(row.changed), int(row.temperature_changed)

            step = score_step
            batch = batch or batch_for(model)
        await repository.JOB_ROWS.update(session, tenant_id=tenant_id, row_id=job["id"],
                                         values={"total": total})
    assert batch is not None
    processed = changed = moved = 0
    low = 0
    while low < top:
        high = low + batch
        for attempt in range(RANGE_ATTEMPTS):
            try:
                async with db.transaction(tenant_id) as session:
                    now_job = await repository.get_job(session, tenant_id=tenant_id,
                                                       job_id=job["id"])
                    if now_job is None or now_job["status"] == "cancelled":
                        return "cancelled"
                    n, c, m = await step(session, low, high)
                    await repository.JOB_ROWS.update(
                        session, tenant_id=tenant_id, row_id=job["id"],
                        values={"processed": processed + n, "changed": changed + c,
                                "temperature_changed": moved + m})
            except (DBAPIError, psycopg.Error) as exc:
                # A lead rescored at the same moment (an event's rescore locks in id order,
                # the range's UPDATE in its own): that range again.
                cause = exc.orig if isinstance(exc, DBAPIError) else exc
                if not isinstance(cause, _RETRYABLE) or attempt + 1 == RANGE_ATTEMPTS:
                    raise
                log.info("scoring job %s: range %d-%d again (%s)", job["id"], low, high,
                         type(cause).__name__)
                continue
            processed, changed, moved = processed + n, changed + c, moved + m
            break
        low = high
    return "completed"


async def rescore_queued(db: Database, *, tenant_id: uuid.UUID,
                         batch: int = QUEUE_BATCH) -> int:
    """Rescore the leads events queued (in batches, each in its own transaction); how
    many were taken."""
    taken = 0
    while True:
        async with db.transaction(tenant_id) as session:
            ids = await repository.take_queued(session, tenant_id=tenant_id, limit=batch)
            if not ids:
                return taken
            taken += len(ids)
            model = await engine.load_model(session, tenant_id=tenant_id)
            now = datetime.now(UTC)
            scope = Readable(tenant_id)
            if model is not None:
                await engine.rescore(session, tenant_id=tenant_id, scope=scope, lead_ids=ids,
                                     model=model, now=now, reason="event")
            predictor = await predictive.in_force(session, tenant_id=tenant_id)
            if predictor is not None:
                await predictive.predict_leads(session, tenant_id=tenant_id,
                                               predictor=predictor, lead_ids=ids)
        if len(ids) < batch:
            return taken


async def decay_all(db: Database) -> int:
    """The daily decay: a recalculation job for each workspace whose model decays (run
    here, one after the other); how many workspaces."""
    async with db.transaction(None, system=True) as session:
        tenants = [r["id"] for r in await raw.fetch_all(
            session, "SELECT id FROM tenants ORDER BY id", ())]
    count = 0
    for tenant_id in tenants:
        async with db.transaction(tenant_id) as session:
            row = await repository.current_model(session, tenant_id=tenant_id)
            if row is None or not row["decay"]:
                continue
            job = await repository.JOB_ROWS.insert(session, tenant_id=tenant_id, values={
                "kind": "decay", "actor": {"role": "owner"}, "model_version": row["version"]})
        await run_job(db, tenant_id=tenant_id, job_id=job["id"])
        count += 1
    return count

