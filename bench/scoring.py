#!/usr/bin/env python
"""Scoring benchmark: recalculating every score of a workspace holding 1,000,000 leads
with a 20-rule model (decay included), beside a bare ``UPDATE leads SET score = score``
over the same rows in the same batches, in the same run. It prints figures; it is not a
test.

    .venv/bin/python bench/scoring.py                     # 1,000,000 leads
    .venv/bin/python bench/scoring.py --leads 20000       # a quick check
    .venv/bin/python bench/scoring.py --reload            # rebuild the data set

It reuses the ``bench`` package (``database``, ``loader``, ``server``, ``report``) and works
in its own database (``leadbase_bench_scoring``). Data: the loader's CRM-shaped leads, and
an activity history (1.5 calls and 1 email per lead on average, over the last 120 days;
each lead's ``last_activity_at`` its latest) for the model's activity rules and the decay.

Figures, each after a ``VACUUM`` of the leads:
- ``baseline``: ``UPDATE leads SET score = score`` for every live lead, by ranges of
  ``--batch`` lead numbers, one transaction per range (what the job does);
- ``recalculate``: the scoring job (``leadbase.scoring.runs.run_job``: each range one
  statement computing the 20 rules, clamp, decay and the breakdown in SQL, writing the
  leads whose result changed and emitting ``lead.score_changed`` for each temperature
  change), every lead's score changing (the scores are reset first);
- ``recalculate, unchanged``: the same job again (nothing to write: the daily decay's
  usual case);
- the baseline once more; the ratio is to the mean of the two baselines (goal <= 2x).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.database import (  # noqa: E402
    pg_settings,
    resolve_server,
    write_marker,
)
from bench.loader import default_list, load_leads, open_database  # noqa: E402
from bench.report import fmt_int, machine, out  # noqa: E402
from bench.server import ApiServer, sign_in  # noqa: E402
from leadbase.config import Settings  # noqa: E402
from leadbase.db import migrate  # noqa: E402
from leadbase.db.session import Database  # noqa: E402
from leadbase.scoring import runs  # noqa: E402

DATA_FORMAT = 1


def _p(field: str, op: str, value: Any = None, **extra: Any) -> dict[str, Any]:
    return {"field": field, "op": op, **({"value": value} if value is not None else {}),
            **extra}


RULES: list[dict[str, Any]] = [
    {"name": "Website", "points": 15, "condition": _p("source", "eq", "website")},
    {"name": "Referral", "points": 20, "condition": _p("source", "eq", "referral")},
    {"name": "Social", "points": 10, "condition": _p("source", "in", ["linkedin", "webinar"])},
    {"name": "Cold call", "points": -5, "condition": _p("source", "eq", "cold_call")},
    {"name": "Qualified", "points": 25, "condition": _p("status", "eq", "qualified")},
    {"name": "Dead", "points": -30, "condition": _p("status", "in", ["unqualified", "lost"])},
    {"name": "Contacted", "points": 10, "condition": _p("status", "eq", "contacted")},
    {"name": "VIP", "points": 30, "condition": _p("tags", "contains", "vip")},
    {"name": "Hot tag", "points": 20, "condition": {"any": [
        _p("tags", "contains", "hot-lead"), _p("tags", "contains", "demo-requested")]}},
    {"name": "Has email", "points": 5, "condition": _p("email", "exists")},
    {"name": "Has phone", "points": 5, "condition": _p("phone", "exists")},
    {"name": "Company", "points": 5, "condition": _p("company", "exists")},
    {"name": "Head of", "points": 10, "condition": _p("job_title", "starts_with", "Head")},
    {"name": "US", "points": 3, "condition": _p("country", "eq", "US")},
    {"name": "Consent", "points": 5, "condition": _p("consent", "eq", True)},
    {"name": "Do not contact", "points": -40, "condition": _p("do_not_contact", "eq", True)},
    {"name": "Contacted lately", "points": 10,
     "condition": _p("last_contacted_at", "newer_than_days", 30)},
    {"name": "Old", "points": -10, "condition": {"all": [
        _p("created_at", "older_than_days", 365), {"not": _p("status", "eq", "qualified")}]}},
    {"name": "Called this month", "points": 15,
     "condition": _p("activities.call", "gte", 1, within_days=30)},
    {"name": "Emails", "points": 10, "condition": _p("activities.email", "gte", 2)},
]
MODEL = {"rules": RULES, "decay": {"mode": "half_life", "half_life_days": 30},
         "thresholds": {"hot": 60, "warm": 30}}

_ACTIVITY_SQL = """
INSERT INTO activities (id, tenant_id, lead_id, type, occurred_at, number)
SELECT lb_uuid7(), l.tenant_id, l.id, a.type,
       now() - make_interval(secs => abs(hashint8extended(l.number * 7 + a.k, 42)) %% 10368000),
       nextval(%(seq)s::regclass)
