"""Pipeline jobs: the daily fold of closed months into the month summaries that metrics
over long periods read (``pipeline_stage_months``; ``leadbase.pipelines.board``)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import procrastinate

from leadbase.db import raw
from leadbase.db.session import Database
from leadbase.pipelines.repository import board as sql
from leadbase.worker.runtime import get_runtime

log = logging.getLogger(__name__)

blueprint = procrastinate.Blueprint()


async def fold_all(db: Database) -> int:
    """Fold every workspace's closed months (one transaction per workspace); how many
    month rows were written. Safe to run twice: a folded month is left as it is."""
    async with db.transaction(None, system=True) as session:
        tenants = [r["id"] for r in await raw.fetch_all(session, "SELECT id FROM tenants", ())]
    today = datetime.now(UTC).date()
    folded = 0
    for tenant_id in tenants:
        async with db.transaction(tenant_id) as session:
            folded += await sql.fold_months(session, tenant_id=tenant_id, today=today)
    return folded


@blueprint.periodic(cron="23 1 * * *")
@blueprint.task(name="fold_stage_months", queue="maintenance",
                queueing_lock="fold_stage_months")
async def fold_stage_months(timestamp: int) -> int:
    """Fold the closed months of every workspace's stage statistics (daily)."""
    count = await fold_all(get_runtime().db)
    if count:
        log.info("folded %d stage months", count)
    return count
