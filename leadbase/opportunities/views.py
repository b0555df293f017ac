"""The opportunity views: the pipeline view, stale opportunities, the forecast, and the
probability to win from history.

- **Visibility** as everywhere for opportunities (``service.scope_of``): agents their own
  and those of their leads; ``owner_id=`` narrows further (an agent naming someone else
  gets what it may see of theirs).
- **Money.** Sums are exact NUMERIC; weighted values are value x effective probability
  (the opportunity's, else its stage's as it is now) / 100, summed exactly and rounded
  half up to cents once, at the end. Currencies are never added together: a view has one
  ``currency`` (``?currency=``, default the workspace's) in which ``value`` and
  ``weighted_value`` are given; ``count`` counts every currency, and ``by_currency`` has
  each currency's own sums.
- **Pipeline view**: per stage in order its sums and its newest opportunities (a cursor
  per stage; :func:`stage_page`), and the totals. All statuses: the won and lost stages
  hold the closed deals.
- **Stale**: open opportunities last touched (``greatest(last_activity_at,
  stage_entered_at)``: an activity or a stage move) ``days`` or more ago, least recently
  touched first.
- **Forecast**: the open opportunities by month of their expected close, for ``months``
  months from the current one in the workspace's time zone; per month expected (value)
  and weighted sums, and the soonest-closing opportunities (a cursor per month,
  :func:`month_page`); the overdue ones (expected before this month) and the undated apart.
- **Probability from history** (:func:`calculate_probability`): of the workspace's closed
  deals of the pipeline that entered the opportunity's current stage, the share won; below
  :data:`MIN_SAMPLE` closed deals, the stage's default.
"""

from __future__ import annotations

import uuid
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.auth.context import Context
from leadbase.db import raw
from leadbase.kit.errors import Conflict, NotFound, ValidationFailed
from leadbase.kit.pagination import decode_cursor, encode_cursor
from leadbase.opportunities import records, service
from leadbase.opportunities import views_repository as sql
from leadbase.opportunities.schemas import OpportunityUpdate

MIN_SAMPLE = 10  # closed deals through the stage below which the stage's default answers
MAX_MONTHS = 24
CENT = Decimal("0.01")
ZERO = Decimal(0)


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class _Acc:
    count: int = 0
    by: dict[str, list[Any]] | None = None

    def add(self, currency: str, n: int, value: Decimal, weighted100: Decimal) -> None:
        self.by = self.by if self.by is not None else {}
        cur = self.by.setdefault(currency, [0, ZERO, ZERO])
        cur[0] += n
        cur[1] += value
        cur[2] += weighted100
        self.count += n

    def body(self, currency: str) -> dict[str, Any]:
        by = self.by or {}
        mine = by.get(currency, [0, ZERO, ZERO])
        return {"count": self.count, "value": money(mine[1]),
                "weighted_value": money(mine[2] / 100),
                "by_currency": [{"currency": c, "count": v[0], "value": money(v[1]),
                                 "weighted_value": money(v[2] / 100)}
                                for c, v in sorted(by.items())]}


async def _workspace(session: AsyncSession, ctx: Context) -> dict[str, Any]:
    row = await raw.fetch_one(session, "SELECT currency, timezone FROM tenants WHERE id = %s",
                              (ctx.tenant_id,))
    if row is None:
        raise NotFound("Workspace not found.", code="WORKSPACE_NOT_FOUND")
    return row


def _rows(ctx: Context, rows: list[dict[str, Any]], per_page: int, key: str,
          keys: tuple[str, str]) -> dict[str, Any]:
    cursor = None
    if len(rows) > per_page:
        last = rows[per_page - 1]
        cursor = encode_cursor(key, [last[keys[0]], last[keys[1]]])
    return {"data": [service.presented(ctx, sql.shape(r)) for r in rows[:per_page]],
            "next_cursor": cursor}


# ------------------------------------------------------------------ pipeline view

def _stage_key(stage_id: uuid.UUID, owner_id: uuid.UUID | None) -> str:
    return f"opportunity-pipeline:{stage_id}:{owner_id}:-created_at,-id"


