"""Worker jobs of duplicates: the workspace scan."""

from __future__ import annotations

import logging
import uuid

import procrastinate

from leadbase.duplicates import scan
from leadbase.worker.runtime import get_runtime, log_outcome

log = logging.getLogger(__name__)

blueprint = procrastinate.Blueprint()


@blueprint.task(name="duplicates_scan", queue="duplicates",
                retry=procrastinate.RetryStrategy(max_attempts=3, wait=5))
async def duplicates_scan(tenant_id: str, scan_id: str) -> str:
    """Run one queued duplicate scan (only a queued scan is taken: safe to run twice)."""
    status = await scan.run_scan(get_runtime().db, tenant_id=uuid.UUID(tenant_id),
                                 scan_id=uuid.UUID(scan_id))
    return log_outcome(log, "duplicate scan", scan_id, status)
