"""SQL for audit entries (always tenant-scoped)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db import raw
from leadbase.db.base import table_of
from leadbase.kit.ids import new_id
from leadbase.kit.pagination import SortColumn, keyset_after
from leadbase.models import AuditEntry

T = table_of(AuditEntry)

COLUMNS = (T.c.id, T.c.number, T.c.actor_user_id, T.c.actor_api_key_id, T.c.action,
           T.c.entity_type, T.c.entity_id, T.c.changes, T.c.request_id, T.c.created_at)


_INSERT_SQL = (
    "INSERT INTO audit_entries (id, tenant_id, actor_user_id, actor_api_key_id, action, "
    "entity_type, entity_id, changes, request_id) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


def entry_statement(*, tenant_id: uuid.UUID, values: dict[str, Any]) -> raw.Statement:
    """The INSERT of one entry, for :func:`insert_entry` or a ``raw.pipeline``."""
    return _INSERT_SQL, (
        new_id(), tenant_id, values.get("actor_user_id"), values.get("actor_api_key_id"),
        values["action"], values["entity_type"], values.get("entity_id"),
        raw.jsonb(values.get("changes") or {}), values.get("request_id"))


async def insert_entry(session: AsyncSession, *, tenant_id: uuid.UUID,
                       values: dict[str, Any],
                       also: raw.Statement | None = None,
                       more: Sequence[raw.Statement] = ()) -> None:
    """Every write records one (raw driver: see leadbase.db.raw); ``also`` (the write's
    outbox event) and ``more`` are statements sent in the same round trip."""
    entry = entry_statement(tenant_id=tenant_id, values=values)
    rest = ([also] if also is not None else []) + list(more)
    if not rest:
        await raw.execute(session, *entry)
    else:
        await raw.pipeline(session, [entry, *rest])


async def list_entries(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    entity_type: str | None,
    entity_id: uuid.UUID | None,
    action: str | None,
    actor_user_id: uuid.UUID | None,
    created_after: datetime | None,
    after: list[Any] | None,
    offset: int,
    limit: int,
) -> list[dict[str, Any]]:
    q = select(*COLUMNS).where(T.c.tenant_id == tenant_id)
    if entity_type:
        q = q.where(T.c.entity_type == entity_type)
    if entity_id:
        q = q.where(T.c.entity_id == entity_id)
    if action:
        q = q.where(T.c.action == action)
    if actor_user_id:
        q = q.where(T.c.actor_user_id == actor_user_id)
    if created_after:
        q = q.where(T.c.created_at > created_after)
    if after is not None:
        sort = [SortColumn("created_at", T.c.created_at, True, False),
                SortColumn("id", T.c.id, True, False)]
        q = q.where(keyset_after(sort, after))
    else:
        q = q.offset(offset)
    q = q.order_by(T.c.created_at.desc(), T.c.id.desc()).limit(limit)
    return [dict(r) for r in (await session.execute(q)).mappings()]


async def count_entries(session: AsyncSession, *, tenant_id: uuid.UUID) -> int:
    q = select(func.count()).select_from(T).where(T.c.tenant_id == tenant_id)
    return int((await session.execute(q)).scalar_one())
