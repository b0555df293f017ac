"""All SQL for scoring but the score statements themselves (``scoring.sql``): model
versions, jobs, the rescore queue, the lead rows a rescore reads and writes, predictions.
Every statement is scoped to its workspace (and RLS checks it again)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db import raw
from leadbase.db.base import table_of
from leadbase.kit import crud
from leadbase.leads.repository import Readable
from leadbase.models import LeadPrediction, ScoringJob, ScoringModel

MODELS = table_of(ScoringModel)
JOBS = table_of(ScoringJob)
PREDICTIONS = table_of(LeadPrediction)
JOB_ROWS = crud.Rows(JOBS)


async def current_model(session: AsyncSession, *, tenant_id: uuid.UUID,
                        version: int | None = None) -> dict[str, Any] | None:
    """The model in force (the highest version), or the given version."""
    q = select(MODELS).where(MODELS.c.tenant_id == tenant_id)
    q = (q.where(MODELS.c.version == version) if version is not None
         else q.order_by(MODELS.c.version.desc()).limit(1))
    row = (await session.execute(q)).mappings().first()
    return dict(row) if row else None


async def lock_models(session: AsyncSession, *, tenant_id: uuid.UUID) -> None:
    """Serialise the model writes of a workspace (versions are counted in order)."""
    await raw.execute(session, "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                      (f"scoring-model:{tenant_id}",))


async def insert_model(session: AsyncSession, *, tenant_id: uuid.UUID,
                       values: dict[str, Any]) -> dict[str, Any]:
    return await crud.insert_row(session, MODELS, tenant_id=tenant_id, values=values)


async def list_models(session: AsyncSession, *, tenant_id: uuid.UUID, before: int | None,
                      limit: int) -> list[dict[str, Any]]:
    """Versions newest first, those below ``before`` (keyset on the version)."""
    q = select(MODELS).where(MODELS.c.tenant_id == tenant_id)
    if before is not None:
        q = q.where(MODELS.c.version < before)
    rows = await session.execute(q.order_by(MODELS.c.version.desc()).limit(limit))
    return [dict(r) for r in rows.mappings()]


async def count_models(session: AsyncSession, *, tenant_id: uuid.UUID) -> int:
    q = select(func.count()).select_from(MODELS).where(MODELS.c.tenant_id == tenant_id)
    return int((await session.execute(q)).scalar_one())


async def get_job(session: AsyncSession, *, tenant_id: uuid.UUID, job_id: uuid.UUID,
                  for_update: bool = False) -> dict[str, Any] | None:
    return await crud.get_row(session, JOBS, tenant_id=tenant_id, row_id=job_id,
                              for_update=for_update)


async def list_jobs(session: AsyncSession, *, tenant_id: uuid.UUID, offset: int,
                    limit: int) -> tuple[list[dict[str, Any]], int]:
    return await crud.list_rows(session, JOBS, tenant_id=tenant_id,
                                order=[JOBS.c.created_at.desc(), JOBS.c.id.desc()],
                                offset=offset, limit=limit)


async def number_span(session: AsyncSession, *, tenant_id: uuid.UUID) -> tuple[int, int]:
    """(live leads, highest lead number) of the workspace."""
    row = await raw.fetch_row(
        session, "SELECT (SELECT count(*) FROM leads WHERE tenant_id = %s AND deleted_at IS "
                 "NULL), (SELECT coalesce(max(number), 0) FROM leads WHERE tenant_id = %s)",
        (tenant_id, tenant_id))
    assert row is not None
    return int(row[0]), int(row[1])


_QUEUE_SQL = ("INSERT INTO score_queue (tenant_id, lead_id) SELECT %s, unnest(%s::uuid[]) "
              "ON CONFLICT (tenant_id, lead_id) DO NOTHING")
_TAKE_SQL = (
    "DELETE FROM score_queue q USING (SELECT tenant_id, lead_id FROM score_queue "
    "WHERE tenant_id = %s ORDER BY queued_at, lead_id LIMIT %s FOR UPDATE SKIP LOCKED) t "
    "WHERE q.tenant_id = t.tenant_id AND q.lead_id = t.lead_id RETURNING q.lead_id")


async def enqueue(session: AsyncSession, *, tenant_id: uuid.UUID,
                  lead_ids: list[uuid.UUID]) -> None:
    await raw.execute(session, _QUEUE_SQL, (tenant_id, lead_ids))


async def take_queued(session: AsyncSession, *, tenant_id: uuid.UUID,
                      limit: int) -> list[uuid.UUID]:
    """Take up to ``limit`` queued leads (several workers share the queue)."""
    rows = await raw.fetch_all(session, _TAKE_SQL, (tenant_id, limit))
    return sorted(r["lead_id"] for r in rows)


_ROWS_SQL = ("SELECT id, score, temperature, score_breakdown, coalesce(last_activity_at, "
             "created_at) AS since FROM leads WHERE {where} AND id = ANY(%s) "
             "AND deleted_at IS NULL ORDER BY id FOR NO KEY UPDATE")


async def lock_leads(session: AsyncSession, *, scope: Readable,
                     lead_ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    """The live leads among ``lead_ids`` in the readable set, locked in id order (against a
    concurrent rescore of the same lead) with what a rescore reads."""
    where, params = scope.sql()
    return await raw.fetch_all(session, _ROWS_SQL.format(where=where),
                               (*params, lead_ids))


_WRITE_SQL = (
    "WITH v AS (SELECT * FROM unnest(%(ids)s::uuid[], %(scores)s::int[], %(temps)s::text[], "
    "%(breakdowns)s::jsonb[]) AS v(id, score, temperature, breakdown)), "
    "u AS (UPDATE leads l SET score = v.score, temperature = v.temperature, "
    "score_breakdown = v.breakdown FROM v WHERE l.tenant_id = %(t)s AND l.id = v.id "
    "AND (l.score_breakdown - 'computed_at') IS DISTINCT FROM (v.breakdown - 'computed_at') "
    "RETURNING l.id) SELECT id FROM u")


async def write_scores(session: AsyncSession, *, tenant_id: uuid.UUID,
                       rows: list[tuple[uuid.UUID, int, str, dict[str, Any]]]
                       ) -> set[uuid.UUID]:
    """Write (id, score, temperature, breakdown) in one statement, only where the result
    changed (the breakdown but its ``computed_at``); the ids written. Neither the lead's
    version nor ``updated_at`` moves: a score is the system's reading of the lead, not an
    edit (an If-Match of the lead still holds)."""
    if not rows:
        return set()
    written = await raw.fetch_all(session, _WRITE_SQL, {
        "t": tenant_id, "ids": [r[0] for r in rows], "scores": [r[1] for r in rows],
        "temps": [r[2] for r in rows], "breakdowns": [raw.jsonb(r[3]) for r in rows]})
    return {r["id"] for r in written}


async def score_of(session: AsyncSession, *, scope: Readable,
                   lead_id: uuid.UUID) -> dict[str, Any] | None:
    """A lead's score, temperature, breakdown and prediction."""
    where, params = scope.sql()
    return await raw.fetch_one(
        session,
        f"SELECT l.id AS lead_id, l.score, l.temperature, l.score_breakdown AS breakdown, "
        f"p.probability, p.factors, p.predictor_version, p.computed_at AS predicted_at "
        f"FROM leads l LEFT JOIN lead_predictions p ON p.lead_id = l.id "
        f"AND p.tenant_id = l.tenant_id WHERE l.id = %s AND l.{where} "
        f"AND l.deleted_at IS NULL", (lead_id, *params))


_PREDICT_SQL = (
    "INSERT INTO lead_predictions (lead_id, tenant_id, predictor_version, probability, "
    "factors, computed_at) SELECT v.id, %(t)s, %(version)s, v.p, v.f, now() FROM "
    "unnest(%(ids)s::uuid[], %(probs)s::float8[], %(factors)s::jsonb[]) AS v(id, p, f) "
    "ON CONFLICT (lead_id) DO UPDATE SET predictor_version = excluded.predictor_version, "
    "probability = excluded.probability, factors = excluded.factors, "
    "computed_at = excluded.computed_at")


async def write_predictions(session: AsyncSession, *, tenant_id: uuid.UUID, version: int,
                            rows: list[tuple[uuid.UUID, float, list[dict[str, Any]]]]
                            ) -> None:
    if rows:
        await raw.execute(session, _PREDICT_SQL, {
            "t": tenant_id, "version": version, "ids": [r[0] for r in rows],
            "probs": [r[1] for r in rows], "factors": [raw.jsonb(r[2]) for r in rows]})

