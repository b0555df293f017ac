"""SQL of boards and metrics: counts from ``pipeline_stage_counts``, pages of a stage's
leads (keyset on ``ix_leads_tenant_stage_created``), period statistics from
``pipeline_stage_days`` and, for small periods, exact medians from ``stage_changes``.

A board's or metrics' reads are statements (``*_statement``) sent together in one round
trip (``raw.fetch_each``); they name the pipeline, whose stages each finds itself."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db import raw
from leadbase.leads import repository as leads_repository
from leadbase.pipelines.repository import STAGE_COLUMNS

# The live stages of a pipeline, as a subquery (the reads of a board or of metrics go in
# one round trip, so they name the pipeline rather than its stage ids).
_STAGE_IDS = ("SELECT id FROM pipeline_stages WHERE tenant_id = %s AND pipeline_id = %s "
              "AND deleted_at IS NULL")


def exists_statement(tenant_id: uuid.UUID, pipeline_id: uuid.UUID) -> raw.Statement:
    """One row if the pipeline is live."""
    return ("SELECT 1 AS found FROM pipelines WHERE tenant_id = %s AND id = %s "
            "AND deleted_at IS NULL", (tenant_id, pipeline_id))


def stages_statement(tenant_id: uuid.UUID, pipeline_id: uuid.UUID) -> raw.Statement:
    """The pipeline's live stages, in order (as ``service.get_pipeline`` lists them)."""
    return (f"SELECT {STAGE_COLUMNS} FROM pipeline_stages WHERE tenant_id = %s "
            "AND pipeline_id = %s AND deleted_at IS NULL ORDER BY position",
            (tenant_id, pipeline_id))


def counts_statement(scope: leads_repository.Readable,
                     pipeline_id: uuid.UUID) -> raw.Statement | None:
    """Live leads per stage in the readable set (an agent: their own; None: none)."""
    sql = ("SELECT stage_id, sum(leads)::bigint AS n FROM pipeline_stage_counts "
           f"WHERE tenant_id = %s AND stage_id IN ({_STAGE_IDS})")
    params: tuple[Any, ...] = (scope.tenant_id, scope.tenant_id, pipeline_id)
    if scope.own:
        if scope.owner_id is None:
            return None
        sql += " AND owner_key = %s"
        params += (scope.owner_id,)
    return sql + " GROUP BY 1", params


def counts_of(rows: list[dict[str, Any]]) -> dict[uuid.UUID, int]:
    return {r["stage_id"]: int(r["n"]) for r in rows}


def _page_sql(where: str, after: bool) -> str:
    return (f"SELECT {leads_repository.RETURNING} FROM leads WHERE {where} "
            "AND stage_id = %s AND deleted_at IS NULL"
            + (" AND (created_at, id) < (%s, %s)" if after else "")
            + " ORDER BY created_at DESC, id DESC LIMIT %s")


def first_pages_statement(scope: leads_repository.Readable, pipeline_id: uuid.UUID,
                          limit: int) -> raw.Statement:
    """The newest ``limit`` leads of each stage, in one statement (a LATERAL per stage on
    ``ix_leads_tenant_stage_created``)."""
    where, params = scope.sql()
    inner = _page_sql(where, after=False).replace("stage_id = %s", "stage_id = st.id")
    sql = (f"SELECT l.* FROM ({_STAGE_IDS.replace('SELECT id', 'SELECT id, position')}) "
           f"AS st CROSS JOIN LATERAL ({inner}) AS l ORDER BY st.position")
    return sql, (scope.tenant_id, pipeline_id, *params, limit)


async def stage_page(session: AsyncSession, *, scope: leads_repository.Readable,
                     stage_id: uuid.UUID, after: tuple[datetime, uuid.UUID] | None,
                     limit: int) -> list[dict[str, Any]]:
    where, params = scope.sql()
    keys: tuple[Any, ...] = after if after is not None else ()
    return await raw.fetch_all(session, _page_sql(where, after is not None),
                               (*params, stage_id, *keys, limit))


def period_statement(tenant_id: uuid.UUID, pipeline_id: uuid.UUID, start: date,
                     end: date) -> raw.Statement:
    """Sums of the day statistics of the stages for days in [start, end]."""
    return ("SELECT stage_id, sum(entered)::bigint AS entered, "
            "sum(exited)::bigint AS exited, sum(exited_seconds)::bigint AS exited_seconds, "
            "sum(converted)::bigint AS converted FROM pipeline_stage_days WHERE tenant_id = %s "
            f"AND stage_id IN ({_STAGE_IDS}) AND day BETWEEN %s AND %s GROUP BY 1",
            (tenant_id, tenant_id, pipeline_id, start, end))


