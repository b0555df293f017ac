"""A pipeline's board and its metrics, without scanning leads or stage changes.

What is kept so that neither needs a scan at a million leads and millions of moves:

- **Counters** ``pipeline_stage_counts``: live leads per (stage, owner), kept exact by
  statement-level triggers on ``leads`` (insert, update, delete; migration 0016) — every
  writer (the API, imports, bulk operations, purges, a workspace's removal) goes through
  them, each statement with one set-based upsert. Each key has up to 16 shard rows; a
  transaction writes only those of the shard it holds (``lb_stage_shard()``, an advisory
  lock to its end, migration 0020), so up to 16 concurrent writers never wait on one
  another's rows; a read sums the shards. A board's counts are one index range read; an agent's,
  the rows of their ``owner_key``.
- **Day statistics** ``pipeline_stage_days``: per (stage, UTC day) the entries (creations,
  by the insert trigger, and moves), the exits with their summed seconds in stage and a
  histogram of them (4 buckets per doubling), and the conversions of that day's entries
  (an entry converts when the lead later reaches a stage of a higher position in the
  same pipeline; positions as they are at the move). Written by the move in its
  transaction (the transaction's shard, as the counters). Metrics sum the days of the
  period.
- The median is exact (``percentile_cont`` over the period's stage changes, an
  index-only scan of ``ix_stage_changes_tenant_from``) when a stage has at most
  :data:`EXACT_MEDIAN_LIMIT` exits in the period, and estimated from the histogram
  beyond (``median_is_estimate``; within one bucket, ~19%).

Periods are whole UTC days, ``from`` and ``to`` inclusive. A board's reads (stages,
counts, every stage's first page: one LATERAL per stage on
``ix_leads_tenant_stage_created``) and a metrics' reads (stages, counts, period sums,
histograms) each go in one round trip.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.auth.context import Context
from leadbase.db import raw
from leadbase.kit.errors import Forbidden, ValidationFailed
from leadbase.kit.pagination import decode_cursor, encode_cursor
from leadbase.leads.repository import readable
from leadbase.pipelines import service
from leadbase.pipelines.repository import board as sql
from leadbase.pipelines.repository.moves import bucket_bounds

EXACT_MEDIAN_LIMIT = 5_000
MAX_PERIOD_DAYS = 3660
DEFAULT_PERIOD_DAYS = 30


def _sort_key(stage_id: uuid.UUID) -> str:
    return f"board:{stage_id}:-created_at,-id"


def _cursor(stage_id: uuid.UUID, rows: list[dict[str, Any]], per_page: int) -> str | None:
    if len(rows) <= per_page:
        return None
    last = rows[per_page - 1]
    return encode_cursor(_sort_key(stage_id), [last["created_at"], last["id"]])


async def _read(session: AsyncSession, ctx: Context, pipeline_id: uuid.UUID,
                statements: list[raw.Statement | None]
                ) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:
    """The pipeline's stages and the rows of each of ``statements`` (None: no rows), in one
    round trip; 404 for a pipeline that is not there."""
    given = [s for s in statements if s is not None]
    found, stages, *results = await raw.fetch_each(session, [
        sql.exists_statement(ctx.tenant_id, pipeline_id),
        sql.stages_statement(ctx.tenant_id, pipeline_id), *given])
    if not found:
        raise service.pipeline_not_found()
    rows = iter(results)
    return stages, [next(rows) if s is not None else [] for s in statements]


async def board(session: AsyncSession, *, ctx: Context, pipeline_id: uuid.UUID,
                per_page: int) -> dict[str, Any]:
    """Per stage: its count and its newest ``per_page`` leads (the caller's readable set),
    with a cursor for the next page (:func:`stage_leads`). One round trip."""
    scope = readable(ctx)
    stages, (count_rows, rows) = await _read(session, ctx, pipeline_id, [
        sql.counts_statement(scope, pipeline_id),
        sql.first_pages_statement(scope, pipeline_id, per_page + 1)])
    counts = sql.counts_of(count_rows)
    by_stage: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for row in rows:
        by_stage.setdefault(row["stage_id"], []).append(row)
    columns = []
    for stage in stages:
        leads = by_stage.get(stage["id"], [])
        columns.append({"stage": stage, "count": counts.get(stage["id"], 0),
                        "leads": {"data": leads[:per_page],
                                  "next_cursor": _cursor(stage["id"], leads, per_page)}})
    return {"pipeline_id": pipeline_id, "stages": columns}


async def stage_leads(session: AsyncSession, *, ctx: Context, pipeline_id: uuid.UUID,
                      stage_id: uuid.UUID, cursor: str | None,
                      per_page: int) -> dict[str, Any]:
    """A page of one stage's leads on the board (newest first)."""
    pipeline = await service.get_pipeline(session, ctx=ctx, pipeline_id=pipeline_id)
    if stage_id not in {s["id"] for s in pipeline["stages"]}:
        raise service.stage_not_found()
    after = None
    if cursor:
        at, lead_id = decode_cursor(cursor, _sort_key(stage_id), (datetime, uuid.UUID))
        after = (at, lead_id)
    rows = await sql.stage_page(session, scope=readable(ctx), stage_id=stage_id, after=after,
                                limit=per_page + 1)
    return {"data": rows[:per_page], "next_cursor": _cursor(stage_id, rows, per_page)}


def _median_from(hist: dict[int, int], total: int) -> float | None:
    """The median of a histogram, linear within its bucket."""
    if total <= 0 or not hist:
        return None
    rank = total / 2
    seen = 0
    for b in sorted(hist):
        n = hist[b]
        if seen + n >= rank:
            low, high = bucket_bounds(b)
            return low + (high - low) * ((rank - seen) / n)
        seen += n
    return None


def period_of(start: date | None, end: date | None) -> tuple[date, date]:
    today = datetime.now(UTC).date()
    end = end or today
    start = start or end - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    if start > end:
        raise ValidationFailed("'from' is after 'to'.", code="INVALID_PERIOD",
                               errors=[{"field": "from", "message": "after 'to'"}])
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise ValidationFailed(f"A period spans at most {MAX_PERIOD_DAYS} days.",
                               code="INVALID_PERIOD",
                               errors=[{"field": "from", "message": "period too long"}])
    return start, end


async def metrics(session: AsyncSession, *, ctx: Context, pipeline_id: uuid.UUID,
                  start: date | None, end: date | None) -> dict[str, Any]:
    """Per stage over the period: leads in it now, entered, exited, average and median
    time in stage of the exits, and the conversion of the period's entries. Workspace-wide
    figures: not for agents (403 ``ROLE_REQUIRED``)."""
    if ctx.sees_only_own_leads:
        raise Forbidden("Pipeline metrics cover the whole workspace: they need the role "
                        "'viewer', 'manager' or higher.", code="ROLE_REQUIRED")
    start, end = period_of(start, end)
    stages, (count_rows, sum_rows, hist_rows) = await _read(session, ctx, pipeline_id, [
        sql.counts_statement(readable(ctx), pipeline_id),
        sql.period_statement(ctx.tenant_id, pipeline_id, start, end),
        sql.histograms_statement(ctx.tenant_id, pipeline_id, start, end,
                                 EXACT_MEDIAN_LIMIT, datetime.now(UTC).date())])
    counts = sql.counts_of(count_rows)
    sums = {r["stage_id"]: r for r in sum_rows}
    hists = sql.histograms_of(hist_rows)
    small = [s["id"] for s in stages
             if 0 < int(sums.get(s["id"], {}).get("exited") or 0) <= EXACT_MEDIAN_LIMIT]
    exact = await sql.exact_medians(
        session, tenant_id=ctx.tenant_id, stage_ids=small,
        start=datetime.combine(start, time(), UTC),
        end=datetime.combine(end + timedelta(days=1), time(), UTC)) if small else {}
    out = []
    for stage in stages:
        s = sums.get(stage["id"], {})
        entered, exited = int(s.get("entered") or 0), int(s.get("exited") or 0)
        converted = int(s.get("converted") or 0)
        median = exact.get(stage["id"])
        if stage["id"] in hists:
            median = _median_from(hists[stage["id"]], exited)
        out.append({
            "stage": stage, "leads": counts.get(stage["id"], 0), "entered": entered,
            "exited": exited,
            "avg_seconds_in_stage": (int(s["exited_seconds"]) / exited) if exited else None,
            "median_seconds_in_stage": median, "median_is_estimate": stage["id"] in hists,
            "converted": converted,
            "conversion": round(converted / entered, 4) if entered else None,
        })
    return {"pipeline_id": pipeline_id, "period_from": start, "period_to": end,
            "stages": out}
