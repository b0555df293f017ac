"""Statements on the session's own psycopg connection, for the hottest paths.

Building, caching and executing a statement through SQLAlchemy costs a few hundred
microseconds of CPU; the same statement as a constant SQL string on the driver costs
a fraction of that (psycopg prepares it server-side after a few runs). The lead create,
get and list paths, the per-request scope and the membership check run here. The
statement runs in the session's transaction (same connection, same ``SET LOCAL``
role and tenant), so row-level security applies exactly as for ORM statements.
"""

from __future__ import annotations

import re
from typing import Any, cast

import orjson
from psycopg import AsyncConnection
from psycopg.rows import dict_row, tuple_row
from psycopg.types.json import Jsonb
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

_KEY = "leadbase.raw_connection"

Params = dict[str, Any] | tuple[Any, ...]
Statement = tuple[str, Params]


def _dumps(value: object) -> str:
    return orjson.dumps(value).decode()


def jsonb(value: object) -> Jsonb:
    """A JSONB parameter (serialised with orjson, as the engine does)."""
    return Jsonb(value, dumps=_dumps)


async def connection(session: AsyncSession) -> AsyncConnection[Any]:
    """The psycopg connection under ``session`` (its transaction is the session's)."""
    found = session.info.get(_KEY)
    if found is not None:
        return cast(AsyncConnection[Any], found)
    conn = await session.connection()
    raw = await conn.get_raw_connection()
    driver = cast(AsyncConnection[Any], raw.driver_connection)
    session.info[_KEY] = driver
    return driver


def lend(session: AsyncSession, driver: AsyncConnection[Any]) -> None:
    """Tell :func:`connection` that ``session`` is bound to ``driver`` (a request's
    transaction, ``Database.transaction_after``)."""
    session.info[_KEY] = driver


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    """A transaction's end may give the connection back to the pool: forget it."""
    session.info.pop(_KEY, None)


async def execute(session: AsyncSession, sql: str,
                  params: dict[str, Any] | tuple[Any, ...]) -> None:
    conn = await connection(session)
    async with conn.cursor() as cur:
        await cur.execute(sql.encode(), params)


async def fetch_one(session: AsyncSession, sql: str,
                    params: dict[str, Any] | tuple[Any, ...]) -> dict[str, Any] | None:
    conn = await connection(session)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(sql.encode(), params)
        return await cur.fetchone()


async def fetch_all(session: AsyncSession, sql: str,
                    params: dict[str, Any] | tuple[Any, ...]) -> list[dict[str, Any]]:
    conn = await connection(session)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(sql.encode(), params)
        return await cur.fetchall()


async def fetch_row(session: AsyncSession, sql: str,
                    params: dict[str, Any] | tuple[Any, ...]) -> tuple[Any, ...] | None:
    conn = await connection(session)
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(sql.encode(), params)
        return await cur.fetchone()


async def pipeline(session: AsyncSession,
                   statements: list[Statement]) -> list[tuple[Any, ...] | None]:
    """Run ``statements`` in one round trip (a psycopg pipeline; the transaction's BEGIN
    rides along when it is the first); the first row of each, in order (None for a
    statement that returns no rows, such as an INSERT without RETURNING)."""
    conn = await connection(session)
    cursors = []
    async with conn.pipeline():
        for sql, params in statements:
            cur = conn.cursor(row_factory=tuple_row)
            await cur.execute(sql.encode(), params)
            cursors.append(cur)
    return [await cur.fetchone() if cur.description is not None else None for cur in cursors]


async def fetch_each(session: AsyncSession,
                     statements: list[Statement]) -> list[list[dict[str, Any]]]:
    """Run ``statements`` in one round trip (a psycopg pipeline); every row of each, as
    dicts, in order (reads that do not depend on each other: a board, metrics)."""
    conn = await connection(session)
    cursors = []
    async with conn.pipeline():
        for sql, params in statements:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(sql.encode(), params)
            cursors.append(cur)
    return [await cur.fetchall() if cur.description is not None else [] for cur in cursors]


_NAMED = re.compile(r"%\((\w+)\)s")


def _positional(statement: Statement) -> tuple[str, tuple[Any, ...]]:
    sql, params = statement
    if not isinstance(params, dict):
        return sql, tuple(params)
    values: list[Any] = []

    def take(match: re.Match[str]) -> str:
        values.append(params[match.group(1)])
        return "%s"

    return _NAMED.sub(take, sql), tuple(values)


def combine(writes: list[Statement], last: Statement) -> Statement:
    """``writes`` (INSERT, UPDATE or DELETE statements without a result) and ``last`` as
    one statement: each of ``writes`` a data-modifying ``WITH`` query, run exactly once.
    They share one snapshot, so none may depend on another's effects (writes to different
    rows: a timeline entry, an audit entry, an event); fewer statements cost less on both
    sides of the connection than the same statements pipelined."""
    parts: list[str] = []
    values: list[Any] = []
    for i, statement in enumerate(writes):
        sql, params = _positional(statement)
        parts.append(f"w{i} AS ({sql})")
        values.extend(params)
    sql, params = _positional(last)
    values.extend(params)
    return (f"WITH {', '.join(parts)} {sql}" if parts else sql), tuple(values)
