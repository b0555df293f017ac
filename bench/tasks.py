#!/usr/bin/env python
"""Tasks benchmark: 1,000,000 leads and 1,000,000 tasks in one workspace, measured over
HTTP at a concurrency of 16, each scenario beside a raw-driver baseline of the same SQL.
It prints figures; it is not a test.

    .venv/bin/python bench/tasks.py                                # 1M leads, 1M tasks
    .venv/bin/python bench/tasks.py --leads 50000 --requests 300   # a quick check
    .venv/bin/python bench/tasks.py --reload                       # rebuild the data set

It reuses the ``bench`` package (server choice, the SQL lead loader, the API server, the
load generator, reports) in its own database ``leadbase_bench_tasks``. Data: the leads of
``loader.py`` (García ~4% of last names), ``--listings`` (200) vehicle listings, one task
per lead loaded with ``INSERT ... SELECT`` (secondary indexes of ``tasks`` dropped during
the load and rebuilt): every other task belongs to a listing (~2,500 tasks a listing, in
order by ``position``), titles from twelve actions, tags from eight, a third with a due
date. Scenarios (targets from issue 12):

- ``listing tasks``: ``GET /api/v1/listings/{id}/tasks?per_page=25`` (position order, with
  its count) — p99 ≤ 50 ms;
- ``q= search``: ``GET /api/v1/tasks?q=<term>`` over names (common: garcia; rare: zúñiga,
  ibáñez), actions (test drive), tags, phone and email fragments, half of them within a
  listing (the autos profile's ``GET /leads/car/{carId}?search=``) — p99 ≤ 150 ms;
- ``move``: ``POST /api/v1/tasks/{id}/move {after_id}`` in a listing;
- ``reorder 100``: ``POST /api/v1/tasks/reorder`` with 100 ids of a listing.

Baselines, same run, same concurrency, psycopg connections as ``leadbase_app`` with the
workspace's signed scope (row-level security on): the two reads run the statements the
service runs (``tasks.listing``'s queries compiled), ``move`` a bare one-row
``UPDATE``, ``reorder`` the service's one ``UPDATE ... FROM unnest``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
import psycopg  # noqa: E402
from sqlalchemy.dialects import postgresql  # noqa: E402

from bench.client import LoopbackClient, Request, Result, drive  # noqa: E402
from bench.database import (  # noqa: E402
    pg_settings,
    postmaster_pid,
    read_marker,
    recreate_database,
    resolve_server,
    write_marker,
)
from bench.loader import default_list, live_counts, load_leads  # noqa: E402
from bench.report import CpuMeter, fmt_int, machine, out  # noqa: E402
from bench.server import ApiServer, sign_in  # noqa: E402
from leadbase.db import migrate, roles  # noqa: E402
from leadbase.db.roles import APP_ROLE  # noqa: E402
from leadbase.db.urls import with_database  # noqa: E402
from leadbase.kit.sorting import parse_sort  # noqa: E402
from leadbase.leads.repository import Readable  # noqa: E402
from leadbase.tasks import listing as task_listing  # noqa: E402
from leadbase.tasks import repository as task_repository  # noqa: E402

DATA_FORMAT = 1
ACTIONS = ["Schedule test drive", "Follow-up call", "Send financing offer", "Prepare sales "
           "documents", "Trade-in appraisal", "Confirm appointment", "Send brochure",
           "Call back Tuesday", "Email price quote", "Arrange delivery", "Check insurance",
           "Review credit application"]
TASK_TAGS = ["Hot Lead", "Test Drive", "Documentation", "Follow-up", "Financing",
             "Trade-in", "Delivery", "Cold"]
TERMS = ["garcia", "zúñiga", "ibáñez", "test drive", "financing", "hot lead", "415-2",
         "@hotmail", "smith", "kowalski", "trade-in", "cañete"]
DIALECT = postgresql.psycopg.dialect()  # type: ignore[attr-defined]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--leads", type=int, default=1_000_000, help="leads (one task each)")
    p.add_argument("--listings", type=int, default=200)
    p.add_argument("--database", default="leadbase_bench_tasks")
    p.add_argument("--database-url", default=None, help="PostgreSQL server (libpq URI)")
    p.add_argument("--data-dir", default=str(ROOT / "bench" / "data"))
    p.add_argument("--reload", action="store_true", help="rebuild the bench database")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--requests", type=int, default=1000, help="requests per scenario")
    p.add_argument("--duration", type=float, default=60.0, help="max seconds per scenario")
    p.add_argument("--load-workers", type=int, default=None)
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args()
    args.pool_size, args.server_log_level, args.count_cap = max(args.concurrency, 10), \
        "WARNING", 1000
    return args


TASKS_SQL = """
INSERT INTO tasks (id, tenant_id, lead_id, listing_id, title, status, due_at, priority, tag,
                   position, created_at, updated_at)
