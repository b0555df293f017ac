"""SQL for code lists and their items (always tenant-scoped)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import exists, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db.base import table_of
from leadbase.kit import crud
from leadbase.kit.ids import new_id
from leadbase.lists import repository as lists_repository
from leadbase.models import CodeList, CodeListItem, FieldDefinition, LeadList

T = table_of(CodeList)
ITEMS = table_of(CodeListItem)
FIELDS = table_of(FieldDefinition)
LISTS = table_of(LeadList)
LIVE = T.c.deleted_at.is_(None)

# Public sort name -> (column, nullable)
SORTABLE = crud.named_sortable(T)
ID_COLUMN = T.c.id



# --- code lists -------------------------------------------------------------------------

async def insert_code_list(session: AsyncSession, *, tenant_id: uuid.UUID,
                           values: dict[str, Any]) -> dict[str, Any]:
    return await crud.insert_row(session, T, tenant_id=tenant_id, values=values)


async def get(session: AsyncSession, *, tenant_id: uuid.UUID, code_list_id: uuid.UUID,
              for_update: bool = False) -> dict[str, Any] | None:
    return await crud.get_row(session, T, tenant_id=tenant_id, row_id=code_list_id,
                              for_update=for_update, where=[LIVE])


async def get_by_number(session: AsyncSession, *, tenant_id: uuid.UUID,
                        number: int) -> dict[str, Any] | None:
    return await crud.get_by_number(session, T, tenant_id=tenant_id, number=number,
                                    where=[LIVE])


async def list_code_lists(session: AsyncSession, *, tenant_id: uuid.UUID, q: str | None,
                          order: Sequence[Any], offset: int,
                          limit: int) -> tuple[list[dict[str, Any]], int]:
    return await crud.list_named(session, T, tenant_id=tenant_id, q=q, where=[LIVE],
                                 order=order, offset=offset, limit=limit)


async def lock_name(session: AsyncSession, *, tenant_id: uuid.UUID, name: str) -> None:
    """Serialise concurrent writes of one code-list name in a workspace (until commit)."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
                          {"k": f"code-list-name:{tenant_id}:{name.lower()}"})


async def name_taken(session: AsyncSession, *, tenant_id: uuid.UUID, name: str,
                     exclude_id: uuid.UUID | None = None) -> bool:
    q = select(T.c.id).where(T.c.tenant_id == tenant_id, LIVE,
                             func.lower(T.c.name) == name.lower())
    if exclude_id is not None:
        q = q.where(T.c.id != exclude_id)
    return (await session.execute(q.limit(1))).first() is not None


async def update_code_list(session: AsyncSession, *, tenant_id: uuid.UUID,
                           code_list_id: uuid.UUID, values: dict[str, Any]) -> dict[str, Any]:
    """Also with no ``values``: bumps version and updated_at (an item changed)."""
    return await crud.update_row(session, T, tenant_id=tenant_id, row_id=code_list_id,
                                 values=values)


async def soft_delete(session: AsyncSession, *, tenant_id: uuid.UUID,
                      code_list_id: uuid.UUID) -> None:
    await crud.update_row(session, T, tenant_id=tenant_id, row_id=code_list_id,
                          values={"deleted_at": func.now()})


async def in_use(session: AsyncSession, *, tenant_id: uuid.UUID,
                 code_list_id: uuid.UUID) -> bool:
    """Whether a field (active or not) of a live list draws on the code list."""
    live_lists = select(LISTS.c.id).where(LISTS.c.tenant_id == tenant_id,
                                          LISTS.c.deleted_at.is_(None))
    q = select(exists().where(FIELDS.c.tenant_id == tenant_id,
                              FIELDS.c.code_list_id == code_list_id,
                              FIELDS.c.list_id.in_(live_lists)))
    return bool((await session.execute(q)).scalar())


async def bump_list_schema_versions(session: AsyncSession, *, tenant_id: uuid.UUID,
                                    code_list_id: uuid.UUID) -> None:
    """Every list with a field drawing on the code list: its compiled schema is stale."""
    await lists_repository.bump_schema_versions(
        session, tenant_id=tenant_id, list_ids=select(FIELDS.c.list_id).where(
            FIELDS.c.tenant_id == tenant_id, FIELDS.c.code_list_id == code_list_id))


# --- items ------------------------------------------------------------------------------

