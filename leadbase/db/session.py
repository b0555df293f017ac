"""Engines and transactions. Tenant scoping for row-level security lives here, once.

Every unit of work runs in one transaction that first sets, with ``SET LOCAL``
semantics, the database role that row-level security applies to
(``leadbase_app``: not a superuser, not the table owner) and the current tenant, signed
(``app.scope_sig``, see ``leadbase.db.roles``). A query that forgets its tenant filter
still sees only that tenant's rows, and SQL run inside the transaction cannot change
its scope: the connection is a NOINHERIT login that is a member of ``leadbase_app``
only, and a changed tenant or scope setting no longer matches its signature.

``libpq`` is the owner's URL (migrations, the job queue, index builds); the engine's
connections sign in as the database's login role, resolved on first use.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import orjson
import psycopg
from psycopg.types.json import set_json_loads
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

from leadbase.config import Settings
from leadbase.db import raw, roles
from leadbase.db.urls import sqlalchemy_url

APP_ROLE = "leadbase_app"
SCOPE_KEY_INFO = "leadbase.scope_key"  # session.info: the key that signs its scope

_SCOPE_SQL = (
    "SELECT set_config('role', %s, true), "
    "set_config('app.tenant_id', %s, true), "
    "set_config('app.scope', %s, true), "
    "set_config('app.scope_sig', %s, true)"
)


def _json_dumps(value: object) -> str:
    return orjson.dumps(value).decode()


class Database:
    def __init__(self, libpq: str, settings: Settings) -> None:
        self.libpq = libpq
        self._access: roles.Access | None = None
        self._access_lock = asyncio.Lock()
        self.engine: AsyncEngine = create_async_engine(
            sqlalchemy_url(libpq),
            async_creator=self._connect,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_pre_ping=False,
            pool_recycle=1800,
            json_serializer=_json_dumps,
            json_deserializer=orjson.loads,
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)

    async def access(self) -> roles.Access:
        """The login role and scope key (made or read through the owner once)."""
        if self._access is None:
            async with self._access_lock:
                if self._access is None:
                    self._access = await asyncio.to_thread(roles.prepare, self.libpq)
        return self._access

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        conn = await psycopg.AsyncConnection.connect((await self.access()).login_url)
        # JSON columns read on the raw driver (leadbase.db.raw) with orjson, like the
        # engine's: the stdlib parser showed in the profile of every lead page.
        set_json_loads(orjson.loads, conn)
        return conn

    @asynccontextmanager
    async def transaction(
        self, tenant_id: uuid.UUID | None, *, system: bool = False
    ) -> AsyncIterator[AsyncSession]:
        """A session in one transaction, scoped to ``tenant_id``; commits on success.

        ``system=True`` also admits the auth tables' cross-workspace rows (sign-in,
        API-key lookup, platform administration); tenant data stays scoped.
        """
        key = (await self.access()).scope_key
        async with self.sessions() as session, session.begin():
            session.info[SCOPE_KEY_INFO] = key
            await scope(session, tenant_id, system=system)
            yield session

    @asynccontextmanager
    async def transaction_after(
        self, tenant_id: uuid.UUID, first: raw.Statement
    ) -> AsyncIterator[tuple[AsyncSession, tuple[Any, ...] | None]]:
        """A tenant-scoped transaction, and the first row of ``first`` run in it.

        BEGIN, the scope and ``first`` travel in one round trip (a psycopg pipeline):
        every request opens its transaction this way with its membership check.

        The hot path of every request, so it goes around the ORM session's transaction
        machinery (a quarter of a millisecond of CPU a request, measured with
        ``bench/profile_requests.py``): it checks a connection out of the engine's pool,
        begins and commits on the driver, and hands out a :class:`RequestSession` on
        that connection. Statements on the raw driver (``leadbase.db.raw``) use the
        connection directly; the first statement through the ORM makes a session bound
        to the same connection, which joins the transaction and then commits it."""
        key = (await self.access()).scope_key
        fairy = await greenlet_spawn(self.engine.sync_engine.pool.connect)
        lazy = RequestSession(self, fairy)
        session = cast(AsyncSession, lazy)
        try:
            session.info[SCOPE_KEY_INFO] = key
            rows = await raw.pipeline(session, [
                (_SCOPE_SQL, _scope_params(key, tenant_id, False)), first])
            yield session, rows[-1]
            await lazy.commit_request()
        except BaseException:
            with contextlib.suppress(Exception):
                await lazy.rollback_request()
            raise
        finally:
            await lazy.release()

    async def dispose(self) -> None:
        await self.engine.dispose()


class RequestSession:
    """The session of a request (``Database.transaction_after``): its own ``info`` and
    the pooled connection, with the ORM session made on first use. Any attribute but
    ``info`` is the ORM session's (an ``AsyncSession`` bound to the request's
    connection, so it joins the transaction the driver began)."""

    def __init__(self, db: Database, fairy: PoolProxiedConnection) -> None:
        self.info: dict[str, Any] = {}
        self._db, self._fairy = db, fairy
        self._driver = cast(psycopg.AsyncConnection[Any], fairy.driver_connection)
        self._bound: AsyncConnection | None = None
        self._session: AsyncSession | None = None
        raw.lend(cast(AsyncSession, self), self._driver)

    def _orm(self) -> AsyncSession:
        if self._session is None:
            engine = self._db.engine
            self._bound = AsyncConnection(engine, Connection(engine.sync_engine,
                                                             connection=self._fairy))
            self._session = self._db.sessions(bind=self._bound)
        return self._session

    def __getattr__(self, name: str) -> Any:
        return getattr(self._orm(), name)

    @property
    def bind(self) -> AsyncEngine:
        """The engine (what a session made by ``Database.sessions`` answers): callers
        open connections of their own beside the request's with it."""
        return self._db.engine

    def _orm_began(self) -> bool:
        return self._session is not None and self._session.in_transaction()

    async def commit_request(self) -> None:
        if self._session is not None and self._orm_began():
            await self._session.commit()  # flushes, then commits the one transaction
        else:
            await self._driver.commit()

    async def rollback_request(self) -> None:
        if self._session is not None and self._orm_began():
            await self._session.rollback()
        else:
            await self._driver.rollback()

    async def release(self) -> None:
        """The connection back to the pool."""
        if self._session is not None and self._bound is not None:
            await self._session.close()
            await self._bound.close()
        else:
            await greenlet_spawn(self._fairy.close)


def _scope_params(key: bytes, tenant_id: uuid.UUID | None,
                  system: bool) -> tuple[str, str, str, str]:
    tenant, scope = str(tenant_id) if tenant_id else "", "system" if system else ""
    return (APP_ROLE, tenant, scope, roles.sign(key, tenant, scope))


async def scope(
    session: AsyncSession, tenant_id: uuid.UUID | None, *, system: bool = False
) -> None:
    """Set role and tenant for the current transaction (reverts at its end); the session
    is one of :meth:`Database.transaction` (which knows the signing key)."""
    await raw.fetch_row(session, _SCOPE_SQL,
                        _scope_params(session.info[SCOPE_KEY_INFO], tenant_id, system))


def scope_statement(session: AsyncSession, tenant_id: uuid.UUID | None, *,
                    system: bool = False) -> raw.Statement:
    """:func:`scope` as a statement, to send first in one round trip with others."""
    return _SCOPE_SQL, _scope_params(session.info[SCOPE_KEY_INFO], tenant_id, system)
