#!/usr/bin/env python
"""The ``autos`` profile's lead search at 1,000,000 tasks and 1,000,000 leads: ``GET
/compat/autos/v1/leads?search=`` over HTTP at concurrency 16, beside a raw-driver
baseline running the same SQL. It prints figures; it is not a test.

    .venv/bin/python bench/autos.py                               # 1M leads, 1M tasks
    .venv/bin/python bench/autos.py --leads 20000 --tasks 20000 --requests 300   # quick
    .venv/bin/python bench/autos.py --reload                      # rebuild the data set

Data (its own database ``leadbase_bench_autos``, reused while sizes and migration head
match): one workspace with ``--leads`` CRM-shaped leads (``bench/loader.py``),
``--cars`` vehicle listings and ``--tasks`` tasks loaded with SQL (``INSERT ... SELECT``
over the leads, the tasks' secondary indexes dropped during the insert and rebuilt):
task *i* is about lead *i* (wrapping around), of car *i* mod ``--cars``, with one of 12
actions ("Follow up call", "Schedule test drive", ...), one of 8 tags, 70% open, a rank
and the contact as sent in its metadata.

Load: ``leadbase serve --no-worker`` (one uvicorn process, pool 16), ``--concurrency``
(16) keep-alive connections, ``--requests`` (2,000) requests per scenario after a
warm-up, each a search term from a list (action words, tag words, last names, partial
names). Baseline: the SQL statements one such request runs (captured in-process from
the psycopg cursors while the profile serves the same request through ASGI), replayed
with psycopg on the database's login role at the same concurrency, one transaction
per request: the database's share of the request, without HTTP, FastAPI, pydantic or
the services' Python. Printed: req/s, p50, p99, the ratio of the p99s, the cores used.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bench.client import LoopbackClient, Request, drive  # noqa: E402
from bench.database import (  # noqa: E402
    pg_settings,
    postmaster_pid,
    read_marker,
    recreate_database,
    resolve_server,
    write_marker,
)
from bench.loader import default_list, live_counts, load_leads  # noqa: E402
from bench.report import CpuMeter, fmt_int, machine, out, pct  # noqa: E402
from bench.server import ApiServer, sign_in  # noqa: E402
from leadbase.db import migrate  # noqa: E402
from leadbase.db.urls import with_database  # noqa: E402

DATA_FORMAT = 1
TARGET_P99_MS = 150.0
PATH = "/compat/autos/v1/leads"
ACTIONS = ["Follow up call", "Schedule test drive", "Prepare sales documents",
           "Send financing options", "Call back about trade-in", "Confirm appointment",
           "Send price quote", "Arrange vehicle inspection", "Follow-up email",
           "Deliver vehicle", "Request documents", "Review credit application"]
TAGS = ["Hot Lead", "Test Drive", "Documentation", "Follow-up", "Financing", "Trade-in",
        "Cold", "VIP"]
TERMS = ["call", "test drive", "garcia", "smith", "hot lead", "financing", "documents",
         "lopez", "quote", "maria", "trade", "inspection", "martinez", "vip", "email",
         "johnson"]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--leads", type=int, default=1_000_000)
    p.add_argument("--tasks", type=int, default=1_000_000)
    p.add_argument("--cars", type=int, default=2_000)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--requests", type=int, default=2_000, help="per scenario")
    p.add_argument("--duration", type=float, default=90.0, help="at most, per scenario")
    p.add_argument("--database", default="leadbase_bench_autos")
    p.add_argument("--database-url", default=None, help="PostgreSQL server (libpq URI)")
    p.add_argument("--data-dir", default=str(ROOT / "bench" / "data"))
    p.add_argument("--reload", action="store_true", help="rebuild the bench database")
    p.add_argument("--load-workers", type=int, default=None)
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args()
    # What bench.server.ApiServer reads.
    args.pool_size, args.server_log_level, args.count_cap = max(args.concurrency, 10), \
        "WARNING", 1000
    return args


# --------------------------------------------------------------------------------------
# Data

CARS_SQL = """
INSERT INTO listings (id, tenant_id, kind, title, status, price, currency, attributes)
SELECT gen_random_uuid(), %(tenant)s, 'vehicle',
       (2012 + i %% 12) || ' ' || (%(makes)s::text[])[1 + i %% 8] || ' Model ' || i,
       'available', 90000 + (i * 7919) %% 400000, 'MAD',
       jsonb_build_object('make', (%(makes)s::text[])[1 + i %% 8],
                          'model', 'Model ' || i, 'year', 2012 + i %% 12,
                          'location', (%(cities)s::text[])[1 + i %% 5])
