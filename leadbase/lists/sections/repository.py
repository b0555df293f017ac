"""SQL for field sections (always tenant-scoped). A section is the workspace's: fields of
any list may sit in it."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db.base import table_of
from leadbase.kit import crud
from leadbase.models import FieldDefinition, FieldSection

T = table_of(FieldSection)
FIELDS = table_of(FieldDefinition)
LIVE = T.c.deleted_at.is_(None)
ROWS = crud.Rows(T)


async def get(session: AsyncSession, *, tenant_id: uuid.UUID, section_id: uuid.UUID,
              for_update: bool = False) -> dict[str, Any] | None:
    return await crud.get_row(session, T, tenant_id=tenant_id, row_id=section_id,
                              for_update=for_update, where=[LIVE])


async def get_by_number(session: AsyncSession, *, tenant_id: uuid.UUID,
                        number: int) -> dict[str, Any] | None:
    return await crud.get_by_number(session, T, tenant_id=tenant_id, number=number,
                                    where=[LIVE])


async def list_sections(session: AsyncSession, *, tenant_id: uuid.UUID,
                        list_id: uuid.UUID | None, offset: int,
                        limit: int) -> tuple[list[dict[str, Any]], int]:
    """Live sections by position; with ``list_id``, those holding a field of that list."""
    where: list[ColumnElement[bool]] = [LIVE]
    if list_id is not None:
        where.append(T.c.id.in_(select(FIELDS.c.section_id).where(
            FIELDS.c.tenant_id == tenant_id, FIELDS.c.list_id == list_id)))
    return await crud.list_rows(session, T, tenant_id=tenant_id, where=where,
                                order=(T.c.position,), offset=offset, limit=limit)


async def next_position(session: AsyncSession, *, tenant_id: uuid.UUID) -> int:
    q = select(func.coalesce(func.max(T.c.position) + 1, 0)).where(T.c.tenant_id == tenant_id,
                                                                   LIVE)
    return int((await session.execute(q)).scalar_one())


def lists_using(tenant_id: uuid.UUID, section_id: uuid.UUID) -> Select[tuple[uuid.UUID]]:
    """The lists with a field in the section (for ``bump_schema_versions``)."""
    return select(FIELDS.c.list_id).where(FIELDS.c.tenant_id == tenant_id,
                                          FIELDS.c.section_id == section_id)


async def soft_delete(session: AsyncSession, *, tenant_id: uuid.UUID,
                      section_id: uuid.UUID) -> None:
    await ROWS.update(session, tenant_id=tenant_id, row_id=section_id,
                      values={"deleted_at": func.now()})


async def detach_fields(session: AsyncSession, *, tenant_id: uuid.UUID,
                        section_id: uuid.UUID) -> int:
    """Fields of the section lose it (what ON DELETE SET NULL does for a hard delete);
    their definitions and the leads' values are untouched otherwise."""
    q = (update(FIELDS).where(FIELDS.c.tenant_id == tenant_id, FIELDS.c.section_id == section_id)
         .values(section_id=None, updated_at=func.now(), version=FIELDS.c.version + 1)
         .returning(FIELDS.c.id))
    return len((await session.execute(q)).all())
