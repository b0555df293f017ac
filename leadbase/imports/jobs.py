"""Worker jobs for imports, and deferring them from a request."""

from __future__ import annotations

import logging
import uuid

import procrastinate

from leadbase.exports.jobs import defer as defer_task
from leadbase.imports import flows
from leadbase.worker.runtime import get_runtime

log = logging.getLogger(__name__)

blueprint = procrastinate.Blueprint()
QUEUE = "imports"


@blueprint.task(name="run_import", queue=QUEUE,
                retry=procrastinate.RetryStrategy(max_attempts=5, wait=2))
async def run_import(tenant_id: str, job_id: str) -> str:
    """Import one queued file (safe to run twice: only a queued job is taken)."""
    runtime = get_runtime()
    status = await flows.run_job(runtime.db, tenant_id=uuid.UUID(tenant_id),
                                 job_id=uuid.UUID(job_id),
                                 data_dir=runtime.settings.resolved_data_dir())
    if status == "missing":
        # Deferred inside the request's transaction: it may not be committed yet.
        raise LookupError(f"import {job_id} not visible yet")
    log.info("import %s: %s", job_id, status)
    return status


async def defer(libpq: str, *, tenant_id: str, job_id: str) -> None:
    await defer_task(libpq, "run_import", QUEUE, tenant_id=tenant_id, job_id=job_id)
