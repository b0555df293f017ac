#!/usr/bin/env python
"""Pipelines benchmark: stage moves, the board and metrics of a lead pipeline holding
1,000,000 leads with 5,000,000 stage changes, through the HTTP API at concurrency 16,
each beside a raw-driver baseline of the same SQL. It prints figures; it is not a test.

    .venv/bin/python bench/pipelines.py                          # 1,000,000 leads, 5M changes
    .venv/bin/python bench/pipelines.py --leads 50000 --requests 500   # a quick check
    .venv/bin/python bench/pipelines.py --reload                 # rebuild the data set

It reuses the ``bench`` package (``database``, ``loader``, ``server``, ``client``,
``report``) and works in its own database (``leadbase_bench_pipelines``). Data: the
loader's CRM-shaped leads, then in SQL five stage changes per lead (one of six walks over
the default pipeline's stages, spread between the lead's creation and now), each lead in
its walk's last stage, and the stage counters and day statistics rebuilt from them.

Scenarios (``--concurrency`` 16): ``move`` (``POST /api/v1/leads/{id}/stage``, each request
another lead, to a stage it is not in) against a raw twin (the same UPDATE of the lead and
INSERT of its stage change, in a transaction, on psycopg); ``board``
(``GET /pipelines/{id}/board``) and ``metrics`` (the last 30 days and the last 365) against
the same statements run on psycopg. Targets: moves >= 400/s; board and metrics p99 <= 150 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.client import LoopbackClient, Request, drive  # noqa: E402
from bench.database import (  # noqa: E402
    pg_settings,
    postmaster_pid,
    resolve_server,
    write_marker,
)
from bench.loader import default_list, load_leads, open_database  # noqa: E402
from bench.report import CpuMeter, fmt_int, machine, out, pct  # noqa: E402
from bench.server import ApiServer, sign_in  # noqa: E402
from leadbase.db import migrate  # noqa: E402
from leadbase.leads.repository import Readable  # noqa: E402
from leadbase.pipelines.board import EXACT_MEDIAN_LIMIT  # noqa: E402
from leadbase.pipelines.repository import board as board_sql  # noqa: E402

DATA_FORMAT = 1
MOVES_PER_LEAD = 5
# Walks over the stage positions (0 new .. 5 lost) after each of the five moves.
WALKS = [(1, 2, 3, 2, 3), (1, 5, 0, 1, 2), (1, 2, 3, 4, 3), (1, 0, 1, 2, 5),
         (2, 1, 2, 3, 4), (1, 2, 1, 0, 5)]

_HISTORY_SQL = """
WITH w(walk, k, pos) AS (VALUES {walks}),
st AS (SELECT position, id FROM pipeline_stages WHERE tenant_id = %(t)s
       AND pipeline_id = %(p)s AND deleted_at IS NULL),
m AS (SELECT l.id AS lead_id, l.created_at, w.k, w.pos,
             l.created_at + (now() - l.created_at) * (w.k / 6.0)::float8 AS at
      FROM leads l JOIN w ON w.walk = l.number %% 6
      WHERE l.tenant_id = %(t)s AND l.number >= %(lo)s AND l.number < %(hi)s),
m2 AS (SELECT m.*, lag(pos, 1, 0) OVER (PARTITION BY lead_id ORDER BY k) AS prev_pos,
              lag(at, 1, created_at) OVER (PARTITION BY lead_id ORDER BY k) AS prev_at,
              max(pos) OVER (PARTITION BY lead_id ORDER BY k ROWS BETWEEN 1 FOLLOWING
                             AND UNBOUNDED FOLLOWING) AS later_max
       FROM m)
INSERT INTO stage_changes (id, number, tenant_id, lead_id, pipeline_id, from_stage_id,
                           to_stage_id, changed_at, seconds_in_previous, advanced_at,
                           reason)
SELECT gen_random_uuid(), nextval(%(seq)s::regclass), %(t)s, lead_id,
       %(p)s, f.id, t.id, at, floor(extract(epoch FROM at - prev_at))::bigint,
       CASE WHEN later_max > pos THEN now() END, 'bench'
