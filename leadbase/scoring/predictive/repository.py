"""SQL of predictive models (the leads' predictions: ``scoring.repository``)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db import raw
from leadbase.db.base import table_of
from leadbase.kit import crud
from leadbase.models import Predictor

PREDICTORS = table_of(Predictor)


async def lock(session: AsyncSession, *, tenant_id: uuid.UUID) -> None:
    await raw.execute(session, "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                      (f"scoring-predictor:{tenant_id}",))


async def next_version(session: AsyncSession, *, tenant_id: uuid.UUID) -> int:
    q = select(func.coalesce(func.max(PREDICTORS.c.version), 0)).where(
        PREDICTORS.c.tenant_id == tenant_id)
    return int((await session.execute(q)).scalar_one()) + 1


async def insert(session: AsyncSession, *, tenant_id: uuid.UUID,
                 values: dict[str, Any]) -> dict[str, Any]:
    return await crud.insert_row(session, PREDICTORS, tenant_id=tenant_id, values=values)


async def get(session: AsyncSession, *, tenant_id: uuid.UUID, version: int,
              for_update: bool = False) -> dict[str, Any] | None:
    q = select(PREDICTORS).where(PREDICTORS.c.tenant_id == tenant_id,
                                 PREDICTORS.c.version == version)
    if for_update:
        q = q.with_for_update()
    row = (await session.execute(q)).mappings().first()
    return dict(row) if row else None


async def in_force(session: AsyncSession, *, tenant_id: uuid.UUID) -> dict[str, Any] | None:
    """The accepted predictor with the highest version."""
    q = (select(PREDICTORS).where(PREDICTORS.c.tenant_id == tenant_id,
                                  PREDICTORS.c.status == "accepted")
         .order_by(PREDICTORS.c.version.desc()).limit(1))
    row = (await session.execute(q)).mappings().first()
    return dict(row) if row else None


async def accept(session: AsyncSession, *, tenant_id: uuid.UUID, version: int,
                 user_id: uuid.UUID | None) -> dict[str, Any]:
    """Accept ``version``; the one accepted before retires."""
    await session.execute(update(PREDICTORS).where(
        PREDICTORS.c.tenant_id == tenant_id, PREDICTORS.c.status == "accepted",
        PREDICTORS.c.version != version).values(status="retired", updated_at=func.now()))
    q = (update(PREDICTORS).where(PREDICTORS.c.tenant_id == tenant_id,
                                  PREDICTORS.c.version == version)
         .values(status="accepted", accepted_at=func.now(), accepted_by=user_id,
                 updated_at=func.now()).returning(PREDICTORS))
    return dict((await session.execute(q)).mappings().one())


async def page(session: AsyncSession, *, tenant_id: uuid.UUID, before: int | None,
               limit: int) -> list[dict[str, Any]]:
    q = select(PREDICTORS).where(PREDICTORS.c.tenant_id == tenant_id)
    if before is not None:
        q = q.where(PREDICTORS.c.version < before)
    rows = await session.execute(q.order_by(PREDICTORS.c.version.desc()).limit(limit))
    return [dict(r) for r in rows.mappings()]
