"""Worker jobs for exports, and deferring them from a request."""

from __future__ import annotations

import logging
import uuid

import procrastinate

from leadbase.exports import service
from leadbase.worker.runtime import get_runtime

log = logging.getLogger(__name__)

blueprint = procrastinate.Blueprint()
NAMESPACE = "leadbase"
QUEUE = "exports"


@blueprint.task(name="run_export", queue=QUEUE,
                retry=procrastinate.RetryStrategy(max_attempts=5, wait=2))
async def run_export(tenant_id: str, job_id: str) -> str:
    """Write one queued export to its file (safe to run twice)."""
    runtime = get_runtime()
    status = await service.run_job(runtime.db, tenant_id=uuid.UUID(tenant_id),
                                   job_id=uuid.UUID(job_id),
                                   data_dir=runtime.settings.resolved_data_dir())
    if status == "missing":
        # Deferred inside the request's transaction: it may not be committed yet.
        raise LookupError(f"export {job_id} not visible yet")
    log.info("export %s: %s", job_id, status)
    return status


@blueprint.periodic(cron="41 * * * *")
@blueprint.task(name="expire_exports", queue="maintenance", queueing_lock="expire_exports")
async def expire_exports(timestamp: int) -> int:
    """Delete export files older than 7 days and stale scratch files (hourly)."""
    runtime = get_runtime()
    return await service.expire_files(runtime.db, data_dir=runtime.settings.resolved_data_dir())


async def defer(libpq: str, task: str, queue: str, **kwargs: str) -> None:
    """Queue a job by name (a short-lived procrastinate connection; the worker knows the
    task and its retry strategy)."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(
        conninfo=libpq, min_size=1, max_size=1))
    async with app.open_async():
        await app.configure_task(f"{NAMESPACE}:{task}", queue=queue).defer_async(**kwargs)
