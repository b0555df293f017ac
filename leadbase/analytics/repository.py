"""SQL of the dashboard's figures: set-based counts grouped by period (the workspace's
local day, week or month) over a bounded range of ``created_at`` / ``occurred_at``.

Every statement starts with ``tenant_id`` and a range on the time column of an index that
starts with it (``ix_leads_tenant_created``, ``ix_activities_tenant_time``,
``ix_import_jobs_tenant_created``); an agent's figures are restricted by the readable set
of leads (``leads.repository.readable``). Statements are ``(sql, params)`` for the raw
driver, run in one round trip by the service.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from leadbase.db import raw
from leadbase.leads.repository import Readable

Bucket = Literal["day", "week", "month"]


@dataclass(frozen=True)
class Window:
    """[start, end) in UTC, grouped by ``bucket`` in the time zone ``tz``."""

    start: datetime
    end: datetime
    bucket: Bucket
    tz: str

    def period(self, column: str) -> str:
        return f"date_trunc(%s, {column} AT TIME ZONE %s)::date"

    def period_params(self) -> tuple[Any, ...]:
        return (self.bucket, self.tz)


def _leads_where(scope: Readable, alias: str = "") -> tuple[str, tuple[Any, ...]]:
    where, params = scope.sql()
    if alias:
        where = where.replace("tenant_id", f"{alias}.tenant_id").replace(
            "owner_id", f"{alias}.owner_id")
    return where, params


def leads_by_source(scope: Readable, w: Window) -> raw.Statement:
    where, params = _leads_where(scope)
    return (f"SELECT {w.period('created_at')} AS period, source AS key, count(*) AS n "
            f"FROM leads WHERE {where} AND deleted_at IS NULL "
            "AND created_at >= %s AND created_at < %s GROUP BY 1, 2",
            (*w.period_params(), *params, w.start, w.end))


def status_counts(scope: Readable, start: datetime, end: datetime) -> raw.Statement:
    where, params = _leads_where(scope)
    return (f"SELECT status, count(*) AS n FROM leads WHERE {where} "
            "AND deleted_at IS NULL AND created_at >= %s AND created_at < %s GROUP BY 1",
            (*params, start, end))


def activities_by_type(scope: Readable, w: Window) -> raw.Statement:
    """Activities on the timelines of the readable leads (agents: their own leads'; the
    whole workspace's, lead or not, for the other roles)."""
    mine = ""
    params: tuple[Any, ...] = ()
    if scope.own:
        where, params = _leads_where(scope, "l")
        mine = f" AND a.lead_id IN (SELECT l.id FROM leads l WHERE {where})"
    return (f"SELECT {w.period('a.occurred_at')} AS period, a.type AS key, count(*) AS n "
            "FROM activities a WHERE a.tenant_id = %s AND a.deleted_at IS NULL "
            f"AND a.occurred_at >= %s AND a.occurred_at < %s{mine} GROUP BY 1, 2",
            (*w.period_params(), scope.tenant_id, w.start, w.end, *params))


def imports_by_period(tenant_id: uuid.UUID, w: Window) -> raw.Statement:
    """Import jobs created in the window (dry runs apart): how many, and the rows of the
    completed ones per bucket."""
    done = "FILTER (WHERE status = 'completed' AND NOT dry_run)"
    return (f"SELECT {w.period('created_at')} AS period, "
            "count(*) FILTER (WHERE NOT dry_run) AS jobs, "
            "count(*) FILTER (WHERE dry_run) AS dry_runs, "
            "count(*) FILTER (WHERE status = 'failed') AS failed, "
            f"coalesce(sum(created_count) {done}, 0) AS created, "
            f"coalesce(sum(updated_count) {done}, 0) AS updated, "
            f"coalesce(sum(skipped_count) {done}, 0) AS skipped, "
            f"coalesce(sum(invalid_count) {done}, 0) AS invalid "
            "FROM import_jobs WHERE tenant_id = %s AND created_at >= %s AND created_at < %s "
            "GROUP BY 1",
            (*w.period_params(), tenant_id, w.start, w.end))


def workspace(tenant_id: uuid.UUID) -> raw.Statement:
    return ("SELECT timezone, currency, locale FROM tenants WHERE id = %s", (tenant_id,))
