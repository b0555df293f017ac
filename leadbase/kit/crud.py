"""Generic tenant-scoped statements for simple tables (repositories call these)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.kit.ids import new_id


def named_sortable(table: Table) -> dict[str, tuple[ColumnElement[Any], bool]]:
    """Sorts of a named resource (public name -> (column, nullable))."""
    return {name: (table.c[name], False)
            for name in ("number", "name", "created_at", "updated_at")}


async def insert_row(session: AsyncSession, table: Table, *, tenant_id: uuid.UUID,
                     values: dict[str, Any]) -> dict[str, Any]:
    q = insert(table).values(id=new_id(), tenant_id=tenant_id, **values).returning(table)
    return dict((await session.execute(q)).mappings().one())


async def get_row(session: AsyncSession, table: Table, *, tenant_id: uuid.UUID,
                  row_id: uuid.UUID, for_update: bool = False,
                  where: Sequence[ColumnElement[bool]] = ()) -> dict[str, Any] | None:
    q = select(table).where(table.c.tenant_id == tenant_id, table.c.id == row_id, *where)
    if for_update:
        q = q.with_for_update()
    row = (await session.execute(q)).mappings().first()
    return dict(row) if row else None


async def get_by_number(session: AsyncSession, table: Table, *, tenant_id: uuid.UUID,
                        number: int,
                        where: Sequence[ColumnElement[bool]] = ()) -> dict[str, Any] | None:
    q = select(table).where(table.c.tenant_id == tenant_id, table.c.number == number, *where)
    row = (await session.execute(q)).mappings().first()
    return dict(row) if row else None


async def list_rows(session: AsyncSession, table: Table, *, tenant_id: uuid.UUID,
                    where: Sequence[ColumnElement[bool]] = (),
                    order: Sequence[Any] = (), offset: int = 0,
                    limit: int | None = None) -> tuple[list[dict[str, Any]], int]:
    conds = (table.c.tenant_id == tenant_id, *where)
    q = select(table).where(*conds).order_by(*order, table.c.number).offset(offset)
    if limit is not None:
        q = q.limit(limit)
    rows = [dict(r) for r in (await session.execute(q)).mappings()]
    if limit is None or (offset == 0 and len(rows) < limit):
        return rows, len(rows)
    total = (await session.execute(select(func.count()).select_from(table).where(*conds)))
    return rows, int(total.scalar_one())


async def list_named(session: AsyncSession, table: Table, *, tenant_id: uuid.UUID,
                     q: str | None, where: Sequence[ColumnElement[bool]] = (),
                     order: Sequence[Any] = (), offset: int = 0,
                     limit: int | None = None) -> tuple[list[dict[str, Any]], int]:
    """``list_rows`` narrowed to rows whose ``name`` contains ``q`` (case-insensitive)."""
    conds = [*where]
    if q:
        conds.append(func.lower(table.c.name).contains(q.lower(), autoescape=True))
    return await list_rows(session, table, tenant_id=tenant_id, where=conds, order=order,
                           offset=offset, limit=limit)


async def update_row(session: AsyncSession, table: Table, *, tenant_id: uuid.UUID,
                     row_id: uuid.UUID, values: dict[str, Any]) -> dict[str, Any]:
    extra: dict[str, Any] = {"updated_at": func.now()}
    if "version" in table.c:
        extra["version"] = table.c.version + 1
    q = (update(table).where(table.c.tenant_id == tenant_id, table.c.id == row_id)
         .values(**values, **extra).returning(table))
    return dict((await session.execute(q)).mappings().one())


async def delete_row(session: AsyncSession, table: Table, *, tenant_id: uuid.UUID,
                     row_id: uuid.UUID) -> None:
    await session.execute(delete(table).where(table.c.tenant_id == tenant_id,
                                              table.c.id == row_id))


class Rows:
    """The plain writes of one table (insert, update by id, delete by id), for a
    repository to expose as ``FIELD_ROWS = Rows(FIELDS)`` instead of one wrapper each."""

    def __init__(self, table: Table) -> None:
        self.table = table

    async def insert(self, session: AsyncSession, *, tenant_id: uuid.UUID,
                     values: dict[str, Any]) -> dict[str, Any]:
        return await insert_row(session, self.table, tenant_id=tenant_id, values=values)

    async def update(self, session: AsyncSession, *, tenant_id: uuid.UUID, row_id: uuid.UUID,
                     values: dict[str, Any]) -> dict[str, Any]:
        return await update_row(session, self.table, tenant_id=tenant_id, row_id=row_id,
                                values=values)

    async def delete(self, session: AsyncSession, *, tenant_id: uuid.UUID,
                     row_id: uuid.UUID) -> None:
        await delete_row(session, self.table, tenant_id=tenant_id, row_id=row_id)
