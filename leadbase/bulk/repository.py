"""All SQL for bulk operations: the bulk jobs and the ids a filter matches."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db.base import table_of
from leadbase.kit import crud
from leadbase.leads.repository import LeadSet, conditions
from leadbase.models import BulkJob, Lead

JOBS = table_of(BulkJob)
LEADS = table_of(Lead)


async def count_matches(session: AsyncSession, *, leads: LeadSet) -> int:
    q = select(func.count()).select_from(LEADS).where(*conditions(leads))
    return int((await session.execute(q)).scalar_one())


async def next_ids(session: AsyncSession, *, leads: LeadSet,
                   after: uuid.UUID | None, limit: int) -> list[uuid.UUID]:
    """The next matching lead ids in id order (keyset: constant cost per batch)."""
    q = select(LEADS.c.id).where(*conditions(leads))
    if after is not None:
        q = q.where(LEADS.c.id > after)
    return list((await session.execute(q.order_by(LEADS.c.id).limit(limit))).scalars())


async def insert_job(session: AsyncSession, *, tenant_id: uuid.UUID,
                     values: dict[str, Any]) -> dict[str, Any]:
    return await crud.insert_row(session, JOBS, tenant_id=tenant_id, values=values)


async def get_job(session: AsyncSession, *, tenant_id: uuid.UUID, job_id: uuid.UUID,
                  created_by: uuid.UUID | None = None,
                  for_update: bool = False) -> dict[str, Any] | None:
    where = [JOBS.c.created_by == created_by] if created_by is not None else []
    return await crud.get_row(session, JOBS, tenant_id=tenant_id, row_id=job_id,
                              for_update=for_update, where=where)


async def update_job(session: AsyncSession, *, tenant_id: uuid.UUID, job_id: uuid.UUID,
                     values: dict[str, Any]) -> dict[str, Any]:
    return await crud.update_row(session, JOBS, tenant_id=tenant_id, row_id=job_id,
                                 values=values)


async def list_jobs(session: AsyncSession, *, tenant_id: uuid.UUID,
                    created_by: uuid.UUID | None, offset: int,
                    limit: int) -> tuple[list[dict[str, Any]], int]:
    where = [JOBS.c.created_by == created_by] if created_by is not None else []
    return await crud.list_rows(session, JOBS, tenant_id=tenant_id, where=where,
                                order=[JOBS.c.created_at.desc(), JOBS.c.id.desc()],
                                offset=offset, limit=limit)
