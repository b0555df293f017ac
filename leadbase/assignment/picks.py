"""Rotation picks, each a transaction of its own, off the lead's transaction.

A pick is one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` on the rule's state row
(:data:`repository._ADVANCE_SQL`): atomic, and serialised per rule by the row lock, so
each pick starts from the last one's slot. It runs beside the request's transaction, on
one of the process's own autocommit connections (BEGIN, scope, pick, COMMIT in one round
trip, not waiting for the WAL flush): kept in the lead's transaction, the row lock queued
every auto-assigned create of the workspace behind the slowest commit.

Picks of one rule that arrive together in a process are taken together: one statement
advances the rotation by all of them (``k`` slots) and hands them out in arrival order.
Under load this is what keeps the rotation from costing a round trip and a wake-up of
the event loop per create, one after another.

A request that fails or gives up after its pick costs that member a turn; a crash may
forget the last picks (``synchronous_commit = off``): never a lead."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
import weakref
from collections.abc import Sequence
from typing import Any

import psycopg
import psycopg.conninfo
from sqlalchemy import Engine, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from leadbase.assignment import repository
from leadbase.db import raw
from leadbase.db.session import scope_statement

CONNECTIONS = 4
Key = tuple[uuid.UUID, uuid.UUID, int]  # tenant, rule, bucket


class _Queue:
    def __init__(self) -> None:
        self.pending: list[tuple[tuple[int, ...], raw.Statement, asyncio.Future[int]]] = []
        self.task: asyncio.Task[None] | None = None


class Picker:
    """The picks of one engine in this process."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self.idle: list[psycopg.AsyncConnection[Any]] = []
        self.connections = asyncio.Semaphore(CONNECTIONS)
        self.queues: dict[Key, _Queue] = {}

    def close(self) -> None:
        for conn in self.idle:
            conn.pgconn.finish()
        self.idle.clear()

    async def pick(self, key: Key, slots: Sequence[int], scope: raw.Statement) -> int:
        queue = self.queues.get(key)
        if queue is None:
            if len(self.queues) > 10_000:
                self.queues = {k: q for k, q in self.queues.items() if q.pending}
            queue = self.queues[key] = _Queue()
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        queue.pending.append((tuple(slots), scope, future))
        if queue.task is None or queue.task.done():
            queue.task = asyncio.create_task(self._drain(key, queue))
        return await future

    async def _drain(self, key: Key, queue: _Queue) -> None:
        while queue.pending:
            taken, queue.pending = queue.pending, []
            groups: dict[tuple[int, ...], list[tuple[raw.Statement, asyncio.Future[int]]]] = {}
            for slots, scope, future in taken:
                groups.setdefault(slots, []).append((scope, future))
            for slots, waiting in groups.items():
                try:
                    got = await self._advance(key, slots, waiting[0][0], len(waiting))
                except Exception as exc:
                    for _, future in waiting:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), slot in zip(waiting, got, strict=True):
                    if not future.done():
                        future.set_result(slot)

    async def _advance(self, key: Key, slots: tuple[int, ...], scope: raw.Statement,
                       k: int) -> list[int]:
        async with self.connections:
            conn = self.idle.pop() if self.idle else await repository.pick_connection(
                self.conninfo)
            try:
                last = await repository.advance_on(conn, first=scope, tenant_id=key[0],
                                                   rule_id=key[1], bucket=key[2],
                                                   slots=slots, k=k)
            except BaseException:
                with contextlib.suppress(Exception):
                    await conn.close()
                raise
            self.idle.append(conn)
        end = slots.index(last)
        n = len(slots)
        return [slots[(end - (k - 1) + i) % n] for i in range(k)]


_pickers: weakref.WeakKeyDictionary[Engine, Picker] = weakref.WeakKeyDictionary()


async def _conninfo(session: AsyncSession) -> str:
    """How to connect as the session's connection did (same login)."""
    driver = await raw.connection(session)
    password = driver.pgconn.password
    return psycopg.conninfo.make_conninfo(
        driver.info.dsn, **({"password": password.decode()} if password else {}))


async def pick(session: AsyncSession, *, tenant_id: uuid.UUID, rule_id: uuid.UUID,
               bucket: int, slots: Sequence[int]) -> int:
    """The slot of this pick: the first of ``slots`` (eligible, ascending) after the
    rule's last pick, wrapping, taken and written atomically."""
    bind = session.bind
    assert isinstance(bind, AsyncEngine)
    picker = _pickers.get(bind.sync_engine)
    if picker is None:
        picker = _pickers[bind.sync_engine] = Picker(await _conninfo(session))
        event.listen(bind.sync_engine, "engine_disposed",
                     lambda _engine, p=picker: p.close())
    return await picker.pick((tenant_id, rule_id, bucket), slots,
                             scope_statement(session, tenant_id))
