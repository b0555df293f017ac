"""Worker jobs of scoring: a scoring job (recalculation, prediction, training), the rescore
of the leads events queued, and the daily decay."""

from __future__ import annotations

import logging
import uuid

import procrastinate

from leadbase.scoring import runs
from leadbase.worker.runtime import get_runtime, log_outcome

log = logging.getLogger(__name__)

blueprint = procrastinate.Blueprint()


@blueprint.task(name="scoring_run", queue="scoring",
                retry=procrastinate.RetryStrategy(max_attempts=5, wait=2))
async def scoring_run(tenant_id: str, job_id: str) -> str:
    """Run one queued scoring job (only a queued job is taken: safe to run twice)."""
    status = await runs.run_job(get_runtime().db, tenant_id=uuid.UUID(tenant_id),
                                job_id=uuid.UUID(job_id))
    return log_outcome(log, "scoring job", job_id, status)


@blueprint.task(name="scoring_rescore", queue="scoring",
                retry=procrastinate.RetryStrategy(max_attempts=5, wait=2))
async def scoring_rescore(tenant_id: str) -> int:
    """Rescore the workspace's queued leads (queued once per workspace at a time)."""
    count = await runs.rescore_queued(get_runtime().db, tenant_id=uuid.UUID(tenant_id))
    if count:
        log.info("rescored %d leads", count)
    return count


@blueprint.periodic(cron="20 3 * * *")
@blueprint.task(name="scoring_decay", queue="scoring", queueing_lock="scoring_decay")
async def scoring_decay(timestamp: int) -> int:
    """Apply decay with inactivity: recalculate the workspaces whose model decays
    (daily, 03:20 UTC)."""
    count = await runs.decay_all(get_runtime().db)
    if count:
        log.info("decay applied in %d workspaces", count)
    return count
