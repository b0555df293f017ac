#!/usr/bin/env python
"""Import benchmark: a realistic 1,000,000-row CSV imported through ``POST
/api/v1/imports`` into a workspace that already holds 100,000 leads, run by a separate
``leadbase worker`` process. It prints figures; it is not a test.

    .venv/bin/python bench/import_1m.py                   # 1,000,000 rows, 100,000 leads
    .venv/bin/python bench/import_1m.py --rows 50000 --existing 10000   # a quick check
    .venv/bin/python bench/import_1m.py --no-export       # skip the export afterwards

The file (``bench/data/import/leads_<rows>.csv``, generated once, deterministic): names
with accents, unique emails, phones in mixed formats (``415-555-2672``, ``(415)
555-2673``, ``+1 415 555 2674``, ``4155552675``, ``+34 612 345 678``, ``+52 55 1234
5678``), companies, titles, sources, tags, three custom fields (``Edad`` INT,
``Presupuesto`` DECIMAL, ``Alta`` DATE) and a column that lands in metadata; 2% invalid
rows (bad email, bad phone, bad number), 3% duplicates of leads already in the
workspace, 1% duplicates of earlier rows of the file.

It reuses the ``bench`` package (server choice: ``LEADBASE_DATABASE_URL`` or the
embedded server in ``bench/data/pgdata``; ``bench.loader`` for the 100,000 existing
leads; ``leadbase serve --no-worker``), in its own database ``leadbase_bench_import``,
rebuilt on every run so that each import starts from the same state. It times:

- the import: upload, queue, then the job from ``started_at`` to ``finished_at``, its
  rows/s, the peak RSS of the worker process and its validation processes (sampled
  every 50 ms), and the cores used by the worker, PostgreSQL and the rest;
- in the same run, a raw ``COPY`` of the same rows (as the import stored them) into a
  copy of the leads table with the same indexes (``CREATE TABLE ... (LIKE leads
  INCLUDING ALL)``, holding the same 100,000 leads first): the ceiling of any import;
- a CSV export of the workspace's leads afterwards (GET /api/v1/leads/export).

Targets (issue 4): the import in <= 90 s on this 2-core machine, >= 40% of the raw COPY
rate, peak RSS <= 512 MB; the export of ~1.1M leads in <= 30 s.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import export_1m  # noqa: E402
import httpx  # noqa: E402
import psycopg  # noqa: E402

from bench.database import pg_settings, postmaster_pid, recreate_database, resolve_server  # noqa: E402
from bench.loader import (  # noqa: E402
    COMPANY_BASES,
    COMPANY_SUFFIXES,
    FIRST_NAMES,
    FREEMAIL,
    JOB_TITLES,
    LAST_NAMES,
    SOURCES,
    TAGS,
    US_AREAS,
    default_list,
    load_leads,
    to_ascii,
)
from bench.report import CpuMeter, fmt_bytes, fmt_int, machine, out, psutil  # noqa: E402
from bench.server import WORKSPACES, ApiServer, sign_in  # noqa: E402
from leadbase.db import migrate  # noqa: E402

TARGET_SECONDS = 90.0
TARGET_COPY_SHARE = 0.40
TARGET_RSS = 512 * 1024 * 1024
FILE_FORMAT = 1  # bump when the generated file changes
WORKSPACES["imp"] = ("bench.import@example.com", "Bench Import")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000, help="rows in the file")
    p.add_argument("--existing", type=int, default=100_000, help="leads already there")
    p.add_argument("--database", default="leadbase_bench_import")
    p.add_argument("--database-url", default=None, help="PostgreSQL server (libpq URI)")
    p.add_argument("--data-dir", default=str(ROOT / "bench" / "data"))
    p.add_argument("--processes", type=int, default=0,
                   help="LEADBASE_IMPORT_PROCESSES of the worker (0: one per CPU)")
    p.add_argument("--no-export", action="store_true", help="skip the export afterwards")
    p.add_argument("--no-copy", action="store_true", help="skip the raw COPY comparison")
    p.add_argument("--load-workers", type=int, default=None)
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args()
    args.pool_size, args.server_log_level, args.count_cap = 10, "WARNING", 1_000
    return args


# ---------------------------------------------------------------------------- the file

def _phone(rng: random.Random, i: int) -> str:
    """A unique phone in one of the formats people type."""
    area = US_AREAS[i % len(US_AREAS)][0]
    line = 2_000_000 + (i * 7919) % 7_000_000  # exchange 200-899, unique per i < 7M
    ex, sub = divmod(line, 10_000)
    kind = rng.random()
    if kind < 0.25:
        return f"{area}-{ex:03d}-{sub:04d}"
    if kind < 0.50:
        return f"({area}) {ex:03d}-{sub:04d}"
    if kind < 0.70:
        return f"+1 {area} {ex:03d} {sub:04d}"
    if kind < 0.85:
        return f"{area}{ex:03d}{sub:04d}"
    if kind < 0.93:
        return f"+34 6{line % 100_000_000:08d}"[:16]
    return f"+52 55 {line % 10_000:04d} {(line // 10_000) % 10_000:04d}"


def generate(path: Path, rows: int, existing: list[tuple[str, str]],
             seed: int = 7) -> dict[str, int]:
    """Write the CSV; returns how many rows of each kind it holds."""
    rng = random.Random(seed)
    kinds = {"valid": 0, "invalid": 0, "dup_existing": 0, "dup_file": 0}
    earlier: list[tuple[str, str]] = []
    tmp = path.with_suffix(".part")
    with tmp.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Nombre", "Apellido", "Email", "Teléfono", "Empresa", "Cargo", "Origen",
                    "Etiquetas", "Edad", "Presupuesto", "Alta", "Ciudad"])
        for i in range(rows):
            first = rng.choice(FIRST_NAMES)
            last = rng.choice(LAST_NAMES)
            email = f"{to_ascii(first).lower()}.{to_ascii(last).lower()}.{i}@" \
                    f"{rng.choice(FREEMAIL)}".replace(" ", "").replace("'", "")
            phone = _phone(rng, i + 1_000_000)
            age = str(rng.randint(18, 90))
            budget = f"{rng.randint(1, 500_000)}.{rng.randint(0, 99):02d}"
            alta = f"20{rng.randint(20, 26)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            roll = rng.random()
            if roll < 0.02:
                kinds["invalid"] += 1
                bad = rng.randint(0, 2)
                if bad == 0:
                    email = email.replace("@", " at ")
                elif bad == 1:
                    phone = "12-34"
                else:
                    age = "treinta"
            elif roll < 0.05 and existing:
                kinds["dup_existing"] += 1
                email, phone = existing[rng.randrange(len(existing))]
            elif roll < 0.06 and earlier:
                kinds["dup_file"] += 1
                email, phone = earlier[rng.randrange(len(earlier))]
            else:
                kinds["valid"] += 1
                if len(earlier) < 50_000 and rng.random() < 0.1:
                    earlier.append((email, phone))
            tags = ";".join(t for t, p in list(TAGS.items())[:8] if rng.random() < p)
            w.writerow([first, last, email, phone,
                        f"{rng.choice(COMPANY_BASES)} {rng.choice(COMPANY_SUFFIXES)}",
                        rng.choice(JOB_TITLES), rng.choice(SOURCES[0]), tags,
                        age, budget, alta, rng.choice(["Madrid", "Austin", "CDMX", "Lima"])])
    tmp.rename(path)
    return kinds


def existing_contacts(url: str, tenant_id: str, n: int = 20_000) -> list[tuple[str, str]]:
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant_id,))
        rows = conn.execute(
            "SELECT email, phone FROM leads WHERE tenant_id = %s AND email IS NOT NULL "
            "AND phone IS NOT NULL ORDER BY number LIMIT %s", (tenant_id, n)).fetchall()
    return [(str(e), str(p)) for e, p in rows]


# ---------------------------------------------------------------------------- the worker

class TreeRss(threading.Thread):
    """Peak resident memory of a process and its children (sampled every 50 ms)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid) if psutil else None
        self.peak = self.peak_main = 0
        self.running = True

    def sample(self) -> tuple[int, int]:
        if self.proc is None:
            return 0, 0
        try:
            main = self.proc.memory_info().rss
            total = main + sum(c.memory_info().rss for c in self.proc.children(recursive=True))
        except psutil.Error:
            return 0, 0
        return main, total

    def run(self) -> None:
        while self.running:
            main, total = self.sample()
            self.peak, self.peak_main = max(self.peak, total), max(self.peak_main, main)
            time.sleep(0.05)

    def stop(self) -> tuple[int, int]:
        self.running = False
        self.join(1)
        return self.peak_main, self.peak


