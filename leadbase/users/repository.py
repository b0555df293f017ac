"""SQL for users. Lookups by email cross workspaces and need the system scope."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db import raw
from leadbase.db.base import table_of
from leadbase.kit.ids import new_id
from leadbase.models import User

T = table_of(User)
PUBLIC = (T.c.id, T.c.number, T.c.tenant_id, T.c.email, T.c.name, T.c.role, T.c.is_active,
          T.c.capacity, T.c.working_hours, T.c.timezone, T.c.out_of_office_until,
          T.c.last_login_at, T.c.created_at, T.c.updated_at,
          T.c.version)


async def insert_user(session: AsyncSession, values: dict[str, Any]) -> dict[str, Any]:
    q = insert(T).values(id=new_id(), **values).returning(*PUBLIC)
    return dict((await session.execute(q)).mappings().one())


async def email_taken(session: AsyncSession, email: str) -> bool:
    """Across all workspaces (emails are unique platform-wide); needs the system scope."""
    q = select(T.c.id).where(func.lower(T.c.email) == email.lower())
    return (await session.execute(q)).first() is not None


async def get_for_login(session: AsyncSession, email: str) -> dict[str, Any] | None:
    q = select(*PUBLIC, T.c.password_hash).where(func.lower(T.c.email) == email.lower())
    row = (await session.execute(q)).mappings().first()
    return dict(row) if row else None


async def get_by_id_any(session: AsyncSession, user_id: uuid.UUID) -> dict[str, Any] | None:
    row = (await session.execute(select(*PUBLIC).where(T.c.id == user_id))).mappings().first()
    return dict(row) if row else None


async def get(session: AsyncSession, *, tenant_id: uuid.UUID,
              user_id: uuid.UUID) -> dict[str, Any] | None:
    q = select(*PUBLIC).where(T.c.tenant_id == tenant_id, T.c.id == user_id)
    row = (await session.execute(q)).mappings().first()
    return dict(row) if row else None


async def active_role(session: AsyncSession, *, user_id: uuid.UUID) -> tuple[str, bool] | None:
    row = (await session.execute(select(T.c.role, T.c.is_active).where(T.c.id == user_id))).first()
    return (row[0], row[1]) if row else None


# Runs on every request (raw driver: see leadbase.db.raw).
_MEMBER_STATE_SQL = (
    "SELECT t.is_active, u.role, u.is_active, "
    "(%s::uuid IS NULL OR EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.tenant_id = t.id "
    "AND r.family_id = %s::uuid AND r.revoked_at IS NULL)) FROM tenants t "
    "LEFT JOIN users u ON u.tenant_id = t.id AND u.id = %s WHERE t.id = %s"
)


def member_state_query(tenant_id: uuid.UUID, user_id: uuid.UUID | None,
                       session_id: uuid.UUID | None = None) -> raw.Statement:
    """(workspace active, the user's role, the user active, the session live) in one row;
    no row when the workspace is not there (or not visible in this scope); role and user
    state are None when ``user_id`` is None or not a user of this workspace; the session
    is live when ``session_id`` is None (API keys) or its refresh-token family is not
    revoked. Run first in every request's transaction (``Database.transaction_after``)."""
    return _MEMBER_STATE_SQL, (session_id, session_id, user_id, tenant_id)


MemberState = tuple[bool, str | None, bool | None, bool]


def member_state_of(row: tuple[Any, ...] | None) -> MemberState | None:
    return (bool(row[0]), row[1], row[2], bool(row[3])) if row else None


async def member_state(
    session: AsyncSession, *, tenant_id: uuid.UUID, user_id: uuid.UUID | None,
    session_id: uuid.UUID | None = None,
) -> MemberState | None:
    """``member_state_query`` on its own."""
    sql, params = member_state_query(tenant_id, user_id, session_id)
    return member_state_of(await raw.fetch_row(session, sql, params))


async def list_users(
    session: AsyncSession, *, tenant_id: uuid.UUID, role: str | None, is_active: bool | None,
    q: str | None, offset: int, limit: int,
) -> tuple[list[dict[str, Any]], int]:
    conds = [T.c.tenant_id == tenant_id]
    if role:
        conds.append(T.c.role.in_(role.split(",")))
    if is_active is not None:
        conds.append(T.c.is_active.is_(is_active))
    if q:
        like = f"%{q.lower()}%"
        conds.append(func.lower(T.c.name).like(like) | func.lower(T.c.email).like(like))
    query = (select(*PUBLIC).where(*conds).order_by(T.c.created_at, T.c.id)
             .offset(offset).limit(limit))
    rows = [dict(r) for r in (await session.execute(query)).mappings()]
    total = (await session.execute(select(func.count()).select_from(T).where(*conds))).scalar_one()
    return rows, int(total)


async def update_user(
    session: AsyncSession, *, tenant_id: uuid.UUID, user_id: uuid.UUID,
    values: dict[str, Any], expected_version: int | None,
) -> dict[str, Any] | None:
    q = update(T).where(T.c.tenant_id == tenant_id, T.c.id == user_id)
    if expected_version is not None:
        q = q.where(T.c.version == expected_version)
    q = q.values(**values, updated_at=func.now(), version=T.c.version + 1).returning(*PUBLIC)
    row = (await session.execute(q)).mappings().first()
    return dict(row) if row else None


async def touch_login(session: AsyncSession, user_id: uuid.UUID) -> None:
    await session.execute(update(T).where(T.c.id == user_id).values(last_login_at=func.now()))


async def count_owners(session: AsyncSession, *, tenant_id: uuid.UUID) -> int:
    """Active owners, locked until the transaction ends: two owners removing each other
    at once cannot both see "two owners left" (the second waits, then counts one)."""
    q = select(T.c.id).where(
        T.c.tenant_id == tenant_id, T.c.role == "owner", T.c.is_active.is_(True)
    ).with_for_update()
    return len((await session.execute(q)).all())
