"""The dialer: one scheduler tick over many due tasks, and webhook ingestion.

```sh
.venv/bin/python bench/dialer.py --tasks 5000 --agents 20 --webhooks 1000   # small
.venv/bin/python bench/dialer.py                  # 100,000 due tasks, 20 agents
```

1. A workspace (in its own database ``leadbase_bench_dialer``, recreated each run) gets
   ``--agents`` simulator agents (all-week hours, ``--lines`` concurrent calls each) and
   ``--tasks`` leads with phones, each queued for one agent and due now (loaded with
   ``INSERT ... SELECT generate_series``).
2. **Tick**: ``scheduler.tick_workspace`` at a lawful moment, timed (claims ``lines`` x
   ``agents`` calls, checks the law per task, writes the calls, defers the placing jobs).
   Baseline, on a copy of the same due set: the bare SQL of a claim, one statement per
   agent (``UPDATE ... FROM (SELECT ... FOR UPDATE SKIP LOCKED LIMIT lines)`` plus the
   calls' ``INSERT``), no law and no jobs.
3. **Webhooks**: the simulator's signed final callbacks of the placed calls, posted to
   ``POST /api/v1/calls/webhooks/voice/simulator`` in-process (ASGI, ``--concurrency``
   at once): p50/p99 and requests/s. Baseline: the bare ``INSERT ... ON CONFLICT DO
   NOTHING`` of one event per request on psycopg, same concurrency.
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

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.database import recreate_database, resolve_server
from leadbase.app import create_app
from leadbase.auth.context import system_context
from leadbase.calls import agents, scheduler
from leadbase.calls.schemas import CallAgentCreate
from leadbase.config import Settings
from leadbase.db import migrate
from leadbase.db.session import Database
from leadbase.providers.voice.base import CallRequest
from leadbase.providers.voice.simulator import SimulatorProvider
from leadbase.tenants import service as tenants_service

NOW = datetime(2026, 12, 8, 17, 0, tzinfo=UTC)  # noon in New York
ALWAYS = {d: [{"start": "00:00", "end": "24:00"}]
          for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
LOAD = """
INSERT INTO leads (id, tenant_id, list_id, first_name, last_name, phone, timezone)
SELECT lb_uuid7(), %(t)s, %(list)s, 'Lead', 'N' || g, '+1212' || lpad((5550000 + g %% 10000
       + (g / 10000) * 0)::text, 7, '0'), 'America/New_York'
FROM generate_series(1, %(n)s) g;
INSERT INTO dial_tasks (id, tenant_id, agent_id, lead_id, next_attempt_at)
SELECT lb_uuid7(), %(t)s, (%(agents)s::uuid[])[1 + (row_number() OVER () %% %(k)s)], l.id,
       %(now)s::timestamptz - interval '1 minute'
FROM leads l WHERE l.tenant_id = %(t)s;
"""
BARE_CLAIM = """
WITH due AS (SELECT t.id AS task_id, t.lead_id FROM dial_tasks t WHERE t.tenant_id = %(t)s
  AND t.agent_id = %(a)s AND t.status <> 'done' AND t.deleted_at IS NULL
  AND t.active_call_id IS NULL AND t.next_attempt_at <= %(now)s
  ORDER BY t.next_attempt_at, t.id LIMIT %(n)s FOR UPDATE SKIP LOCKED),
c AS (SELECT lb_uuid7() AS id, due.* FROM due),
ins AS (INSERT INTO calls (id, tenant_id, agent_id, lead_id, dial_task_id, provider, to_number)
  SELECT c.id, %(t)s, %(a)s, c.lead_id, c.task_id, 'simulator', '+10000000000' FROM c)
