#!/usr/bin/env python
"""Export benchmark: ``GET /api/v1/leads/export?format=csv`` over 1,100,000 leads of one
workspace, measured over HTTP on loopback. It prints figures; it is not a test.

    .venv/bin/python bench/export_1m.py                     # 1,100,000 leads
    .venv/bin/python bench/export_1m.py --leads 50000       # a quick check
    .venv/bin/python bench/export_1m.py --xlsx              # also an XLSX export
    .venv/bin/python bench/export_1m.py --reload            # rebuild the data set

It reuses the ``bench`` package (``database``, ``loader``, ``server``, ``report``): the
same server choice (``LEADBASE_DATABASE_URL`` or ``--database-url``, else the embedded
server in ``bench/data/pgdata``), the same deterministic CRM-shaped leads loaded with
SQL, the same ``leadbase serve --no-worker`` subprocess. It works in its own database
(``leadbase_bench_export``) so that it never migrates another benchmark's database. The
workspace gets two custom fields (``industry``, ``employees``; 40% of the leads have
values), so the export has custom columns too. A loaded database is reused while its
size and migration head match.

Figures: time to the first byte of the body, total time, rows/s, MB/s, and the API
server's resident memory before and at its peak during the export (sampled every 50 ms
from /proc via psutil). CPU columns show what the server, PostgreSQL and the rest of the
machine used: client, server and PostgreSQL share the machine's cores.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402

from bench.database import (  # noqa: E402
    pg_settings,
    postmaster_pid,
    read_marker,
    recreate_database,
    resolve_server,
    write_marker,
)
from bench.loader import default_list, live_counts, load_leads  # noqa: E402
from bench.report import CpuMeter, fmt_bytes, fmt_int, machine, out, psutil  # noqa: E402
from bench.server import ApiServer, sign_in  # noqa: E402
from leadbase.db import migrate  # noqa: E402
from leadbase.db.urls import with_database  # noqa: E402

DATA_FORMAT = 1
TARGET_SECONDS = 30.0
TARGET_TTFB = 1.0


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--leads", type=int, default=1_100_000, help="leads in the workspace")
    p.add_argument("--database", default="leadbase_bench_export")
    p.add_argument("--database-url", default=None, help="PostgreSQL server (libpq URI)")
    p.add_argument("--data-dir", default=str(ROOT / "bench" / "data"))
    p.add_argument("--reload", action="store_true", help="rebuild the bench database")
    p.add_argument("--xlsx", action="store_true", help="also time an XLSX export")
    p.add_argument("--xlsx-query", default="status=converted",
                   help="filters of the XLSX export (default: ~5%% of the leads)")
    p.add_argument("--query", default="", help="extra filters, e.g. 'status=new'")
    p.add_argument("--no-cli", action="store_true",
                   help="skip `leadbase export` (the background job's code path) to a file")
    p.add_argument("--load-workers", type=int, default=None)
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args()
    # What bench/leads_api.ApiServer reads.
    args.pool_size, args.server_log_level, args.count_cap = 10, "WARNING", 10_000
    return args


class RssSampler(threading.Thread):
    """Peak resident memory of one process, sampled every 50 ms."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid) if psutil else None
        self.peak = self.current()
        self.running = True

    def current(self) -> int:
        return int(self.proc.memory_info().rss) if self.proc else 0

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.current())
            time.sleep(0.05)

    def stop(self) -> int:
        self.running = False
        self.join()
        return self.peak


def add_fields(api_base: str, token: str) -> None:
    with httpx.Client(base_url=api_base, timeout=30,
                      headers={"authorization": f"Bearer {token}"}) as c:
        for body in ({"name": "Industry", "code": "industry", "type": "STRING"},
                     {"name": "Employees", "code": "employees", "type": "INT"}):
            r = c.post("/api/v1/fields", json=body)
            if r.status_code != 201:
                raise RuntimeError(f"field {body['code']}: {r.status_code} {r.text}")