FROM generate_series(1, %(cars)s) AS i
"""

TASKS_SQL = """
WITH l AS (
    SELECT id, email, phone, row_number() OVER (ORDER BY id) AS rn
    FROM leads WHERE tenant_id = %(tenant)s AND deleted_at IS NULL),
c AS (
    SELECT id, row_number() OVER (ORDER BY id) - 1 AS k
    FROM listings WHERE tenant_id = %(tenant)s AND kind = 'vehicle'),
n AS (SELECT count(*) AS leads FROM l)
INSERT INTO tasks (id, tenant_id, lead_id, listing_id, title, status, tag, note, position,
                   metadata, created_at, updated_at)
SELECT gen_random_uuid(), %(tenant)s, l.id, c.id,
       (%(actions)s::text[])[1 + (g * 7) %% 12],
       CASE WHEN g %% 10 < 7 THEN 'open' WHEN g %% 10 < 9 THEN 'completed'
            ELSE 'not_needed' END,
       (%(tags)s::text[])[1 + (g * 3) %% 8],
       CASE WHEN g %% 3 = 0 THEN 'Customer interested in financing options' END,
       (g / 13) %% 50,
       jsonb_build_object('autos', jsonb_build_object(
           'targetInfo', coalesce(l.phone, l.email, 'unknown'))),
       now() - make_interval(secs => (%(n)s - g) * 20),
       now() - make_interval(secs => (%(n)s - g) * 20)
FROM generate_series(1, %(n)s) AS g
JOIN n ON true
JOIN l ON l.rn = 1 + (g - 1) %% n.leads
JOIN c ON c.k = g %% %(cars)s
"""


def load_inventory(url: str, tenant: str, cars: int, tasks: int) -> dict[str, float]:
    """The cars and the tasks, the tasks' secondary indexes dropped and rebuilt."""
    timings: dict[str, float] = {}
    params = {"tenant": tenant, "makes": ["Honda", "Toyota", "Dacia", "Renault", "Peugeot",
                                          "Hyundai", "Kia", "Volkswagen"],
              "cities": ["Casablanca", "Rabat", "Marrakech", "Tanger", "Fès"],
              "actions": ACTIONS, "tags": TAGS, "n": tasks, "cars": cars}
    with psycopg.connect(url, autocommit=True) as conn:
        defs = conn.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'tasks'::regclass "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)"
        ).fetchall()
        for name, _ in defs:
            conn.execute(f'DROP INDEX "{name}"')
        try:
            for sql, key in ((CARS_SQL, "cars"), (TASKS_SQL, "tasks")):
                t = time.perf_counter()
                with conn.transaction():
                    conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant,))
                    conn.execute(sql, params)
                timings[key] = time.perf_counter() - t
                out(f"  {key}: {timings[key]:.1f} s")
        finally:  # a failed insert leaves the table with its indexes
            t = time.perf_counter()
            conn.execute("SET maintenance_work_mem = '512MB'")
            for name, ddl in defs:
                s = time.perf_counter()
                conn.execute(ddl)
                out(f"  index {name}: {time.perf_counter() - s:.1f} s")
            timings["indexes"] = time.perf_counter() - t
        conn.execute("VACUUM (ANALYZE) tasks")
        conn.execute("VACUUM (ANALYZE) listings")
    return timings


