"""Worker jobs of the dialer. They take ids, not objects, and are safe to run twice."""

from __future__ import annotations

import base64
import logging
import uuid

import orjson
import procrastinate

from leadbase.calls import ingest, placing, reconcile, scheduler
from leadbase.kit.errors import AppError
from leadbase.worker.runtime import get_runtime, log_outcome

log = logging.getLogger(__name__)

blueprint = procrastinate.Blueprint()
RETRY = procrastinate.RetryStrategy(max_attempts=5, wait=2)


@blueprint.periodic(cron="* * * * *")
@blueprint.task(name="calls_tick", queue="calls", queueing_lock="calls_tick")
async def calls_tick(timestamp: int) -> int:
    """Claim and place the due dial tasks of every workspace (every minute)."""
    result = await scheduler.tick(get_runtime().db)
    return len(result.placed)


@blueprint.periodic(cron="* * * * *")
@blueprint.task(name="calls_reconcile", queue="calls", queueing_lock="calls_reconcile")
async def calls_reconcile(timestamp: int) -> int:
    """Settle the calls no provider reported back on (every minute)."""
    runtime = get_runtime()
    return await reconcile.reconcile(runtime.db, runtime.settings)


@blueprint.task(name=scheduler.PLACE_JOB, queue=scheduler.QUEUE, retry=RETRY)
async def calls_place_call(tenant_id: str, call_id: str) -> str:
    runtime = get_runtime()
    status = await placing.place(runtime.db, runtime.settings,
                                 tenant_id=uuid.UUID(tenant_id), call_id=uuid.UUID(call_id))
    return log_outcome(log, "call", call_id, status)


@blueprint.task(name=ingest.PROCESS_JOB, queue=ingest.QUEUE, retry=RETRY)
async def calls_process_events(tenant_id: str, call_id: str) -> str:
    return await ingest.process(get_runtime().db, tenant_id=uuid.UUID(tenant_id),
                                call_id=uuid.UUID(call_id))


@blueprint.task(name=placing.DELIVER_JOB, queue=placing.QUEUE, retry=RETRY)
async def calls_deliver_webhook(provider: str, tenant_id: str, headers: str, body: str) -> str:
    """A simulated provider callback, through the webhook ingestion (``tenant_id`` only
    names the job's workspace: the ingestion routes the body as any webhook's)."""
    runtime = get_runtime()
    try:
        done = await ingest.ingest(runtime.db, runtime.settings, provider=provider,
                                   headers=orjson.loads(headers),
                                   body=base64.b64decode(body))
    except AppError as exc:  # refused as an HTTP webhook would be: nothing to retry
        log.warning("simulated webhook refused: %s", exc.code)
        return exc.code
    return f"{done.new} new"
