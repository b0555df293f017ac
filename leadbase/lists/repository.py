"""SQL for lead lists (always tenant-scoped)."""

from __future__ import annotations

import uuid

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db.base import table_of
from leadbase.kit.ids import new_id
from leadbase.models import LeadList

T = table_of(LeadList)


async def create(session: AsyncSession, *, tenant_id: uuid.UUID, name: str,
                 is_default: bool = False) -> uuid.UUID:
    list_id = new_id()
    await session.execute(insert(T).values(id=list_id, tenant_id=tenant_id, name=name,
                                           is_default=is_default))
    return list_id


async def default_list_id(session: AsyncSession, *, tenant_id: uuid.UUID) -> uuid.UUID | None:
    q = select(T.c.id).where(T.c.tenant_id == tenant_id, T.c.is_default,
                             T.c.deleted_at.is_(None))
    return (await session.execute(q)).scalar_one_or_none()


async def exists(session: AsyncSession, *, tenant_id: uuid.UUID, list_id: uuid.UUID) -> bool:
    q = select(T.c.id).where(T.c.tenant_id == tenant_id, T.c.id == list_id,
                             T.c.deleted_at.is_(None))
    return (await session.execute(q)).first() is not None