FROM m2 JOIN st f ON f.position = m2.prev_pos JOIN st t ON t.position = m2.pos
"""

_PLACE_SQL = """
UPDATE leads l SET stage_id = c.to_stage_id, pipeline_id = %(p)s, stage_entered_at = c.changed_at
FROM (SELECT DISTINCT ON (lead_id) lead_id, to_stage_id, changed_at FROM stage_changes
      WHERE tenant_id = %(t)s ORDER BY lead_id, changed_at DESC) c
WHERE l.tenant_id = %(t)s AND l.id = c.lead_id
"""

_COUNTS_SQL = """
INSERT INTO pipeline_stage_counts (tenant_id, stage_id, owner_key, shard, leads)
SELECT tenant_id, stage_id, coalesce(owner_id, '00000000-0000-0000-0000-000000000000'), 0,
       count(*) FROM leads WHERE tenant_id = %(t)s AND deleted_at IS NULL
       AND stage_id IS NOT NULL GROUP BY 1, 2, 3
"""

# Day statistics from the history (as the moves and creations would have written them).
_DAYS_SQL = """
WITH e AS (SELECT to_stage_id AS stage_id, (changed_at AT TIME ZONE 'UTC')::date AS day,
                  count(*) AS entered, count(advanced_at) AS converted
           FROM stage_changes WHERE tenant_id = %(t)s GROUP BY 1, 2
           UNION ALL
           SELECT s.id, (l.created_at AT TIME ZONE 'UTC')::date, count(*), count(*)
           FROM leads l JOIN pipeline_stages s ON s.tenant_id = l.tenant_id
                AND s.pipeline_id = %(p)s AND s.position = 0
           WHERE l.tenant_id = %(t)s GROUP BY 1, 2),
x AS (SELECT from_stage_id AS stage_id, (changed_at AT TIME ZONE 'UTC')::date AS day,
             least(120, 1 + floor(4 * log(2, 1 + seconds_in_previous::numeric)))::int AS b,
             count(*) AS n, sum(seconds_in_previous) AS secs
      FROM stage_changes WHERE tenant_id = %(t)s GROUP BY 1, 2, 3),
xd AS (SELECT stage_id, day, sum(n) AS exited, sum(secs) AS secs, max(b) AS mb
       FROM x GROUP BY 1, 2),
grid AS (SELECT xd.stage_id, xd.day, g.i, coalesce(x.n, 0)::int AS n FROM xd
         CROSS JOIN LATERAL generate_series(1, xd.mb) AS g(i)
         LEFT JOIN x ON x.stage_id = xd.stage_id AND x.day = xd.day AND x.b = g.i),
hd AS (SELECT stage_id, day, array_agg(n ORDER BY i) AS hist FROM grid GROUP BY 1, 2),
ed AS (SELECT stage_id, day, sum(entered) AS entered, sum(converted) AS converted
       FROM e GROUP BY 1, 2)
INSERT INTO pipeline_stage_days (tenant_id, stage_id, day, shard, entered, exited,
                                 exited_seconds, converted, hist)
SELECT %(t)s, coalesce(ed.stage_id, xd.stage_id), coalesce(ed.day, xd.day), 0,
       coalesce(ed.entered, 0), coalesce(xd.exited, 0), coalesce(xd.secs, 0),
       coalesce(ed.converted, 0), coalesce(hd.hist, '{}')