FROM leads l
CROSS JOIN LATERAL (
    SELECT k, CASE WHEN k < 3 THEN 'call' ELSE 'email' END AS type
    FROM generate_series(0, 4) AS k
    WHERE (hashint8extended(l.number * 5 + k, 7) & 1) = 0
) a
WHERE l.tenant_id = %(t)s AND l.number > %(lo)s AND l.number <= %(hi)s
"""


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--leads", type=int, default=1_000_000)
    p.add_argument("--database", default="leadbase_bench_scoring")
    p.add_argument("--database-url", default=None, help="PostgreSQL server (libpq URI)")
    p.add_argument("--data-dir", default=str(ROOT / "bench" / "data"))
    p.add_argument("--reload", action="store_true", help="rebuild the bench database")
    p.add_argument("--batch", type=int, default=runs.RECALC_BATCH_COUNTS,
                   help="lead numbers per statement (default: the job's for a model with "
                        "activity counts)")
    p.add_argument("--load-workers", type=int, default=None)
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args()
    args.pool_size, args.concurrency = 10, 4
    args.server_log_level, args.count_cap = "WARNING", 1000
    return args


def load_activities(url: str, tenant: str, leads: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        seq = conn.execute("SELECT lb_number_seq(%s, 'activities')::text", (tenant,)).fetchone()
        assert seq is not None
        conn.execute("SET session_replication_role = replica")
        step = 100_000
        for lo in range(0, leads, step):
            conn.execute(_ACTIVITY_SQL, {"t": tenant, "seq": seq[0], "lo": lo, "hi": lo + step})
        conn.execute("UPDATE leads l SET last_activity_at = a.at FROM (SELECT lead_id, "
                     "max(occurred_at) AS at FROM activities WHERE tenant_id = %s "
                     "GROUP BY lead_id) a WHERE l.id = a.lead_id", (tenant,))
        conn.execute("VACUUM (ANALYZE) activities")
        conn.execute("VACUUM (ANALYZE) leads")
        n = conn.execute("SELECT count(*) FROM activities").fetchone()
    out(f"  {fmt_int(n[0] if n else 0)} activities")


def vacuum(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) leads")
        conn.execute("CHECKPOINT")


def baseline(url: str, tenant: str, batch: int) -> tuple[float, int]:
    """``UPDATE leads SET score = score`` over the live leads, range by range."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT coalesce(max(number), 0) FROM leads WHERE tenant_id = %s",
                           (tenant,)).fetchone()
        top = int(row[0]) if row else 0
        rows = 0
        t0 = time.perf_counter()
        for low in range(0, top, batch):
            with conn.transaction():
                conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant,))
                cur = conn.execute(
                    "UPDATE leads SET score = score WHERE tenant_id = %s AND deleted_at IS NULL "
                    "AND number > %s AND number <= %s", (tenant, low, low + batch))
                rows += cur.rowcount
        return time.perf_counter() - t0, rows


async def recalculate(db: Database, api: ApiServer, token: str, tenant: str,
                      batch: int) -> tuple[float, dict[str, Any]]:
    async with httpx.AsyncClient(base_url=api.base, timeout=60,
                                 headers={"Authorization": f"Bearer {token}"}) as client:
        resp = await client.post("/api/v1/scoring/recalculate")
        resp.raise_for_status()
        job_id = resp.json()["id"]
        t0 = time.perf_counter()
        status = await runs.run_job(db, tenant_id=uuid.UUID(tenant), job_id=uuid.UUID(job_id),
                                    batch=batch)
        seconds = time.perf_counter() - t0
        job: dict[str, Any] = (await client.get(f"/api/v1/scoring/jobs/{job_id}")).json()
    if status != "completed":
        raise RuntimeError(f"the recalculation ended {status}: {job.get('error')}")
    return seconds, job


