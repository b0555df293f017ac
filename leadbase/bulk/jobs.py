"""Worker jobs for bulk operations by filter (queued by
:func:`leadbase.bulk.service.queue_job`)."""

from __future__ import annotations

import logging
import uuid

import procrastinate

from leadbase.bulk import service
from leadbase.worker.runtime import get_runtime, log_outcome

log = logging.getLogger(__name__)

blueprint = procrastinate.Blueprint()


@blueprint.task(name=service.RUN_JOB, queue=service.QUEUE,
                retry=procrastinate.RetryStrategy(max_attempts=5, wait=2))
async def run_bulk(tenant_id: str, job_id: str) -> str:
    """Apply one queued bulk operation (safe to run twice: only a queued job is taken).
    The job is committed with its row, so a missing row was deleted since."""
    status = await service.run_job(get_runtime().db, tenant_id=uuid.UUID(tenant_id),
                                   job_id=uuid.UUID(job_id))
    return log_outcome(log, "bulk", job_id, status)