def start_worker(api: ApiServer, processes: int) -> subprocess.Popen[bytes]:
    env = {**api.env, "LEADBASE_IMPORT_PROCESSES": str(processes),
           "LEADBASE_LOG_LEVEL": "INFO"}  # the job's phase lines, printed after the run
    cmd = [sys.executable, "-c",
           "import sys; from leadbase.cli import main; sys.argv[0] = 'leadbase'; main()",
           "worker", "--concurrency", "2"]
    log = open(api.log_path.with_name("worker.log"), "wb")  # noqa: SIM115 - process lifetime
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def wal_stats(url: str) -> dict[str, int]:
    """WAL written and checkpoints done so far (pg_stat_checkpointer from PostgreSQL 17,
    pg_stat_bgwriter before)."""
    with psycopg.connect(url) as conn:
        wal = conn.execute("SELECT wal_bytes::bigint, wal_fpi FROM pg_stat_wal").fetchone()
        if int(conn.execute("SHOW server_version_num").fetchone()[0]) >= 170000:
            done = conn.execute("SELECT num_done FROM pg_stat_checkpointer").fetchone()
        else:
            done = conn.execute("SELECT checkpoints_timed + checkpoints_req "
                                "FROM pg_stat_bgwriter").fetchone()
    return {"wal_bytes": int(wal[0]), "wal_fpi": int(wal[1]), "checkpoints": int(done[0])}


