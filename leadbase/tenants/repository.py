"""SQL for workspaces. Listing every workspace needs the system scope (platform admins)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db.base import table_of
from leadbase.kit.ids import new_id
from leadbase.models import Lead, Tenant, User

T = table_of(Tenant)
COLUMNS = (T.c.id, T.c.number, T.c.name, T.c.slug, T.c.default_region, T.c.timezone,
           T.c.currency, T.c.locale, T.c.settings, T.c.is_active, T.c.created_at,
           T.c.updated_at, T.c.version)


async def insert_tenant(session: AsyncSession, values: dict[str, Any]) -> dict[str, Any]:
    q = insert(T).values(id=new_id(), **values).returning(*COLUMNS)
    return dict((await session.execute(q)).mappings().one())


async def is_active(session: AsyncSession, tenant_id: uuid.UUID) -> bool | None:
    """Whether the workspace is active; None when there is no such workspace (or the
    session's scope cannot see it)."""
    q = select(T.c.is_active).where(T.c.id == tenant_id)
    value: bool | None = (await session.execute(q)).scalar_one_or_none()
    return value


async def slug_exists(session: AsyncSession, slug: str) -> bool:
    q = select(T.c.id).where(T.c.slug == slug)
    return (await session.execute(q)).first() is not None


async def get(session: AsyncSession, tenant_id: uuid.UUID) -> dict[str, Any] | None:
    row = (await session.execute(select(*COLUMNS).where(T.c.id == tenant_id))).mappings().first()
    return dict(row) if row else None


async def list_all(session: AsyncSession, *, offset: int, limit: int,
                   q: str | None) -> tuple[list[dict[str, Any]], int]:
    query = select(*COLUMNS)
    count = select(func.count()).select_from(T)
    if q:
        cond = T.c.name.ilike(f"%{q}%") | T.c.slug.ilike(f"%{q}%")
        query = query.where(cond)
        count = count.where(cond)
    query = query.order_by(T.c.created_at.desc(), T.c.id.desc()).offset(offset).limit(limit)
    rows = [dict(r) for r in (await session.execute(query)).mappings()]
    return rows, int((await session.execute(count)).scalar_one())


async def update_tenant(session: AsyncSession, tenant_id: uuid.UUID,
                        values: dict[str, Any]) -> dict[str, Any] | None:
    q = (update(T).where(T.c.id == tenant_id)
         .values(**values, updated_at=func.now(), version=T.c.version + 1).returning(*COLUMNS))
    row = (await session.execute(q)).mappings().first()
    return dict(row) if row else None


async def set_setting(session: AsyncSession, tenant_id: uuid.UUID, key: str,
                      value: Any) -> dict[str, Any] | None:
    q = (update(T).where(T.c.id == tenant_id)
         .values(settings=T.c.settings.op("||")(literal({key: value}, JSONB)),
                 updated_at=func.now(), version=T.c.version + 1).returning(*COLUMNS))
    row = (await session.execute(q)).mappings().first()
    return dict(row) if row else None


async def stats(session: AsyncSession,
                tenant_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, int]]:
    """User counts per workspace (lead counts need each tenant's own scope)."""
    u = User.__table__
    q = (select(u.c.tenant_id, func.count()).where(u.c.tenant_id.in_(tenant_ids))
         .group_by(u.c.tenant_id))
    out: dict[uuid.UUID, dict[str, int]] = {t: {"users": 0} for t in tenant_ids}
    for tid, n in (await session.execute(q)).all():
        out[tid]["users"] = int(n)
    return out


async def count_leads(session: AsyncSession, tenant_id: uuid.UUID) -> int:
    lt = Lead.__table__
    q = select(func.count()).select_from(lt).where(lt.c.tenant_id == tenant_id,
                                                   lt.c.deleted_at.is_(None))
    return int((await session.execute(q)).scalar_one())


async def id_by_slug(session: AsyncSession, slug: str) -> uuid.UUID | None:
    return (await session.execute(select(T.c.id).where(T.c.slug == slug))).scalar_one_or_none()
