"""Engines and transactions. Tenant scoping for row-level security lives here, once.

Every unit of work runs in one transaction that first sets, with ``SET LOCAL``
semantics, the database role that row-level security applies to
(``leadbase_app``: not a superuser, not the table owner) and the current tenant.
A query that forgets its tenant filter still sees only that tenant's rows.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from leadbase.config import Settings
from leadbase.db import raw
from leadbase.db.urls import sqlalchemy_url

APP_ROLE = "leadbase_app"

_SCOPE_SQL = (
    "SELECT set_config('role', %s, true), "
    "set_config('app.tenant_id', %s, true), "
    "set_config('app.scope', %s, true)"
)


def _json_dumps(value: object) -> str:
    return orjson.dumps(value).decode()


class Database:
    def __init__(self, libpq: str, settings: Settings) -> None:
        self.libpq = libpq
        self.engine: AsyncEngine = create_async_engine(
            sqlalchemy_url(libpq),
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_pre_ping=False,
            pool_recycle=1800,
            json_serializer=_json_dumps,
            json_deserializer=orjson.loads,
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)

    @asynccontextmanager
    async def transaction(
        self, tenant_id: uuid.UUID | None, *, system: bool = False
    ) -> AsyncIterator[AsyncSession]:
        """A session in one transaction, scoped to ``tenant_id``; commits on success.

        ``system=True`` also admits the auth tables' cross-workspace rows (sign-in,
        API-key lookup, platform administration); tenant data stays scoped.
        """
        async with self.sessions() as session, session.begin():
            await scope(session, tenant_id, system=system)
            yield session

    @asynccontextmanager
    async def transaction_after(
        self, tenant_id: uuid.UUID, first: raw.Statement
    ) -> AsyncIterator[tuple[AsyncSession, tuple[Any, ...] | None]]:
        """A tenant-scoped transaction, and the first row of ``first`` run in it.

        BEGIN, the scope and ``first`` travel in one round trip (a psycopg pipeline):
        every request opens its transaction this way with its membership check."""
        async with self.sessions() as session, session.begin():
            rows = await raw.pipeline(session, [(_SCOPE_SQL, _scope_params(tenant_id, False)),
                                                first])
            yield session, rows[-1]

    async def dispose(self) -> None:
        await self.engine.dispose()


async def scope(
    session: AsyncSession, tenant_id: uuid.UUID | None, *, system: bool = False
) -> None:
    """Set role and tenant for the current transaction (reverts at its end)."""
    await raw.fetch_row(session, _SCOPE_SQL, _scope_params(tenant_id, system))


def _scope_params(tenant_id: uuid.UUID | None, system: bool) -> tuple[str, str, str]:
    return (APP_ROLE, str(tenant_id) if tenant_id else "", "system" if system else "")
