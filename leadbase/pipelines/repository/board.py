"""SQL of boards and metrics: counts from ``pipeline_stage_counts``, pages of a stage's
leads (keyset on ``ix_leads_tenant_stage_created``), period statistics from
``pipeline_stage_days`` and, for small periods, exact medians from ``stage_changes``."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db import raw
from leadbase.leads import repository as leads_repository

_ZERO = uuid.UUID(int=0)


async def counts(session: AsyncSession, *, scope: leads_repository.Readable,
                 stage_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Live leads per stage in the readable set (an agent: their own)."""
    sql = ("SELECT stage_id, sum(leads)::bigint FROM pipeline_stage_counts "
           "WHERE tenant_id = %s AND stage_id = ANY(%s)")
    params: tuple[Any, ...] = (scope.tenant_id, stage_ids)
    if scope.own:
        if scope.owner_id is None:
            return {}
        sql += " AND owner_key = %s"
        params += (scope.owner_id,)
    rows = await raw.fetch_all(session, sql + " GROUP BY 1", params)
    return {r["stage_id"]: int(r["sum"]) for r in rows}


def _page_sql(where: str, after: bool) -> str:
    return (f"SELECT {leads_repository.RETURNING} FROM leads WHERE {where} "
            "AND stage_id = %s AND deleted_at IS NULL"
            + (" AND (created_at, id) < (%s, %s)" if after else "")
            + " ORDER BY created_at DESC, id DESC LIMIT %s")


async def first_pages(session: AsyncSession, *, scope: leads_repository.Readable,
                      stage_ids: list[uuid.UUID], limit: int) -> list[dict[str, Any]]:
    """The newest ``limit`` leads of each stage, in one statement (a LATERAL per stage)."""
    where, params = scope.sql()
    inner = _page_sql(where, after=False).replace("stage_id = %s", "stage_id = st.id")
    sql = (f"SELECT l.* FROM unnest(%s::uuid[]) WITH ORDINALITY AS st(id, n) "
           f"CROSS JOIN LATERAL ({inner}) AS l ORDER BY st.n")
    return await raw.fetch_all(session, sql, (stage_ids, *params, limit))


async def stage_page(session: AsyncSession, *, scope: leads_repository.Readable,
                     stage_id: uuid.UUID, after: tuple[datetime, uuid.UUID] | None,
                     limit: int) -> list[dict[str, Any]]:
    where, params = scope.sql()
    keys: tuple[Any, ...] = after if after is not None else ()
    return await raw.fetch_all(session, _page_sql(where, after is not None),
                               (*params, stage_id, *keys, limit))


async def period(session: AsyncSession, *, tenant_id: uuid.UUID, stage_ids: list[uuid.UUID],
                 start: date, end: date) -> dict[uuid.UUID, dict[str, Any]]:
    """Sums of the day statistics of the stages for days in [start, end]."""
    rows = await raw.fetch_all(
        session, "SELECT stage_id, sum(entered)::bigint AS entered, "
        "sum(exited)::bigint AS exited, sum(exited_seconds)::bigint AS exited_seconds, "
        "sum(converted)::bigint AS converted FROM pipeline_stage_days WHERE tenant_id = %s "
        "AND stage_id = ANY(%s) AND day BETWEEN %s AND %s GROUP BY 1",
        (tenant_id, stage_ids, start, end))
    return {r["stage_id"]: r for r in rows}


async def histograms(session: AsyncSession, *, tenant_id: uuid.UUID,
                     stage_ids: list[uuid.UUID], start: date, end: date
                     ) -> dict[uuid.UUID, dict[int, int]]:
    """Time-in-stage histograms of the exits in [start, end] (bucket -> exits)."""
    rows = await raw.fetch_all(
        session, "SELECT d.stage_id, h.i, sum(h.v)::bigint AS n FROM pipeline_stage_days d "
        "CROSS JOIN LATERAL unnest(d.hist) WITH ORDINALITY AS h(v, i) WHERE d.tenant_id = %s "
        "AND d.stage_id = ANY(%s) AND d.day BETWEEN %s AND %s AND d.exited > 0 "
        "AND h.v > 0 GROUP BY 1, 2", (tenant_id, stage_ids, start, end))
    out: dict[uuid.UUID, dict[int, int]] = {}
    for r in rows:
        out.setdefault(r["stage_id"], {})[int(r["i"])] = int(r["n"])
    return out


async def exact_medians(session: AsyncSession, *, tenant_id: uuid.UUID,
                        stage_ids: list[uuid.UUID], start: datetime, end: datetime
                        ) -> dict[uuid.UUID, float]:
    """Median seconds in stage of the exits in [start, end) (ix_stage_changes_tenant_from)."""
    rows = await raw.fetch_all(
        session, "SELECT from_stage_id, percentile_cont(0.5) WITHIN GROUP "
        "(ORDER BY seconds_in_previous) AS m FROM stage_changes WHERE tenant_id = %s "
        "AND from_stage_id = ANY(%s) AND changed_at >= %s AND changed_at < %s "
        "AND seconds_in_previous IS NOT NULL GROUP BY 1", (tenant_id, stage_ids, start, end))
    return {r["from_stage_id"]: float(r["m"]) for r in rows}