async def items_for(session: AsyncSession, *, tenant_id: uuid.UUID,
                    code_list_ids: Sequence[uuid.UUID]) -> list[dict[str, Any]]:
    """The items of all ``code_list_ids`` in one query, by code list, then position."""
    if not code_list_ids:
        return []
    q = (select(ITEMS).where(ITEMS.c.tenant_id == tenant_id,
                             ITEMS.c.code_list_id.in_(code_list_ids))
         .order_by(ITEMS.c.code_list_id, ITEMS.c.position, ITEMS.c.number))
    return [dict(r) for r in (await session.execute(q)).mappings()]


async def list_items(session: AsyncSession, *, tenant_id: uuid.UUID, code_list_id: uuid.UUID,
                     active: bool | None, offset: int,
                     limit: int) -> tuple[list[dict[str, Any]], int]:
    where = [ITEMS.c.code_list_id == code_list_id]
    if active is not None:
        where.append(ITEMS.c.active.is_(active))
    return await crud.list_rows(session, ITEMS, tenant_id=tenant_id, where=where,
                                order=(ITEMS.c.position,), offset=offset, limit=limit)


async def active_codes(session: AsyncSession, *, tenant_id: uuid.UUID,
                       code_list_id: uuid.UUID) -> frozenset[str]:
    q = select(ITEMS.c.code).where(ITEMS.c.tenant_id == tenant_id,
                                   ITEMS.c.code_list_id == code_list_id,
                                   ITEMS.c.active.is_(True))
    return frozenset((await session.execute(q)).scalars())


async def codes_taken(session: AsyncSession, *, tenant_id: uuid.UUID, code_list_id: uuid.UUID,
                      codes: Sequence[str], exclude_id: uuid.UUID | None = None) -> list[str]:
    """Which of ``codes`` an item of the code list already has (active or not)."""
    if not codes:
        return []
    q = select(ITEMS.c.code).where(ITEMS.c.tenant_id == tenant_id,
                                   ITEMS.c.code_list_id == code_list_id,
                                   ITEMS.c.code.in_(list(codes)))
    if exclude_id is not None:
        q = q.where(ITEMS.c.id != exclude_id)
    return sorted((await session.execute(q)).scalars())


async def next_position(session: AsyncSession, *, tenant_id: uuid.UUID,
                        code_list_id: uuid.UUID) -> int:
    q = select(func.coalesce(func.max(ITEMS.c.position) + 1, 0)).where(
        ITEMS.c.tenant_id == tenant_id, ITEMS.c.code_list_id == code_list_id)
    return int((await session.execute(q)).scalar_one())


async def insert_items(session: AsyncSession, *, tenant_id: uuid.UUID, code_list_id: uuid.UUID,
                       items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Insert ``items`` (code, label, position, active) in one statement."""
    if not items:
        return []
    rows = [{"id": new_id(), "tenant_id": tenant_id, "code_list_id": code_list_id, **item}
            for item in items]
    q = insert(ITEMS).values(rows).returning(ITEMS)
    out = [dict(r) for r in (await session.execute(q)).mappings()]
    return sorted(out, key=lambda r: (r["position"], r["number"]))


async def get_item(session: AsyncSession, *, tenant_id: uuid.UUID, code_list_id: uuid.UUID,
                   item_id: uuid.UUID, for_update: bool = False) -> dict[str, Any] | None:
    return await crud.get_row(session, ITEMS, tenant_id=tenant_id, row_id=item_id,
                              for_update=for_update,
                              where=[ITEMS.c.code_list_id == code_list_id])


async def get_item_by_number(session: AsyncSession, *, tenant_id: uuid.UUID,
                             number: int) -> dict[str, Any] | None:
    """An item by its number, provided its code list is live."""
    live = select(T.c.id).where(T.c.tenant_id == tenant_id, LIVE)
    q = select(ITEMS).where(ITEMS.c.tenant_id == tenant_id, ITEMS.c.number == number,
                            ITEMS.c.code_list_id.in_(live))
    row = (await session.execute(q)).mappings().first()
    return dict(row) if row else None


async def update_item(session: AsyncSession, *, tenant_id: uuid.UUID, item_id: uuid.UUID,
                      values: dict[str, Any]) -> dict[str, Any]:
    return await crud.update_row(session, ITEMS, tenant_id=tenant_id, row_id=item_id,
                                 values=values)


async def delete_item(session: AsyncSession, *, tenant_id: uuid.UUID,
                      item_id: uuid.UUID) -> None:
    await crud.delete_row(session, ITEMS, tenant_id=tenant_id, row_id=item_id)
