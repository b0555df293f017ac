"""The outbox: events recorded in the transaction that caused them."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db import raw
from leadbase.db.base import table_of
from leadbase.kit.ids import new_id
from leadbase.models import Event

T = table_of(Event)
_EMIT_SQL = ("INSERT INTO events (id, tenant_id, type, entity_type, entity_id, payload) "
             "VALUES (%s, %s, %s, %s, %s, %s)")


async def emit(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    type: str,
    entity_type: str,
    entity_id: uuid.UUID | None,
    payload: dict[str, Any],
) -> None:
    # Every write emits one (raw driver: see leadbase.db.raw).
    await raw.execute(session, *event(tenant_id=tenant_id, type=type, entity_type=entity_type,
                                      entity_id=entity_id, payload=payload))


def event(*, tenant_id: uuid.UUID, type: str, entity_type: str, entity_id: uuid.UUID | None,
          payload: dict[str, Any]) -> raw.Statement:
    """The INSERT of an event, to run with a write's audit entry (``audit.record(event=)``)."""
    return _EMIT_SQL, (new_id(), tenant_id, type, entity_type, entity_id, raw.jsonb(payload))


async def claim_pending(session: AsyncSession, *, limit: int) -> list[dict[str, Any]]:
    """Lock a batch of due, unprocessed events (``FOR UPDATE SKIP LOCKED``: many workers)."""
    q = (
        select(T.c.id, T.c.tenant_id, T.c.type, T.c.entity_type, T.c.entity_id, T.c.payload,
               T.c.attempts)
        .where(T.c.processed_at.is_(None), T.c.next_attempt_at <= func.now())
        .order_by(T.c.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [dict(r) for r in (await session.execute(q)).mappings()]


async def mark_processed(session: AsyncSession, ids: list[uuid.UUID]) -> None:
    if ids:
        await session.execute(
            update(T).where(T.c.id.in_(ids)).values(processed_at=func.now(),
                                                     attempts=T.c.attempts + 1)
        )


async def mark_failed(session: AsyncSession, event_id: uuid.UUID, *, error: str,
                      give_up: bool) -> None:
    """Retry later with exponential back-off (2^attempts seconds, at most an hour), or
    give up: the event is closed with its last error kept for inspection."""
    values: dict[str, Any] = {
        "attempts": T.c.attempts + 1,
        "last_error": error[:2000],
        "next_attempt_at": func.now() + func.least(
            func.power(2, T.c.attempts + 1), 3600) * text("interval '1 second'"),
    }
    if give_up:
        values["processed_at"] = func.now()
    await session.execute(update(T).where(T.c.id == event_id).values(**values))