async def pipeline_view(session: AsyncSession, *, ctx: Context,
                        pipeline_id: uuid.UUID | None = None,
                        owner_id: uuid.UUID | None = None, currency: str | None = None,
                        per_page: int = 20) -> dict[str, Any]:
    """Per stage of the deal pipeline (default: the workspace's default one), in order: its
    sums and its newest ``per_page`` opportunities with a cursor; the totals."""
    scope = service.scope_of(ctx)
    stages = sql.PipelineStages(ctx.tenant_id, pipeline_id)
    statements = [sql.pipeline_statement(stages), sql.stages_statement(stages),
                  sql.stage_sums_statement(scope, stages, owner_id),
                  ("SELECT currency FROM tenants WHERE id = %s", (ctx.tenant_id,))]
    if per_page > 0:
        statements.append(sql.first_pages_statement(scope, stages, owner_id, per_page + 1))
    found, stage_rows, sums, ws, *pages_of = await raw.fetch_each(session, statements)
    if not found or found[0]["kind"] != "deal" or not stage_rows:
        await service.resolve_pipeline(session, ctx, pipeline_id)  # its error
        raise service.invalid("PIPELINE_NOT_FOUND", "pipeline_id", "not a deal pipeline")
    pipe = {**found[0], "stages": stage_rows}
    pages = pages_of[0] if pages_of else []
    currency = currency or (ws[0]["currency"] if ws else "USD")
    per_stage: dict[uuid.UUID, _Acc] = {}
    totals = _Acc()
    for r in sums:
        per_stage.setdefault(r["stage_id"], _Acc()).add(r["currency"], int(r["n"]),
                                                        r["value"], r["weighted100"])
        totals.add(r["currency"], int(r["n"]), r["value"], r["weighted100"])
    by_stage: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for row in pages:
        by_stage.setdefault(row["stage_id"], []).append(row)
    columns = []
    for stage in pipe["stages"]:
        columns.append({
            **per_stage.get(stage["id"], _Acc()).body(currency), "stage": stage,
            "opportunities": _rows(ctx, by_stage.get(stage["id"], []), per_page,
                                   _stage_key(stage["id"], owner_id), ("created_at", "id"))})
    return {"pipeline": {"id": pipe["id"], "name": pipe["name"]}, "currency": currency,
            "owner_id": owner_id, "stages": columns, "totals": totals.body(currency)}


async def stage_page(session: AsyncSession, *, ctx: Context, stage: str,
                     pipeline_id: uuid.UUID | None = None, owner_id: uuid.UUID | None = None,
                     cursor: str | None = None, per_page: int = 20) -> dict[str, Any]:
    """A page of one stage's opportunities in the pipeline view (newest first); ``stage``
    by id or code. 404 ``STAGE_NOT_FOUND`` for a stage not in the pipeline."""
    pipe = await service.resolve_pipeline(session, ctx, pipeline_id)
    found = next((s for s in pipe["stages"] if stage in (str(s["id"]), s["code"])), None)
    if found is None:
        raise NotFound(f"No stage '{stage}' in the pipeline.", code="STAGE_NOT_FOUND")
    key = _stage_key(found["id"], owner_id)
    after = None
    if cursor:
        at, last_id = decode_cursor(cursor, key, (datetime, uuid.UUID))
        after = (at, last_id)
    rows = await raw.fetch_all(session, *sql.stage_page_statement(
        service.scope_of(ctx), found["id"], owner_id, after, per_page + 1))
    return _rows(ctx, rows, per_page, key, ("created_at", "id"))


# ------------------------------------------------------------------ stale

def _stale_key(days: int, owner_id: uuid.UUID | None) -> str:
    return f"opportunity-stale:{days}:{owner_id}:touched_at,id"


async def stale(session: AsyncSession, *, ctx: Context, days: int,
                owner_id: uuid.UUID | None = None, cursor: str | None = None,
                per_page: int = 25) -> dict[str, Any]:
    """Open opportunities not touched for ``days`` days (0: all open ones), least recently
    touched first; ``total`` counts them all."""
    if days < 0:
        raise ValidationFailed("days: at least 0", code="VALIDATION_ERROR",
                               errors=[{"field": "days", "message": "at least 0"}])
    now = datetime.now(UTC)
    before = now - timedelta(days=days)
    key = _stale_key(days, owner_id)
    after = None
    if cursor:
        at, last_id = decode_cursor(cursor, key, (datetime, uuid.UUID))
        after = (at, last_id)
    scope = service.scope_of(ctx)
    rows, counted = await raw.fetch_each(session, [
        sql.stale_page_statement(scope, before, owner_id, after, per_page + 1),
        sql.stale_count_statement(scope, before, owner_id)])
    page = _rows(ctx, rows, per_page, key, ("touched_at", "id"))
    for row, src in zip(page["data"], rows, strict=False):
        row["touched_at"] = src["touched_at"]
        row["idle_days"] = (now - src["touched_at"]).days
    return {**page, "total": int(counted[0]["n"]), "page": None, "per_page": per_page,
            "days": days}


