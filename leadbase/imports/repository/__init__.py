"""All SQL for imports: the jobs and their row errors here, the staging tables an import
writes through in :mod:`leadbase.imports.repository.staging`."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db.base import table_of
from leadbase.kit import crud
from leadbase.models import ImportJob, ImportRowError, User

JOBS = table_of(ImportJob)
ERRORS = table_of(ImportRowError)
USERS = table_of(User)


# ---------------------------------------------------------------------------- jobs

async def insert_job(session: AsyncSession, *, tenant_id: uuid.UUID,
                     values: dict[str, Any]) -> dict[str, Any]:
    return await crud.insert_row(session, JOBS, tenant_id=tenant_id, values=values)


async def get_job(session: AsyncSession, *, tenant_id: uuid.UUID, job_id: uuid.UUID,
                  for_update: bool = False) -> dict[str, Any] | None:
    """``for_update`` locks FOR NO KEY UPDATE: a running import holds a key-share lock
    on its job (its error rows reference it) until it commits, and a cancel must not
    wait for that."""
    q = select(JOBS).where(JOBS.c.tenant_id == tenant_id, JOBS.c.id == job_id)
    if for_update:
        q = q.with_for_update(key_share=True)
    row = (await session.execute(q)).mappings().first()
    return dict(row) if row else None


async def list_jobs(session: AsyncSession, *, tenant_id: uuid.UUID, statuses: list[str] | None,
                    offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    where = [JOBS.c.status.in_(statuses)] if statuses else []
    return await crud.list_rows(session, JOBS, tenant_id=tenant_id, where=where,
                                order=[JOBS.c.created_at.desc(), JOBS.c.id.desc()],
                                offset=offset, limit=limit)


async def update_job(session: AsyncSession, *, tenant_id: uuid.UUID, job_id: uuid.UUID,
                     values: dict[str, Any]) -> dict[str, Any]:
    return await crud.update_row(session, JOBS, tenant_id=tenant_id, row_id=job_id,
                                 values=values)


async def finish_running(session: AsyncSession, *, tenant_id: uuid.UUID, job_id: uuid.UUID,
                         values: dict[str, Any]) -> dict[str, Any] | None:
    """Close a job that is still running (None when it was cancelled meanwhile)."""
    q = (update(JOBS).where(JOBS.c.tenant_id == tenant_id, JOBS.c.id == job_id,
                            JOBS.c.status == "running")
         .values(**values, updated_at=func.now()).returning(JOBS))
    row = (await session.execute(q)).mappings().first()
    return dict(row) if row else None


async def active_owners(session: AsyncSession, *, tenant_id: uuid.UUID) -> dict[str, str]:
    """Active users of the workspace by lower-cased email and by id (owner columns)."""
    q = select(USERS.c.id, USERS.c.email).where(USERS.c.tenant_id == tenant_id,
                                                USERS.c.is_active.is_(True))
    owners: dict[str, str] = {}
    for user_id, email in (await session.execute(q)).all():
        owners[str(email).lower()] = str(user_id)
        owners[str(user_id)] = str(user_id)
    return owners


# ---------------------------------------------------------------------------- errors

async def list_errors(session: AsyncSession, *, tenant_id: uuid.UUID, job_id: uuid.UUID,
                      bucket: str | None, after_line: int | None, offset: int,
                      limit: int) -> list[dict[str, Any]]:
    q = (select(ERRORS.c.line, ERRORS.c.bucket, ERRORS.c.errors, ERRORS.c["values"])
         .where(ERRORS.c.tenant_id == tenant_id, ERRORS.c.job_id == job_id)
         .order_by(ERRORS.c.line).limit(limit))
    if bucket:
        q = q.where(ERRORS.c.bucket == bucket)
    if after_line is not None:
        q = q.where(ERRORS.c.line > after_line)
    elif offset:
        q = q.offset(offset)
    return [dict(r) for r in (await session.execute(q)).mappings()]


async def stream_errors(session: AsyncSession, *, tenant_id: uuid.UUID, job_id: uuid.UUID,
                        bucket: str | None, batch: int = 2_000,
                        ) -> AsyncIterator[list[dict[str, Any]]]:
    """Every error row in line order, ``batch`` at a time (keyset on the line)."""
    after: int | None = None
    while True:
        rows = await list_errors(session, tenant_id=tenant_id, job_id=job_id, bucket=bucket,
                                 after_line=after, offset=0, limit=batch)
        if not rows:
            return
        yield rows
        after = rows[-1]["line"]