UPDATE dial_tasks t SET status = 'in_progress', active_call_id = c.id, attempts = 1
FROM c WHERE t.tenant_id = %(t)s AND t.id = c.task_id
"""


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000


async def setup(db: Database, settings: Settings, args: argparse.Namespace,
                libpq: str) -> tuple[uuid.UUID, list[uuid.UUID]]:
    async with db.transaction(None, system=True) as session:
        tenant, _owner = await tenants_service.create_with_owner(
            session, name="Bench dialer", owner_email=f"b{uuid.uuid4().hex[:6]}@x.dev",
            owner_name="Bench", owner_password="Bench1234")
    tid = tenant["id"]
    ctx = system_context(tid)
    ids = []
    async with db.transaction(tid) as session:
        for i in range(args.agents):
            row, _ = await agents.create_agent(session, ctx=ctx, settings=settings,
                                               body=CallAgentCreate.model_validate({
                "name": f"Agent {i}", "provider": "simulator", "timezone": "UTC",
                "business_hours": ALWAYS, "max_concurrent_calls": args.lines,
                "settings": {"time_scale": 0}}))
            ids.append(row["id"])
        list_id = (await tenants_service.defaults(session, tenant_id=tid)).default_list_id
    with psycopg.connect(libpq, autocommit=True) as conn:
        params = {"t": tid, "list": list_id, "n": args.tasks, "agents": ids, "k": len(ids),
                  "now": NOW}
        for statement in LOAD.strip().split(";\n"):
            conn.execute(statement.strip().rstrip(";"), params)
        conn.execute("VACUUM ANALYZE leads")
        conn.execute("VACUUM ANALYZE dial_tasks")
    return tid, ids


async def bench_tick(db: Database, libpq: str, tid: uuid.UUID, ids: list[uuid.UUID],
                     lines: int) -> list[uuid.UUID]:
    started = time.perf_counter()
    async with db.transaction(tid) as session:
        result = await scheduler.tick_workspace(session, tenant_id=tid, now=NOW)
    tick_s = time.perf_counter() - started
    # Baseline: the bare claim of the same number of calls, on the tasks still due.
    with psycopg.connect(libpq) as conn:
        started = time.perf_counter()
        for agent_id in ids:
            conn.execute(BARE_CLAIM, {"t": tid, "a": agent_id, "now": NOW, "n": lines})
        bare_s = time.perf_counter() - started
        conn.rollback()
    print(f"tick: {len(result.placed)} calls claimed and placed (jobs deferred) of "
          f"{len(ids)} agents in {tick_s * 1000:.0f} ms; bare SQL claim "
          f"{bare_s * 1000:.0f} ms; ratio {tick_s / bare_s:.1f}x")
    return result.placed


async def bench_webhooks(app: object, db: Database, settings: Settings, libpq: str,
                         tid: uuid.UUID, calls: list[uuid.UUID], n: int,
                         concurrency: int) -> None:
    sim = SimulatorProvider()
    with psycopg.connect(libpq) as conn:
        owner_of = dict(conn.execute("SELECT id, agent_id FROM calls WHERE id = ANY(%s)",
                                     (calls,)).fetchall())
    secrets: dict[uuid.UUID, str] = {}
    async with db.transaction(tid) as session:
        for agent_id in set(owner_of.values()):
            agent = await agents.get_agent(session, ctx=system_context(tid), agent_id=agent_id)
            secrets[agent_id] = agents.provider_settings(settings, agent)["webhook_secret"]
    bodies = []
    for call_id in (calls * (n // max(1, len(calls)) + 1))[:n]:
        request = CallRequest(call_id=call_id, tenant_id=tid, to_number="+12125550000",
                              settings={"webhook_secret": secrets[owner_of[call_id]],
                                        "time_scale": 0}, webhook_url="http://x")
        bodies.append(sim.deliveries(request)[-1])
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(len(bodies)):
        queue.put_nowait(i)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            d = bodies[queue.get_nowait()]
            t0 = time.perf_counter()
            resp = await client.post("/api/v1/calls/webhooks/voice/simulator",
                                     headers=dict(d.headers), content=d.body)
            latencies.append(time.perf_counter() - t0)
            assert resp.status_code == 202, resp.text

    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        total = time.perf_counter() - started
    # Baseline: one bare INSERT ... ON CONFLICT per request, same concurrency.
    bare: list[float] = []
    pool = [await psycopg.AsyncConnection.connect(libpq, autocommit=True)
            for _ in range(concurrency)]
    keys = iter(range(len(bodies)))

    async def bare_worker(conn: psycopg.AsyncConnection[object]) -> None:
        for k in keys:
            t0 = time.perf_counter()
            await conn.execute(
                "INSERT INTO call_events (id, tenant_id, call_id, provider, event_key, "
                "status, occurred_at) VALUES (lb_uuid7(), %s, %s, 'simulator', %s, "
                "'completed', now()) ON CONFLICT DO NOTHING",
                (tid, calls[k % len(calls)], f"bare:{k}"))
            bare.append(time.perf_counter() - t0)

    started = time.perf_counter()
    await asyncio.gather(*(bare_worker(c) for c in pool))
    bare_total = time.perf_counter() - started
    for c in pool:
        await c.close()
    rate, bare_rate = len(latencies) / total, len(bare) / bare_total
    print(f"webhooks: {len(latencies)} at concurrency {concurrency}: "
          f"p50 {statistics.median(latencies) * 1000:.1f} ms, p99 {pct(latencies, 0.99):.1f} ms,"
          f" {rate:.0f} req/s; bare SQL p99 {pct(bare, 0.99):.1f} ms, {bare_rate:.0f} req/s; "
          f"ratio {bare_rate / rate:.1f}x")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--lines", type=int, default=25, help="concurrent calls per agent")
    parser.add_argument("--webhooks", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--data-dir", default=str(Path(__file__).parent / "data"))
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()
    server = resolve_server(args)
    libpq = recreate_database(server.admin_url, "leadbase_bench_dialer")
    migrate.upgrade(libpq)
    settings = Settings(data_dir=Path(args.data_dir), secret_key="bench-" + "x" * 40,
                        rate_limit="10000000/minute", run_worker=False,
                        db_pool_size=max(10, args.concurrency))
    db = Database(libpq, settings)
    try:
        print(f"dialer bench: {args.tasks:,} due tasks, {args.agents} agents x {args.lines} "
              f"lines ({server.description}, {os.cpu_count()} CPUs)")
        tid, ids = await setup(db, settings, args, libpq)
        placed = await bench_tick(db, libpq, tid, ids, args.lines)
        app = create_app(settings, database=db, run_worker=False)
        await bench_webhooks(app, db, settings, libpq, tid, placed, args.webhooks,
                             args.concurrency)
    finally:
        await db.dispose()
        if not args.keep:
            from leadbase.db import roles
            roles.drop_login(libpq)
            with psycopg.connect(server.admin_url, autocommit=True) as conn:
                conn.execute('DROP DATABASE IF EXISTS "leadbase_bench_dialer" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
