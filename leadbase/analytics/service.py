"""The dashboard's figures: leads by source over time, the status funnel, pipeline value
by stage, imports and activities per period. Read-only; every role may read them, each
seeing what it may read elsewhere (agents: their own leads and those leads' activities;
imports: managers and above, as ``/imports``).

Ranges are days in the workspace's time zone, ``start`` and ``end`` inclusive, bounded
(:data:`MAX_PERIODS` buckets); a bad range is a 422 ``INVALID_RANGE`` or
``RANGE_TOO_LARGE`` and reads nothing.
"""

from __future__ import annotations

import uuid
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.analytics import repository as sql
from leadbase.analytics.repository import Bucket, Window
from leadbase.auth.context import Context
from leadbase.db import raw
from leadbase.kit.errors import AppError, Forbidden, NotFound, ValidationFailed
from leadbase.leads.repository import readable
from leadbase.opportunities import views

MAX_PERIODS: dict[str, int] = {"day": 366, "week": 260, "month": 120}
MAX_FUNNEL_DAYS = 3660
DEFAULT_PERIODS: dict[str, int] = {"day": 30, "week": 12, "month": 12}
DEFAULT_FUNNEL_DAYS = 90
TOP_SERIES = 8  # series beyond these are summed as 'other'
STATUSES = ("new", "contacted", "qualified", "converted", "unqualified", "lost")
STEPS = ("new", "contacted", "qualified", "converted")
EXITS = ("unqualified", "lost")
IMPORT_FIGURES = ("jobs", "created", "updated", "skipped", "invalid", "failed", "dry_runs")


@dataclass(frozen=True)
class Workspace:
    tz: str
    currency: str

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.tz)

    def today(self) -> date:
        return datetime.now(self.zone).date()

    def instant(self, day: date) -> datetime:
        """The start of ``day`` here, in UTC."""
        return datetime.combine(day, time(), self.zone).astimezone(UTC)


def _trunc(day: date, bucket: Bucket) -> date:
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    return day


def _next(day: date, bucket: Bucket) -> date:
    if bucket == "day":
        return day + timedelta(days=1)
    if bucket == "week":
        return day + timedelta(days=7)
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def periods(start: date, end: date, bucket: Bucket) -> list[date]:
    out, day = [], _trunc(start, bucket)
    while day <= end:
        out.append(day)
        day = _next(day, bucket)
    return out


def _bad_range(code: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, code=code, errors=[{"field": "from", "message": message}])


EARLIEST, LATEST = date(1970, 1, 1), date(2999, 12, 31)


def _check_bounds(*days: date | None) -> None:
    for day in days:
        if day is not None and not EARLIEST <= day <= LATEST:
            raise _bad_range("INVALID_RANGE", "Dates run from 1970-01-01 to 2999-12-31.")


def _default_start(end: date, bucket: Bucket) -> date:
    first = _trunc(end, bucket)
    for _ in range(DEFAULT_PERIODS[bucket] - 1):
        first = _trunc(first - timedelta(days=1), bucket)
    return first


@dataclass(frozen=True)
class Range:
    start: date
    end: date
    bucket: Bucket
    periods: list[date]


def resolve_range(ws: Workspace, start: date | None, end: date | None,
                  bucket: Bucket) -> Range:
    """The range asked for, defaults filled in (to: today; from: ``DEFAULT_PERIODS``
    buckets back), or 422."""
    _check_bounds(start, end)
    end = end or ws.today()
    start = start or _default_start(end, bucket)
    if start > end:
        raise _bad_range("INVALID_RANGE", "'from' must not be after 'to'.")
    got = periods(start, end, bucket)
    if len(got) > MAX_PERIODS[bucket]:
        raise _bad_range("RANGE_TOO_LARGE", f"At most {MAX_PERIODS[bucket]} {bucket}s at a "
                                            "time; choose a larger bucket or a shorter range.")
    return Range(start, end, bucket, got)


def _window(ws: Workspace, r: Range) -> Window:
    return Window(ws.instant(r.start), ws.instant(r.end + timedelta(days=1)), r.bucket, ws.tz)


