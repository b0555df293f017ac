"""Draining the outbox: each pending event goes to its handlers, once."""

from __future__ import annotations

import logging

from leadbase.db.session import Database, scope
from leadbase.events import outbox
from leadbase.events.handlers import handlers_for

log = logging.getLogger(__name__)


async def drain(db: Database, *, batch: int = 500) -> int:
    """Process pending events in batches until none is left; returns how many.

    Rows are claimed with ``FOR UPDATE SKIP LOCKED``, so several workers share the work.
    A handler that fails rolls back its batch (the events stay pending and are retried).
    """
    done = 0
    while True:
        async with db.transaction(None, system=True) as session:
            events = await outbox.claim_pending(session, limit=batch)
            for event in events:
                await scope(session, event["tenant_id"], system=True)
                for handler in handlers_for(event["type"]):
                    await handler(session, event)
            await scope(session, None, system=True)
            await outbox.mark_processed(session, [e["id"] for e in events])
        done += len(events)
        if len(events) < batch:
            return done
