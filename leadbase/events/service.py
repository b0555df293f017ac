"""Draining the outbox: each pending event goes to its handlers."""

from __future__ import annotations

import logging

from leadbase.db.session import Database, scope
from leadbase.events import outbox
from leadbase.events.handlers import handlers_for

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10


async def drain(db: Database, *, batch: int = 500) -> int:
    """Process due events in batches until none is left; returns how many succeeded.

    Rows are claimed with ``FOR UPDATE SKIP LOCKED``, so several workers share the work.
    Each event's handlers run in a savepoint inside the event's workspace: a failing
    handler rolls back only that event's effects, which is retried with back-off and
    given up after ``MAX_ATTEMPTS`` (kept with ``last_error``); the batch goes on.
    """
    done = 0
    while True:
        async with db.transaction(None, system=True) as session:
            events = await outbox.claim_pending(session, limit=batch)
            succeeded = []
            for event in events:
                try:
                    async with session.begin_nested():
                        await scope(session, event["tenant_id"], system=True)
                        for handler in handlers_for(event["type"]):
                            await handler(session, event)
                    succeeded.append(event["id"])
                except Exception as exc:
                    log.warning("event %s (%s) failed: %s", event["id"], event["type"], exc)
                    await scope(session, None, system=True)
                    await outbox.mark_failed(session, event["id"], error=repr(exc),
                                             give_up=event["attempts"] + 1 >= MAX_ATTEMPTS)
            await scope(session, None, system=True)
            await outbox.mark_processed(session, succeeded)
        done += len(succeeded)
        if len(events) < batch:
            return done