SELECT lb_uuid7(), l.tenant_id, l.id,
       CASE WHEN l.number %% 2 = 0 THEN (%(listings)s::uuid[])[(l.number / 2) %% %(n)s + 1] END,
       (%(actions)s::text[])[l.number %% 12 + 1],
       CASE WHEN l.number %% 10 < 7 THEN 'open' WHEN l.number %% 10 < 9 THEN 'completed'
            ELSE 'not_needed' END,
       CASE WHEN l.number %% 3 = 0 THEN l.created_at + interval '7 days' END,
       (ARRAY['low', 'normal', 'normal', 'high', 'urgent'])[l.number %% 5 + 1],
       CASE WHEN l.number %% 5 < 4 THEN (%(tags)s::text[])[l.number %% 8 + 1] END,
       CASE WHEN l.number %% 2 = 0 THEN (l.number / 2) / %(n)s + 1 ELSE 1 END,
       l.created_at, l.created_at
FROM leads l WHERE l.tenant_id = %(t)s AND l.number >= %(lo)s AND l.number < %(hi)s
"""


def load_tasks(url: str, tenant: str, leads: int, listings: int) -> tuple[list[str], float]:
    """The listings, then one task per lead, the secondary indexes rebuilt after."""
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, false)", (tenant,))
        ids = [str(uuid.uuid4()) for _ in range(listings)]
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO listings (id, tenant_id, kind, title, status, price, currency, "
                "attributes) VALUES (%s, %s, 'vehicle', %s, 'available', 18500, 'USD', %s)",
                [(lid, tenant, f"Car {i}", orjson.dumps({"make": "Honda", "model": f"M{i}",
                                                         "year": 2021}).decode())
                 for i, lid in enumerate(ids)])
        defs = conn.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'tasks'::regclass "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)"
        ).fetchall()
        for name, _ in defs:
            conn.execute(f'DROP INDEX "{name}"')
        for lo in range(1, leads + 1, 100_000):
            conn.execute(TASKS_SQL, {"listings": ids, "n": listings, "actions": ACTIONS,
                                     "tags": TASK_TAGS, "t": tenant, "lo": lo,
                                     "hi": lo + 100_000})
            out(f"  tasks up to lead {fmt_int(min(leads, lo + 99_999))} "
                f"({time.perf_counter() - started:.0f} s)")
        conn.execute("SET maintenance_work_mem = '256MB'")
        for _, definition in defs:
            conn.execute(definition)
        conn.execute("VACUUM (ANALYZE) tasks")
        conn.execute("VACUUM (ANALYZE) listings")
    return ids, time.perf_counter() - started


def scope_ids(url: str, tenant: str, listing_ids: list[str]) -> dict[str, list[str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT listing_id::text, id::text FROM tasks WHERE tenant_id = %s AND "
            "listing_id = ANY(%s::uuid[]) AND deleted_at IS NULL ORDER BY position, id",
            (tenant, listing_ids)).fetchall()
    found: dict[str, list[str]] = {i: [] for i in listing_ids}
    for listing_id, task_id in rows:
        found[listing_id].append(task_id)
    return found


# Requests -----------------------------------------------------------------------------

def make_requests(listing_ids: list[str], tasks: dict[str, list[str]]
                  ) -> dict[str, Any]:
    def listing_of(i: int) -> str:
        return listing_ids[(i * 7919) % len(listing_ids)]

    def list_listing(i: int) -> Request:
        return Request("GET", f"/api/v1/listings/{listing_of(i)}/tasks?per_page=25",
                       list_page=True)

    def search(i: int) -> Request:
        term = quote(TERMS[i % len(TERMS)])
        scope = f"&listing_id={listing_of(i)}" if i % 2 else ""
        return Request("GET", f"/api/v1/tasks?per_page=25&q={term}{scope}", list_page=True)

    def move(i: int) -> Request:
        rng = random.Random(i)
        ids = tasks[listing_of(i)]
        task, after = rng.sample(ids, 2)
        return Request("POST", f"/api/v1/tasks/{task}/move",
                       orjson.dumps({"after_id": after}))

    def reorder(i: int) -> Request:
        rng = random.Random(i)
        listing = listing_of(i)
        ids = tasks[listing][:100]
        rng.shuffle(ids)
        return Request("POST", "/api/v1/tasks/reorder",
                       orjson.dumps({"ids": ids, "listing_id": listing}))

    return {"listing tasks": list_listing, "q= search": search, "move": move,
            "reorder 100": reorder}


# Baselines ----------------------------------------------------------------------------

def _compiled(stmt: Any) -> tuple[str, dict[str, Any]]:
    c = stmt.compile(dialect=DIALECT, compile_kwargs={"render_postcompile": True})
    return str(c), dict(c.params)


def baseline_work(tenant: str, listing_ids: list[str], tasks: dict[str, list[str]],
                  cap: int) -> dict[str, Any]:
    """Per scenario, ``(conn, i) -> awaitable``: the SQL the service runs (the reads), a
    bare UPDATE (move) and the reorder's UPDATE."""
    scope = Readable(uuid.UUID(tenant))
    _, sort = parse_sort(None, task_repository.SORTABLE, default="position",
                         tiebreak=("id", task_repository.ID_COLUMN))
    reqs = make_requests(listing_ids, tasks)

    def listing_of(i: int) -> str:
        return listing_ids[(i * 7919) % len(listing_ids)]

    async def list_listing(conn: psycopg.AsyncConnection[Any], i: int) -> None:
        f = task_repository.TaskFilter(listing_ids=(uuid.UUID(listing_of(i)),))
        await rows_of(conn, task_listing.page_query(scope, f, sort, None, 0, 26))
        if await plan_rows(conn, task_listing._joined(scope, f, "none")) <= cap:
            await rows_of(conn, task_listing.count_query(scope, f, cap, "gather"))

    async def plan_rows(conn: psycopg.AsyncConnection[Any], stmt: Any) -> int:
        sql, params = _compiled(stmt)
        plan = await (await conn.execute("EXPLAIN (FORMAT JSON) " + sql, params)).fetchone()
        return int(plan[0][0]["Plan"]["Plan Rows"]) if plan else 0

    async def rows_of(conn: psycopg.AsyncConnection[Any], stmt: Any) -> list[Any]:
        sql, params = _compiled(stmt)
        return await (await conn.execute(sql, params)).fetchall()

    async def search(conn: psycopg.AsyncConnection[Any], i: int) -> None:
        """The statements tasks.listing.page and .count run, in the same order."""
        term = TERMS[i % len(TERMS)]
        listing = (uuid.UUID(listing_of(i)),) if i % 2 else ()
        f = task_repository.TaskFilter(q=term, listing_ids=listing)
        mode, rows = "gather", None
        if listing or await plan_rows(conn, task_listing.term_select(scope.tenant_id, term)) \
                > task_listing.GATHER_LIMIT:
            rows = await rows_of(conn, task_listing.window_query(scope, f, sort, None, 26))
            if len(rows) == 26:
                mode = "row"
            else:
                held = (await rows_of(conn, task_listing.window_size_query(
                    scope, f, sort, None)))[0][0]
                mode = "small" if held < task_listing.SEARCH_WINDOW else "gather"
                if mode == "gather":
                    rows = None
        if rows is None:
            rows = await rows_of(conn, task_listing.gather_query(scope, f, sort, None, 0, 26))
        if len(rows) < 26:
            return
        if mode == "row":
            if await plan_rows(conn, task_listing._joined(scope, f, "row")) > cap:
                return
            held = (await rows_of(conn, task_listing.window_size_query(scope, f, [], None)))
            mode = "small" if held[0][0] < task_listing.SEARCH_WINDOW else "gather"
        await rows_of(conn, task_listing.count_query(scope, f, cap,
                                                     "row" if mode == "small" else "gather"))

    async def move(conn: psycopg.AsyncConnection[Any], i: int) -> None:
        task = reqs["move"](i).url.split("/")[4]
        await conn.execute("UPDATE tasks SET position = position + 0.5, updated_at = now(), "
                           "version = version + 1 WHERE tenant_id = %s AND id = %s",
                           (tenant, task))

    async def reorder(conn: psycopg.AsyncConnection[Any], i: int) -> None:
        body = orjson.loads(reqs["reorder 100"](i).body or b"{}")
        ids = sorted(body["ids"])  # the service locks them in id order first
        await conn.execute("SELECT id FROM tasks WHERE tenant_id = %s AND id = ANY(%s::uuid[])"
                           " ORDER BY id FOR UPDATE", (tenant, ids))
        await conn.execute(task_repository._SET_POSITIONS,
                           (body["ids"], list(range(1, len(body["ids"]) + 1)), tenant))

    return {"listing tasks": list_listing, "q= search": search, "move": move,
            "reorder 100": reorder}


