"""SQL for API keys. Lookup by prefix crosses workspaces (system scope)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db.base import table_of
from leadbase.kit.ids import new_id
from leadbase.models import ApiKey, User

T = table_of(ApiKey)
PUBLIC = (T.c.id, T.c.number, T.c.name, T.c.prefix, T.c.role, T.c.scopes, T.c.created_by,
          T.c.last_used_at, T.c.expires_at, T.c.created_at, T.c.deleted_at)


async def insert_key(session: AsyncSession, values: dict[str, Any]) -> dict[str, Any]:
    q = insert(T).values(id=new_id(), **values).returning(*PUBLIC)
    return dict((await session.execute(q)).mappings().one())


async def get_by_prefix(session: AsyncSession, prefix: str) -> dict[str, Any] | None:
    users = table_of(User)
    joined = T.outerjoin(users, users.c.id == T.c.created_by)
    q = (select(*PUBLIC, T.c.key_hash, T.c.tenant_id, users.c.role.label("creator_role"),
                users.c.is_active.label("creator_active"))
         .select_from(joined).where(T.c.prefix == prefix))
    row = (await session.execute(q)).mappings().first()
    return dict(row) if row else None


async def touch(session: AsyncSession, key_id: uuid.UUID) -> None:
    await session.execute(
        update(T).where(T.c.id == key_id,
                        (T.c.last_used_at.is_(None))
                        | (T.c.last_used_at < func.now() - func.make_interval(0, 0, 0, 0, 0, 1)))
        .values(last_used_at=func.now())
    )


async def list_keys(session: AsyncSession, *, tenant_id: uuid.UUID, offset: int,
                    limit: int) -> tuple[list[dict[str, Any]], int]:
    conds = (T.c.tenant_id == tenant_id, T.c.deleted_at.is_(None))
    q = select(*PUBLIC).where(*conds).order_by(T.c.created_at.desc(), T.c.id.desc())
    rows = [dict(r) for r in (await session.execute(q.offset(offset).limit(limit))).mappings()]
    total = (await session.execute(select(func.count()).select_from(T).where(*conds))).scalar_one()
    return rows, int(total)


async def revoke(session: AsyncSession, *, tenant_id: uuid.UUID, key_id: uuid.UUID) -> bool:
    q = (update(T).where(T.c.tenant_id == tenant_id, T.c.id == key_id, T.c.deleted_at.is_(None))
         .values(deleted_at=func.now()).returning(T.c.id))
    return (await session.execute(q)).first() is not None