# ------------------------------------------------------------------ forecast

def _month_start(today: date) -> date:
    return today.replace(day=1)


def _add_months(month: date, n: int) -> date:
    k = month.year * 12 + month.month - 1 + n
    return date(k // 12, k % 12 + 1, 1)


def _month_key(lo: date | None, owner_id: uuid.UUID | None,
               pipeline_id: uuid.UUID | None) -> str:
    return f"opportunity-forecast:{lo or 'overdue'}:{owner_id}:{pipeline_id}:close,id"


def parse_month(value: str) -> date | None:
    """``YYYY-MM`` as its first day; ``overdue`` as None; anything else 422."""
    if value == "overdue":
        return None
    try:
        year, month = value.split("-")
        if len(year) != 4 or len(month) != 2 or not (year + month).isdigit() or year == "9999":
            raise ValueError(value)
        return date(int(year), int(month), 1)
    except ValueError:
        raise ValidationFailed("month: YYYY-MM or 'overdue'", code="INVALID_MONTH",
                               errors=[{"field": "month",
                                        "message": "YYYY-MM or 'overdue'"}]) from None


async def _today(session: AsyncSession, ctx: Context) -> tuple[date, dict[str, Any]]:
    ws = await _workspace(session, ctx)
    try:
        tz = zoneinfo.ZoneInfo(ws["timezone"])
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = zoneinfo.ZoneInfo("UTC")
    return datetime.now(tz).date(), ws


async def _forecast_stages(session: AsyncSession, ctx: Context,
                           pipeline_id: uuid.UUID | None) -> list[uuid.UUID] | None:
    if pipeline_id is None:
        return None
    pipe = await service.resolve_pipeline(session, ctx, pipeline_id)
    return [s["id"] for s in pipe["stages"]]


async def forecast(session: AsyncSession, *, ctx: Context, months: int = 3,
                   owner_id: uuid.UUID | None = None, pipeline_id: uuid.UUID | None = None,
                   currency: str | None = None, per_page: int = 10) -> dict[str, Any]:
    """The next ``months`` months (1-24, the current one first, in the workspace's time
    zone) of open opportunities by expected close: per month expected and weighted sums
    and the first ``per_page`` opportunities (soonest first) with a cursor; the overdue
    and the undated ones apart."""
    if not 1 <= months <= MAX_MONTHS:
        raise ValidationFailed(f"months: 1 to {MAX_MONTHS}", code="VALIDATION_ERROR",
                               errors=[{"field": "months", "message": f"1 to {MAX_MONTHS}"}])
    today, ws = await _today(session, ctx)
    currency = currency or ws["currency"]
    stage_ids = await _forecast_stages(session, ctx, pipeline_id)
    start = _month_start(today)
    end = _add_months(start, months)
    starts = [_add_months(start, i) for i in range(months)]
    bounds = [(date.min, start)] + [(m, _add_months(m, 1)) for m in starts]
    scope = service.scope_of(ctx)
    statements = [sql.month_sums_statement(scope, end, owner_id, stage_ids)]
    if per_page > 0:
        statements.append(sql.month_first_pages_statement(scope, bounds, owner_id, stage_ids,
                                                          per_page + 1))
    results = await raw.fetch_each(session, statements)
    accs: dict[date | None, _Acc] = {}
    overdue, undated, totals = _Acc(), _Acc(), _Acc()
    for r in results[0]:
        month, args = r["close_month"], (r["currency"], int(r["n"]), r["value"],
                                         r["weighted100"])
        if month is None:
            undated.add(*args)
        elif month < start:
            overdue.add(*args)
        else:
            accs.setdefault(month, _Acc()).add(*args)
            totals.add(*args)
    pages: dict[date, list[dict[str, Any]]] = {}
    for row in results[1] if per_page > 0 else []:
        pages.setdefault(row["period_start"], []).append(row)

    def period(lo: date, hi: date, acc: _Acc | None) -> dict[str, Any]:
        is_overdue = lo == date.min
        key = _month_key(None if is_overdue else lo, owner_id, pipeline_id)
        return {**(acc or _Acc()).body(currency),
                "month": "overdue" if is_overdue else f"{lo:%Y-%m}",
                "start": None if is_overdue else lo, "end": hi - timedelta(days=1),
                "opportunities": _rows(ctx, pages.get(lo, []), per_page, key,
                                       ("expected_close_date", "id"))}

    return {"currency": currency, "timezone": ws["timezone"], "months": months,
            "start": start, "end": end - timedelta(days=1), "owner_id": owner_id,
            "pipeline_id": pipeline_id,
            "periods": [period(lo, hi, accs.get(lo)) for lo, hi in bounds[1:]],
            "totals": totals.body(currency), "overdue": period(*bounds[0], overdue),
            "undated": undated.body(currency)}


async def month_page(session: AsyncSession, *, ctx: Context, month: str,
                     owner_id: uuid.UUID | None = None, pipeline_id: uuid.UUID | None = None,
                     cursor: str | None = None, per_page: int = 10) -> dict[str, Any]:
    """A page of the open opportunities expected to close in ``month`` (``YYYY-MM``, or
    ``overdue``: before the current month), soonest first."""
    lo = parse_month(month)
    if lo is None:
        today, _ = await _today(session, ctx)
        bounds = (date.min, _month_start(today))
    else:
        bounds = (lo, _add_months(lo, 1))
    stage_ids = await _forecast_stages(session, ctx, pipeline_id)
    key = _month_key(lo, owner_id, pipeline_id)
    after = None
    if cursor:
        at, last_id = decode_cursor(cursor, key, (str, uuid.UUID))
        after = (date.fromisoformat(at), last_id)
    rows = await raw.fetch_all(session, *sql.month_page_statement(
        service.scope_of(ctx), bounds[0], bounds[1], owner_id, stage_ids, after,
        per_page + 1))
    return _rows(ctx, rows, per_page, key, ("expected_close_date", "id"))


# ------------------------------------------------------------------ probability

def _closed() -> Conflict:
    return Conflict("The opportunity is closed: its chance is decided.",
                    code="OPPORTUNITY_CLOSED")


async def calculate_probability(session: AsyncSession, *, ctx: Context,
                                opportunity_id: uuid.UUID, store: bool = False,
                                expected_version: int | None = None) -> dict[str, Any]:
    """The chance to win of an open opportunity from the workspace's closed deals of its
    pipeline that entered its current stage: won / (won + lost), rounded to a whole
    percent; with fewer than :data:`MIN_SAMPLE` of them, the stage's default. ``store``:
    saved as the opportunity's probability (an update: audited, versioned, its event)."""
    opp = await service.get_opportunity(session, ctx=ctx, opportunity_id=opportunity_id,
                                        for_update=store)
    if opp["status"] != "open":
        raise _closed()
    won, lost = await sql.closed_through(session, tenant_id=ctx.tenant_id,
                                         pipeline_id=opp["pipeline_id"],
                                         stage_id=opp["stage_id"])
    sample = won + lost
    default = int(opp["stage_probability"])
    if sample >= MIN_SAMPLE:
        probability = int((Decimal(100 * won) / sample).quantize(Decimal(1), ROUND_HALF_UP))
        method = "history"
    else:
        probability, method = default, "stage_default"
    stored = None
    if store:
        stored = await records.update_opportunity(
            session, ctx=ctx, opportunity_id=opportunity_id,
            body=OpportunityUpdate.model_validate({"probability": probability}),
            expected_version=expected_version)
    return {"opportunity_id": opp["id"], "stage_id": opp["stage_id"], "stage": opp["stage"],
            "probability": probability, "method": method, "sample_size": sample,
            "won": won, "lost": lost, "stage_default": default, "min_sample": MIN_SAMPLE,
            "stored": store,
            "opportunity": service.presented(ctx, stored) if stored is not None else None}
