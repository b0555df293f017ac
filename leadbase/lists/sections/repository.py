"""SQL for field sections (always tenant-scoped). Sections of deleted lists are out of
sight with their list."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db.base import table_of
from leadbase.kit import crud
from leadbase.models import FieldDefinition, FieldSection, LeadList

T = table_of(FieldSection)
LISTS = table_of(LeadList)
FIELDS = table_of(FieldDefinition)


def _live(tenant_id: uuid.UUID) -> list[ColumnElement[bool]]:
    live_lists = select(LISTS.c.id).where(LISTS.c.tenant_id == tenant_id,
                                          LISTS.c.deleted_at.is_(None))
    return [T.c.deleted_at.is_(None), T.c.list_id.in_(live_lists)]


async def insert_section(session: AsyncSession, *, tenant_id: uuid.UUID,
                         values: dict[str, Any]) -> dict[str, Any]:
    return await crud.insert_row(session, T, tenant_id=tenant_id, values=values)


async def get(session: AsyncSession, *, tenant_id: uuid.UUID, section_id: uuid.UUID,
              for_update: bool = False) -> dict[str, Any] | None:
    return await crud.get_row(session, T, tenant_id=tenant_id, row_id=section_id,
                              for_update=for_update, where=_live(tenant_id))


async def get_by_number(session: AsyncSession, *, tenant_id: uuid.UUID,
                        number: int) -> dict[str, Any] | None:
    q = select(T).where(T.c.tenant_id == tenant_id, T.c.number == number, *_live(tenant_id))
    row = (await session.execute(q)).mappings().first()
    return dict(row) if row else None


async def list_sections(session: AsyncSession, *, tenant_id: uuid.UUID,
                        list_id: uuid.UUID | None, offset: int,
                        limit: int) -> tuple[list[dict[str, Any]], int]:
    where = _live(tenant_id)
    if list_id is not None:
        where.append(T.c.list_id == list_id)
    return await crud.list_rows(session, T, tenant_id=tenant_id, where=where,
                                order=(T.c.list_id, T.c.position), offset=offset, limit=limit)


async def next_position(session: AsyncSession, *, tenant_id: uuid.UUID,
                        list_id: uuid.UUID) -> int:
    q = select(func.coalesce(func.max(T.c.position) + 1, 0)).where(
        T.c.tenant_id == tenant_id, T.c.list_id == list_id, T.c.deleted_at.is_(None))
    return int((await session.execute(q)).scalar_one())


async def update_section(session: AsyncSession, *, tenant_id: uuid.UUID,
                         section_id: uuid.UUID, values: dict[str, Any]) -> dict[str, Any]:
    return await crud.update_row(session, T, tenant_id=tenant_id, row_id=section_id,
                                 values=values)


async def soft_delete(session: AsyncSession, *, tenant_id: uuid.UUID,
                      section_id: uuid.UUID) -> None:
    await crud.update_row(session, T, tenant_id=tenant_id, row_id=section_id,
                          values={"deleted_at": func.now()})


async def detach_fields(session: AsyncSession, *, tenant_id: uuid.UUID,
                        section_id: uuid.UUID) -> int:
    """Fields of the section lose it (what ON DELETE SET NULL does for a hard delete);
    their definitions and the leads' values are untouched otherwise."""
    q = (update(FIELDS).where(FIELDS.c.tenant_id == tenant_id, FIELDS.c.section_id == section_id)
         .values(section_id=None, updated_at=func.now(), version=FIELDS.c.version + 1)
         .returning(FIELDS.c.id))
    return len((await session.execute(q)).all())
