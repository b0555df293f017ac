"""A lead's timeline at scale: one lead with 10,000 entries among 1,000,000 leads and a few
million activities, through the HTTP API at concurrency 16, beside the same SQL on the raw
driver; and what the timeline entries cost a bulk status update.

```sh
.venv/bin/python bench/timeline.py                      # 1M leads, 3 activities each
.venv/bin/python bench/timeline.py --leads 50000 --requests 300 --bulk 300   # quick
.venv/bin/python bench/timeline.py --reload             # rebuild the data set
```

1. Data (database ``leadbase_bench_timeline``, reused while its marker matches): ``--leads``
   leads (bench.loader), ``--per-lead`` activities each (calls, emails, notes, meetings,
   status changes over two years) and one ``lead.created`` audit entry each, loaded with
   ``INSERT ... SELECT`` with the secondary indexes dropped and rebuilt; then one *hot*
   lead gets ``--hot`` entries: 70% activities (system ones included), 30% audited changes.
2. Timeline: ``GET /api/v1/leads/{hot}/timeline?per_page=25`` (first page), the same with a
   cursor 100 pages in (cursors walked through the API, pages 95-105), and a ``types=``
   page; then the raw baseline: the same two statements (the lead check and the page, one
   pipeline) on psycopg as ``leadbase_app`` with RLS, 16 connections, each request its own
   transaction with the request's scope. Figures and the ratio API/raw.
3. Bulk (``--bulk N``): N leads' status changed through ``bulk.service.apply_many`` (the
   path of ``POST /leads/bulk``, in-process) with the timeline entries switched off
   (before) and on (after), twice each, alternating; leads/s and the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.client import Request, Result, Scenario, run_scenarios  # noqa: E402
from bench.database import (  # noqa: E402
    pg_settings,
    postmaster_pid,
    read_marker,
    recreate_database,
    resolve_server,
    write_marker,
)
from bench.loader import default_list, load_leads  # noqa: E402
from bench.report import CpuMeter, fmt_int, machine, out, pct, print_table  # noqa: E402
from bench.server import ApiServer, sign_in, token_claims  # noqa: E402
from leadbase.activities import repository as activities_repository  # noqa: E402
from leadbase.db import migrate, roles  # noqa: E402
from leadbase.db.session import _scope_params  # noqa: E402
from leadbase.db.urls import with_database  # noqa: E402

FORMAT = 1
TYPES = "ARRAY['call','email','note','meeting','status_change','call','email','message']"
ACTIVITIES_SQL = f"""
INSERT INTO activities (id, tenant_id, lead_id, type, description, attributes, occurred_at,
                        completed_at, author_user_id, number, created_at, updated_at)
SELECT gen_random_uuid(), l.tenant_id, l.id, t.type,
       CASE WHEN t.type = 'note' THEN 'Customer prefers monthly payment' END,
       CASE t.type WHEN 'call' THEN jsonb_build_object('duration_seconds', 30 + g %% 600,
                                                       'direction', 'outbound')
                   WHEN 'email' THEN '{{"status": "sent", "subject": "Quote"}}'::jsonb
                   WHEN 'status_change' THEN '{{"from": "new", "to": "contacted"}}'::jsonb
                   WHEN 'message' THEN '{{"channel": "whatsapp", "direction": "inbound"}}'::jsonb
                   ELSE '{{}}'::jsonb END,
       at, at, %(author)s, (l.number - 1) * %(k)s + g, at, at
FROM leads l CROSS JOIN generate_series(1, %(k)s) AS g
CROSS JOIN LATERAL (SELECT ({TYPES})[1 + (l.number * 7 + g) %% 8] AS type,
                    l.created_at + (g * interval '9 days') AS at) AS t
WHERE l.tenant_id = %(t)s AND l.number >= %(lo)s AND l.number < %(hi)s
"""
AUDIT_SQL = """
INSERT INTO audit_entries (id, tenant_id, actor_user_id, action, entity_type, entity_id,
                           changes, number, created_at, updated_at)
SELECT gen_random_uuid(), l.tenant_id, %(author)s, 'lead.created', 'lead', l.id,
       '{"fields": ["email", "first_name", "last_name"]}'::jsonb, %(base)s + l.number,
       l.created_at,
       l.created_at
