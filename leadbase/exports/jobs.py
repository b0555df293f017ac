"""Worker jobs for exports (queued by :func:`leadbase.exports.service.create_job`)."""

from __future__ import annotations

import logging
import uuid

import procrastinate

from leadbase.exports import service
from leadbase.worker.runtime import get_runtime, log_outcome

log = logging.getLogger(__name__)

blueprint = procrastinate.Blueprint()


@blueprint.task(name=service.RUN_JOB, queue=service.QUEUE,
                retry=procrastinate.RetryStrategy(max_attempts=5, wait=2))
async def run_export(tenant_id: str, job_id: str) -> str:
    """Write one queued export to its file (safe to run twice). The job is committed with
    its row, so a missing row was deleted since: nothing to do."""
    runtime = get_runtime()
    status = await service.run_job(runtime.db, tenant_id=uuid.UUID(tenant_id),
                                   job_id=uuid.UUID(job_id),
                                   data_dir=runtime.settings.resolved_data_dir())
    return log_outcome(log, "export", job_id, status)


@blueprint.periodic(cron="41 * * * *")
@blueprint.task(name="expire_exports", queue="maintenance", queueing_lock="expire_exports")
async def expire_exports(timestamp: int) -> int:
    """Delete export files older than 7 days and stale scratch files (hourly)."""
    runtime = get_runtime()
    return await service.expire_files(runtime.db, data_dir=runtime.settings.resolved_data_dir())
