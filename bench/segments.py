#!/usr/bin/env python
"""Segments benchmark: a segment's count and the first page of its members for typical
rules, in a workspace of 1,000,000 leads, through the HTTP API at concurrency 16, each
beside a raw-driver baseline of the same SQL. It prints figures; it is not a test.

    .venv/bin/python bench/segments.py                           # 1,000,000 leads
    .venv/bin/python bench/segments.py --leads 20000 --requests 300   # a quick check
    .venv/bin/python bench/segments.py --reload                  # rebuild the data set

It reuses the ``bench`` package (``database``, ``loader``, ``server``, ``client``,
``report``) and works in its own database (``leadbase_bench_segments``). Data: the
loader's CRM-shaped leads, a custom field ``industry`` (the loader's ``fields`` hold it
for 40% of leads), and in SQL 1-3 calls for 15% of the leads over the last 60 days.

Rules (one dynamic segment each, made through the API): ``status in``, ``source eq +
score gte``, ``tags contains``, ``created newer_than_days``, a custom field ``eq``, an
activities count, and two rules no index fits (``country eq``, common; ``company
starts_with``, rare). Scenarios: ``count`` (``GET /segments/{id}/count``: counted up to
10,000 when the planner expects no more, the planner's estimate beyond) and ``members``
(``GET /segments/{id}/members?per_page=25``: the page and its total, as the lead list
answers it), each against the same statements on psycopg (those the service runs for
the leads; the API's own extra work — authentication, the segment's row, the workspace's
rule catalog, JSON — is what the ratio shows). Then, for the rules no index fits, the
exact count (``?exact=true``). Target: p99 <= 100 ms for count and first page.
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

import httpx
import orjson
import psycopg
from psycopg.types.json import Jsonb

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
from bench.pipelines import RawRunner  # noqa: E402
from bench.report import CpuMeter, fmt_int, machine, out, pct  # noqa: E402
from bench.server import ApiServer, sign_in  # noqa: E402
from leadbase.db import migrate  # noqa: E402

DATA_FORMAT = 1
PREFIX = "bench: "
COUNT_CAP = 10_000  # leadbase.segments.endpoints.COUNT_CAP
RULES: list[tuple[str, dict[str, Any]]] = [
    ("status in", {"field": "status", "op": "in", "value": ["new", "contacted"]}),
    ("source eq + score gte", {"all": [{"field": "source", "op": "eq", "value": "website"},
                                       {"field": "score", "op": "gte", "value": 70}]}),
    ("tags contains", {"field": "tags", "op": "contains", "value": "vip"}),
    ("created newer_than_days", {"field": "created_at", "op": "newer_than_days",
                                 "value": 30}),
    ("custom field eq", {"field": "fields.industry", "op": "eq", "value": "retail"}),
    ("activities count", {"field": "activities.call", "op": "gte", "value": 2,
                          "within_days": 30}),
    ("no index: country eq", {"field": "country", "op": "eq", "value": "MX"}),
    ("no index: company prefix", {"field": "company", "op": "starts_with",
                                  "value": "Wonka Labs"}),
]
NO_INDEX = ("no index: country eq", "no index: company prefix")

_CALLS_SQL = """
INSERT INTO activities (id, tenant_id, lead_id, type, attributes, occurred_at, completed_at)
SELECT gen_random_uuid(), l.tenant_id, l.id, 'call', '{}'::jsonb, at, at
FROM (SELECT id, tenant_id, abs(hashint8extended(number, 77)) AS h FROM leads
      WHERE tenant_id = %(t)s AND number >= %(lo)s AND number < %(hi)s) AS l
CROSS JOIN LATERAL generate_series(1, 1 + (l.h %% 3)::int) AS k
CROSS JOIN LATERAL (SELECT now() - ((l.h / 7 + k * 7919) %% 5184000) * interval '1 second'
                    AS at) AS t