FROM ed FULL JOIN xd ON xd.stage_id = ed.stage_id AND xd.day = ed.day
LEFT JOIN hd ON hd.stage_id = xd.stage_id AND hd.day = xd.day
"""


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--leads", type=int, default=1_000_000)
    p.add_argument("--database", default="leadbase_bench_pipelines")
    p.add_argument("--database-url", default=None, help="PostgreSQL server (libpq URI)")
    p.add_argument("--data-dir", default=str(ROOT / "bench" / "data"))
    p.add_argument("--reload", action="store_true", help="rebuild the bench database")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--requests", type=int, default=3000, help="requests per scenario")
    p.add_argument("--duration", type=float, default=60.0, help="seconds per scenario at most")
    p.add_argument("--load-workers", type=int, default=None)
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args()
    args.pool_size = max(args.concurrency, 10)
    args.server_log_level, args.count_cap = "WARNING", 1000
    return args


def _indexes(url: str) -> list[tuple[str, str]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return [(r[0], r[1]) for r in conn.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass AND NOT "
            "EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
            ("leads",)).fetchall()]


def load_history(url: str, tenant: str, leads: int) -> float:
    """Five stage changes per lead, the leads in their last stage, the counters and day
    statistics rebuilt; triggers off (``session_replication_role``), as a restore would."""
    t0 = time.perf_counter()
    walks = ", ".join(f"({w}, {k + 1}, {pos})" for w, walk in enumerate(WALKS)
                      for k, pos in enumerate(walk))
    indexes = _indexes(url)
    with psycopg.connect(url, autocommit=True) as conn:
        pipeline = conn.execute("SELECT id FROM pipelines WHERE tenant_id = %s AND kind = "
                                "'lead' AND is_default", (tenant,)).fetchone()
        assert pipeline is not None
        seq = conn.execute("SELECT lb_number_seq(%s, 'stage_changes')::text",
                           (tenant,)).fetchone()
        assert seq is not None
        params = {"t": tenant, "p": pipeline[0], "seq": seq[0]}
        conn.execute("SET session_replication_role = replica")
        conn.execute("SET work_mem = '256MB'")
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        step = 100_000
        for lo in range(1, leads + 1, step):
            conn.execute(_HISTORY_SQL.format(walks=walks), {**params, "lo": lo, "hi": lo + step})
            out(f"  stage changes for leads {fmt_int(lo)}..{fmt_int(min(leads, lo + step - 1))}"
                f" ({time.perf_counter() - t0:.0f} s)")
        conn.execute(_PLACE_SQL, params)
        out(f"  leads placed in their stages ({time.perf_counter() - t0:.0f} s)")
        for _, ddl in indexes:
            conn.execute(ddl)
        conn.execute("DELETE FROM pipeline_stage_counts WHERE tenant_id = %(t)s", params)
        conn.execute(_COUNTS_SQL, params)
        conn.execute("DELETE FROM pipeline_stage_days WHERE tenant_id = %(t)s", params)
        conn.execute(_DAYS_SQL, params)
        # The closed months folded, as the worker's daily fold_stage_months would have.
        conn.execute("DELETE FROM pipeline_stage_months WHERE tenant_id = %(t)s", params)
        conn.execute(board_sql._FOLD, {
            "t": tenant, "before": board_sql.fold_boundary(datetime.now(UTC).date())})
        conn.execute("VACUUM (ANALYZE) leads")
        conn.execute("VACUUM (ANALYZE) stage_changes")
        conn.execute("ANALYZE")
    return time.perf_counter() - t0


class RawRunner:
    """The baselines: the same statements on psycopg, ``concurrency`` connections."""

    def __init__(self, url: str, tenant: str, concurrency: int) -> None:
        self.url, self.tenant, self.concurrency = url, tenant, concurrency

    async def run(self, n: int, work: Callable[[psycopg.AsyncConnection[Any], int],
                                                Awaitable[None]]) -> tuple[list[float], float]:
        conns = [await psycopg.AsyncConnection.connect(self.url, autocommit=True)
                 for _ in range(self.concurrency)]
        counter = iter(range(n))
        latencies: list[float] = []

        async def worker(conn: psycopg.AsyncConnection[Any]) -> None:
            for i in counter:
                t = time.perf_counter()
                await work(conn, i)
                latencies.append(time.perf_counter() - t)

        t0 = time.perf_counter()
        await asyncio.gather(*(worker(c) for c in conns))
        wall = time.perf_counter() - t0
        for c in conns:
            await c.close()
        return latencies, wall


def _line(name: str, api: tuple[list[float], float], raw: tuple[list[float], float],
          rate: bool, target: str) -> None:
    (al, aw), (rl, rw) = api, raw
    if rate:
        a, r = len(al) / aw, len(rl) / rw
        out(f"  {name:<22} API {a:8,.0f}/s   raw {r:8,.0f}/s   API/raw {a / r:5.2f}   "
            f"(p99 API {pct(al, 0.99):6.1f} ms, raw {pct(rl, 0.99):6.1f} ms)  "
            f"target {target}")
    else:
        a, r = pct(al, 0.99), pct(rl, 0.99)
        out(f"  {name:<22} p99 API {a:7.1f} ms   raw {r:7.1f} ms   API/raw {a / r:5.2f}   "
            f"(p50 API {pct(al, 0.5):6.1f} ms, {len(al) / aw:6,.0f}/s)  "
            f"target {target}")


async def measure(args: argparse.Namespace, api: ApiServer, token: str, url: str,
                  tenant: str, meter: CpuMeter) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        pipeline = conn.execute("SELECT id FROM pipelines WHERE tenant_id = %s AND kind = "
                                "'lead' AND is_default", (tenant,)).fetchone()
        assert pipeline is not None
        pid = pipeline[0]
        stages = conn.execute("SELECT id, code FROM pipeline_stages WHERE pipeline_id = %s "
                              "AND deleted_at IS NULL ORDER BY position", (pid,)).fetchall()
        n = args.requests + args.concurrency * 8
        sample = conn.execute(
            "SELECT id, stage_id FROM leads WHERE tenant_id = %s AND deleted_at IS NULL "
            "ORDER BY random() LIMIT %s", (tenant, 2 * n)).fetchall()
    random.seed(7)
    codes = [c for _, c in stages]
    ids = [s for s, _ in stages]
    api_leads, raw_leads = sample[:n], sample[n:]

    def other(stage_id: Any, i: int) -> int:
        k = ids.index(stage_id) if stage_id in ids else 0
        return (k + 1 + i % (len(ids) - 1)) % len(ids)

    client = LoopbackClient(api.base, {"authorization": f"Bearer {token}"})

    def move_req(i: int) -> Request:
        lead_id, stage_id = api_leads[i % len(api_leads)]
        body = orjson.dumps({"stage": codes[other(stage_id, i)], "reason": "bench"})
        return Request("POST", f"/api/v1/leads/{lead_id}/stage", body)

    raw = RawRunner(url, tenant, args.concurrency)

    async def raw_move(conn: psycopg.AsyncConnection[Any], i: int) -> None:
        lead_id, stage_id = raw_leads[i % len(raw_leads)]
        to = ids[other(stage_id, i)]
        async with conn.transaction():
            row = await (await conn.execute(
                "UPDATE leads SET stage_id = %s, stage_entered_at = now(), version = "
                "version + 1, updated_at = now() WHERE tenant_id = %s AND id = %s "
                "RETURNING (SELECT stage_entered_at FROM leads WHERE id = %s)",
                (to, tenant, lead_id, lead_id))).fetchone()
            assert row is not None
            await conn.execute(
                "INSERT INTO stage_changes (id, tenant_id, lead_id, pipeline_id, "
                "from_stage_id, to_stage_id, actor_user_id, reason, seconds_in_previous) "
                "VALUES (gen_random_uuid(), %s, %s, %s, %s, %s, NULL, 'bench', "
                "extract(epoch FROM now() - %s)::bigint)",
                (tenant, lead_id, pid, stage_id, to, row[0]))

    warm = args.concurrency * 4
    out("== stage moves (POST /api/v1/leads/{id}/stage), each to a stage it is not in")
    await drive(client, "warm", move_req, requests=warm, concurrency=args.concurrency,
                duration=args.duration, meter=meter, offset=args.requests)
    res = await drive(client, "move", move_req, requests=args.requests,
                      concurrency=args.concurrency, duration=args.duration, meter=meter)
    if res.errors:
        out(f"  errors: {res.errors} {res.error_samples}")
    raw_res = await raw.run(args.requests, raw_move)
    _line("moves", (res.latencies, res.wall), raw_res, True, ">= 400/s")
    cpu = res.cpu
    out("  cores used during the API run: " + ", ".join(
        f"{name} {c:.2f}" for name, c in zip(("client", "server", "PostgreSQL", "other"), cpu,
                                              strict=True) if c is not None))

    # The raw twins run the statements the API runs (leadbase.pipelines.repository.board),
    # in one pipelined round trip as the API does.
    scope = Readable(uuid.UUID(str(tenant)))

    async def pipelined(conn: psycopg.AsyncConnection[Any], statements: list[Any]) -> None:
        async with conn.pipeline():
            cursors = []
            for sql, params in statements:
                cur = conn.cursor()
                await cur.execute(sql, params)
                cursors.append(cur)
        for cur in cursors:
            await cur.fetchall()

    async def raw_board(conn: psycopg.AsyncConnection[Any], i: int) -> None:
        await pipelined(conn, [board_sql.exists_statement(scope.tenant_id, pid),
                               board_sql.stages_statement(scope.tenant_id, pid),
                               board_sql.counts_statement(scope, pid),
                               board_sql.first_pages_statement(scope, pid, 21)])

    out()
    out("== board (GET /api/v1/pipelines/{id}/board, 20 leads per stage)")
    board_req = Request("GET", f"/api/v1/pipelines/{pid}/board")
    await drive(client, "warm", lambda i: board_req, requests=warm,
                concurrency=args.concurrency, duration=args.duration, meter=meter)
    res = await drive(client, "board", lambda i: board_req, requests=args.requests,
                      concurrency=args.concurrency, duration=args.duration, meter=meter)
    _line("board", (res.latencies, res.wall), await raw.run(args.requests, raw_board), False,
          "p99 <= 150 ms")

    today = datetime.now(UTC).date()
    for days in (30, 365):
        start = today - timedelta(days=days - 1)

        async def raw_metrics(conn: psycopg.AsyncConnection[Any], i: int,
                              start: date = start) -> None:
            await pipelined(conn, [
                board_sql.exists_statement(scope.tenant_id, pid),
                board_sql.stages_statement(scope.tenant_id, pid),
                board_sql.counts_statement(scope, pid),
                board_sql.period_statement(scope.tenant_id, pid, start, today),
                board_sql.histograms_statement(scope.tenant_id, pid, start, today,
                                               EXACT_MEDIAN_LIMIT, today)])

        out()
        out(f"== metrics, the last {days} days (GET /api/v1/pipelines/{{id}}/metrics)")
        req = Request("GET", f"/api/v1/pipelines/{pid}/metrics?from={start}&to={today}")
        await drive(client, "warm", lambda i, r=req: r, requests=warm,
                    concurrency=args.concurrency, duration=args.duration, meter=meter)
        res = await drive(client, "metrics", lambda i, r=req: r, requests=args.requests,
                          concurrency=args.concurrency, duration=args.duration, meter=meter)
        if res.errors:
            out(f"  errors: {res.errors} {res.error_samples}")
        _line(f"metrics {days} days", (res.latencies, res.wall),
              await raw.run(args.requests, raw_metrics), False, "p99 <= 150 ms")
    await client.close()


def main() -> int:
    args = parse_args()
    out("Leadbase pipelines benchmark")
    out(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f} at start")
    server = resolve_server(args)
    head = migrate.head_revision()
    url, marker = open_database(args, server.admin_url, DATA_FORMAT)
    reuse = marker is not None
    api = ApiServer(url, args, Path(args.data_dir) / "pipelines")
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
            out(f"loading {fmt_int(args.leads * MOVES_PER_LEAD)} stage changes")
            load_history(url, tenant, args.leads)
            write_marker(server.admin_url, args.database, {
                "format": DATA_FORMAT, "leads": args.leads, "head": head, "tenant_a": tenant,
                "loaded_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "load_seconds": time.perf_counter() - t})
        settings = pg_settings(url)
        with psycopg.connect(url, autocommit=True) as conn:
            changes = conn.execute("SELECT count(*) FROM stage_changes").fetchone()
        out(f"database: PostgreSQL {settings['server_version']} ({server.description}); "
            f"leads table {settings['leads_size']}; stage changes "
            f"{fmt_int(changes[0] if changes else 0)}")
        out(f"server: leadbase serve --no-worker on {api.base} (one uvicorn process); "
            f"concurrency {args.concurrency}")
        out()
        meter = CpuMeter(api.proc.pid if api.proc else None, postmaster_pid(url))
        asyncio.run(measure(args, api, token, url, tenant, meter))
        out(f"load average {os.getloadavg()[0]:.2f} at the end")
        return 0
    finally:
        api.stop()


if __name__ == "__main__":
    sys.exit(main())