async def run_baseline(url: str, tenant: str, name: str, work: Any, *, requests: int,
                       concurrency: int, duration: float, meter: CpuMeter) -> Result:
    sig = roles.sign(roles.prepare(url).scope_key, tenant, "")
    result = Result(name, concurrency)
    counter = iter(range(requests))
    deadline = time.perf_counter() + duration

    async def worker() -> None:
        async with await psycopg.AsyncConnection.connect(url) as conn:
            while True:
                i = next(counter, None)
                if i is None or time.perf_counter() > deadline:
                    return
                t = time.perf_counter()
                async with conn.transaction():
                    await conn.execute(
                        "SELECT set_config('role', %s, true), set_config('app.tenant_id', "
                        "%s, true), set_config('app.scope_sig', %s, true)",
                        (APP_ROLE, tenant, sig))
                    await work(conn, i)
                result.latencies.append(time.perf_counter() - t)

    before = meter.snapshot()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    after = meter.snapshot()
    result.wall = after[-1] - before[-1]
    result.cpu = CpuMeter.cores(before, after)
    return result


def _rps(r: Result) -> float:
    return r.requests / r.wall if r.wall else 0.0


TARGETS = {"listing tasks": 50.0, "q= search": 150.0}


def print_results(rows: list[tuple[str, Result, Result]]) -> None:
    out(f"  {'scenario':<14} {'req':>5} {'err':>4} {'req/s':>7} {'p50':>7} {'p99':>7}   "
        f"{'raw req/s':>9} {'raw p50':>7} {'raw p99':>7}   {'p99 x':>6} {'req/s x':>7}  "
        f"{'cpu srv':>7} {'pg':>5}  target")
    for name, api, raw in rows:
        target = TARGETS.get(name)
        verdict = "-" if target is None else (
            f"p99 <= {target:.0f} ms: {'PASS' if api.pct(0.99) <= target else 'MISS'}")
        cpu = [f"{c:.2f}" if c is not None else "-" for c in api.cpu]
        out(f"  {name:<14} {api.requests:>5} {api.errors:>4} {_rps(api):>7.1f} "
            f"{api.pct(0.5):>7.1f} {api.pct(0.99):>7.1f}   {_rps(raw):>9.1f} "
            f"{raw.pct(0.5):>7.1f} {raw.pct(0.99):>7.1f}   "
            f"{api.pct(0.99) / raw.pct(0.99):>6.2f} {_rps(api) / max(_rps(raw), 1e-9):>7.2f}  "
            f"{cpu[1]:>7} {cpu[2]:>5}  {verdict}")
        for sample in api.error_samples:
            out(f"  ! {name}: {sample}")


