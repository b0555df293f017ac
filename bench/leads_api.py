#!/usr/bin/env python
"""Leads API benchmark: 1,000,000 leads in one workspace (plus 100,000 in another),
measured over HTTP on loopback. It prints figures; it is not a test.

    .venv/bin/python bench/leads_api.py                      # full size (1M + 100k)
    .venv/bin/python bench/leads_api.py --leads 20000 --other 2000 --requests 300
    .venv/bin/python bench/leads_api.py --reload             # rebuild the data set

What it does:

1. Picks a PostgreSQL server: ``LEADBASE_DATABASE_URL`` (or ``--database-url``) when
   set, else the embedded server in ``bench/data/pgdata``. On it, it uses a dedicated
   database (``leadbase_bench``) and applies the migrations.
2. Starts ``leadbase serve --no-worker`` on 127.0.0.1 (one uvicorn process), registers
   (or signs in to) the two workspaces through the API.
3. Loads the leads with SQL, not through the API: ``INSERT ... SELECT`` over
   ``generate_series`` with deterministic synthetic data (names with accents, emails,
   E.164 phones, statuses, tags, sources, ``created_at`` spread over two years), the
   secondary indexes dropped during the load and rebuilt afterwards, then
   ``VACUUM (ANALYZE)``. A loaded database is reused by later runs while its row
   counts match (``--reload`` forces a new one).
4. Drives each scenario with a lean asyncio HTTP/1.1 client (``--concurrency`` connections,
   at most ``--requests`` requests or ``--duration`` seconds), then repeats it at
   concurrency 1 (``--probe-requests``) to show latency without queueing, replays the
   same requests in-process as calls to ``leadbase.leads.service`` with the time of each
   SQL statement (database time vs application time), and times the exact count
   (through the API and in SQL, with its plan).
5. Removes the leads the create scenario made, and stops the server.

Client, API server and PostgreSQL share this machine's cores: the CPU columns show
what each of them used during a scenario (in cores, from /proc via psutil), and
``other`` what the rest of the machine used meanwhile (a busy machine shows there).
``--what-if-leakproof`` measures a proposed fix (see bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402

from bench.client import (  # noqa: E402
    PROBE_OFFSET,
    REPLAY_OFFSET,
    LoopbackClient,
    Result,
    Scenario,
    drive,
)
from bench.database import (  # noqa: E402
    APP_ROLE,
    Server,
    pg_settings,
    postmaster_pid,
    read_marker,
    recreate_database,
    resolve_server,
    write_marker,
)
from bench.leads_scenarios import build_scenarios, sample_rows  # noqa: E402
from bench.loader import (  # noqa: E402
    CREATED_SOURCE,
    default_list,
    index_names,
    live_counts,
    load_leads,
    vacuum_leads,
)
from bench.replay import print_direct, run_direct  # noqa: E402
from bench.report import CpuMeter, fmt_int, machine, out, print_table, psutil  # noqa: E402
from bench.server import ApiServer, TwinServer, sign_in, token_claims  # noqa: E402
from bench.twins import Pair, check_same_json, print_pairs, print_scaling, run_pairs  # noqa: E402
from leadbase.db import migrate, roles  # noqa: E402
from leadbase.db.urls import with_database  # noqa: E402

DATA_FORMAT = 3  # bump when the generated data changes: older bench databases are rebuilt


# --------------------------------------------------------------------------------------
# The create scenario's leads; the leakproof what-if


def remove_created(url: str, tenant_id: str) -> int:
    """Delete the leads the create scenario made (and their audit entries and events)."""
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant_id,))
        ids = [r[0] for r in conn.execute(
            "SELECT id FROM leads WHERE tenant_id = %s AND source = %s",
            (tenant_id, CREATED_SOURCE)).fetchall()]
        if not ids:
            return 0
        conn.execute("DELETE FROM audit_entries WHERE tenant_id = %s AND entity_id = ANY(%s)",
                     (tenant_id, ids))
        conn.execute("DELETE FROM events WHERE tenant_id = %s AND entity_id = ANY(%s)",
                     (tenant_id, ids))
        conn.execute("DELETE FROM leads WHERE tenant_id = %s AND id = ANY(%s)",
                     (tenant_id, ids))
    return len(ids)


# The operators behind q= (LIKE) and tags= (&&). Not LEAKPROOF in PostgreSQL, so under
# row-level security they can neither use an index nor column statistics.
LEAKPROOF_FUNCS = ("pg_catalog.textlike(text, text)",
                   "pg_catalog.arrayoverlap(anyarray, anyarray)")


def leakproof_state(url: str) -> dict[str, bool]:
    with psycopg.connect(url) as conn:
        sql = "SELECT proleakproof FROM pg_proc WHERE oid = %s::regprocedure"
        return {f: bool(conn.execute(sql, (f,)).fetchone()[0]) for f in LEAKPROOF_FUNCS}


def set_leakproof(url: str, on: bool) -> bool:
    """Mark the operators LEAKPROOF (or not) in the bench database (superuser only)."""
    with psycopg.connect(url, autocommit=True) as conn:
        if conn.execute("SHOW is_superuser").fetchone()[0] != "on":
            return False
        for f in LEAKPROOF_FUNCS:
            conn.execute(f"ALTER FUNCTION {f} {'LEAKPROOF' if on else 'NOT LEAKPROOF'}")
    return True


# --------------------------------------------------------------------------------------
# Count timings


def time_sql_count(url: str, tenant_id: str, where: str, params: tuple[Any, ...],
                   repeat: int) -> tuple[list[float], int, str]:
    """The exact count the API runs (as leadbase_app, RLS on), timed in the database."""
    sql = (f"SELECT count(*) FROM (SELECT leads.id FROM leads WHERE leads.tenant_id = %s "
           f"AND leads.deleted_at IS NULL {where}) AS anon_1")
    times = []
    total = 0
    plan_nodes = ""
    scope_sig = roles.sign(roles.prepare(url).scope_key, tenant_id, "")  # as a request signs it
    with psycopg.connect(url) as conn:
        for k in range(repeat + 1):
            with conn.transaction():
                conn.execute("SELECT set_config('role', %s, true), "
                             "set_config('app.tenant_id', %s, true), "
                             "set_config('app.scope_sig', %s, true)",
                             (APP_ROLE, tenant_id, scope_sig))
                if k == 0:
                    plan = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql,
                                        (tenant_id, *params)).fetchone()[0]
                    plan_nodes = _plan_summary(plan[0]["Plan"])
                    continue
                t = time.perf_counter()
                total = conn.execute(sql, (tenant_id, *params)).fetchone()[0]
                times.append(time.perf_counter() - t)
    return times, total, plan_nodes


def _plan_summary(node: dict[str, Any]) -> str:
    parts = []

    def walk(n: dict[str, Any]) -> None:
        label = n["Node Type"]
        if "Index Name" in n:
            label += f" {n['Index Name']}"
        if n.get("Heap Fetches") is not None:
            label += f" (heap fetches {n['Heap Fetches']})"
        parts.append(label)
        for child in n.get("Plans", []):
            walk(child)

    walk(node)
    return " > ".join(parts)


# --------------------------------------------------------------------------------------
# Rounds: Leadbase and its raw twin, scenario by scenario


def run_round(args: argparse.Namespace, api: ApiServer, url: str, token: str,
              scenarios: list[Scenario], phase: int, pg_pid: int | None) -> list[Pair]:
    """Every scenario against Leadbase (``api``, as started) and, unless ``--no-twin``, its
    raw twin with as many processes, back to back."""
    lb_meter = CpuMeter(api.proc.pid if api.proc else None, pg_pid)
    if args.no_twin:
        return asyncio.run(run_pairs(api.base, None, token, scenarios, args, lb_meter, None,
                                     phase))
    twin = TwinServer(url, args, Path(args.data_dir), workers=api.workers)
    twin.start()
    try:
        if phase == 0:
            check_same_json(api.base, twin.base, token, scenarios)
        twin_meter = CpuMeter(twin.proc.pid if twin.proc else None, pg_pid)
        return asyncio.run(run_pairs(api.base, twin.base, token, scenarios, args, lb_meter,
                                     twin_meter, phase))
    finally:
        twin.stop()


async def run_probe(base: str, token: str, scenarios: list[Scenario],
                    args: argparse.Namespace, meter: CpuMeter) -> list[tuple[Scenario, Result]]:
    client = LoopbackClient(base, {"authorization": f"Bearer {token}"})
    results = []
    try:
        for k, sc in enumerate(scenarios):
            results.append((sc, await drive(client, sc.name, sc.make,
                                            requests=args.probe_requests, concurrency=1,
                                            duration=args.duration, meter=meter,
                                            offset=PROBE_OFFSET + k * args.probe_requests)))
    finally:
        await client.close()
    return results


# --------------------------------------------------------------------------------------
# Main


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--leads", type=int, default=1_000_000, help="leads in workspace A")
    p.add_argument("--other", type=int, default=100_000, help="leads in workspace B")
    p.add_argument("--concurrency", type=int, default=16, help="connections of the client")
    p.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)),
                   help="API processes of the second round (the first has 1; default: the "
                        "number of CPUs; 1: one round only)")
    p.add_argument("--no-twin", action="store_true",
                   help="do not run the raw twin (bench/raw_twin.py) beside each scenario")
    p.add_argument("--requests", type=int, default=2000, help="requests per scenario")
    p.add_argument("--duration", type=float, default=60.0,
                   help="at most this many seconds per scenario")
    p.add_argument("--probe-requests", type=int, default=200,
                   help="requests per scenario at concurrency 1 (0: skip)")
    p.add_argument("--per-page", type=int, default=25, help="per_page of list requests")
    p.add_argument("--reload", action="store_true", help="rebuild the bench database")
    p.add_argument("--database", default="leadbase_bench",
                   help="database to use (dropped and recreated on --reload)")
    p.add_argument("--database-url", default=None,
                   help="libpq URI of the server (default: LEADBASE_DATABASE_URL, else the "
                        "embedded server in --data-dir)")
    p.add_argument("--data-dir", default=str(ROOT / "bench" / "data"),
                   help="embedded server, server log and secrets (gitignored)")
    p.add_argument("--pool-size", type=int, default=None,
                   help="LEADBASE_DB_POOL_SIZE of each server process (default: max(concurrency "
                        "/ processes + 4, 10), max(concurrency, 10) for one process)")
    p.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    p.add_argument("--server-log-level", default="WARNING",
                   help="LEADBASE_LOG_LEVEL of the server (INFO adds access logs)")
    p.add_argument("--load-workers", type=int, default=None,
                   help="parallel sessions for the load (default: number of CPUs)")
    p.add_argument("--seed", type=int, default=1, help="seed of the request mix")
    p.add_argument("--scenarios", default=None,
                   help="comma-separated scenario names to run (e.g. 'create,list q= search'); "
                        "default: all")
    p.add_argument("--what-if-leakproof", action="store_true",  # obsolete: see 0005
                   help="for this run, mark textlike and arrayoverlap LEAKPROOF in the bench "
                        "database (a proposed fix: lets q= and tags= use their GIN indexes "
                        "under RLS; needs a superuser; reverted at the end)")
    p.add_argument("--count-repeat", type=int, default=5, help="timed exact counts")
    p.add_argument("--count-cap", type=int, default=1_000,
                   help="LEADBASE_COUNT_EXACT_LIMIT of the server (count=auto is exact up to it)")
    p.add_argument("--create-rps", type=float, default=500.0)
    p.add_argument("--list-p99-ms", type=float, default=50.0)
    p.add_argument("--search-p99-ms", type=float, default=150.0)
    args = p.parse_args()
    if "bench" not in args.database:
        p.error("--database must contain 'bench' (it is dropped on --reload)")
    if args.leads < 1 or args.other < 0:
        p.error("--leads must be >= 1 and --other >= 0")
    return args


def _interrupted(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, _interrupted)
    started = time.perf_counter()
    out("Leadbase leads API benchmark")
    out(f"machine: {machine()}")
    server = resolve_server(args)
    url = with_database(server.admin_url, args.database)
    head = migrate.head_revision()
    marker = None if args.reload else read_marker(server.admin_url, args.database)
    reuse = bool(marker and marker.get("format") == DATA_FORMAT
                 and marker.get("leads") == args.leads and marker.get("other") == args.other
                 and marker.get("head") == head)
    if reuse:
        assert marker is not None
        counts = live_counts(url, {"a": marker["tenant_a"], "b": marker["tenant_b"]})
        if (counts != {"a": args.leads, "b": args.other}
                or index_names(url) != marker.get("indexes")):
            out(f"bench database {args.database}: counts {counts} or indexes do not match; "
                "reloading")
            reuse = False
    if not reuse:
        url = recreate_database(server.admin_url, args.database)
    migrate.upgrade(url)
    # Migration 0005 marks the search operators LEAKPROOF; the what-if is now the
    # shipped schema, so the benchmark only reports the state it finds.
    args.what_if_leakproof = False

    api = ApiServer(url, args, Path(args.data_dir))
    api.start()
    try:
        return run(args, server, url, api, marker if reuse else None, started, head)
    finally:
        api.stop()
        out(f"server stopped; log in {api.log_path}")


def run(args: argparse.Namespace, server: Server, url: str, api: ApiServer,
        marker: dict[str, Any] | None, started: float, head: str | None) -> int:
    reuse = marker is not None
    token_a, tenant_a = sign_in(api.base, "a", register=not reuse)
    token_b, tenant_b = sign_in(api.base, "b", register=not reuse)
    if reuse:
        assert marker is not None
        load_line = (f"reused (loaded {marker['loaded_at']} in {marker['load_seconds']:.0f} s: "
                     f"{marker['timings']}); --reload to rebuild")
    else:
        workers = args.load_workers or len(os.sched_getaffinity(0))
        out(f"loading {fmt_int(args.leads)} + {fmt_int(args.other)} leads into "
            f"{args.database} ({workers} sessions)")
        t = time.perf_counter()
        plan = [("a", tenant_a, default_list(url, tenant_a), args.leads, 1000)]
        if args.other:
            plan.append(("b", tenant_b, default_list(url, tenant_b), args.other, 2000))
        timings = load_leads(url, plan, workers=workers, chunk_rows=50_000)
        load_seconds = time.perf_counter() - t
        rows = args.leads + args.other
        timings_text = ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
        load_line = (f"loaded {fmt_int(rows)} rows in {load_seconds:.1f} s "
                     f"({rows / load_seconds:,.0f} rows/s overall; {timings_text})")
        write_marker(server.admin_url, args.database, {
            "format": DATA_FORMAT, "leads": args.leads, "other": args.other, "head": head,
            "tenant_a": tenant_a, "tenant_b": tenant_b, "indexes": index_names(url),
            "loaded_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "load_seconds": load_seconds, "timings": timings_text,
        })
    leftovers = remove_created(url, tenant_a)
    if leftovers:
        out(f"removed {leftovers} leads left by an earlier run's create scenario; vacuuming")
        vacuum_leads(url)

    settings = pg_settings(url)
    out(f"database: PostgreSQL {settings['server_version']} ({server.description}), "
        f"database {args.database}; shared_buffers={settings['shared_buffers']} "
        f"work_mem={settings['work_mem']} effective_cache_size="
        f"{settings['effective_cache_size']} jit={settings['jit']} "
        f"synchronous_commit={settings['synchronous_commit']} "
        f"max_parallel_workers_per_gather={settings['max_parallel_workers_per_gather']}")
    out("leakproof operators (migration 0005): " + ", ".join(
        f"{name.split('(')[0].split('.')[-1]}={'yes' if on else 'NO'}"
        for name, on in leakproof_state(url).items()))
    out(f"data: workspace A {fmt_int(args.leads)} leads, workspace B {fmt_int(args.other)} "
        f"leads; leads table {settings['leads_size']} (heap {settings['leads_heap']})")
    out(f"load: {load_line}")
    out(f"server: leadbase serve --no-worker --workers 1, then --workers {args.workers}, on "
        f"{api.base}; LEADBASE_DB_POOL_SIZE={api.pool_size} per process (1 process) "
        f"DB_MAX_OVERFLOW=10 "
        f"LOG_LEVEL={args.server_log_level} (no access log below INFO) rate limit off")
    out(f"client: lean asyncio HTTP/1.1 (LoopbackClient), keep-alive, concurrency "
        f"{args.concurrency}, {args.requests} requests or {args.duration:g} s per scenario "
        f"(after a warm-up), per_page={args.per_page}, count=auto (the API default)")

    # Isolation sanity check: workspace B cannot read a lead of workspace A.
    sample = sample_rows(url, tenant_a, args.leads)
    if not sample:
        raise RuntimeError("no leads sampled")
    with httpx.Client(base_url=api.base, timeout=30) as c:
        a = c.get(f"/api/v1/leads/{sample[0][0]}", headers={"authorization": f"Bearer {token_a}"})
        b = c.get(f"/api/v1/leads/{sample[0][0]}", headers={"authorization": f"Bearer {token_b}"})
    out(f"isolation check: A reads its lead {a.status_code}, B reads it {b.status_code} "
        f"({'ok' if (a.status_code, b.status_code) == (200, 404) else 'WRONG'})")

    cpus = len(os.sched_getaffinity(0))
    meter = CpuMeter(api.proc.pid if api.proc else None, postmaster_pid(url))
    if psutil is not None:
        before = meter.snapshot()
        time.sleep(3)
        idle = CpuMeter.cores(before, meter.snapshot())
        if idle[3] is not None:
            out(f"background: other processes used {idle[3]:.2f} of {cpus} cores just before "
                f"the run (the 'other' column tracks them per scenario)")
    run_id = f"{random.SystemRandom().getrandbits(24):06x}"
    scenarios = build_scenarios(args, sample, run_id)
    if args.scenarios:
        wanted = [w.strip() for w in args.scenarios.split(",") if w.strip()]
        unknown = sorted(set(wanted) - {sc.name for sc in scenarios})
        if unknown:
            raise SystemExit(f"unknown scenarios {unknown}; known: "
                             f"{', '.join(sc.name for sc in scenarios)}")
        scenarios = [sc for sc in scenarios if sc.name in wanted]
    pg_pid = postmaster_pid(url)
    phases = [1] + ([args.workers] if args.workers > 1 else [])
    rounds: list[list[Pair]] = []
    all_ok = True
    for phase, workers in enumerate(phases):
        if api.workers != workers:
            api.restart(workers, args)
        rounds.append(run_round(args, api, url, token_a, scenarios, phase, pg_pid))
        out()
        if args.no_twin:
            out(f"== concurrency {args.concurrency}, {workers} API process(es) (workspace A, "
                f"{fmt_int(args.leads)} leads). cpu = cores used during the scenario (of "
                f"{cpus}, shared by client, server and PostgreSQL)")
            all_ok &= print_table([(p.scenario, p.leadbase) for p in rounds[-1]],
                                  show_target=True)
            continue
        all_ok &= print_pairs(rounds[-1], workers, args.concurrency)
        out(f"   leadbase alone, against the latency and rate targets ({workers} "
            f"process(es); cpu = cores used: client, server, PostgreSQL, other):")
        all_ok &= print_table([(p.scenario, p.leadbase) for p in rounds[-1]], show_target=True)
    if len(rounds) == 2:
        out()
        all_ok &= print_scaling(rounds[0], rounds[1], phases[1])
    if api.workers != 1 and args.probe_requests:
        api.restart(1, args)
    if args.probe_requests:
        meter = CpuMeter(api.proc.pid if api.proc else None, pg_pid)
        probe_results = asyncio.run(run_probe(api.base, token_a, scenarios, args, meter))
        out()
        out("== concurrency 1, 1 API process (the same requests one at a time: latency "
            "without queueing)")
        print_table(probe_results, show_target=False)

    if args.probe_requests:
        out()
        out("== in-process replay at concurrency 1: the same requests as calls to "
            "leadbase.leads.service")
        out("   (no HTTP, FastAPI or pydantic; one transaction each with the scope and "
            "membership queries; sql = time in cursor.execute + commit;")
        out("   other = cores used by everything but this process, PostgreSQL included)")
        user_a = str(token_claims(token_a)["sub"])
        direct = asyncio.run(run_direct(url, scenarios, tenant_a, user_a, args.probe_requests,
                                        offset=REPLAY_OFFSET, duration=args.duration))
        print_direct(direct)

    removed = remove_created(url, tenant_a)
    t = time.perf_counter()
    vacuum_leads(url)
    out()
    out(f"cleanup: removed {removed} leads made by the create scenario, VACUUM (ANALYZE) "
        f"leads {time.perf_counter() - t:.1f} s")

    # Exact counts
    out()
    out(f"== exact count on workspace A ({fmt_int(args.leads)} leads)")
    with httpx.Client(base_url=api.base, timeout=120,
                      headers={"authorization": f"Bearer {token_a}"}) as c:
        for label, query in (("all leads", ""),
                             ("status=new,contacted&tags=newsletter",
                              "&status=new,contacted&tags=newsletter")):
            times, total = [], None
            for k in range(args.count_repeat + 1):
                t = time.perf_counter()
                r = c.get(f"/api/v1/leads?per_page=1&count=exact{query}")
                dt = time.perf_counter() - t
                if r.status_code != 200:
                    out(f"  API count=exact {label}: HTTP {r.status_code} {r.text[:200]}")
                    break
                total = r.json()["total"]
                if k:
                    times.append(dt)
            if times:
                out(f"  API GET /api/v1/leads?per_page=1&count=exact{query}: median "
                    f"{statistics.median(times) * 1000:.1f} ms (min {min(times) * 1000:.1f}, "
                    f"max {max(times) * 1000:.1f}, n={len(times)}), total={fmt_int(total or 0)}")
    for label, where, params in (
            ("all leads", "", ()),
            ("status IN (new, contacted) AND tags && {newsletter}",
             "AND leads.status IN ('new', 'contacted') AND leads.tags && %s",
             (["newsletter"],))):
        times, total, plan = time_sql_count(url, tenant_a, where, params, args.count_repeat)
        if not times:
            continue
        out(f"  SQL count(*) {label} (as {APP_ROLE}, RLS on): median "
            f"{statistics.median(times) * 1000:.1f} ms (min {min(times) * 1000:.1f}, "
            f"max {max(times) * 1000:.1f}, n={len(times)}), count={fmt_int(total)}")
        out(f"    plan: {plan}")
    out()
    out(f"targets: {'all met' if all_ok else 'MISSED (see MISS above)'}; "
        f"total bench time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