FROM leads l WHERE l.tenant_id = %(t)s AND l.number >= %(lo)s AND l.number < %(hi)s
"""
HOT_ACTIVITIES_SQL = f"""
INSERT INTO activities (id, tenant_id, lead_id, type, attributes, occurred_at, completed_at,
                        author_user_id, number, created_at, updated_at)
SELECT gen_random_uuid(), %(t)s, %(lead)s, ({TYPES})[1 + g %% 8], '{{}}'::jsonb,
       now() - g * interval '97 minutes', now() - g * interval '97 minutes', %(author)s,
       %(base)s + g, now(), now()
FROM generate_series(1, %(n)s) AS g
"""
HOT_AUDIT_SQL = """
INSERT INTO audit_entries (id, tenant_id, actor_user_id, action, entity_type, entity_id,
                           changes, number, created_at, updated_at)
SELECT gen_random_uuid(), %(t)s, %(author)s, 'lead.updated', 'lead', %(lead)s,
       '{"fields": ["status"]}'::jsonb, %(base)s + g, now() - g * interval '211 minutes',
       now() - g * interval '211 minutes'
FROM generate_series(1, %(n)s) AS g
"""


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--leads", type=int, default=1_000_000)
    p.add_argument("--per-lead", type=int, default=3, help="activities per lead")
    p.add_argument("--hot", type=int, default=10_000, help="timeline entries of the hot lead")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--requests", type=int, default=2000, help="requests per scenario")
    p.add_argument("--duration", type=float, default=60.0)
    p.add_argument("--probe-requests", type=int, default=0)
    p.add_argument("--bulk", type=int, default=2000, help="leads per bulk run (0: skip)")
    p.add_argument("--reload", action="store_true")
    p.add_argument("--database", default="leadbase_bench_timeline")
    p.add_argument("--database-url", default=None)
    p.add_argument("--data-dir", default=str(ROOT / "bench" / "data" / "timeline"))
    p.add_argument("--pool-size", type=int, default=None)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--server-log-level", default="WARNING")
    p.add_argument("--count-cap", type=int, default=1000)
    p.add_argument("--target-p99-ms", type=float, default=30.0)
    args = p.parse_args()
    if "bench" not in args.database:
        p.error("--database must contain 'bench' (it is dropped on --reload)")
    args.pool_size = args.pool_size or max(args.concurrency, 10)
    return args


def _secondary_indexes(conn: psycopg.Connection[Any], table: str) -> list[tuple[str, str]]:
    return conn.execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass AND NOT "
        "EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
        (table,)).fetchall()


def load_history(url: str, tenant: str, author: str, leads: int, per_lead: int) -> float:
    """Activities and audit entries of every lead, indexes rebuilt after the insert."""
    t0 = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        defs = _secondary_indexes(conn, "activities") + _secondary_indexes(conn,
                                                                           "audit_entries")
        for name, _ in defs:
            conn.execute(f'DROP INDEX "{name}"')
        base = conn.execute("SELECT coalesce(max(number), 0) FROM audit_entries "
                            "WHERE tenant_id = %s", (tenant,)).fetchone()[0]
    step = 50_000
    jobs = [(sql, lo) for sql in (ACTIVITIES_SQL, AUDIT_SQL)
            for lo in range(1, leads + 1, step)]

    def insert(job: tuple[str, int]) -> None:
        sql, lo = job
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql, {"t": tenant, "author": author, "k": per_lead, "lo": lo,
                               "hi": lo + step, "base": base})

    with ThreadPoolExecutor(len(os.sched_getaffinity(0))) as pool:
        list(pool.map(insert, jobs))
    out(f"  inserted {fmt_int(leads * per_lead)} activities and {fmt_int(leads)} audit "
        f"entries in {time.perf_counter() - t0:.1f} s")

    def build(item: tuple[str, str]) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET maintenance_work_mem = '256MB'")
            conn.execute(item[1])

    with ThreadPoolExecutor(len(os.sched_getaffinity(0))) as pool:
        list(pool.map(build, defs))
    return time.perf_counter() - t0


def add_hot(url: str, tenant: str, author: str, hot: int) -> str:
    """The hot lead (the middle one) and its ``hot`` entries; the numbering sequences
    moved past what was loaded."""
    with psycopg.connect(url, autocommit=True) as conn:
        total = conn.execute("SELECT count(*) FROM leads WHERE tenant_id = %s",
                             (tenant,)).fetchone()[0]
        lead = str(conn.execute("SELECT id FROM leads WHERE tenant_id = %s AND number = %s",
                                (tenant, max(1, total // 2))).fetchone()[0])
        n_act = hot * 7 // 10
        for sql, table, n in ((HOT_ACTIVITIES_SQL, "activities", n_act),
                              (HOT_AUDIT_SQL, "audit_entries", hot - n_act)):
            base = conn.execute(f"SELECT coalesce(max(number), 0) FROM {table} "
                                "WHERE tenant_id = %s", (tenant,)).fetchone()[0]
            conn.execute(sql, {"t": tenant, "lead": lead, "author": author, "n": n,
                               "base": base})
            conn.execute(f"SELECT setval(lb_number_seq(%s, '{table}'), max(number)) "
                         f"FROM {table} WHERE tenant_id = %s", (tenant, tenant))
        conn.execute("VACUUM (ANALYZE) activities")
        conn.execute("VACUUM (ANALYZE) audit_entries")
    return lead


def deep_cursors(base: str, token: str, lead: str, per_page: int = 25) -> list[str]:
    """The cursors of pages 95 to 105 (or as deep as the timeline goes), walked through
    the API."""
    cursors, cursor = [], None
    with httpx.Client(base_url=base, timeout=30,
                      headers={"authorization": f"Bearer {token}"}) as c:
        for _ in range(105):
            url = f"/api/v1/leads/{lead}/timeline?per_page={per_page}"
            cursor = c.get(url + (f"&cursor={cursor}" if cursor else "")).json()["next_cursor"]
            if cursor is None:
                break
            cursors.append(cursor)
    depth = min(100, len(cursors) - 6)
    return cursors[max(0, depth - 5):depth + 5]


def positions_of(base: str, token: str, lead: str,
                 cursors: list[str]) -> list[tuple[datetime, uuid.UUID]]:
    """Keyset positions at the deep cursors' depth (the first entry of each such page)."""
    positions = []
    with httpx.Client(base_url=base, timeout=30,
                      headers={"authorization": f"Bearer {token}"}) as c:
        for cur in cursors:
            first = c.get(f"/api/v1/leads/{lead}/timeline?per_page=25&cursor={cur}"
                          ).json()["data"][0]
            positions.append((datetime.fromisoformat(first["at"].replace("Z", "+00:00")),
                              uuid.UUID(first["id"])))
    return positions


