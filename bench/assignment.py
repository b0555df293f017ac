#!/usr/bin/env python
"""Assignment benchmark: lead creates through the HTTP API with the workspace's
auto-assignment on against the same creates with it off, in the same run, at concurrency
16, in a workspace holding 1,000,000 leads; then the fairness check: 7,000
auto-assignments from 16 concurrent connections over 7 round-robin members must differ by
at most one per member. It prints figures; it is not a test.

    .venv/bin/python bench/assignment.py                         # 1,000,000 leads
    .venv/bin/python bench/assignment.py --leads 20000 --requests 500 --fairness 700
    .venv/bin/python bench/assignment.py --reload                # rebuild the data set

It reuses the ``bench`` package (``database``, ``loader``, ``server``, ``client``,
``report``) and works in its own database (``leadbase_bench_assignment``). Set-up through
the API: 7 agents (no working hours: always available; no capacity) and one round-robin
rule over them with the default flags (working hours and capacity respected), no
condition. Creates are the leads benchmark's kind (names, unique email, a US phone for
90%, company, tags). ``--rounds`` (2) alternate off/on, so a drift of the machine shows;
the ratio is total on over total off. Goal: on >= 80% of off. Leads made here
(``source`` ``bench-assign*``) are deleted at the end.
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

import httpx
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
from bench.loader import (  # noqa: E402
    COMPANY_BASES,
    FIRST_NAMES,
    LAST_NAMES,
    default_list,
    load_leads,
    open_database,
    to_ascii,
)
from bench.report import CpuMeter, fmt_int, machine, out, pct  # noqa: E402
from bench.server import PASSWORD, ApiServer, sign_in  # noqa: E402
from leadbase.db import migrate  # noqa: E402

DATA_FORMAT = 1
SOURCE = "bench-assign"
FAIR_SOURCE = "bench-assign-fair"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--leads", type=int, default=1_000_000)
    p.add_argument("--database", default="leadbase_bench_assignment")
    p.add_argument("--database-url", default=None, help="PostgreSQL server (libpq URI)")
    p.add_argument("--data-dir", default=str(ROOT / "bench" / "data"))
    p.add_argument("--reload", action="store_true", help="rebuild the bench database")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--requests", type=int, default=3000, help="creates per run")
    p.add_argument("--rounds", type=int, default=2, help="off/on pairs")
    p.add_argument("--duration", type=float, default=60.0, help="seconds per run at most")
    p.add_argument("--fairness", type=int, default=7000, help="auto-assignments to check")
    p.add_argument("--members", type=int, default=7)
    p.add_argument("--load-workers", type=int, default=None)
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args()
    args.pool_size = max(args.concurrency, 10)
    args.server_log_level, args.count_cap = "WARNING", 1000
    return args


def create_maker(run_id: str, source: str) -> Any:
    def create(i: int) -> Request:
        rng = random.Random(i * 7_919 + 13)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES[:40])
        fa = "".join(ch for ch in to_ascii(first).lower() if ch.isalpha())
        la = "".join(ch for ch in to_ascii(last).lower() if ch.isalpha())
        body: dict[str, Any] = {"first_name": first, "last_name": last,
                                "email": f"{fa}.{la}.{run_id}.{source[-4:]}{i}@example.net",
                                "source": source, "tags": rng.sample(["a", "b", "c", "d"], 2),
                                "company": rng.choice(COMPANY_BASES)}
        if rng.random() < 0.9:  # (415) 9xx-xxxx: exchanges 900-999 are never loaded
            n = (int(run_id, 16) * 7 + i + (500_000 if source == FAIR_SOURCE else 0)) % 1_000_000
            body["phone"] = f"(415) {900 + n // 10_000}-{n % 10_000:04d}"
        return Request("POST", "/api/v1/leads", orjson.dumps(body), ok=(201,))

    return create


def set_up(base: str, token: str, members: int) -> list[str]:
    """The agents and the one round-robin rule (the workspace's only rule)."""
    headers = {"authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as c:
        for i in range(members):
            r = c.post("/api/v1/users", json={"email": f"bench.assign.agent{i}@example.com",
                                              "name": f"Agent {i}", "password": PASSWORD,
                                              "role": "agent"})
            if r.status_code not in (201, 409):
                raise RuntimeError(f"user: {r.status_code} {r.text}")
        users = c.get("/api/v1/users", params={"q": "bench.assign.agent", "per_page": 200})
        ids = sorted((u["email"], u["id"]) for u in users.json()["data"])
        ids = ids[:members]
        for rule in c.get("/api/v1/assignment/rules", params={"per_page": 200}).json()["data"]:
            c.delete(f"/api/v1/assignment/rules/{rule['id']}")
        r = c.post("/api/v1/assignment/rules", json={
            "name": "Everyone, in turn", "strategy": "round_robin",
            "members": [{"user_id": uid} for _, uid in ids]})
        if r.status_code != 201:
            raise RuntimeError(f"rule: {r.status_code} {r.text}")
    return [uid for _, uid in ids]


def auto(base: str, token: str, on: bool) -> None:
    r = httpx.put(base + "/api/v1/assignment/settings", json={"auto_assign_new_leads": on},
                  headers={"authorization": f"Bearer {token}"}, timeout=30)
    r.raise_for_status()
    time.sleep(0.1)


def clean(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM leads WHERE source LIKE 'bench-assign%%'")
        conn.execute("VACUUM (ANALYZE) leads")


async def measure(args: argparse.Namespace, api: ApiServer, token: str, url: str,
                  tenant: str, members: list[str], meter: CpuMeter) -> bool:
    client = LoopbackClient(api.base, {"authorization": f"Bearer {token}"})
    run_id = uuid.uuid4().hex[:6]
    create = create_maker(run_id, SOURCE)
    out(f"== creates (POST /api/v1/leads), {args.requests} per run, auto-assignment off / on")
    auto(api.base, token, False)
    await drive(client, "warm", create, requests=args.concurrency * 8,
                concurrency=args.concurrency, duration=args.duration, meter=meter,
                offset=900_000)
    totals = {False: [0, 0.0], True: [0, 0.0]}
    lat: dict[bool, list[float]] = {False: [], True: []}
    offset = 0
    for r in range(args.rounds):
        for on in (False, True):
            auto(api.base, token, on)
            res = await drive(client, "on" if on else "off", create, requests=args.requests,
                              concurrency=args.concurrency, duration=args.duration,
                              meter=meter, offset=offset)
            offset += args.requests
            if res.errors:
                out(f"  errors: {res.errors} {res.error_samples}")
            rate = len(res.latencies) / res.wall
            totals[on][0] += len(res.latencies)
            totals[on][1] += res.wall
            lat[on] += res.latencies
            cpu = ", ".join(f"{n} {c:.2f}" for n, c in zip(
                ("client", "server", "PostgreSQL"), res.cpu, strict=False) if c is not None)
            out(f"  round {r + 1} auto-assign {'on ' if on else 'off'} {rate:8,.0f}/s   "
                f"p50 {pct(res.latencies, 0.5):6.1f} ms  p99 {pct(res.latencies, 0.99):6.1f} ms"
                f"   cores: {cpu}")
    off_rate = totals[False][0] / totals[False][1]
    on_rate = totals[True][0] / totals[True][1]
    ratio = on_rate / off_rate
    out(f"  creates             on {on_rate:8,.0f}/s   off (baseline) {off_rate:8,.0f}/s   "
        f"on/off {ratio:5.2f}   (p99 on {pct(lat[True], 0.99):.1f} ms, off "
        f"{pct(lat[False], 0.99):.1f} ms)   target on/off >= 0.80: "
        f"{'met' if ratio >= 0.8 else 'NOT met'}")
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FILTER (WHERE owner_id IS NOT NULL), count(*) "
                           "FROM leads WHERE tenant_id = %s AND source = %s",
                           (tenant, SOURCE)).fetchone()
    assert row is not None
    out(f"  leads created here: {fmt_int(row[1])}, with an owner: {fmt_int(row[0])} "
        f"(the 'on' runs)")

    out()
    out(f"== fairness: {fmt_int(args.fairness)} auto-assignments from {args.concurrency} "
        f"connections over {len(members)} round-robin members")
    auto(api.base, token, True)
    fair = create_maker(run_id, FAIR_SOURCE)
    res = await drive(client, "fair", fair, requests=args.fairness,
                      concurrency=args.concurrency, duration=max(args.duration, 600),
                      meter=meter)
    if res.errors:
        out(f"  errors: {res.errors} {res.error_samples}")
    with psycopg.connect(url, autocommit=True) as conn:
        counts = dict(conn.execute(
            "SELECT owner_id::text, count(*) FROM leads WHERE tenant_id = %s AND source = %s "
            "GROUP BY 1", (tenant, FAIR_SOURCE)).fetchall())
    per = [counts.get(m, 0) for m in members]
    spread = max(per) - min(per)
    out(f"  {fmt_int(len(res.latencies))} created at {len(res.latencies) / res.wall:,.0f}/s; "
        f"per member {per}; unassigned {counts.get(None, 0)}; max - min = {spread}   "
        f"target <= 1: {'met' if spread <= 1 and not counts.get(None) else 'NOT met'}")
    await client.close()
    return ratio >= 0.8 and spread <= 1


def main() -> int:
    args = parse_args()
    out("Leadbase assignment benchmark")
    out(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f} at start")
    server = resolve_server(args)
    head = migrate.head_revision()
    url, marker = open_database(args, server.admin_url, DATA_FORMAT, tidy=clean)
    reuse = marker is not None
    api = ApiServer(url, args, Path(args.data_dir) / "assignment")
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
            write_marker(server.admin_url, args.database, {
                "format": DATA_FORMAT, "leads": args.leads, "head": head, "tenant_a": tenant,
                "loaded_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "load_seconds": time.perf_counter() - t})
        members = set_up(api.base, token, args.members)
        settings = pg_settings(url)
        out(f"database: PostgreSQL {settings['server_version']} ({server.description}); "
            f"leads table {settings['leads_size']}; {fmt_int(args.leads)} leads")
        out(f"server: leadbase serve --no-worker on {api.base} (one uvicorn process); "
            f"concurrency {args.concurrency}; rule: round_robin over {len(members)} agents")
        out()
        meter = CpuMeter(api.proc.pid if api.proc else None, postmaster_pid(url))
        try:
            ok = asyncio.run(measure(args, api, token, url, tenant, members, meter))
        finally:
            auto(api.base, token, False)
            clean(url)
        out(f"load average {os.getloadavg()[0]:.2f} at the end")
        return 0 if ok else 1
    finally:
        api.stop()


if __name__ == "__main__":
    sys.exit(main())