def fold_boundary(today: date) -> date:
    """Months before this one are closed and folded (at least a day past their end, so
    that no move still writing to their last day is missed)."""
    return (today - timedelta(days=1)).replace(day=1)


def whole_months(start: date, end: date, today: date) -> list[date]:
    """The first days of the closed months lying whole within [start, end]."""
    boundary = fold_boundary(today)
    month = start if start.day == 1 else _next_month(start.replace(day=1))
    out = []
    while _next_month(month) - timedelta(days=1) <= end and month < boundary:
        out.append(month)
        month = _next_month(month)
    return out


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def histograms_statement(tenant_id: uuid.UUID, pipeline_id: uuid.UUID, start: date,
                         end: date, beyond: int, today: date) -> raw.Statement:
    """Time-in-stage histograms (bucket ``i`` -> exits ``n``) of the exits in [start, end]
    of the stages with more than ``beyond`` of them (the others get an exact median): the
    month summaries of the period's whole closed months where they are folded, the day
    rows for the rest."""
    stages = _STAGE_IDS
    return ("WITH m AS (SELECT stage_id, month, hist FROM pipeline_stage_months "
            f"WHERE tenant_id = %s AND stage_id IN ({stages}) AND month = ANY(%s::date[])), "
            "src AS (SELECT stage_id, hist FROM m UNION ALL "
            "SELECT d.stage_id, d.hist FROM pipeline_stage_days d WHERE d.tenant_id = %s "
            f"AND d.stage_id IN ({stages}) AND d.day BETWEEN %s AND %s AND d.exited > 0 "
            "AND NOT EXISTS (SELECT 1 FROM m WHERE m.stage_id = d.stage_id "
            "AND m.month = date_trunc('month', d.day::timestamp)::date)) "
            "SELECT s.stage_id, h.i, sum(h.v)::bigint AS n FROM src s "
            "CROSS JOIN LATERAL unnest(s.hist) WITH ORDINALITY AS h(v, i) "
            "WHERE h.v > 0 AND s.stage_id IN (SELECT stage_id FROM pipeline_stage_days "
            f"WHERE tenant_id = %s AND stage_id IN ({stages}) AND day BETWEEN %s AND %s "
            "GROUP BY 1 HAVING sum(exited) > %s) GROUP BY 1, 2",
            (tenant_id, tenant_id, pipeline_id, whole_months(start, end, today),
             tenant_id, tenant_id, pipeline_id, start, end,
             tenant_id, tenant_id, pipeline_id, start, end, beyond))


# A closed month's summary from its day rows (every shard), for the months of a workspace
# that have exits and no summary yet; one statement (ON CONFLICT: a concurrent fold).
_FOLD = (
    "WITH todo AS (SELECT DISTINCT d.stage_id, date_trunc('month', d.day::timestamp)::date "
    "AS month FROM pipeline_stage_days d WHERE d.tenant_id = %(t)s AND d.day < %(before)s "
    "AND d.exited > 0 AND NOT EXISTS (SELECT 1 FROM pipeline_stage_months m "
    "WHERE m.tenant_id = %(t)s AND m.stage_id = d.stage_id "
    "AND m.month = date_trunc('month', d.day::timestamp)::date)), "
    "x AS (SELECT t.stage_id, t.month, h.i, sum(h.v)::int AS n FROM todo t "
    "JOIN pipeline_stage_days d ON d.tenant_id = %(t)s AND d.stage_id = t.stage_id "
    "AND d.day >= t.month AND d.day < (t.month + interval '1 month')::date "
    "CROSS JOIN LATERAL unnest(d.hist) WITH ORDINALITY AS h(v, i) GROUP BY 1, 2, 3), "
    "a AS (SELECT stage_id, month, max(i) AS top, sum(n) AS exited FROM x GROUP BY 1, 2) "
    "INSERT INTO pipeline_stage_months (tenant_id, stage_id, month, exited, hist) "
    "SELECT %(t)s, a.stage_id, a.month, a.exited, (SELECT array_agg(coalesce(x.n, 0) "
    "ORDER BY g.i) FROM generate_series(1, a.top) AS g(i) LEFT JOIN x "
    "ON x.stage_id = a.stage_id AND x.month = a.month AND x.i = g.i) FROM a "
    "ON CONFLICT (tenant_id, stage_id, month) DO NOTHING")


async def fold_months(session: AsyncSession, *, tenant_id: uuid.UUID, today: date) -> int:
    """Fold the workspace's closed months that have exits and no summary; how many."""
    conn = await raw.connection(session)
    async with conn.cursor() as cur:
        await cur.execute(_FOLD.encode(), {"t": tenant_id, "before": fold_boundary(today)})
        return cur.rowcount


def histograms_of(rows: list[dict[str, Any]]) -> dict[uuid.UUID, dict[int, int]]:
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