async def raw_baseline(url: str, tenant: str, lead: str,
                       positions: list[tuple[datetime, uuid.UUID]], requests: int,
                       concurrency: int) -> dict[str, Result]:
    """The timeline's own statements (``activities.repository``) on psycopg, as a request
    runs them: scope, lead check and page, one transaction each."""
    key = roles.prepare(url).scope_key
    scope = _scope_params(key, uuid.UUID(tenant), False)
    where = "tenant_id = %s"
    check = f"SELECT 1 FROM leads WHERE id = %s AND {where} AND deleted_at IS NULL"
    results: dict[str, Result] = {}
    for name, after in (("first page", False), ("deep page", True)):
        sql = activities_repository.timeline_sql(activity_types=None, changes=True,
                                                 after=after)
        conns = [await psycopg.AsyncConnection.connect(url) for _ in range(concurrency)]
        result = Result(name, concurrency)
        counter = iter(range(requests))

        async def worker(conn: psycopg.AsyncConnection[Any], sql: str, after: bool,
                         result: Result, counter: Iterator[int]) -> None:
            for i in counter:
                params: dict[str, Any] = {"t": tenant, "lead": lead, "n": 26, "types": None}
                if after:
                    params["at"], params["aid"] = positions[i % len(positions)]
                t = time.perf_counter()
                async with conn.transaction():
                    async with conn.pipeline():
                        s = conn.cursor()
                        await s.execute(
                            "SELECT set_config('role', %s, true), set_config('app.tenant_id',"
                            " %s, true), set_config('app.scope', %s, true), "
                            "set_config('app.scope_sig', %s, true)", scope)
                        c1 = conn.cursor()
                        await c1.execute(check, (lead, tenant))
                        c2 = conn.cursor()
                        await c2.execute(sql, params)
                    assert await c1.fetchone() is not None
                    assert len(await c2.fetchall()) == 26
                result.latencies.append(time.perf_counter() - t)

        t0 = time.perf_counter()
        await asyncio.gather(*(worker(c, sql, after, result, counter) for c in conns))
        result.wall = time.perf_counter() - t0
        for c in conns:
            await c.close()
        results[name] = result
    return results


