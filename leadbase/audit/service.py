"""Recording and reading audit entries. Personal data never goes into an entry."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.audit import repository
from leadbase.auth.context import Context
from leadbase.db.raw import Statement
from leadbase.kit.pagination import PageParams, decode_cursor, encode_cursor

SORT_KEY = "-created_at,-id"


async def record(
    session: AsyncSession,
    *,
    ctx: Context,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID | None,
    changes: dict[str, Any] | None = None,
    event: Statement | None = None,
    more: Sequence[Statement] = (),
) -> None:
    """Add an audit entry in the caller's transaction.

    ``changes`` holds the names of the changed fields (``{"fields": [...]}``), not values.
    ``event`` (``outbox.event(...)``) is recorded with it, in the same round trip, and so
    are ``more`` statements of the same write (a new lead's assignment).
    """
    await repository.insert_entry(session, tenant_id=ctx.tenant_id, also=event, more=more,
                                  values=_values(ctx, action, entity_type, entity_id, changes))


def _values(ctx: Context, action: str, entity_type: str, entity_id: uuid.UUID | None,
            changes: dict[str, Any] | None) -> dict[str, Any]:
    return {"actor_user_id": ctx.principal.user_id,
            "actor_api_key_id": ctx.principal.api_key_id, "action": action,
            "entity_type": entity_type, "entity_id": entity_id, "changes": changes or {},
            "request_id": ctx.request_id}


def entry(*, ctx: Context, action: str, entity_type: str, entity_id: uuid.UUID | None,
          changes: dict[str, Any] | None = None) -> Statement:
    """:func:`record` as a statement, for a caller that sends its writes in one round trip
    (``raw.pipeline``; put the ``outbox.event`` statement beside it)."""
    return repository.entry_statement(
        tenant_id=ctx.tenant_id, values=_values(ctx, action, entity_type, entity_id, changes))


async def list_entries(
    session: AsyncSession,
    *,
    ctx: Context,
    params: PageParams,
    entity_type: str | None = None,
    entity_id: uuid.UUID | None = None,
    action: str | None = None,
    actor_user_id: uuid.UUID | None = None,
    created_after: datetime | None = None,
) -> tuple[list[dict[str, Any]], int | None, str | None]:
    after = decode_cursor(params.cursor, SORT_KEY) if params.cursor else None
    rows = await repository.list_entries(
        session, tenant_id=ctx.tenant_id, entity_type=entity_type, entity_id=entity_id,
        action=action, actor_user_id=actor_user_id, created_after=created_after,
        after=after, offset=params.offset, limit=params.per_page + 1,
    )
    next_cursor = None
    if len(rows) > params.per_page:
        rows = rows[: params.per_page]
        last = rows[-1]
        next_cursor = encode_cursor(SORT_KEY, [last["created_at"], last["id"]])
    total = None
    if params.count != "none" and not any((entity_type, entity_id, action, actor_user_id,
                                           created_after)):
        total = await repository.count_entries(session, tenant_id=ctx.tenant_id)
    return rows, total, next_cursor