def timed_export(api: ApiServer, token: str, fmt: str, query: str,
                 meter: CpuMeter) -> dict[str, Any]:
    assert api.proc is not None
    sampler = RssSampler(api.proc.pid)
    rss_before = sampler.current()
    sampler.start()
    cpu_before = meter.snapshot()
    url = f"/api/v1/leads/export?format={fmt}" + (f"&{query}" if query else "")
    size = lines = 0
    ttfb = None
    started = time.perf_counter()
    with httpx.Client(base_url=api.base, timeout=600,
                      headers={"authorization": f"Bearer {token}"}) as c, \
            c.stream("GET", url) as resp:
        if resp.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {resp.status_code} {resp.read()[:300]!r}")
        for chunk in resp.iter_raw(1 << 16):
            if ttfb is None:
                ttfb = time.perf_counter() - started
            size += len(chunk)
            lines += chunk.count(b"\n")  # no generated value holds a newline
    total = time.perf_counter() - started
    cores = CpuMeter.cores(cpu_before, meter.snapshot())
    peak = sampler.stop()
    return {"url": url, "ttfb": ttfb or total, "total": total, "bytes": size,
            "rows": lines - 1 if fmt == "csv" else None, "rss_before": rss_before,
            "rss_peak": peak, "cores": cores}


