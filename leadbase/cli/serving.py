"""``leadbase serve``: the API on every core, and the job worker, in one command.

With ``--workers 1`` one process serves the API and runs the job worker in-process (as
before). With ``--workers N`` (N > 1; the default is the number of CPUs) this process
becomes a supervisor:

1. it resolves the database (starting the embedded PostgreSQL, which this process then
   owns), applies pending migrations, and makes the secrets kept in the data directory
   (JWT and Fernet keys) once, before any child could race to make its own;
2. it binds the listening socket once and starts N API processes on it (uvicorn's
   multiprocess supervisor: a dead process is replaced; SIGHUP replaces them one by one,
   SIGTTIN/SIGTTOU add or remove one) and one job-worker process (unless
   ``--no-worker``), the children told the resolved database (``LEADBASE_DATABASE_URL``)
   and that migrations are applied;
3. on SIGTERM or SIGINT it stops them all: the API processes stop accepting, finish the
   requests in flight and exit (uvicorn's graceful shutdown), the job worker stops
   fetching jobs and lets the running ones finish; then this process exits, and the
   embedded PostgreSQL stops last (it stops with the last process that uses it).

Every process keeps its own connection pool (``LEADBASE_DB_POOL_SIZE`` each) and its own
in-memory rate-limit counters unless ``LEADBASE_REDIS_URL`` is set (README: "Serving").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
from multiprocessing.context import SpawnProcess
from socket import socket
from typing import Any

from fastapi import FastAPI

from leadbase.config import Settings, get_settings

log = logging.getLogger("leadbase.serve")

# Set for the children of a supervisor: the database is resolved and migrated.
PREPARED_ENV = "LEADBASE_SERVE_PREPARED"
WORKER_STOP_SECONDS = 60.0  # a job still running after this long is abandoned (retried)


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def prepare(settings: Settings) -> str:
    """Database (embedded server started here), migrations and kept secrets, once; the
    environment the children read. Returns the libpq URL of the database."""
    from leadbase.db import migrate
    from leadbase.db.urls import libpq_url

    libpq = libpq_url(settings)
    migrate.upgrade(libpq)
    settings.jwt_secret()
    settings.encryption_key()
    os.environ["LEADBASE_DATABASE_URL"] = libpq
    os.environ["LEADBASE_DATA_DIR"] = str(settings.resolved_data_dir())
    os.environ[PREPARED_ENV] = "1"
    get_settings.cache_clear()
    return libpq


def api_app() -> FastAPI:
    """The application of one API process of a supervisor (a uvicorn factory)."""
    from leadbase.app import create_app

    return create_app(get_settings(), run_worker=False,
                      apply_migrations=not os.environ.get(PREPARED_ENV))


def run_job_worker(concurrency: int, log_level: str) -> None:
    """The job-worker process: runs until SIGTERM or SIGINT, then stops gracefully."""
    from leadbase.cli.common import open_database
    from leadbase.worker.app import run_worker

    logging.basicConfig(level=log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()

    async def main() -> None:
        task = asyncio.current_task()
        assert task is not None
        stopping = False

        def stop() -> None:
            nonlocal stopping
            if not stopping:  # Ctrl-C reaches every process, then the supervisor's SIGTERM
                stopping = True
                task.cancel()

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop)
        async with open_database(settings) as db:
            with contextlib.suppress(asyncio.CancelledError):
                await run_worker(db.libpq, settings, db, concurrency=concurrency)

    asyncio.run(main())


def _supervisor_class() -> type:
    from uvicorn.supervisors.multiprocess import Multiprocess

    class Supervisor(Multiprocess):  # type: ignore[misc]
        """uvicorn's supervisor of the API processes, with the job worker beside them."""

        def __init__(self, config: Any, sockets: list[socket],
                     worker_args: tuple[int, str] | None) -> None:
            super().__init__(config, sockets=sockets)
            self.worker_args = worker_args
            self.worker: SpawnProcess | None = None

        def start_worker(self) -> None:
            if self.worker_args is None:
                return
            ctx = multiprocessing.get_context("spawn")
            self.worker = ctx.Process(target=run_job_worker, args=self.worker_args,
                                      name="leadbase-worker")
            self.worker.start()
            log.info("job worker started [%s]", self.worker.pid)

        def init_processes(self) -> None:
            self.start_worker()
            super().init_processes()

        def keep_subprocess_alive(self) -> None:
            super().keep_subprocess_alive()
            if self.worker is not None and not self.should_exit.is_set() \
                    and not self.worker.is_alive():
                log.warning("job worker [%s] exited (%s); starting another",
                            self.worker.pid, self.worker.exitcode)
                self.start_worker()

        def terminate_all(self) -> None:
            if self.worker is not None and self.worker.exitcode is None:
                assert self.worker.pid is not None
                os.kill(self.worker.pid, signal.SIGTERM)
            super().terminate_all()

        def join_all(self) -> None:
            super().join_all()  # the API processes finish their requests in flight
            if self.worker is not None:
                self.worker.join(WORKER_STOP_SECONDS)
                if self.worker.exitcode is None:
                    log.warning("job worker did not stop in %.0f s; killing it",
                                WORKER_STOP_SECONDS)
                    self.worker.kill()
                    self.worker.join()
                log.info("job worker stopped")

    return Supervisor


def serve_many(settings: Settings, *, host: str, port: int, workers: int, run_worker: bool,
               worker_concurrency: int, uvicorn_options: dict[str, Any]) -> None:
    """N API processes on one socket plus the job worker, supervised by this process."""
    import uvicorn

    prepare(settings)
    config = uvicorn.Config("leadbase.cli.serving:api_app", factory=True, host=host,
                            port=port, workers=workers, log_level=settings.log_level.lower(),
                            **uvicorn_options)
    sock = config.bind_socket()
    supervisor = _supervisor_class()(
        config, [sock], (worker_concurrency, settings.log_level) if run_worker else None)
    try:
        supervisor.run()
    finally:
        sock.close()
    log.info("stopped")