def worker_phases(api: ApiServer) -> list[str]:
    """The last job's phase lines from the worker's log (flows._run)."""
    path = api.log_path.with_name("worker.log")
    lines = path.read_text(errors="replace").splitlines() if path.exists() else []
    found = [ln.split("import ", 1)[1] for ln in lines
             if "leadbase.imports.flows" in ln or ": staging ready" in ln
             or "staged and written" in ln or ": committed at" in ln or " chunks, read in" in ln]
    return found[-4:]


def add_fields(api_base: str, token: str) -> None:
    with httpx.Client(base_url=api_base, timeout=30,
                      headers={"authorization": f"Bearer {token}"}) as c:
        for body in ({"name": "Edad", "type": "INT"},
                     {"name": "Presupuesto", "type": "DECIMAL"},
                     {"name": "Alta", "type": "DATE"}):
            r = c.post("/api/v1/fields", json=body)
            if r.status_code != 201:
                raise RuntimeError(f"field {body['name']}: {r.status_code} {r.text}")


def run_import(api: ApiServer, token: str, path: Path, worker_pid: int,
               meter: CpuMeter) -> dict[str, Any]:
    rss = TreeRss(worker_pid)
    rss.start()
    with httpx.Client(base_url=api.base, timeout=600,
                      headers={"authorization": f"Bearer {token}"}) as c:
        t0 = time.perf_counter()
        with path.open("rb") as f:
            r = c.post("/api/v1/imports", files={"file": (path.name, f, "text/csv")})
        if r.status_code != 202:
            raise RuntimeError(f"upload: {r.status_code} {r.text[:500]}")
        upload = time.perf_counter() - t0
        job = r.json()
        cpu_before = meter.snapshot()
        tree_before = meter._proc_cpu(worker_pid, children=True) or 0.0
        last = 0.0
        while job["status"] in ("queued", "running"):
            time.sleep(0.5)
            job = c.get(f"/api/v1/imports/{job['id']}").json()
            if time.perf_counter() - last >= 10 and job["status"] == "running":
                last = time.perf_counter()
                out(f"  {job['status']}: {fmt_int(job['processed_rows'])}/"
                         f"{fmt_int(job['total_rows'] or 0)} rows, "
                         f"{job['rows_per_second'] or 0:,.0f} rows/s")
        total = time.perf_counter() - t0
        after = meter.snapshot()
        cores = CpuMeter.cores(cpu_before, after)
        tree = ((meter._proc_cpu(worker_pid, children=True) or 0.0) - tree_before) / \
            (after[-1] - cpu_before[-1])
    peak_main, peak = rss.stop()
    return {"job": job, "upload": upload, "total": total, "rss_main": peak_main,
            "rss_tree": peak, "cores": cores, "worker_cores": tree}