def clear_inventory(url: str, tenant: str) -> None:
    """What an interrupted inventory load left (one workspace in this database)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE tasks, listings CASCADE")  # the bench's own database


def task_count(url: str, tenant: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM tasks WHERE tenant_id = %s", (tenant,))
        return int(row.fetchone()[0])  # type: ignore[index]


# --------------------------------------------------------------------------------------
# The raw-driver baseline: the same statements, captured in-process


async def capture(url: str, api: ApiServer, token: str, urls: list[str]
                  ) -> tuple[str, list[list[tuple[Any, Any]]]]:
    """Per URL, the SQL statements (text, parameters) the profile runs to answer it,
    read off psycopg's cursors while the app serves it in-process; and the login URL."""
    import httpx

    from leadbase.app import create_app
    from leadbase.config import Settings
    from leadbase.db.session import Database

    env = {k: v for k, v in api.env.items() if k.startswith("LEADBASE_")}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        settings = Settings()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    db = Database(url, settings)
    app = create_app(settings, database=db, run_worker=False)
    recorded: list[tuple[Any, Any]] = []
    original = psycopg.AsyncCursor.execute

    async def spy(self: Any, query: Any, params: Any = None, **kw: Any) -> Any:
        recorded.append((query, params))
        return await original(self, query, params, **kw)

    statements = []
    psycopg.AsyncCursor.execute = spy  # type: ignore[method-assign]
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for u in urls:
                await client.get(u, headers={"authorization": f"Bearer {token}"})  # warm
                recorded.clear()
                resp = await client.get(u, headers={"authorization": f"Bearer {token}"})
                if resp.status_code != 200:
                    raise RuntimeError(f"{u}: {resp.status_code} {resp.text[:300]}")
                statements.append(list(recorded))
        login = (await db.access()).login_url
    finally:
        psycopg.AsyncCursor.execute = original  # type: ignore[method-assign]
        await db.dispose()
    return login, statements


async def replay(login: str, statements: list[list[tuple[Any, Any]]], *, requests: int,
                 concurrency: int, meter: CpuMeter, duration: float
                 ) -> tuple[list[float], float, list[float | None], dict[int, list[float]]]:
    conns = [await psycopg.AsyncConnection.connect(login) for _ in range(concurrency)]
    latencies: list[float] = []
    by_term: dict[int, list[float]] = {}
    counter = iter(range(requests + concurrency * 4))
    warm = concurrency * 4

    deadline = time.perf_counter() + duration

    async def worker(conn: psycopg.AsyncConnection[Any]) -> None:
        for i in counter:
            if time.perf_counter() > deadline:
                return
            t = time.perf_counter()
            async with conn.cursor() as cur:
                for query, params in statements[i % len(statements)]:
                    await cur.execute(query, params)
                    if cur.description is not None:
                        await cur.fetchall()
            await conn.commit()
            if i >= warm:
                latencies.append(time.perf_counter() - t)
                by_term.setdefault(i % len(statements), []).append(latencies[-1])

    before = meter.snapshot()
    try:
        await asyncio.gather(*(worker(c) for c in conns))
    finally:
        for c in conns:
            await c.close()
    after = meter.snapshot()
    return latencies, after[-1] - before[-1], CpuMeter.cores(before, after), by_term


# --------------------------------------------------------------------------------------


async def run_http(base: str, token: str, urls: list[str], name: str,
                   args: argparse.Namespace, meter: CpuMeter) -> Any:
    """The requests over HTTP at the concurrency, after a warm-up."""
    client = LoopbackClient(base, {"authorization": f"Bearer {token}"})

    def make(i: int) -> Request:
        return Request("GET", urls[i % len(urls)])

    try:
        await drive(client, name, make, requests=args.concurrency * 4,
                    concurrency=args.concurrency, duration=args.duration, meter=meter)
        return await drive(client, name, make, requests=args.requests,
                           concurrency=args.concurrency, duration=args.duration, meter=meter)
    finally:
        await client.close()


def line(name: str, lat: list[float], wall: float, cores: list[float | None]) -> float:
    p99 = pct(lat, 0.99)
    used = " ".join("-" if c is None else f"{c:.2f}" for c in cores)
    out(f"  {name:<34} {len(lat):>6} {len(lat) / wall if wall else 0:>8.0f} "
        f"{pct(lat, 0.5):>7.1f} {p99:>7.1f}   {used}")
    return p99


