"""Deferring worker jobs, in the caller's transaction.

procrastinate's jobs table lives in the same database, so the job row is inserted on the
session's own psycopg connection, inside the transaction that writes the row the job is
about: the worker sees the job when, and only when, that row is committed (a rollback
takes the job with it). Services call :func:`defer`; endpoints never do.
"""

from __future__ import annotations

import logging

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.types import JSONValue
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db import raw

log = logging.getLogger(__name__)

NAMESPACE = "leadbase"

# Only ever used with an explicit connection: its connector's pool is never opened. The
# worker knows each task and its retry strategy by name.
_app = procrastinate.App(connector=procrastinate.PsycopgConnector())


async def defer(session: AsyncSession, task: str, *, queue: str, lock: str | None = None,
                queueing_lock: str | None = None, schedule_in: dict[str, int] | None = None,
                **kwargs: str) -> int | None:
    """Queue ``leadbase:<task>`` with ``kwargs`` in the session's transaction; the job's
    id. With ``queueing_lock``, a job already queued under it is enough: None, and the
    transaction goes on (the insert runs in a savepoint)."""
    conn = await raw.connection(session)
    deferrer = _app.configure_task(f"{NAMESPACE}:{task}", queue=queue, lock=lock,
                                   queueing_lock=queueing_lock, schedule_in=schedule_in,
                                   connection=conn)
    if queueing_lock is None:
        return await deferrer.defer_async(**kwargs)
    try:
        async with conn.transaction():  # a savepoint: the request's transaction is open
            return await deferrer.defer_async(**kwargs)
    except AlreadyEnqueued:
        log.debug("%s already queued (%s)", task, queueing_lock)
        return None


async def defer_many(session: AsyncSession, task: str, *, queue: str,
                     jobs: list[dict[str, JSONValue]]) -> list[int]:
    """Queue ``leadbase:<task>`` once per kwargs of ``jobs``, in one statement, in the
    session's transaction (the dialer's tick places a minute's calls at once)."""
    if not jobs:
        return []
    conn = await raw.connection(session)
    deferrer = _app.configure_task(f"{NAMESPACE}:{task}", queue=queue, connection=conn)
    return await deferrer.batch_defer_async(*jobs)
