"""The PostgreSQL server a benchmark uses (``LEADBASE_DATABASE_URL``, ``--database-url`` or
the embedded server) and its bench databases: recreated, marked with what they hold, and
described (settings, sizes, the postmaster's pid for CPU accounting)."""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from bench.report import fmt_bytes, psutil
from leadbase.db.urls import ensure_database

APP_ROLE = "leadbase_app"


@dataclass
class Server:
    admin_url: str  # libpq URI to a maintenance database on the server
    description: str


def resolve_server(args: argparse.Namespace) -> Server:
    url = args.database_url or os.environ.get("LEADBASE_DATABASE_URL")
    if url:
        url = url.replace("postgresql+psycopg://", "postgresql://")
        return Server(url, "LEADBASE_DATABASE_URL" if not args.database_url else "--database-url")
    from leadbase.db import embedded

    data_dir = Path(args.data_dir).resolve()
    uri = embedded.start(data_dir)
    return Server(uri, f"embedded, {data_dir / 'pgdata'}")


def read_marker(admin_url: str, database: str) -> dict[str, Any] | None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (database,)).fetchone()
    if not row or not row[0]:
        return None
    try:
        data = json.loads(row[0])
    except ValueError:
        return None
    return data if isinstance(data, dict) and data.get("leadbase_bench") else None


def write_marker(admin_url: str, database: str, marker: dict[str, Any]) -> None:
    text = json.dumps({"leadbase_bench": True, **marker}).replace("'", "''")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"COMMENT ON DATABASE \"{database}\" IS '{text}'")


def recreate_database(admin_url: str, database: str) -> str:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    return ensure_database(admin_url, database)


def pg_settings(url: str) -> dict[str, str]:
    names = ("server_version", "shared_buffers", "work_mem", "effective_cache_size",
             "max_connections", "jit", "synchronous_commit", "max_parallel_workers_per_gather")
    with psycopg.connect(url) as conn:
        values = {n: conn.execute(f"SHOW {n}").fetchone()[0] for n in names}
        values["superuser"] = conn.execute("SHOW is_superuser").fetchone()[0]
        values["leads_size"] = fmt_bytes(conn.execute(
            "SELECT pg_total_relation_size('leads')").fetchone()[0])
        values["leads_heap"] = fmt_bytes(conn.execute(
            "SELECT pg_relation_size('leads')").fetchone()[0])
    return values


def postmaster_pid(url: str) -> int | None:
    if psutil is None:
        return None
    with psycopg.connect(url) as conn:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        try:
            proc = psutil.Process(backend)
            if proc.name() not in ("postgres", "postmaster") and "postgres" not in proc.name():
                return None
            return int(proc.ppid())
        except psutil.Error:
            return None  # not on this machine