async def bulk_runs(url: str, tenant: str, owner: str, n: int) -> list[tuple[str, float]]:
    """leads/s of a bulk status update of ``n`` leads, entries off and on, alternating."""
    from leadbase.auth.context import Context, Principal
    from leadbase.bulk import service as bulk_service
    from leadbase.bulk.schemas import BulkChanges
    from leadbase.config import Settings
    from leadbase.db.session import Database
    from leadbase.leads import service as leads_service

    db = Database(url, Settings(database_url=url, db_pool_size=4))
    ctx = Context(tenant_id=uuid.UUID(tenant), principal=Principal(
        role="owner", tenant_id=uuid.UUID(tenant), user_id=uuid.UUID(owner)))
    with psycopg.connect(url) as conn:
        ids = [r[0] for r in conn.execute(
            "SELECT id FROM leads WHERE tenant_id = %s AND deleted_at IS NULL ORDER BY number "
            "LIMIT %s", (tenant, n)).fetchall()]
    real = leads_service.activities.log_lead_changes

    async def off(*_: Any, **__: Any) -> None:
        return None

    figures: list[tuple[str, float]] = []
    try:
        for label in ("before (no entries)", "after (entries)") * 2:
            leads_service.activities.log_lead_changes = off if label.startswith("before") \
                else real  # type: ignore[assignment]
            with psycopg.connect(url, autocommit=True) as conn:  # each changes: new -> qualified
                conn.execute("UPDATE leads SET status = 'new' WHERE tenant_id = %s AND "
                             "id = ANY(%s)", (tenant, ids))
                conn.execute("VACUUM leads")
            changes = BulkChanges.model_validate({"status": "qualified"})
            tally = bulk_service.Tally(matched=len(ids))
            t = time.perf_counter()
            async with db.transaction(ctx.tenant_id) as session:
                await bulk_service.apply_many(session, ctx=ctx, action="update",
                                              changes=changes, ids=ids, tally=tally, keep=10)
            dt = time.perf_counter() - t
            assert tally.updated == len(ids), tally
            figures.append((label, len(ids) / dt))
    finally:
        leads_service.activities.log_lead_changes = real  # type: ignore[assignment]
        await db.dispose()
    return figures


