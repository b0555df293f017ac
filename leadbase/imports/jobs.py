"""Worker jobs for imports (queued by :func:`leadbase.imports.service.create_job`)."""

from __future__ import annotations

import logging
import uuid

import procrastinate

from leadbase.imports import flows, service
from leadbase.worker.runtime import get_runtime, log_outcome

log = logging.getLogger(__name__)

blueprint = procrastinate.Blueprint()


@blueprint.task(name=service.RUN_JOB, queue=service.QUEUE,
                retry=procrastinate.RetryStrategy(max_attempts=5, wait=2))
async def run_import(tenant_id: str, job_id: str) -> str:
    """Import one queued file (safe to run twice: only a queued job is taken). The job
    is committed with its row, so a missing row was deleted since."""
    runtime = get_runtime()
    status = await flows.run_job(runtime.db, tenant_id=uuid.UUID(tenant_id),
                                 job_id=uuid.UUID(job_id),
                                 data_dir=runtime.settings.resolved_data_dir())
    return log_outcome(log, "import", job_id, status)
