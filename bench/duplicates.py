#!/usr/bin/env python
"""Duplicates benchmark: the candidates of one lead, the workspace scan, and the merge of
a lead with 1,000 activities, in a workspace of 1,000,000 leads with planted duplicates,
each beside a baseline measured in the same run. It prints figures; it is not a test.

    .venv/bin/python bench/duplicates.py                             # 1,000,000 leads
    .venv/bin/python bench/duplicates.py --leads 20000 --requests 300    # a quick check
    .venv/bin/python bench/duplicates.py --reload                    # rebuild the data set

Data: the loader's CRM-shaped leads (``bench.loader``) in workspace A, then in SQL every
50th lead is turned into a duplicate of the lead before it (by number), in turn: the same
mailbox written differently (``ANA.Lopez+dup@``), the same phone with no email, or a
typo in the first name at the same company and email domain. Lead #4 gets 1,000
activities (for the merge); 10% of the leads a note and 2% a task (background rows). The
data set is reused across runs (``open_database``).

Measured:
- candidates: ``GET /api/v1/leads/{id}/duplicates`` for planted and ordinary leads at
  concurrency 16 (target p99 <= 100 ms), beside psycopg running the same statements (the
  lead's row, then the union of the indexed probes);
- the scan: ``POST /api/v1/leads/duplicates/scan`` then the job run in this process
  (``leadbase.duplicates.scan.run_scan``, what the worker runs), beside a bare
  ``SELECT count(*) FROM (... GROUP BY ...)`` per blocking on psycopg;
- merge: ``POST /api/v1/leads/{#3}/merge {other_ids: [#4]}`` (#4 holds the 1,000
  activities), ``--merges`` rounds each undone by an unmerge (target <= 1 s), beside the
  bare ``UPDATE activities SET lead_id = ... WHERE lead_id = ...`` (rolled back).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
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

from bench.client import LoopbackClient, Request, drive  # noqa: E402
from bench.database import pg_settings, postmaster_pid, resolve_server, write_marker  # noqa: E402
from bench.loader import default_list, load_leads, open_database  # noqa: E402
from bench.pipelines import RawRunner  # noqa: E402
from bench.report import CpuMeter, fmt_int, machine, out, pct  # noqa: E402
from bench.server import ApiServer, sign_in  # noqa: E402
from leadbase.db import migrate  # noqa: E402
from leadbase.duplicates.candidates import FREE_DOMAINS  # noqa: E402

DATA_FORMAT = "duplicates-2"
MERGE_ACTIVITIES = 1000

# Every 50th lead (number % 50 = 8) becomes a duplicate of the lead before it.
_PLANT_SQL = """
UPDATE leads d SET
  first_name = CASE WHEN k = 2 THEN left(s.first_name, greatest(length(s.first_name) - 1, 2))
                    || 'e' ELSE s.first_name END,
  last_name = s.last_name,
  email = CASE k WHEN 0 THEN upper(split_part(s.email, '@', 1)) || '+dup@'
                             || split_part(s.email, '@', 2)
                 WHEN 1 THEN NULL
                 ELSE 'x' || d.number || '@' || split_part(s.email, '@', 2) END,
  phone = CASE WHEN k = 1 THEN s.phone END,
  company = s.company
FROM (SELECT l.*, (l.number / 50) %% 3 AS k FROM leads l
      WHERE l.tenant_id = %(t)s AND l.number %% 50 = 7 AND l.email IS NOT NULL
        AND l.phone IS NOT NULL) s
WHERE d.tenant_id = %(t)s AND d.number = s.number + 1
"""
# Background rows, so that the merge's UPDATEs find #4's among many: a note on 10% of the
# leads, a task on 2%.
_BACKGROUND_SQL = [
    "INSERT INTO activities (id, tenant_id, lead_id, type, attributes, occurred_at, "
    "completed_at) SELECT gen_random_uuid(), tenant_id, id, 'note', "
    "'{\"content\": \"x\"}'::jsonb, created_at, created_at FROM leads "
    "WHERE tenant_id = %(t)s AND number %% 10 = 1",
    "INSERT INTO tasks (id, tenant_id, lead_id, title, position) SELECT gen_random_uuid(), "
    "tenant_id, id, 'Call back', number FROM leads WHERE tenant_id = %(t)s "
    "AND number %% 50 = 2",
]
_ACTIVITIES_SQL = """
INSERT INTO activities (id, tenant_id, lead_id, type, attributes, occurred_at, completed_at)
SELECT gen_random_uuid(), %(t)s, l.id, 'note', '{"content": "bench"}'::jsonb,
       now() - g * interval '1 minute', now() - g * interval '1 minute'
