"""SQL for refresh tokens (the system scope reaches them across workspaces)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db import raw
from leadbase.db.base import table_of
from leadbase.kit.ids import new_id
from leadbase.models import RefreshToken

T = table_of(RefreshToken)


async def insert_token(
    session: AsyncSession, *, tenant_id: uuid.UUID | None, user_id: uuid.UUID,
    family_id: uuid.UUID, token_hash: str, expires_at: datetime,
) -> None:
    await session.execute(insert(T).values(
        id=new_id(), tenant_id=tenant_id, user_id=user_id, family_id=family_id,
        token_hash=token_hash, expires_at=expires_at,
    ))


async def get_for_update(session: AsyncSession, token_hash: str) -> dict[str, Any] | None:
    q = select(T).where(T.c.token_hash == token_hash).with_for_update()
    row = (await session.execute(q)).mappings().first()
    return dict(row) if row else None


async def mark_used(session: AsyncSession, token_id: uuid.UUID) -> None:
    await session.execute(update(T).where(T.c.id == token_id).values(used_at=func.now()))


async def revoke_family(session: AsyncSession, family_id: uuid.UUID) -> None:
    await session.execute(update(T).where(T.c.family_id == family_id, T.c.revoked_at.is_(None))
                          .values(revoked_at=func.now()))


async def revoke_user_tokens(session: AsyncSession, *, user_id: uuid.UUID) -> None:
    await session.execute(update(T).where(T.c.user_id == user_id, T.c.revoked_at.is_(None))
                          .values(revoked_at=func.now()))


# A session is a refresh-token family: live until it is revoked (sign-out, reuse of a
# spent refresh token, deactivation or a password change). Access tokens carry its id.
SESSION_LIVE_SQL = ("EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.family_id = %s "
                    "AND r.revoked_at IS NULL)")


async def session_live(session: AsyncSession, session_id: uuid.UUID) -> bool:
    """Whether the session is live (needs the system scope or the session's workspace)."""
    row = await raw.fetch_row(session, f"SELECT {SESSION_LIVE_SQL}", (session_id,))
    return bool(row and row[0])
