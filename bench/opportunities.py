#!/usr/bin/env python
"""Opportunities benchmark: the pipeline view and the forecast of a workspace holding
100,000 deals with their stage history, through the HTTP API at concurrency 16, each
beside a raw-driver baseline running the same SQL. It prints figures; it is not a test.

    .venv/bin/python bench/opportunities.py                            # 100,000 deals
    .venv/bin/python bench/opportunities.py --opportunities 10000 --requests 300  # quick
    .venv/bin/python bench/opportunities.py --reload                   # rebuild the data

It reuses the ``bench`` package (``database``, ``server``, ``client``, ``report``) and
works in its own database (``leadbase_bench_opportunities``). Data
(``bench/opportunities_data.py``): workspace A gets ``--opportunities`` deals in its
default deal pipeline over 8 agents (made through the API) with ~2.6 stage changes each,
workspace B a tenth of that; loaded in SQL with the triggers off, then the kept sums
rebuilt from the rows (``views_repository`` reads them) as migration 0024's back-fill
does.

Scenarios (``--concurrency`` 16), each against the same statements on psycopg
(``leadbase.opportunities.views_repository``, pipelined as the API sends them):

- ``pipeline``: ``GET /api/v1/opportunities/pipeline`` (5 stages, 20 deals each);
- ``pipeline agent``: the same as one of the agents (its sums counted from its rows);
- ``forecast``: ``GET /api/v1/opportunities/forecast?months=12`` (10 deals per month and
  the overdue ones).

Target: p99 <= 150 ms for each.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.client import LoopbackClient, Request, drive  # noqa: E402
from bench.database import pg_settings, postmaster_pid, resolve_server, write_marker  # noqa: E402
from bench.loader import open_database  # noqa: E402
from bench.opportunities_data import load_opportunities  # noqa: E402
from bench.report import CpuMeter, fmt_int, machine, out, pct  # noqa: E402
from bench.server import PASSWORD, ApiServer, sign_in  # noqa: E402
from leadbase.db import migrate  # noqa: E402
from leadbase.leads.repository import Readable  # noqa: E402
from leadbase.opportunities import views_repository as sql  # noqa: E402
from leadbase.opportunities.repository import OppScope  # noqa: E402

DATA_FORMAT = "opportunities-1"
AGENTS = 8
SUMS = ("opportunity_stage_sums", "opportunity_month_sums")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--opportunities", type=int, default=100_000)
    p.add_argument("--database", default="leadbase_bench_opportunities")
    p.add_argument("--database-url", default=None, help="PostgreSQL server (libpq URI)")
    p.add_argument("--data-dir", default=str(ROOT / "bench" / "data"))
    p.add_argument("--reload", action="store_true", help="rebuild the bench database")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--requests", type=int, default=2000, help="requests per scenario")
    p.add_argument("--duration", type=float, default=60.0, help="seconds per scenario at most")
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args()
    args.leads = 0  # open_database's check: the bench workspace holds no leads
    args.pool_size = max(args.concurrency, 10)
    args.server_log_level, args.count_cap = "WARNING", 1000
    return args


def agent_email(i: int) -> str:
    return f"bench.opps.agent{i}@example.com"


def make_agents(base: str, token: str) -> None:
    with httpx.Client(base_url=base, timeout=30,
                      headers={"authorization": f"Bearer {token}"}) as client:
        for i in range(AGENTS):
            r = client.post("/api/v1/users", json={"email": agent_email(i), "name": f"Agent {i}",
                                                   "password": PASSWORD, "role": "agent"})
            if r.status_code != 201:
                raise RuntimeError(f"creating agent {i}: {r.status_code} {r.text}")


def agent_token(base: str) -> tuple[str, str]:
    with httpx.Client(base_url=base, timeout=30) as client:
        r = client.post("/api/v1/auth/login", json={"email": agent_email(0),
                                                    "password": PASSWORD})
        r.raise_for_status()
        body = r.json()
    me = httpx.get(base + "/api/v1/auth/me",
                   headers={"authorization": f"Bearer {body['access_token']}"}).json()
    return body["access_token"], str(me["id"])


def load(url: str, tenants: dict[str, str], count: int) -> float:
    """Workspace A's ``count`` deals over its agents, B's tenth of that over its users;
    the kept sums rebuilt from them."""
    t0 = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        owners = {k: [str(r[0]) for r in conn.execute(
            "SELECT id FROM users WHERE tenant_id = %s ORDER BY role <> 'agent', email",
            (t,)).fetchall()] for k, t in tenants.items()}
    load_opportunities(url, tenants["a"], owners["a"][:AGENTS], count)
    load_opportunities(url, tenants["b"], owners["b"], max(1, count // 10))
    with psycopg.connect(url, autocommit=True) as conn:
        for table in SUMS:
            conn.execute(f"DELETE FROM {table}")
            for tenant in tenants.values():
                conn.execute(_rebuild(table), {"t": tenant})
            conn.execute(f"VACUUM (ANALYZE) {table}")
    return time.perf_counter() - t0


def _rebuild(table: str) -> str:
    """Migration 0024's back-fill of ``table`` for one workspace (``%(t)s``)."""
    path = ROOT / "migrations" / "versions" / "2026-12-07-1530_opportunity_views.py"
    spec = importlib.util.spec_from_file_location("opportunity_views_migration", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rebuilt: str = module.rebuild(table)
    return rebuilt


class RawRunner:
    """The baselines: the same statements on psycopg, ``concurrency`` connections."""

    def __init__(self, url: str, concurrency: int) -> None:
        self.url, self.concurrency = url, concurrency

    async def run(self, n: int, work: Callable[[psycopg.AsyncConnection[Any]], Awaitable[None]]
                  ) -> tuple[list[float], float]:
        conns = [await psycopg.AsyncConnection.connect(self.url, autocommit=True)
                 for _ in range(self.concurrency)]
        counter = iter(range(n))
        latencies: list[float] = []

        async def worker(conn: psycopg.AsyncConnection[Any]) -> None:
            for _ in counter:
                t = time.perf_counter()
                async with conn.transaction():
                    await work(conn)
                latencies.append(time.perf_counter() - t)

        t0 = time.perf_counter()
        await asyncio.gather(*(worker(c) for c in conns))
        wall = time.perf_counter() - t0
        for c in conns:
            await c.close()
        return latencies, wall


async def pipelined(conn: psycopg.AsyncConnection[Any], statements: list[Any]) -> list[Any]:
    async with conn.pipeline():
        cursors = []
        for text, params in statements:
            cur = conn.cursor()
            await cur.execute(text, params)
            cursors.append(cur)
    return [await cur.fetchall() for cur in cursors]


def _line(name: str, api: tuple[list[float], float], raw: tuple[list[float], float]) -> None:
    (al, aw), (rl, rw) = api, raw
    a, r = pct(al, 0.99), pct(rl, 0.99)
    out(f"  {name:<16} p99 API {a:7.1f} ms  raw {r:7.1f} ms  API/raw {a / r:5.2f}   "
        f"{len(al) / aw:6,.0f}/s API, {len(rl) / rw:6,.0f}/s raw "
        f"({len(al) / aw / (len(rl) / rw):4.2f})  p50 API {pct(al, 0.5):6.1f} ms   "
        "target p99 <= 150 ms")


def _month(start: date, n: int) -> date:
    k = start.year * 12 + start.month - 1 + n
    return date(k // 12, k % 12 + 1, 1)


async def measure(args: argparse.Namespace, api: ApiServer, token: str, agent: tuple[str, str],
                  url: str, tenant: str, meter: CpuMeter) -> None:
    tid = uuid.UUID(tenant)
    raw = RawRunner(url, args.concurrency)
    warm = args.concurrency * 4

    async def scenario(name: str, bearer: str, path: str,
                       work: Callable[[psycopg.AsyncConnection[Any]], Awaitable[None]]) -> None:
        client = LoopbackClient(api.base, {"authorization": f"Bearer {bearer}"})
        req = Request("GET", path)
        await drive(client, "warm", lambda i: req, requests=warm,
                    concurrency=args.concurrency, duration=args.duration, meter=meter)
        res = await drive(client, name, lambda i: req, requests=args.requests,
                          concurrency=args.concurrency, duration=args.duration, meter=meter)
        await client.close()
        if res.errors:
            out(f"  errors: {res.errors} {res.error_samples}")
        await raw.run(warm, work)
        _line(name, (res.latencies, res.wall), await raw.run(args.requests, work))
        out("    cores used during the API run: " + ", ".join(
            f"{n} {c:.2f}" for n, c in zip(("client", "server", "PostgreSQL", "other"),
                                           res.cpu, strict=True) if c is not None))

    def pipeline_work(scope: OppScope) -> Callable[[psycopg.AsyncConnection[Any]],
                                                   Awaitable[None]]:
        async def work(conn: psycopg.AsyncConnection[Any]) -> None:
            stages = sql.PipelineStages(tid, None)
            await pipelined(conn, [sql.pipeline_statement(stages), sql.stages_statement(stages),
                                   sql.stage_sums_statement(scope, stages, None),
                                   ("SELECT currency FROM tenants WHERE id = %s", (tid,)),
                                   sql.first_pages_statement(scope, stages, None, 21)])
        return work

    out("== pipeline view (GET /api/v1/opportunities/pipeline, 20 deals per stage)")
    await scenario("pipeline", token, "/api/v1/opportunities/pipeline",
                   pipeline_work(OppScope(Readable(tid))))
    agent_scope = OppScope(Readable(tid, own=True, owner_id=uuid.UUID(agent[1])))
    out()
    out(f"== pipeline view as an agent (~1/{AGENTS + 1} of the deals: its sums counted)")
    await scenario("pipeline agent", agent[0], "/api/v1/opportunities/pipeline",
                   pipeline_work(agent_scope))

    async def forecast_work(conn: psycopg.AsyncConnection[Any]) -> None:
        row = await (await conn.execute("SELECT currency, timezone FROM tenants WHERE id = %s",
                                        (tid,))).fetchone()
        assert row is not None
        start = datetime.now(UTC).date().replace(day=1)
        bounds = [(date.min, start)] + [(_month(start, i), _month(start, i + 1))
                                        for i in range(12)]
        scope = OppScope(Readable(tid))
        await pipelined(conn, [sql.month_sums_statement(scope, _month(start, 12), None, None),
                               sql.month_first_pages_statement(scope, bounds, None, None, 11)])

    out()
    out("== forecast (GET /api/v1/opportunities/forecast?months=12, 10 deals per month)")
    await scenario("forecast", token, "/api/v1/opportunities/forecast?months=12",
                   forecast_work)


def main() -> int:
    args = parse_args()
    out("Leadbase opportunities benchmark")
    out(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f} at start")
    server = resolve_server(args)
    head = migrate.head_revision()
    url, marker = open_database(args, server.admin_url, f"{DATA_FORMAT}:{args.opportunities}")
    reuse = marker is not None
    api = ApiServer(url, args, Path(args.data_dir) / "opportunities")
    api.start()
    try:
        token, tenant = sign_in(api.base, "a", register=not reuse)
        if reuse:
            assert marker is not None
            out(f"data: reused {args.database} (loaded {marker['loaded_at']}); --reload to "
                "rebuild")
        else:
            _, tenant_b = sign_in(api.base, "b", register=True)
            make_agents(api.base, token)
            out(f"loading {fmt_int(args.opportunities)} deals into {args.database}")
            seconds = load(url, {"a": tenant, "b": tenant_b}, args.opportunities)
            out(f"  loaded in {seconds:.0f} s")
            write_marker(server.admin_url, args.database, {
                "format": f"{DATA_FORMAT}:{args.opportunities}", "leads": 0, "head": head,
                "tenant_a": tenant, "opportunities": args.opportunities,
                "loaded_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "load_seconds": seconds})
        settings = pg_settings(url)
        with psycopg.connect(url, autocommit=True) as conn:
            counts = conn.execute(
                "SELECT (SELECT count(*) FROM opportunities WHERE tenant_id = %s), "
                "(SELECT count(*) FROM opportunity_stage_changes WHERE tenant_id = %s), "
                "(SELECT count(*) FROM opportunity_stage_sums WHERE tenant_id = %s), "
                "(SELECT count(*) FROM opportunity_month_sums WHERE tenant_id = %s)",
                (tenant,) * 4).fetchone()
        assert counts is not None
        out(f"database: PostgreSQL {settings['server_version']} ({server.description}); "
            f"workspace A: {fmt_int(counts[0])} deals, {fmt_int(counts[1])} stage changes, "
            f"sum rows {fmt_int(counts[2])} (stages) and {fmt_int(counts[3])} (months)")
        out(f"server: leadbase serve --no-worker on {api.base} (one uvicorn process); "
            f"concurrency {args.concurrency}; {args.requests} requests per scenario")
        out()
        meter = CpuMeter(api.proc.pid if api.proc else None, postmaster_pid(url))
        asyncio.run(measure(args, api, token, agent_token(api.base), url, tenant, meter))
        out(f"load average {os.getloadavg()[0]:.2f} at the end")
        return 0
    finally:
        api.stop()


if __name__ == "__main__":
    sys.exit(main())
