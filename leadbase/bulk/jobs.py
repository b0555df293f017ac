"""Worker jobs for bulk operations by filter."""

from __future__ import annotations

import logging
import uuid

import procrastinate

from leadbase.bulk import service
from leadbase.exports import jobs as exports_jobs
from leadbase.worker.runtime import get_runtime

log = logging.getLogger(__name__)

blueprint = procrastinate.Blueprint()
QUEUE = "bulk"


@blueprint.task(name="run_bulk", queue=QUEUE,
                retry=procrastinate.RetryStrategy(max_attempts=5, wait=2))
async def run_bulk(tenant_id: str, job_id: str) -> str:
    """Apply one queued bulk operation (safe to run twice: only a queued job is taken)."""
    status = await service.run_job(get_runtime().db, tenant_id=uuid.UUID(tenant_id),
                                   job_id=uuid.UUID(job_id))
    if status == "missing":
        # Deferred inside the request's transaction: it may not be committed yet.
        raise LookupError(f"bulk job {job_id} not visible yet")
    log.info("bulk %s: %s", job_id, status)
    return status


async def defer(libpq: str, **kwargs: str) -> None:
    """Queue ``run_bulk``."""
    await exports_jobs.defer(libpq, "run_bulk", QUEUE, **kwargs)