async def workspace(session: AsyncSession, ctx: Context) -> Workspace:
    row = await raw.fetch_one(session, *sql.workspace(ctx.tenant_id))
    if row is None:
        raise NotFound("Workspace not found.", code="WORKSPACE_NOT_FOUND")
    return Workspace(tz=row["timezone"], currency=row["currency"])


def _series_body(ws: Workspace, r: Range, rows: list[dict[str, Any]], *,
                 top: int | None = TOP_SERIES) -> dict[str, Any]:
    """``rows`` of (period, key, n) as one series per key, the largest first; past ``top``
    keys the rest are summed as ``other``."""
    index = {p: i for i, p in enumerate(r.periods)}
    per_key: dict[str | None, list[int]] = defaultdict(lambda: [0] * len(r.periods))
    for row in rows:
        i = index.get(row["period"])
        if i is not None:
            per_key[row["key"]][i] += int(row["n"])
    ranked = sorted(per_key.items(),
                    key=lambda kv: (-sum(kv[1]), kv[0] is None, kv[0] or ""))
    if top is not None and len(ranked) > top:
        rest = [sum(c) for c in zip(*(v for _, v in ranked[top - 1:]), strict=True)]
        ranked = [*ranked[: top - 1], ("other", rest)]
    series = [{"key": k, "total": sum(v), "counts": v} for k, v in ranked]
    return {"bucket": r.bucket, "from": r.start, "to": r.end, "timezone": ws.tz,
            "periods": r.periods, "series": series,
            "total": sum(s["total"] for s in series)}


def _figures_body(ws: Workspace, r: Range, rows: list[dict[str, Any]],
                  figures: tuple[str, ...]) -> dict[str, Any]:
    """Rows of (period, figure columns...) as one series per figure, in ``figures`` order."""
    flat = [{"period": row["period"], "key": f, "n": row[f]} for row in rows for f in figures]
    body = _series_body(ws, r, flat, top=None)
    order = {f: i for i, f in enumerate(figures)}
    body["series"] = sorted(
        body["series"] + [{"key": f, "total": 0, "counts": [0] * len(r.periods)}
                          for f in figures if f not in {s["key"] for s in body["series"]}],
        key=lambda s: order[s["key"]])
    body["total"] = next(s["total"] for s in body["series"] if s["key"] == "jobs")
    return body


def _funnel_body(ws: Workspace, start: date, end: date,
                 rows: list[dict[str, Any]]) -> dict[str, Any]:
    counts = {s: 0 for s in STATUSES}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + int(row["n"])
    steps = [{"status": s, "count": sum(counts[x] for x in STEPS[i:])}
             for i, s in enumerate(STEPS)]
    steps[0]["count"] = sum(counts.values())
    return {"from": start, "to": end, "timezone": ws.tz, "total": sum(counts.values()),
            "statuses": [{"status": s, "count": n} for s, n in counts.items()],
            "steps": steps, "exits": [{"status": s, "count": counts[s]} for s in EXITS]}


def _funnel_range(ws: Workspace, start: date | None, end: date | None) -> tuple[date, date]:
    _check_bounds(start, end)
    end = end or ws.today()
    start = start or end - timedelta(days=DEFAULT_FUNNEL_DAYS - 1)
    if start > end:
        raise _bad_range("INVALID_RANGE", "'from' must not be after 'to'.")
    if (end - start).days + 1 > MAX_FUNNEL_DAYS:
        raise _bad_range("RANGE_TOO_LARGE", f"At most {MAX_FUNNEL_DAYS} days at a time.")
    return start, end


def _check_imports_role(ctx: Context) -> None:
    if not ctx.principal.at_least("manager"):
        raise Forbidden("Import figures need the role 'manager' or higher.",
                        code="ROLE_REQUIRED")


async def leads_by_source(session: AsyncSession, *, ctx: Context, start: date | None,
                          end: date | None, bucket: Bucket) -> dict[str, Any]:
    """Leads created per period and source (the readable set), the largest sources first."""
    ws = await workspace(session, ctx)
    r = resolve_range(ws, start, end, bucket)
    rows = await raw.fetch_all(session, *sql.leads_by_source(readable(ctx), _window(ws, r)))
    return _series_body(ws, r, rows)


