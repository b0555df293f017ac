"""The procrastinate app, and running a worker in-process or on its own."""

from __future__ import annotations

import asyncio
import logging

import procrastinate

from leadbase.assignment.jobs import blueprint as assignment_blueprint
from leadbase.bulk.jobs import blueprint as bulk_blueprint
from leadbase.calls import handlers as calls_handlers
from leadbase.calls.jobs import blueprint as calls_blueprint
from leadbase.config import Settings
from leadbase.db.session import Database
from leadbase.duplicates.jobs import blueprint as duplicates_blueprint
from leadbase.exports.jobs import blueprint as exports_blueprint
from leadbase.fields.jobs import blueprint as fields_blueprint
from leadbase.imports import pool as imports_pool
from leadbase.imports.jobs import blueprint as imports_blueprint
from leadbase.pipelines.advance.jobs import blueprint as advance_blueprint
from leadbase.pipelines.jobs import blueprint as pipelines_blueprint
from leadbase.scoring import handlers as scoring_handlers
from leadbase.scoring.jobs import blueprint as scoring_blueprint
from leadbase.worker.defer import NAMESPACE
from leadbase.worker.jobs import blueprint
from leadbase.worker.logs import quiet_periodic_runs
from leadbase.worker.runtime import Runtime, set_runtime

log = logging.getLogger(__name__)
_HANDLERS = (scoring_handlers, calls_handlers)  # registered with the outbox drain on import


_built: tuple[str, procrastinate.App] | None = None


def build_app(libpq: str) -> procrastinate.App:
    """The procrastinate app with every task. Built once per process: procrastinate renames
    a blueprint's tasks when they are added to an app (``namespace:name``), so a second app
    would find them as ``leadbase:leadbase:name``."""
    global _built
    if _built is not None:
        if _built[0] != libpq:
            raise RuntimeError("one worker database per process")
        return _built[1]
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=libpq))
    app.add_tasks_from(blueprint, namespace=NAMESPACE)
    app.add_tasks_from(exports_blueprint, namespace=NAMESPACE)
    app.add_tasks_from(bulk_blueprint, namespace=NAMESPACE)
    app.add_tasks_from(imports_blueprint, namespace=NAMESPACE)
    app.add_tasks_from(fields_blueprint, namespace=NAMESPACE)
    app.add_tasks_from(advance_blueprint, namespace=NAMESPACE)
    app.add_tasks_from(pipelines_blueprint, namespace=NAMESPACE)
    app.add_tasks_from(scoring_blueprint, namespace=NAMESPACE)
    app.add_tasks_from(assignment_blueprint, namespace=NAMESPACE)
    app.add_tasks_from(duplicates_blueprint, namespace=NAMESPACE)
    app.add_tasks_from(calls_blueprint, namespace=NAMESPACE)
    quiet_periodic_runs(app)
    _built = (libpq, app)
    return app


async def run_worker(libpq: str, settings: Settings, db: Database, *,
                     concurrency: int = 4) -> None:
    """Run a worker until cancelled (the caller owns ``db``)."""
    set_runtime(Runtime(settings=settings, db=db))
    imports_pool.configure(settings.import_processes)
    app = build_app(libpq)
    async with app.open_async():
        log.info("worker started (concurrency %d)", concurrency)
        try:
            await app.run_worker_async(concurrency=concurrency, install_signal_handlers=False,
                                       delete_jobs="successful")
        except asyncio.CancelledError:
            log.info("worker stopped")
            raise
