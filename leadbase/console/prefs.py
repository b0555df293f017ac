"""Per-user console preferences (table ``console_preferences``): get and set one key.

Tenant-scoped (the request's session is under row-level security too) and per user; a
principal without a user (an API key) has none."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.auth.context import Context
from leadbase.db.base import table_of
from leadbase.models.console import ConsolePreference

T = table_of(ConsolePreference)
LEAD_COLUMNS = "leads.columns"


async def get(session: AsyncSession, *, ctx: Context, key: str) -> Any:
    if ctx.actor_user_id is None:
        return None
    q = select(T.c.value).where(T.c.tenant_id == ctx.tenant_id,
                                T.c.user_id == ctx.actor_user_id, T.c.key == key)
    return (await session.execute(q)).scalar_one_or_none()


async def put(session: AsyncSession, *, ctx: Context, key: str, value: Any) -> None:
    if ctx.actor_user_id is None:
        return
    stmt = insert(T).values(tenant_id=ctx.tenant_id, user_id=ctx.actor_user_id, key=key,
                            value=value)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[T.c.tenant_id, T.c.user_id, T.c.key],
        set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at}))
