#!/usr/bin/env python
"""The ``crm`` profile's lead list at 1,000,000 leads: ``GET
/compat/crm/v1/leads?page=&limit=`` beside the canonical ``GET /api/v1/leads`` (first
page, same size and filter) in the same run, same client, concurrency 16. It prints
figures; it is not a test.

    .venv/bin/python bench/crm_profile.py                         # 1M leads
    .venv/bin/python bench/crm_profile.py --leads 20000 --requests 300   # quick check
    .venv/bin/python bench/crm_profile.py --reload                # rebuild the data set

Data (its own database ``leadbase_bench_crm``, reused while its size and migration head
match): one workspace with ``--leads`` CRM-shaped leads loaded with SQL
(``bench/loader.py``).

Load: ``leadbase serve --no-worker`` (one uvicorn process, pool 16, the profile's rate
limits off), ``--concurrency`` (16) keep-alive connections, ``--requests`` (2,000)
requests per scenario after a warm-up. Pairs (canonical, then profile): the first page
of 20 newest leads; the same with ``status=new`` / ``status=NEW``; and, beside them, the
profile's pages 1 to 10 in turn (``OFFSET`` up to 180). Printed: req/s, p50, p99, the
server's CPU per request (``/proc``), the profile's throughput as a share of the
canonical list's (target >= 0.70), and a raw-driver baseline of the profile's first page:
the SQL statements one such request runs (captured in-process) replayed with psycopg at
the same concurrency (the database's share of the request).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.autos import capture, line, replay  # noqa: E402
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
from bench.twins import cpu_ms, rps  # noqa: E402
from leadbase.db import migrate  # noqa: E402
from leadbase.db.urls import with_database  # noqa: E402

DATA_FORMAT = 1
TARGET_RATIO = 0.70
CANONICAL = "/api/v1/leads"
PROFILE = "/compat/crm/v1/leads"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--leads", type=int, default=1_000_000)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--requests", type=int, default=2_000, help="per scenario")
    p.add_argument("--duration", type=float, default=90.0, help="at most, per scenario")
    p.add_argument("--database", default="leadbase_bench_crm")
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


async def run_http(base: str, token: str, urls: list[str], name: str,
                   args: argparse.Namespace, meter: CpuMeter) -> Result:
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


def show(name: str, r: Result) -> None:
    line(name, r.latencies, r.wall, r.cpu)
    cpu = cpu_ms(r)
    out(f"      server CPU per request: {'-' if cpu is None else f'{cpu:.2f} ms'}"
        + (f"; ! {r.errors} errors, e.g. {r.error_samples[:1]}" if r.errors else ""))


def prepare(args: argparse.Namespace) -> tuple[str, ApiServer, str]:
    server = resolve_server(args)
    url = with_database(server.admin_url, args.database)
    wanted = {"format": DATA_FORMAT, "leads": args.leads, "head": migrate.head_revision()}
    marker = None if args.reload else read_marker(server.admin_url, args.database)
    same = bool(marker and all(marker.get(k) == v for k, v in wanted.items()))
    if same and marker and live_counts(url, {"a": marker["tenant_a"]}) != {"a": args.leads}:
        out(f"{args.database}: counts do not match; reloading")
        same = False
    if not same:
        url = recreate_database(server.admin_url, args.database)
    migrate.upgrade(url)
    api = ApiServer(url, args, Path(args.data_dir) / "crm")
    api.env["LEADBASE_CRM_RATE_LIMITS"] = "false"
    api.start()
    token, tenant = sign_in(api.base, "a", register=not same)
    if not same:
        workers = args.load_workers or len(os.sched_getaffinity(0))
        out(f"loading {fmt_int(args.leads)} leads into {args.database}")
        t = time.perf_counter()
        load_leads(url, [("a", tenant, default_list(url, tenant), args.leads, 1000)],
                   workers=workers, chunk_rows=50_000)
        seconds = time.perf_counter() - t
        out(f"loaded in {seconds:.1f} s")
        write_marker(server.admin_url, args.database, {
            **wanted, "tenant_a": tenant, "load_seconds": seconds,
            "loaded_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")})
    settings = pg_settings(url)
    out(f"database: PostgreSQL {settings['server_version']} ({server.description}); "
        f"leads {settings['leads_size']}; shared_buffers={settings['shared_buffers']}")
    return url, api, token


def main() -> int:
    args = parse_args()
    out("Leadbase crm profile benchmark: GET /compat/crm/v1/leads?page=&limit= beside "
        "GET /api/v1/leads")
    out(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f} at start")
    url, api, token = prepare(args)
    try:
        out(f"server: leadbase serve --no-worker on {api.base} (one uvicorn process, "
            f"pool {args.pool_size}); concurrency {args.concurrency}; "
            f"{fmt_int(args.leads)} leads")
        cpus = len(os.sched_getaffinity(0))
        meter = CpuMeter(api.proc.pid if api.proc else None, postmaster_pid(url))
        pairs = [
            ("first page, 20", [f"{CANONICAL}?per_page=20"], [f"{PROFILE}?page=1&limit=20"]),
            ("status filter, 20", [f"{CANONICAL}?per_page=20&status=new"],
             [f"{PROFILE}?page=1&limit=20&status=NEW"]),
        ]
        out()
        out(f"  {'scenario':<34} {'reqs':>6} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7}   "
            f"cores: bench, server, PostgreSQL, other (of {cpus})")
        ratios = []
        for name, canonical_urls, profile_urls in pairs:
            lb = asyncio.run(run_http(api.base, token, canonical_urls, name, args, meter))
            show("canonical " + name, lb)
            crm = asyncio.run(run_http(api.base, token, profile_urls, name, args, meter))
            show("crm " + name, crm)
            ratios.append((name, rps(crm), rps(lb), cpu_ms(crm), cpu_ms(lb)))
        pages = [f"{PROFILE}?page={p}&limit=20" for p in range(1, 11)]
        deep = asyncio.run(run_http(api.base, token, pages, "pages 1-10", args, meter))
        show("crm pages 1-10, 20", deep)
        api.stop()  # its connections given back before the baseline opens its own
        login, statements = asyncio.run(capture(url, api, token, [pairs[0][2][0]]))
        lat, wall, cores, _ = asyncio.run(replay(
            login, statements, requests=args.requests, concurrency=args.concurrency,
            meter=meter, duration=args.duration))
        line("raw SQL of crm first page", lat, wall, cores)
        raw_rps = len(lat) / wall if wall else 0.0
        out(f"      {len(statements[0])} statements per request")
        out()
        for name, crm_rps, lb_rps, crm_cpu, lb_cpu in ratios:
            ratio = crm_rps / lb_rps if lb_rps else 0.0
            verdict = "met" if ratio >= TARGET_RATIO else "MISSED"
            cpu = (f"; server CPU {crm_cpu:.2f} vs {lb_cpu:.2f} ms/req"
                   if crm_cpu is not None and lb_cpu is not None else "")
            out(f"  {name}: crm {crm_rps:.0f} req/s vs canonical {lb_rps:.0f} req/s: ratio "
                f"{ratio:.2f} (target >= {TARGET_RATIO:.2f}) {verdict}{cpu}")
        if ratios and raw_rps:
            out(f"  raw SQL baseline of the crm first page: {raw_rps:.0f} req/s (the crm "
                f"route at {ratios[0][1] / raw_rps:.2f} of it)")
        out(f"load average {os.getloadavg()[0]:.2f} at the end")
        return 0
    finally:
        api.stop()


if __name__ == "__main__":
    sys.exit(main())
