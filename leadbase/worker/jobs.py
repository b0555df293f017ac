"""Worker jobs. They take ids, not objects, and are safe to run twice."""

from __future__ import annotations

import logging

import procrastinate

from leadbase.events import service as events_service
from leadbase.kit import idempotency
from leadbase.worker.runtime import get_runtime

log = logging.getLogger(__name__)

blueprint = procrastinate.Blueprint()


@blueprint.periodic(cron="* * * * * */5")
@blueprint.task(name="drain_outbox", queue="events", queueing_lock="drain_outbox")
async def drain_outbox(timestamp: int) -> int:
    """Fan pending domain events out to their handlers (every 5 seconds)."""
    count = await events_service.drain(get_runtime().db)
    if count:
        log.info("processed %d events", count)
    return count


@blueprint.periodic(cron="17 * * * *")
@blueprint.task(name="purge_idempotency_keys", queue="maintenance",
                queueing_lock="purge_idempotency_keys")
async def purge_idempotency_keys(timestamp: int) -> int:
    """Forget stored idempotent responses older than their 24-hour window (hourly)."""
    async with get_runtime().db.transaction(None, system=True) as session:
        return await idempotency.purge_expired(session)