async def measure(args: argparse.Namespace, api: ApiServer, url: str, token: str,
                  tenant: str, listing_ids: list[str], tasks: dict[str, list[str]]
                  ) -> list[tuple[str, Result, Result]]:
    meter = CpuMeter(api.proc.pid if api.proc else None, postmaster_pid(url))
    client = LoopbackClient(api.base, {"authorization": f"Bearer {token}"})
    reqs = make_requests(listing_ids, tasks)
    base = baseline_work(tenant, listing_ids, tasks, args.count_cap)
    rows = []
    try:
        for offset, (name, make) in enumerate(reqs.items()):
            start = offset * 100_000
            warm = args.concurrency * 3
            await drive(client, name, make, requests=warm, concurrency=args.concurrency,
                        duration=args.duration, meter=meter, offset=start + 50_000)
            result = await drive(client, name, make, requests=args.requests,
                                 concurrency=args.concurrency, duration=args.duration,
                                 meter=meter, offset=start)
            raw = await run_baseline(url, tenant, name, base[name], requests=args.requests,
                                     concurrency=args.concurrency, duration=args.duration,
                                     meter=meter)
            rows.append((name, result, raw))
    finally:
        await client.close()
    return rows


def main() -> int:
    args = parse_args()
    out("Leadbase tasks benchmark")
    out(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f} at start")
    server = resolve_server(args)
    url = with_database(server.admin_url, args.database)
    head = migrate.head_revision()
    marker = None if args.reload else read_marker(server.admin_url, args.database)
    reuse = bool(marker and marker.get("format") == DATA_FORMAT and marker.get("head") == head
                 and marker.get("leads") == args.leads
                 and marker.get("listings") == args.listings)
    if reuse:
        assert marker is not None
        if live_counts(url, {"a": marker["tenant_a"]}) != {"a": args.leads}:
            reuse = False
    if not reuse:
        url = recreate_database(server.admin_url, args.database)
    migrate.upgrade(url)
    api = ApiServer(url, args, Path(args.data_dir) / "tasks")
    api.start()
    try:
        token, tenant = sign_in(api.base, "a", register=not reuse)
        if reuse:
            assert marker is not None
            listing_ids = marker["listing_ids"]
            out(f"data: reused {args.database} (loaded {marker['loaded_at']}); --reload "
                "to rebuild")
        else:
            workers = args.load_workers or len(os.sched_getaffinity(0))
            out(f"loading {fmt_int(args.leads)} leads and as many tasks into {args.database}")
            t = time.perf_counter()
            load_leads(url, [("a", tenant, default_list(url, tenant), args.leads, 1000)],
                       workers=workers, chunk_rows=50_000)
            listing_ids, task_seconds = load_tasks(url, tenant, args.leads, args.listings)
            seconds = time.perf_counter() - t
            out(f"loaded in {seconds:.0f} s (tasks {task_seconds:.0f} s)")
            write_marker(server.admin_url, args.database, {
                "format": DATA_FORMAT, "leads": args.leads, "listings": args.listings,
                "head": head, "tenant_a": tenant, "listing_ids": listing_ids,
                "loaded_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")})
        tasks = scope_ids(url, tenant, listing_ids)
        settings = pg_settings(url)
        out(f"database: PostgreSQL {settings['server_version']} ({server.description}); "
            f"shared_buffers={settings['shared_buffers']}; {fmt_int(args.leads)} tasks, "
            f"{len(listing_ids)} listings of ~{fmt_int(len(tasks[listing_ids[0]]))} tasks")
        out(f"load: {args.requests} requests a scenario at concurrency {args.concurrency}; "
            "times in ms; x = API / raw")
        rows = asyncio.run(measure(args, api, url, token, tenant, listing_ids, tasks))
        out()
        print_results(rows)
        out(f"load average {os.getloadavg()[0]:.2f} at the end")
        return 0
    finally:
        api.stop()


if __name__ == "__main__":
    sys.exit(main())