# ---------------------------------------------------------------------------- raw COPY

def max_number(url: str, tenant_id: str) -> int:
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant_id,))
        return int(conn.execute("SELECT coalesce(max(number), 0) FROM leads "
                                "WHERE tenant_id = %s", (tenant_id,)).fetchone()[0])


def raw_copy(url: str, tenant_id: str, before: int) -> dict[str, Any]:
    """COPY the rows the import stored (``number > before``) into a copy of ``leads``
    (same indexes, holding the leads that were there before); the COPY alone is timed."""
    cols = ("id, tenant_id, number, list_id, first_name, last_name, email, phone, company, "
            "job_title, source, status, tags, notes, fields, metadata, do_not_contact, "
            "consent, timezone, country, created_at, updated_at")
    with tempfile.TemporaryFile() as rows_file, psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_leads_copy")
        conn.execute("CREATE TABLE bench_leads_copy (LIKE leads INCLUDING ALL)")
        with conn.transaction():
            conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant_id,))
            conn.execute(f"INSERT INTO bench_leads_copy ({cols}) SELECT {cols} FROM leads "
                         "WHERE tenant_id = %s AND number <= %s", (tenant_id, before))
            with conn.cursor().copy(
                    f"COPY (SELECT {cols} FROM leads WHERE tenant_id = '{tenant_id}' AND "
                    f"number > {before}) TO STDOUT") as copy:
                for data in copy:
                    rows_file.write(data)
        conn.execute("VACUUM ANALYZE bench_leads_copy")
        size = rows_file.tell()
        rows_file.seek(0)
        started = time.perf_counter()
        with conn.transaction(), conn.cursor().copy(
                f"COPY bench_leads_copy ({cols}) FROM STDIN") as copy:
            while block := rows_file.read(1 << 20):
                copy.write(block)
        seconds = time.perf_counter() - started
        rows = conn.execute("SELECT count(*) FROM bench_leads_copy WHERE number > %s",
                            (before,)).fetchone()[0]
        conn.execute("DROP TABLE bench_leads_copy")
    return {"rows": rows, "seconds": seconds, "bytes": size}