def main() -> int:
    args = parse_args()
    out("Leadbase timeline benchmark")
    out(f"machine: {machine()}")
    server = resolve_server(args)
    url = with_database(server.admin_url, args.database)
    head = migrate.head_revision()
    marker = None if args.reload else read_marker(server.admin_url, args.database)
    wanted = {"format": FORMAT, "leads": args.leads, "per_lead": args.per_lead,
              "hot": args.hot, "head": head}
    reuse = bool(marker and all(marker.get(k) == v for k, v in wanted.items()))
    if not reuse:
        url = recreate_database(server.admin_url, args.database)
    migrate.upgrade(url)
    api = ApiServer(url, args, Path(args.data_dir))
    api.start()
    try:
        token, tenant = sign_in(api.base, "a", register=not reuse)
        owner = str(token_claims(token)["sub"])
        if reuse:
            assert marker is not None
            lead = marker["lead"]
            out(f"data: reused {args.database} (loaded {marker['loaded_at']}); --reload to "
                "rebuild")
        else:
            out(f"loading {fmt_int(args.leads)} leads, {args.per_lead} activities each")
            t = time.perf_counter()
            load_leads(url, [("a", tenant, default_list(url, tenant), args.leads, 1000)],
                       workers=len(os.sched_getaffinity(0)), chunk_rows=50_000)
            history = load_history(url, tenant, owner, args.leads, args.per_lead)
            lead = add_hot(url, tenant, owner, args.hot)
            out(f"  loaded in {time.perf_counter() - t:.0f} s (history {history:.0f} s)")
            write_marker(server.admin_url, args.database, {
                **wanted, "lead": lead,
                "loaded_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")})
        with psycopg.connect(url) as conn:
            counts = conn.execute(
                "SELECT (SELECT count(*) FROM activities), (SELECT count(*) FROM audit_entries),"
                " (SELECT count(*) FROM activities WHERE lead_id = %s), (SELECT count(*) FROM "
                "audit_entries WHERE entity_id = %s)", (lead, lead)).fetchone()
        settings = pg_settings(url)
        out(f"database: PostgreSQL {settings['server_version']} ({server.description}); "
            f"leads {settings['leads_size']}; {fmt_int(counts[0])} activities, "
            f"{fmt_int(counts[1])} audit entries; hot lead {lead}: {fmt_int(counts[2])} "
            f"activities + {fmt_int(counts[3])} changes")
        cursors = deep_cursors(api.base, token, lead)
        out(f"deep cursors: {len(cursors)} (around page 100 of 25 entries, or as deep as it goes)")
        base = f"/api/v1/leads/{lead}/timeline?per_page=25"
        target = args.target_p99_ms

        def within(r: Result) -> bool:
            return r.pct(0.99) <= target

        scenarios = [
            Scenario("first page", lambda i: Request("GET", base, list_page=True),
                     f"p99 <= {target:g} ms", within),
            Scenario("deep page", lambda i: Request(
                "GET", f"{base}&cursor={cursors[i % len(cursors)]}", list_page=True),
                f"p99 <= {target:g} ms", within),
            Scenario("types=call,change", lambda i: Request(
                "GET", f"{base}&types=call,change", list_page=True),
                f"p99 <= {target:g} ms", within),
        ]
        meter = CpuMeter(api.proc.pid if api.proc else None, postmaster_pid(url))
        main_results, _ = asyncio.run(run_scenarios(api.base, token, scenarios, args, meter))
        out()
        out(f"== HTTP API, concurrency {args.concurrency}, 1 uvicorn process")
        ok = print_table(main_results, show_target=True)
        positions = positions_of(api.base, token, lead, cursors)
        raw = asyncio.run(raw_baseline(url, tenant, lead, positions, args.requests,
                                       args.concurrency))
        out()
        out(f"== raw baseline: the same SQL on psycopg (scope + lead check + page, one "
            f"transaction, pipelined), concurrency {args.concurrency}")
        for name, r in raw.items():
            api_r = next(res for sc, res in main_results if sc.name == name)
            out(f"  {name:<12} {len(r.latencies):>6} req {len(r.latencies) / r.wall:>8.1f} "
                f"req/s  p50 {r.pct(0.5):6.2f} ms  p99 {r.pct(0.99):6.2f} ms   "
                f"API/raw: p99 x{api_r.pct(0.99) / r.pct(0.99):.1f}, throughput "
                f"{(api_r.requests / api_r.wall) / (len(r.latencies) / r.wall):.2f}")
        if args.bulk:
            out()
            out(f"== bulk status update of {fmt_int(args.bulk)} leads (bulk.service.apply_many,"
                " one transaction, a savepoint per lead), timeline entries off/on")
            figures = asyncio.run(bulk_runs(url, tenant, owner, args.bulk))
            for label, rate in figures:
                out(f"  {label:<22} {rate:8.1f} leads/s")
            off = statistics.mean(r for label, r in figures if label.startswith("before"))
            on = statistics.mean(r for label, r in figures if label.startswith("after"))
            out(f"  mean: off {off:.1f}, on {on:.1f} leads/s: the entries cost "
                f"{(off / on - 1) * 100:.1f}% per lead")
        out()
        out(f"targets: {'all met' if ok else 'MISSED'}; p50/p99 of all: "
            f"{pct([x for _, r in main_results for x in r.latencies], 0.5):.1f} ms")
    finally:
        api.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