def main() -> int:
    args = parse_args()
    out("Leadbase autos profile benchmark: GET /compat/autos/v1/leads?search=")
    out(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f} at start")
    server = resolve_server(args)
    url = with_database(server.admin_url, args.database)
    head = migrate.head_revision()
    wanted = {"format": DATA_FORMAT, "leads": args.leads, "tasks": args.tasks,
              "cars": args.cars, "head": head}
    marker = None if args.reload else read_marker(server.admin_url, args.database)
    same = bool(marker and all(marker.get(k) == v for k, v in wanted.items()))
    # "leads": the leads are loaded, the inventory not (an interrupted load resumes there).
    stage = str(marker.get("stage", "done")) if same and marker else None
    if stage is not None:
        assert marker is not None
        if live_counts(url, {"a": marker["tenant_a"]}) != {"a": args.leads} or (
                stage == "done" and task_count(url, marker["tenant_a"]) != args.tasks):
            out(f"{args.database}: counts do not match; reloading")
            stage = None
    if stage is None:
        url = recreate_database(server.admin_url, args.database)
    migrate.upgrade(url)
    api = ApiServer(url, args, Path(args.data_dir) / "autos")
    api.start()
    try:
        token, tenant = sign_in(api.base, "a", register=stage is None)
        if stage != "done":
            workers = args.load_workers or len(os.sched_getaffinity(0))
            out(f"loading {fmt_int(args.leads)} leads, {fmt_int(args.cars)} cars and "
                f"{fmt_int(args.tasks)} tasks into {args.database}")
            t = time.perf_counter()
            timings: dict[str, float] = {}
            if stage is None:
                timings = load_leads(url, [("a", tenant, default_list(url, tenant),
                                            args.leads, 1000)], workers=workers,
                                     chunk_rows=50_000)
                write_marker(server.admin_url, args.database,
                             {**wanted, "tenant_a": tenant, "stage": "leads"})
            clear_inventory(url, tenant)
            timings.update(load_inventory(url, tenant, args.cars, args.tasks))
            seconds = time.perf_counter() - t
            out(f"loaded in {seconds:.1f} s ({ {k: round(v, 1) for k, v in timings.items()} })")
            write_marker(server.admin_url, args.database, {
                **wanted, "tenant_a": tenant, "load_seconds": seconds, "stage": "done",
                "loaded_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")})
        settings = pg_settings(url)
        out(f"database: PostgreSQL {settings['server_version']} ({server.description}); "
            f"leads {settings['leads_size']}; shared_buffers={settings['shared_buffers']}")
        out(f"server: leadbase serve --no-worker on {api.base} (one uvicorn process, "
            f"pool {args.pool_size}); concurrency {args.concurrency}")
        cpus = len(os.sched_getaffinity(0))
        meter = CpuMeter(api.proc.pid if api.proc else None, postmaster_pid(url))
        scenarios = [("search= (default limit 100)", ""), ("search= &limit=20", "&limit=20")]
        out()
        out(f"  {'scenario':<34} {'reqs':>6} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7}   "
            f"cores: bench, server, PostgreSQL, other (of {cpus})")
        runs = []
        for name, extra in scenarios:
            urls = [f"{PATH}?search={quote(t)}{extra}" for t in TERMS]
            result = asyncio.run(run_http(api.base, token, urls, name, args, meter))
            runs.append((name, urls, line("HTTP " + name, result.latencies, result.wall,
                                          result.cpu)))
            if result.errors:
                out(f"    ! {result.errors} errors, e.g. {result.error_samples[:1]}")
        # The server's connections are given back before the baseline opens its own (the
        # machine's PostgreSQL is shared).
        api.stop()
        figures = []
        for name, urls, http_p99 in runs:
            login, statements = asyncio.run(capture(url, api, token, urls))
            lat, wall, cores, by_term = asyncio.run(replay(
                login, statements, requests=args.requests, concurrency=args.concurrency,
                meter=meter, duration=args.duration))
            raw_p99 = line("raw SQL " + name, lat, wall, cores)
            per = sum(len(s) for s in statements) / len(statements)
            figures.append((name, http_p99, raw_p99, per))
            out("    raw p50 by term (ms): " + ", ".join(
                f"{t} {pct(by_term.get(k, []), 0.5):.0f}" for k, t in enumerate(TERMS)))
        out()
        for name, http_p99, raw_p99, per in figures:
            verdict = "met" if http_p99 <= TARGET_P99_MS else "MISSED"
            out(f"  {name}: p99 {http_p99:.1f} ms over HTTP vs {raw_p99:.1f} ms raw "
                f"({per:.0f} statements per request): ratio {http_p99 / raw_p99:.2f}; "
                f"target p99 <= {TARGET_P99_MS:.0f} ms {verdict}")
        out(f"load average {os.getloadavg()[0]:.2f} at the end")
        return 0
    finally:
        api.stop()


if __name__ == "__main__":
    sys.exit(main())
