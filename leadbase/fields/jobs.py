"""Worker jobs for custom fields: keeping the lists' expression indexes (see indexes.py)."""

from __future__ import annotations

import uuid
from typing import Any

import procrastinate
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.events import handlers
from leadbase.fields import indexes
from leadbase.worker.defer import defer
from leadbase.worker.runtime import get_runtime

blueprint = procrastinate.Blueprint()
QUEUE = "indexes"


TASK = "sync_field_indexes"
LOCK = "sync_field_indexes"


@blueprint.task(name=TASK, queue=QUEUE, lock=LOCK,
                retry=procrastinate.RetryStrategy(max_attempts=5, wait=10))
async def sync_field_indexes(tenant_id: str, list_id: str) -> list[str]:
    """Build or drop a list's field indexes to match its fields (safe to run twice). One
    job at a time (``lock``): index builds on one table slow each other down."""
    return await indexes.sync_list(get_runtime().db, tenant_id=uuid.UUID(tenant_id),
                                   list_id=uuid.UUID(list_id))


async def queue_index_sync(session: AsyncSession, event: dict[str, Any]) -> None:
    """Outbox handler of field changes: queue the index job when the change asks for it."""
    payload = event["payload"]
    if not payload.get("reindex"):
        return
    list_id = str(payload["list_id"])
    # One queued job per list is enough: it reads the list's fields when it runs. The job
    # is queued in the drain's transaction, with the event marked processed.
    await defer(session, TASK, queue=QUEUE, lock=LOCK, queueing_lock=f"{TASK}:{list_id}",
                tenant_id=str(event["tenant_id"]), list_id=list_id)


for _event in ("field.created", "field.updated", "field.deactivated", "field.deleted",
               "field.restored"):
    handlers.on(_event)(queue_index_sync)