FROM leads l CROSS JOIN generate_series(1, %(n)s) g
WHERE l.tenant_id = %(t)s AND l.number = 4
"""


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--leads", type=int, default=1_000_000)
    p.add_argument("--database", default="leadbase_bench_duplicates")
    p.add_argument("--database-url", default=None, help="PostgreSQL server (libpq URI)")
    p.add_argument("--data-dir", default=str(ROOT / "bench" / "data"))
    p.add_argument("--reload", action="store_true", help="rebuild the bench database")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--requests", type=int, default=2000, help="candidate requests")
    p.add_argument("--duration", type=float, default=60.0, help="seconds per scenario at most")
    p.add_argument("--merges", type=int, default=5, help="rounds of merge + unmerge")
    p.add_argument("--load-workers", type=int, default=None)
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args()
    args.pool_size = max(args.concurrency, 10)
    args.server_log_level, args.count_cap = "WARNING", 1000
    return args


def plant(url: str, tenant: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(_PLANT_SQL, {"t": tenant})
        planted = cur.rowcount
        conn.execute(_ACTIVITIES_SQL, {"t": tenant, "n": MERGE_ACTIVITIES})
        for sql in _BACKGROUND_SQL:
            conn.execute(sql, {"t": tenant})
        for table in ("leads", "activities", "tasks"):
            conn.execute(f"VACUUM (ANALYZE) {table}")
    return planted


def lead_ids(url: str, tenant: str, n: int) -> tuple[list[str], dict[int, str]]:
    """Leads to ask about, half planted duplicates (and their originals), half others; and
    the ids of leads #3 and #4."""
    with psycopg.connect(url) as conn:
        planted = [str(r[0]) for r in conn.execute(
            "SELECT id FROM leads WHERE tenant_id = %s AND deleted_at IS NULL "
            "AND number %% 50 IN (7, 8) ORDER BY number LIMIT %s", (tenant, n // 2))]
        others = [str(r[0]) for r in conn.execute(
            "SELECT id FROM leads WHERE tenant_id = %s AND deleted_at IS NULL "
            "AND number %% 50 = 23 ORDER BY number LIMIT %s", (tenant, n - len(planted)))]
        pair = {int(r[0]): str(r[1]) for r in conn.execute(
            "SELECT number, id FROM leads WHERE tenant_id = %s AND number IN (3, 4)",
            (tenant,))}
    ids = [x for pair_ in zip(planted, others, strict=False) for x in pair_]
    return ids or planted + others, pair


async def candidates(args: argparse.Namespace, api: ApiServer, token: str, url: str,
                     tenant: str, ids: list[str], meter: CpuMeter) -> None:
    from leadbase.duplicates import candidates as cand
    from leadbase.leads.repository import Readable

    out("== candidates of one lead (GET /api/v1/leads/{id}/duplicates), concurrency "
        f"{args.concurrency}")
    client = LoopbackClient(api.base, {"authorization": f"Bearer {token}"})

    def make(i: int) -> Request:
        return Request("GET", f"/api/v1/leads/{ids[i % len(ids)]}/duplicates")

    warm = args.concurrency * 4
    await drive(client, "warm", make, requests=warm, concurrency=args.concurrency,
                duration=args.duration, meter=meter)
    res = await drive(client, "candidates", make, requests=args.requests,
                      concurrency=args.concurrency, duration=args.duration, meter=meter)
    if res.errors:
        out(f"  errors {res.errors} {res.error_samples}")
    conn_ = client.acquire()
    found = 0
    for lead in ids[:200:2]:
        _, body = await conn_.request("GET", f"/api/v1/leads/{lead}/duplicates", None)
        found += bool(__import__("orjson").loads(body)["data"])
    client.release(conn_)
    await client.close()
    scope = Readable(uuid.UUID(tenant))

    async def raw_work(conn: psycopg.AsyncConnection[Any], i: int) -> None:
        lead_id = ids[i % len(ids)]
        async with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
            await cur.execute("SELECT id, first_name, last_name, email, phone, company "
                              "FROM leads WHERE id = %s AND tenant_id = %s",
                              (lead_id, tenant))
            lead = await cur.fetchone()
            assert lead is not None
            sql, params = cand.lookups(scope, lead)
            if sql:
                await cur.execute(sql.encode(), params)
                await cur.fetchall()

    raw = RawRunner(url, tenant, args.concurrency)
    await raw.run(warm, raw_work)
    rl, rw = await raw.run(args.requests, raw_work)
    a, r = pct(res.latencies, 0.99), pct(rl, 0.99)
    out(f"  p99 API {a:7.1f} ms   raw {r:7.1f} ms   API/raw {a / r:5.2f}   (p50 API "
        f"{pct(res.latencies, 0.5):6.1f} ms, raw {pct(rl, 0.5):6.1f} ms; "
        f"{len(res.latencies) / res.wall:,.0f}/s API, {len(rl) / rw:,.0f}/s raw)  "
        "target p99 <= 100 ms")
    out(f"  planted leads with candidates: {found} of {len(ids[:200:2])} sampled")
    # One at a time: the cost of a request without the queueing of 16 on the machine's cores.
    client = LoopbackClient(api.base, {"authorization": f"Bearer {token}"})
    n1 = min(300, args.requests)
    one = await drive(client, "candidates c=1", make, requests=n1, concurrency=1,
                      duration=args.duration, meter=meter)
    await client.close()
    rl1, _ = await RawRunner(url, tenant, 1).run(n1, raw_work)
    a1, r1 = pct(one.latencies, 0.99), pct(rl1, 0.99)
    out(f"  concurrency 1: p99 API {a1:6.1f} ms   raw {r1:6.1f} ms   API/raw {a1 / r1:5.2f}   "
        f"(p50 API {pct(one.latencies, 0.5):5.1f} ms, raw {pct(rl1, 0.5):5.1f} ms)")


_BASELINES = [
    ("same_email", "SELECT count(*) FROM (SELECT lb_email_key(email) FROM leads "
     "WHERE tenant_id = %(t)s AND deleted_at IS NULL AND email IS NOT NULL "
     "GROUP BY 1 HAVING count(*) > 1) x"),
    ("same_phone", "SELECT count(*) FROM (SELECT phone FROM leads WHERE tenant_id = %(t)s "
     "AND deleted_at IS NULL AND phone IS NOT NULL GROUP BY 1 HAVING count(*) > 1) x"),
    ("same_domain_last_name", "SELECT count(*) FROM (SELECT lb_domain_last(email, "
     "last_name) FROM leads WHERE tenant_id = %(t)s AND deleted_at IS NULL "
     "AND email IS NOT NULL AND last_name IS NOT NULL "
     "AND lb_email_domain(email) <> ALL(%(free)s) GROUP BY 1 HAVING count(*) > 1) x"),
    ("similar_name blocks", "SELECT count(*) FROM (SELECT lower(company), "
     "left(lower(lb_unaccent(coalesce(last_name, ''))), 3) FROM leads "
     "WHERE tenant_id = %(t)s AND deleted_at IS NULL AND company IS NOT NULL "
     "GROUP BY 1, 2 HAVING count(*) > 1) x"),
]


async def _run_scan(url: str, tenant: str, scan_id: uuid.UUID) -> tuple[str, float]:
    from leadbase.config import Settings
    from leadbase.db.session import Database
    from leadbase.duplicates import scan

    db = Database(url, Settings(database_url=url))
    t = time.perf_counter()
    status = await scan.run_scan(db, tenant_id=uuid.UUID(tenant), scan_id=scan_id)
    job_s = time.perf_counter() - t
    await db.dispose()
    return status, job_s


def scan_job(api: ApiServer, token: str, url: str, tenant: str) -> None:
    out("== the workspace scan (POST /api/v1/leads/duplicates/scan, the job run here)")
    with httpx.Client(base_url=api.base, timeout=60,
                      headers={"authorization": f"Bearer {token}"}) as client:
        for s in client.get("/api/v1/leads/duplicates/scans?per_page=5").json()["data"]:
            if s["status"] in ("queued", "running"):
                client.post(f"/api/v1/leads/duplicates/scans/{s['id']}/cancel")
        r = client.post("/api/v1/leads/duplicates/scan")
        assert r.status_code == 202, r.text
        scan_id = uuid.UUID(r.json()["id"])
        status, job_s = asyncio.run(_run_scan(url, tenant, scan_id))
        done = client.get(f"/api/v1/leads/duplicates/scans/{scan_id}").json()
        page = client.get("/api/v1/leads/duplicates?per_page=5").json()
    base_s = 0.0
    parts = []
    with psycopg.connect(url) as conn:
        for name, sql in _BASELINES:
            t = time.perf_counter()
            row = conn.execute(sql, {"t": tenant, "free": sorted(FREE_DOMAINS)}).fetchone()
            dt = time.perf_counter() - t
            base_s += dt
            parts.append(f"{name} {dt:.2f} s ({fmt_int(row[0] if row else 0)} blocks)")
    out(f"  scan job {job_s:7.2f} s ({status}; {fmt_int(done['groups'])} groups of "
        f"{fmt_int(done['leads'] or 0)} leads; {done['result']})")
    out(f"  bare GROUP BY counts {base_s:7.2f} s: {'; '.join(parts)}")
    out(f"  job/bare {job_s / base_s:5.2f}; first group: "
        f"{page['data'][0]['reasons'] if page['data'] else None}")


def merges(args: argparse.Namespace, api: ApiServer, token: str, url: str,
                 tenant: str, pair: dict[int, str]) -> None:
    out(f"== merge of a lead with {MERGE_ACTIVITIES:,} activities (POST /leads/{{id}}/merge), "
        f"{args.merges} rounds, each undone by an unmerge")
    survivor, other = pair[3], pair[4]
    api_s, undo_s, moved = [], [], 0
    with httpx.Client(base_url=api.base, timeout=60,
                      headers={"authorization": f"Bearer {token}"}) as client:
        for _ in range(args.merges):
            t = time.perf_counter()
            r = client.post(f"/api/v1/leads/{survivor}/merge", json={"other_ids": [other]})
            api_s.append(time.perf_counter() - t)
            assert r.status_code == 200, r.text
            moved = r.json()["merge"]["moved"]["activities"]
            t = time.perf_counter()
            r = client.post(f"/api/v1/leads/{survivor}/unmerge", json={})
            undo_s.append(time.perf_counter() - t)
            assert r.status_code == 200, r.text
    from leadbase.duplicates.repository import _MOVE_LISTINGS_SQL, MOVED_TABLES, _move_sql

    bare = []
    with psycopg.connect(url) as conn:
        params = {"t": tenant, "s": survivor, "o": [other]}
        for table, deleted in [*MOVED_TABLES.items(), ("lead_listings", None)]:
            sql = _MOVE_LISTINGS_SQL if deleted is None else _move_sql(table, deleted)
            plan = [r[0] for r in conn.execute(("EXPLAIN " + sql).encode(), params)]
            scans = [p.strip().split("  (")[0].lstrip("-> ") for p in plan if "Scan" in p]
            out(f"  plan of the move of {table}: {'; '.join(scans)}")
        conn.rollback()
        for _ in range(args.merges):
            t = time.perf_counter()
            conn.execute("UPDATE activities SET lead_id = %s WHERE tenant_id = %s "
                         "AND lead_id = %s", (survivor, tenant, other))
            bare.append(time.perf_counter() - t)
            conn.rollback()
    a, b = statistics.median(api_s) * 1000, statistics.median(bare) * 1000
    out(f"  merge median {a:7.1f} ms (max {max(api_s) * 1000:.1f}; {moved} activities moved)"
        f"   bare UPDATE {b:7.1f} ms   merge/bare {a / b:5.2f}   target <= 1000 ms")
    out(f"  unmerge median {statistics.median(undo_s) * 1000:7.1f} ms "
        f"(max {max(undo_s) * 1000:.1f})")


def main() -> int:
    args = parse_args()
    out("Leadbase duplicates benchmark")
    out(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f} at start")
    server = resolve_server(args)
    head = migrate.head_revision()
    url, marker = open_database(args, server.admin_url, DATA_FORMAT)
    reuse = marker is not None
    api = ApiServer(url, args, Path(args.data_dir) / "duplicates")
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
            planted = plant(url, tenant)
            out(f"planted {fmt_int(planted)} duplicates; {MERGE_ACTIVITIES} activities on #4")
            write_marker(server.admin_url, args.database, {
                "format": DATA_FORMAT, "leads": args.leads, "head": head, "tenant_a": tenant,
                "loaded_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "load_seconds": time.perf_counter() - t})
        settings = pg_settings(url)
        out(f"database: PostgreSQL {settings['server_version']} ({server.description}); "
            f"leads table {settings['leads_size']}")
        out(f"server: leadbase serve --no-worker on {api.base} (one uvicorn process); "
            f"concurrency {args.concurrency}; {args.requests} candidate requests")
        out()
        ids, pair = lead_ids(url, tenant, 1000)
        meter = CpuMeter(api.proc.pid if api.proc else None, postmaster_pid(url))
        asyncio.run(candidates(args, api, token, url, tenant, ids, meter))
        out()
        scan_job(api, token, url, tenant)
        out()
        merges(args, api, token, url, tenant, pair)
        out(f"load average {os.getloadavg()[0]:.2f} at the end")
        return 0
    finally:
        api.stop()


if __name__ == "__main__":
    sys.exit(main())