def main() -> int:
    args = parse_args()
    out("Leadbase import benchmark")
    out(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f} at start")
    server = resolve_server(args)
    url = recreate_database(server.admin_url, args.database)
    migrate.upgrade(url)
    data_dir = Path(args.data_dir) / "import"
    api = ApiServer(url, args, data_dir)
    api.start()
    worker: subprocess.Popen[bytes] | None = None
    try:
        token, tenant = sign_in(api.base, "imp", register=True)
        add_fields(api.base, token)
        t = time.perf_counter()
        load_leads(url, [("imp", tenant, default_list(url, tenant), args.existing,
                               4242)], workers=args.load_workers or 2, chunk_rows=50_000)
        out(f"{fmt_int(args.existing)} existing leads loaded in "
                 f"{time.perf_counter() - t:.1f} s")
        path = data_dir / f"leads_{args.rows}_v{FILE_FORMAT}.csv"
        if not path.exists():
            t = time.perf_counter()
            kinds = generate(path, args.rows, existing_contacts(url, tenant))
            out(f"generated {path.name} ({fmt_bytes(path.stat().st_size)}) in "
                     f"{time.perf_counter() - t:.1f} s: {kinds}")
        else:
            out(f"file: {path.name} ({fmt_bytes(path.stat().st_size)}), reused")
        settings = pg_settings(url)
        out(f"database: PostgreSQL {settings['server_version']} ({server.description}); "
                 f"shared_buffers={settings['shared_buffers']}")
        worker = start_worker(api, args.processes)
        time.sleep(3)
        meter = CpuMeter(worker.pid, postmaster_pid(url))
        before = meter.snapshot()
        time.sleep(2)
        idle = CpuMeter.cores(before, meter.snapshot())
        cpus = len(os.sched_getaffinity(0))
        if idle[3] is not None:
            out(f"background: other processes used {idle[3]:.2f} of {cpus} cores "
                     "just before the run")
        out()
        before = max_number(url, tenant)
        out("== import: POST /api/v1/imports, run by `leadbase worker`")
        wal_before = wal_stats(url)
        r = run_import(api, token, path, worker.pid, meter)
        wal = {k: v - wal_before[k] for k, v in wal_stats(url).items()}
        job = r["job"]
        if job["status"] != "completed":
            raise RuntimeError(f"import {job['status']}: {job['error_code']} {job['error']}")
        seconds = (base_dt(job["finished_at"]) - base_dt(job["started_at"])).total_seconds()
        rate = job["total_rows"] / seconds
        counted = (job["created"] + job["updated"] + job["skipped_duplicate"]
                   + job["invalid"])
        out(f"    {fmt_int(job['total_rows'])} rows: {fmt_int(job['created'])} "
                 f"created, {fmt_int(job['updated'])} updated, "
                 f"{fmt_int(job['skipped_duplicate'])} skipped as duplicates, "
                 f"{fmt_int(job['invalid'])} invalid (sum {fmt_int(counted)})")
        out(f"    upload {r['upload']:.1f} s; job {seconds:.1f} s ({rate:,.0f} rows/s); "
                 f"from upload to completed {r['total']:.1f} s")
        c = r["cores"]
        if c[2] is not None:
            out(f"    cores while running (of {cpus}): worker with its validation processes "
                     f"{r['worker_cores']:.2f}, PostgreSQL {c[2]:.2f}, everything else "
                     f"{max(0.0, (c[3] or 0) + (c[1] or 0) - r['worker_cores']):.2f}")
        out(f"    peak RSS: worker {fmt_bytes(r['rss_main'])}, worker with its "
                 f"validation processes {fmt_bytes(r['rss_tree'])}")
        out(f"    WAL written: {fmt_bytes(wal['wal_bytes'])} "
                 f"({wal['wal_bytes'] / max(1, job['total_rows']):,.0f} bytes a row), "
                 f"{fmt_int(wal['wal_fpi'])} full-page images, "
                 f"{wal['checkpoints']} checkpoints")
        for line in worker_phases(api):
            out(f"    worker: {line}")
        copy_rate = None
        if not args.no_copy:
            out()
            out("== raw COPY of the same rows into a copy of leads (same indexes)")
            cp = raw_copy(url, tenant, before)
            copy_rate = cp["rows"] / cp["seconds"]
            out(f"    {fmt_int(cp['rows'])} rows in {cp['seconds']:.1f} s "
                     f"({copy_rate:,.0f} rows/s)")
        out()
        out("targets:")
        out(f"    import <= {TARGET_SECONDS:.0f} s: {seconds:.1f} s "
                 f"{'met' if seconds <= TARGET_SECONDS else 'MISSED'}")
        if copy_rate:
            share = rate / copy_rate
            out(f"    >= {TARGET_COPY_SHARE:.0%} of the raw COPY rate: {share:.0%} "
                     f"{'met' if share >= TARGET_COPY_SHARE else 'MISSED'}")
        out(f"    peak RSS <= {fmt_bytes(TARGET_RSS)}: "
                 f"{fmt_bytes(r['rss_tree'])} "
                 f"{'met' if r['rss_tree'] <= TARGET_RSS else 'MISSED'}")
        if not args.no_export:
            out()
            out("== CSV export of the workspace afterwards")
            assert api.proc is not None
            export_meter = CpuMeter(api.proc.pid, postmaster_pid(url))
            ex = export_1m.timed_export(api, token, "csv", "", export_meter)
            export_1m.report(ex, cpus)
            out(f"    target <= 30 s: {'met' if ex['total'] <= 30 else 'MISSED'}")
        out(f"load average {os.getloadavg()[0]:.2f} at the end")
        return 0
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(15)
            except subprocess.TimeoutExpired:
                worker.kill()
        api.stop()


def base_dt(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00"))


if __name__ == "__main__":
    sys.exit(main())