async def funnel(session: AsyncSession, *, ctx: Context, start: date | None,
                 end: date | None) -> dict[str, Any]:
    """The readable leads created in [start, end] by status, as a funnel."""
    ws = await workspace(session, ctx)
    first, last = _funnel_range(ws, start, end)
    rows = await raw.fetch_all(session, *sql.status_counts(
        readable(ctx), ws.instant(first), ws.instant(last + timedelta(days=1))))
    return _funnel_body(ws, first, last, rows)


async def activities(session: AsyncSession, *, ctx: Context, start: date | None,
                     end: date | None, bucket: Bucket) -> dict[str, Any]:
    """Timeline entries per period and type (agents: on their own leads)."""
    ws = await workspace(session, ctx)
    r = resolve_range(ws, start, end, bucket)
    rows = await raw.fetch_all(session, *sql.activities_by_type(readable(ctx),
                                                                _window(ws, r)))
    return _series_body(ws, r, rows, top=None)


async def imports(session: AsyncSession, *, ctx: Context, start: date | None,
                  end: date | None, bucket: Bucket) -> dict[str, Any]:
    """Import jobs per period: jobs, and the rows created, updated, skipped and invalid
    of the completed ones (managers and above)."""
    _check_imports_role(ctx)
    ws = await workspace(session, ctx)
    r = resolve_range(ws, start, end, bucket)
    rows = await raw.fetch_all(session, *sql.imports_by_period(ctx.tenant_id,
                                                               _window(ws, r)))
    return _figures_body(ws, r, rows, IMPORT_FIGURES)


async def pipeline_value(session: AsyncSession, *, ctx: Context,
                         pipeline_id: uuid.UUID | None = None,
                         currency: str | None = None) -> dict[str, Any]:
    """Per stage of a deal pipeline (default: the workspace's default one): count, value
    and weighted value of its opportunities, from the opportunity views' sums (agents:
    their own opportunities and those of their leads)."""
    view = await views.pipeline_view(session, ctx=ctx, pipeline_id=pipeline_id,
                                     currency=currency, per_page=0)
    stages = [{"id": c["stage"]["id"], "code": c["stage"]["code"],
               "name": c["stage"]["name"], "category": c["stage"]["category"],
               "count": c["count"], "value": c["value"],
               "weighted_value": c["weighted_value"]} for c in view["stages"]]
    totals = view["totals"]
    return {"pipeline_id": view["pipeline"]["id"], "pipeline_name": view["pipeline"]["name"],
            "currency": view["currency"], "stages": stages, "count": totals["count"],
            "value": totals["value"], "weighted_value": totals["weighted_value"]}


async def dashboard(session: AsyncSession, *, ctx: Context, start: date | None,
                    end: date | None, bucket: Bucket) -> dict[str, Any]:
    """Every figure of the dashboard over one range (the funnel: the same days)."""
    ws = await workspace(session, ctx)
    r = resolve_range(ws, start, end, bucket)
    w = _window(ws, r)
    scope = readable(ctx)
    statements = [sql.leads_by_source(scope, w),
                  sql.status_counts(scope, ws.instant(r.start),
                                    ws.instant(r.end + timedelta(days=1))),
                  sql.activities_by_type(scope, w)]
    see_imports = ctx.principal.at_least("manager")
    if see_imports:
        statements.append(sql.imports_by_period(ctx.tenant_id, w))
    by_source, statuses, acts, *imp = await raw.fetch_each(session, statements)
    try:
        pipeline: dict[str, Any] | None = await pipeline_value(session, ctx=ctx)
    except AppError as exc:
        if exc.code not in ("NO_DEAL_PIPELINE", "PIPELINE_NOT_FOUND"):
            raise
        pipeline = None
    return {"leads": {"by_source": _series_body(ws, r, by_source),
                      "funnel": _funnel_body(ws, r.start, r.end, statuses)},
            "pipeline": pipeline,
            "imports": _figures_body(ws, r, imp[0], IMPORT_FIGURES) if see_imports else None,
            "activities": _series_body(ws, r, acts, top=None)}