async def measure(args: argparse.Namespace, url: str, api: ApiServer, token: str,
                  tenant: str) -> None:
    async with httpx.AsyncClient(base_url=api.base, timeout=60,
                                 headers={"Authorization": f"Bearer {token}"}) as client:
        current = (await client.get("/api/v1/scoring/model")).json()
        resp = await client.put("/api/v1/scoring/model", json=MODEL,
                                headers={"If-Match": f'"{current["version"]}"'})
        if resp.status_code != 200:
            raise RuntimeError(f"PUT /scoring/model: {resp.status_code} {resp.text}")
    settings = Settings(data_dir=Path(args.data_dir) / "scoring" / "bench",  # type: ignore[call-arg]
                        secret_key="bench-scoring-" + "x" * 40, run_worker=False)
    db = Database(url, settings)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("UPDATE leads SET score = 0, temperature = 'cold', "
                         "score_breakdown = '{}' WHERE tenant_id = %s", (tenant,))
        vacuum(url)
        base1, rows = baseline(url, tenant, args.batch)
        out(f"baseline UPDATE leads SET score = score: {base1:8.1f} s  ({fmt_int(rows)} rows, "
            f"{rows / base1:,.0f} rows/s)")
        vacuum(url)
        seconds, job = await recalculate(db, api, token, tenant, args.batch)
        out(f"recalculate (20 rules, decay):         {seconds:8.1f} s  "
            f"({fmt_int(job['processed'])} leads, {fmt_int(job['changed'])} written, "
            f"{fmt_int(job['temperature_changed'])} lead.score_changed; "
            f"{job['processed'] / seconds:,.0f} leads/s)")
        vacuum(url)
        again, job2 = await recalculate(db, api, token, tenant, args.batch)
        out(f"recalculate again, nothing changed:    {again:8.1f} s  "
            f"({fmt_int(job2['changed'])} written)")
        vacuum(url)
        base2, _ = baseline(url, tenant, args.batch)
        out(f"baseline again:                        {base2:8.1f} s")
        mean = (base1 + base2) / 2
        out()
        out(f"ratio recalculate / baseline: {seconds / mean:.2f}x (goal <= 2x); "
            f"unchanged run / baseline: {again / mean:.2f}x")
    finally:
        await db.dispose()


def main() -> int:
    args = parse_args()
    out("Leadbase scoring benchmark")
    out(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f} at start")
    server = resolve_server(args)
    head = migrate.head_revision()
    url, marker = open_database(args, server.admin_url, DATA_FORMAT)
    reuse = marker is not None
    api = ApiServer(url, args, Path(args.data_dir) / "scoring")
    api.start()
    try:
        token, tenant = sign_in(api.base, "a", register=not reuse)
        if reuse:
            assert marker is not None
            out(f"data: reused {args.database} (loaded {marker['loaded_at']}); --reload to "
                "rebuild")
        else:
            workers = args.load_workers or len(os.sched_getaffinity(0))
            out(f"loading {fmt_int(args.leads)} leads into {args.database}")
            t = time.perf_counter()
            load_leads(url, [("a", tenant, default_list(url, tenant), args.leads, 1000)],
                       workers=workers, chunk_rows=50_000)
            load_activities(url, tenant, args.leads)
            write_marker(server.admin_url, args.database, {
                "format": DATA_FORMAT, "leads": args.leads, "head": head, "tenant_a": tenant,
                "loaded_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "load_seconds": time.perf_counter() - t})
        settings = pg_settings(url)
        out(f"database: PostgreSQL {settings['server_version']} ({server.description}); "
            f"leads table {settings['leads_size']}; batches of {fmt_int(args.batch)} lead "
            f"numbers")
        out()
        asyncio.run(measure(args, url, api, token, tenant))
        out(f"load average {os.getloadavg()[0]:.2f} at the end")
        return 0
    finally:
        api.stop()


if __name__ == "__main__":
    sys.exit(main())
