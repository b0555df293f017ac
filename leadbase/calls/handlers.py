"""Domain events the dialer reacts to: a new lead is queued for every active agent that
takes leads on creation (``enqueue_on_lead_create``), from the outbox drain."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.calls import queue
from leadbase.events.handlers import on


@on("lead.created")
async def queue_new_lead(session: AsyncSession, event: dict[str, Any]) -> None:
    if event["entity_id"] is None:
        return
    await queue.enqueue_new_lead(session, tenant_id=event["tenant_id"],
                                 lead_id=uuid.UUID(str(event["entity_id"])))