WHERE l.h %% 100 < 15
"""


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--leads", type=int, default=1_000_000)
    p.add_argument("--database", default="leadbase_bench_segments")
    p.add_argument("--database-url", default=None, help="PostgreSQL server (libpq URI)")
    p.add_argument("--data-dir", default=str(ROOT / "bench" / "data"))
    p.add_argument("--reload", action="store_true", help="rebuild the bench database")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--requests", type=int, default=2000, help="requests per scenario")
    p.add_argument("--duration", type=float, default=60.0, help="seconds per scenario at most")
    p.add_argument("--load-workers", type=int, default=None)
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args()
    args.pool_size = max(args.concurrency, 10)
    args.server_log_level, args.count_cap = "WARNING", 1000
    return args


def load_activities(url: str, tenant: str, leads: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        step = 200_000
        for lo in range(1, leads + 1, step):
            conn.execute(_CALLS_SQL, {"t": tenant, "lo": lo, "hi": lo + step})
        conn.execute("VACUUM (ANALYZE) activities")


def ensure_segments(base: str, token: str) -> dict[str, str]:
    """The bench's segments by rule label (made on the first run), and the field."""
    h = {"authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, timeout=60, headers=h) as client:
        fields = client.get("/api/v1/fields?per_page=200").json()["data"]
        if not any(f["code"] == "industry" for f in fields):
            r = client.post("/api/v1/fields", json={"name": "Industry", "code": "industry",
                                                    "type": "STRING"})
            assert r.status_code == 201, r.text
        found = {s["name"]: s["id"] for s in client.get(
            f"/api/v1/segments?per_page=200&q={PREFIX.strip()}").json()["data"]}
        ids = {}
        for label, condition in RULES:
            name = PREFIX + label
            if name not in found:
                r = client.post("/api/v1/segments", json={"name": name,
                                                          "condition": condition})
                assert r.status_code == 201, r.text
                found[name] = r.json()["id"]
            ids[label] = found[name]
    return ids


class Statements:
    """The SQL the segments service runs for the leads of one rule, compiled in this
    process from the same modules (rules.to_sql, leads.listing), as SQL text and
    parameters for psycopg."""

    def __init__(self, url: str, tenant: str) -> None:
        self.url, self.tenant = url, tenant

    async def build(self) -> dict[str, dict[str, tuple[str, dict[str, Any]]]]:
        import uuid

        from sqlalchemy import func, select
        from sqlalchemy.dialects import postgresql
        from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

        from leadbase import rules
        from leadbase.kit.pagination import SortColumn
        from leadbase.leads import listing
        from leadbase.leads.repository import ID_COLUMN, LeadSet, Readable, T, conditions

        dialect = postgresql.psycopg.dialect()  # type: ignore[attr-defined]

        def compiled(stmt: Any) -> tuple[str, dict[str, Any]]:
            c = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
            params = {k: Jsonb(v) if isinstance(v, dict) else v for k, v in c.params.items()}
            return str(c), params

        tenant_id = uuid.UUID(self.tenant)
        engine = create_async_engine(self.url.replace("postgresql://", "postgresql+psycopg://"))
        async with AsyncSession(engine) as session:
            catalog = await rules.load_catalog(session, tenant_id=tenant_id)
        await engine.dispose()
        now = datetime.now(UTC)
        sort = [SortColumn("created_at", T.c.created_at, True, False),
                SortColumn("id", ID_COLUMN, True, False)]
        out_: dict[str, dict[str, tuple[str, dict[str, Any]]]] = {}
        for label, condition in RULES:
            rule = rules.parse(condition, catalog, path="condition")
            leads = LeadSet(scope=Readable(tenant_id),
                            extra=(rules.to_sql(rule, now=now, tenant_id=tenant_id),))
            ids = select(T.c.id).where(*conditions(leads))
            explain_sql, explain_params = compiled(ids)
            out_[label] = {
                "explain": ("EXPLAIN (FORMAT JSON) " + explain_sql, explain_params),
                "count_cap": compiled(select(func.count()).select_from(
                    ids.limit(COUNT_CAP + 1).subquery())),
                "count_1000": compiled(select(func.count()).select_from(
                    ids.limit(1001).subquery())),
                "count_exact": compiled(select(func.count()).select_from(ids.subquery())),
                "page": compiled(listing.list_query(leads, sort, None, 0, 26)),
            }
        return out_


async def _estimate(conn: psycopg.AsyncConnection[Any],
                    stmt: tuple[str, dict[str, Any]]) -> int:
    row = await (await conn.execute(stmt[0].encode(), stmt[1])).fetchone()
    assert row is not None
    plan = orjson.loads(row[0]) if isinstance(row[0], str | bytes) else row[0]
    return int(plan[0]["Plan"]["Plan Rows"])


def _scans(plan: dict[str, Any]) -> list[str]:
    found = []
    if "Scan" in plan["Node Type"]:
        found.append(f"{plan['Node Type']} {plan.get('Index Name') or plan.get('Relation Name')}")
    for child in plan.get("Plans", []):
        found += _scans(child)
    return found


def _line(name: str, api: tuple[list[float], float], raw: tuple[list[float], float],
          note: str = "") -> None:
    (al, aw), (rl, _) = api, raw
    a, r = pct(al, 0.99), pct(rl, 0.99)
    out(f"  {name:<26} p99 API {a:7.1f} ms   raw {r:7.1f} ms   API/raw {a / r:5.2f}   "
        f"(p50 API {pct(al, 0.5):6.1f} ms, {len(al) / aw:6,.0f}/s){note}")


async def measure(args: argparse.Namespace, api: ApiServer, token: str, url: str,
                  tenant: str, ids: dict[str, str], meter: CpuMeter) -> None:
    statements = await Statements(url, tenant).build()
    raw = RawRunner(url, tenant, args.concurrency)
    client = LoopbackClient(api.base, {"authorization": f"Bearer {token}"})
    warm = args.concurrency * 4

    out("== the rules: matches, the planner's estimate, how the count is found")
    plan: dict[str, dict[str, Any]] = {}
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        for label, _ in RULES:
            s = statements[label]
            guess = await _estimate(conn, s["explain"])
            t = time.perf_counter()
            row = await (await conn.execute(s["count_exact"][0].encode(),
                                            s["count_exact"][1])).fetchone()
            exact_ms = (time.perf_counter() - t) * 1000
            shape = await (await conn.execute(
                ("EXPLAIN (FORMAT JSON) " + s["count_exact"][0]).encode(),
                s["count_exact"][1])).fetchone()
            assert row is not None and shape is not None
            top = shape[0][0]["Plan"] if not isinstance(shape[0], str | bytes) \
                else orjson.loads(shape[0])[0]["Plan"]
            plan[label] = {"guess": guess, "matches": int(row[0])}
            out(f"  {label:<26} {fmt_int(row[0]):>10} leads, estimate {fmt_int(guess):>10}; "
                f"exact count alone {exact_ms:7.1f} ms; {', '.join(_scans(top)[:3])}")

    def raw_count(label: str) -> Any:
        s = statements[label]
        counted = plan[label]["guess"] <= COUNT_CAP

        async def work(conn: psycopg.AsyncConnection[Any], i: int) -> None:
            await _estimate(conn, s["explain"])
            if counted:
                await (await conn.execute(s["count_cap"][0].encode(),
                                          s["count_cap"][1])).fetchone()
        return work

    def raw_members(label: str) -> Any:
        s = statements[label]
        counted = plan[label]["guess"] <= args.count_cap

        async def work(conn: psycopg.AsyncConnection[Any], i: int) -> None:
            rows = await (await conn.execute(s["page"][0].encode(), s["page"][1])).fetchall()
            if len(rows) > 25:
                await _estimate(conn, s["explain"])
                if counted:
                    await (await conn.execute(s["count_1000"][0].encode(),
                                              s["count_1000"][1])).fetchone()
        return work

    def raw_exact(label: str) -> Any:
        s = statements[label]

        async def work(conn: psycopg.AsyncConnection[Any], i: int) -> None:
            await (await conn.execute(s["count_exact"][0].encode(),
                                      s["count_exact"][1])).fetchone()
        return work

    scenarios = [
        ("count (GET /api/v1/segments/{id}/count)", "/count", raw_count, RULES, 1),
        ("first page of members (GET /api/v1/segments/{id}/members?per_page=25)",
         "/members?per_page=25", raw_members, RULES, 1),
        ("exact count, the rules no index fits (GET .../count?exact=true)",
         "/count?exact=true", raw_exact, [r for r in RULES if r[0] in NO_INDEX], 4),
    ]
    for title, suffix, raw_work, chosen, divisor in scenarios:
        out()
        out(f"== {title}")
        n = max(args.concurrency, args.requests // divisor)
        for label, _ in chosen:
            req = Request("GET", f"/api/v1/segments/{ids[label]}{suffix}")
            await drive(client, "warm", lambda i, r=req: r, requests=warm,
                        concurrency=args.concurrency, duration=args.duration, meter=meter)
            res = await drive(client, label, lambda i, r=req: r, requests=n,
                              concurrency=args.concurrency, duration=args.duration,
                              meter=meter)
            if res.errors:
                out(f"  {label}: errors {res.errors} {res.error_samples}")
            base = await raw.run(n, raw_work(label))
            note = ""
            if suffix == "/count":
                conn = client.acquire()
                _, body = await conn.request("GET", req.url, None)
                client.release(conn)
                got = orjson.loads(body)
                note = f"  -> {got['method']} {fmt_int(got['count'])}"
            _line(label, (res.latencies, res.wall), base, note)
    await client.close()
    out()
    out("target: count and first page p99 <= 100 ms at 16 connections")


def main() -> int:
    args = parse_args()
    out("Leadbase segments benchmark")
    out(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f} at start")
    server = resolve_server(args)
    head = migrate.head_revision()
    url, marker = open_database(args, server.admin_url, DATA_FORMAT)
    reuse = marker is not None
    api = ApiServer(url, args, Path(args.data_dir) / "segments")
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
            out("loading calls for 15% of the leads")
            load_activities(url, tenant, args.leads)
            write_marker(server.admin_url, args.database, {
                "format": DATA_FORMAT, "leads": args.leads, "head": head, "tenant_a": tenant,
                "loaded_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "load_seconds": time.perf_counter() - t})
        ids = ensure_segments(api.base, token)
        settings = pg_settings(url)
        with psycopg.connect(url, autocommit=True) as conn:
            calls = conn.execute("SELECT count(*) FROM activities").fetchone()
        out(f"database: PostgreSQL {settings['server_version']} ({server.description}); "
            f"leads table {settings['leads_size']}; activities "
            f"{fmt_int(calls[0] if calls else 0)}")
        out(f"server: leadbase serve --no-worker on {api.base} (one uvicorn process); "
            f"concurrency {args.concurrency}; {args.requests} requests per scenario")
        out()
        meter = CpuMeter(api.proc.pid if api.proc else None, postmaster_pid(url))
        asyncio.run(measure(args, api, token, url, tenant, ids, meter))
        out(f"load average {os.getloadavg()[0]:.2f} at the end")
        return 0
    finally:
        api.stop()


if __name__ == "__main__":
    sys.exit(main())