def timed_cli(url: str, api: ApiServer, slug: str, out_dir: Path) -> dict[str, Any]:
    """``leadbase export`` to a file: the code path of a background export job."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "leads.csv"
    env = {**api.env, "LEADBASE_DATABASE_URL": url}
    cmd = [sys.executable, "-c",
           "import sys; from leadbase.cli import main; sys.argv[0] = 'leadbase'; main()",
           "export", "--workspace", slug, "-o", str(target)]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    sampler = RssSampler(proc.pid)
    sampler.start()
    output, _ = proc.communicate()
    total = time.perf_counter() - started
    peak = sampler.stop()
    if proc.returncode != 0:
        raise RuntimeError(f"leadbase export failed: {output.decode()[-500:]}")
    size = target.stat().st_size
    with target.open("rb") as f:
        rows = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b"")) - 1
    target.unlink()
    return {"total": total, "bytes": size, "rows": rows, "rss_peak": peak}


def workspace_slug(url: str, tenant_id: str) -> str:
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant_id,))
        row = conn.execute("SELECT slug FROM tenants WHERE id = %s", (tenant_id,)).fetchone()
    return str(row[0])


def report(r: dict[str, Any], cpus: int) -> None:
    rows = r["rows"]
    out(f"  GET {r['url']}")
    out(f"    first byte after {r['ttfb'] * 1000:.0f} ms; all {fmt_bytes(r['bytes'])} in "
             f"{r['total']:.1f} s ({r['bytes'] / r['total'] / 2**20:.1f} MB/s)"
             + (f"; {fmt_int(rows)} rows, {rows / r['total']:,.0f} rows/s" if rows else ""))
    grew = fmt_bytes(r["rss_peak"] - r["rss_before"])
    out(f"    API server RSS: {fmt_bytes(r['rss_before'])} before, peak "
             f"{fmt_bytes(r['rss_peak'])} (+{grew})")
    names = ("bench client", "API server", "PostgreSQL", "other processes")
    used = ", ".join(f"{n} {c:.2f}" for n, c in zip(names, r["cores"], strict=False)
                     if c is not None)
    if used:
        out(f"    cores used (of {cpus}): {used}")


def main() -> int:
    args = parse_args()
    out("Leadbase export benchmark")
    out(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f} at start")
    server = resolve_server(args)
    url = with_database(server.admin_url, args.database)
    head = migrate.head_revision()
    marker = None if args.reload else read_marker(server.admin_url, args.database)
    reuse = bool(marker and marker.get("format") == DATA_FORMAT
                 and marker.get("leads") == args.leads and marker.get("head") == head)
    if reuse:
        assert marker is not None
        counts = live_counts(url, {"a": marker["tenant_a"]})
        if counts != {"a": args.leads}:
            out(f"{args.database}: counts {counts} do not match; reloading")
            reuse = False
    if not reuse:
        url = recreate_database(server.admin_url, args.database)
    migrate.upgrade(url)
    api = ApiServer(url, args, Path(args.data_dir) / "export")
    api.start()
    try:
        token, tenant = sign_in(api.base, "a", register=not reuse)
        if reuse:
            assert marker is not None
            out(f"data: reused {args.database} (loaded {marker['loaded_at']} in "
                     f"{marker['load_seconds']:.0f} s); --reload to rebuild")
        else:
            add_fields(api.base, token)
            workers = args.load_workers or len(os.sched_getaffinity(0))
            out(f"loading {fmt_int(args.leads)} leads into {args.database}")
            t = time.perf_counter()
            timings = load_leads(url, [("a", tenant, default_list(url, tenant),
                                             args.leads, 1000)],
                                      workers=workers, chunk_rows=50_000)
            seconds = time.perf_counter() - t
            out(f"loaded in {seconds:.1f} s ({timings})")
            write_marker(server.admin_url, args.database, {
                "format": DATA_FORMAT, "leads": args.leads, "head": head, "tenant_a": tenant,
                "loaded_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "load_seconds": seconds})
        settings = pg_settings(url)
        out(f"database: PostgreSQL {settings['server_version']} ({server.description}); "
                 f"leads table {settings['leads_size']}; shared_buffers="
                 f"{settings['shared_buffers']}")
        out(f"server: leadbase serve --no-worker on {api.base} (one uvicorn process)")
        cpus = len(os.sched_getaffinity(0))
        meter = CpuMeter(api.proc.pid if api.proc else None, postmaster_pid(url))
        before = meter.snapshot()
        time.sleep(2)
        idle = CpuMeter.cores(before, meter.snapshot())
        if idle[3] is not None:
            out(f"background: other processes used {idle[3]:.2f} of {cpus} cores "
                     "just before the run")
        out()
        out("== CSV export, streamed (warm-up: a 1-row export first)")
        timed_export(api, token, "csv", "q=zzzzzz", meter)
        csv_run = timed_export(api, token, "csv", args.query, meter)
        report(csv_run, cpus)
        ok = csv_run["total"] <= TARGET_SECONDS and csv_run["ttfb"] <= TARGET_TTFB
        out(f"    target: all rows in <= {TARGET_SECONDS:.0f} s, first byte <= "
                 f"{TARGET_TTFB:.0f} s: {'met' if ok else 'MISSED'}")
        if not args.no_cli:
            out()
            out("== leadbase export -o FILE (the code path of POST /api/v1/exports jobs)")
            cli = timed_cli(url, api, workspace_slug(url, tenant), Path(args.data_dir) / "export")
            out(f"    {fmt_int(cli['rows'])} rows, {fmt_bytes(cli['bytes'])} in "
                     f"{cli['total']:.1f} s including start-up ({cli['rows'] / cli['total']:,.0f}"
                     f" rows/s); peak RSS of the process {fmt_bytes(cli['rss_peak'])}")
        if args.xlsx:
            out()
            out("== XLSX export (built in a scratch file, then sent)")
            xlsx = timed_export(api, token, "xlsx", args.xlsx_query, meter)
            with httpx.Client(base_url=api.base, timeout=120,
                              headers={"authorization": f"Bearer {token}"}) as c:
                xlsx["rows"] = c.get(f"/api/v1/leads?per_page=1&count=exact&"
                                     f"{args.xlsx_query}").json()["total"]
            report(xlsx, cpus)
        out(f"load average {os.getloadavg()[0]:.2f} at the end")
        return 0
    finally:
        api.stop()


if __name__ == "__main__":
    sys.exit(main())
