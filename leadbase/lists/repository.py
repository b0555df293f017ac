"""SQL for lead lists (always tenant-scoped)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Select, func, insert, select, text, update
from sqlalchemy import exists as sql_exists
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db.base import table_of
from leadbase.kit import crud
from leadbase.kit.ids import new_id
from leadbase.leads.repository import Readable
from leadbase.models import FieldDefinition, Lead, LeadList

T = table_of(LeadList)
LEADS = table_of(Lead)
FIELDS = table_of(FieldDefinition)
LIVE = T.c.deleted_at.is_(None)

# Public sort name -> (column, nullable)
SORTABLE = crud.named_sortable(T)
ID_COLUMN = T.c.id


async def create(session: AsyncSession, *, tenant_id: uuid.UUID, name: str,
                 is_default: bool = False) -> uuid.UUID:
    list_id = new_id()
    await session.execute(insert(T).values(id=list_id, tenant_id=tenant_id, name=name,
                                           is_default=is_default))
    return list_id


async def default_list_id(session: AsyncSession, *, tenant_id: uuid.UUID) -> uuid.UUID | None:
    q = select(T.c.id).where(T.c.tenant_id == tenant_id, T.c.is_default, LIVE)
    return (await session.execute(q)).scalar_one_or_none()


async def exists(session: AsyncSession, *, tenant_id: uuid.UUID, list_id: uuid.UUID) -> bool:
    """Whether the list is live, holding a key-share lock on it until the transaction ends
    (the lock a foreign key check takes), so a concurrent delete of the list waits for the
    lead being written into it and then sees it."""
    q = (select(T.c.id).where(T.c.tenant_id == tenant_id, T.c.id == list_id, LIVE)
         .with_for_update(read=True, key_share=True))
    return (await session.execute(q)).first() is not None


async def insert_list(session: AsyncSession, *, tenant_id: uuid.UUID,
                      values: dict[str, Any]) -> dict[str, Any]:
    return await crud.insert_row(session, T, tenant_id=tenant_id, values=values)


async def get(session: AsyncSession, *, tenant_id: uuid.UUID, list_id: uuid.UUID,
              lock: str | None = None) -> dict[str, Any] | None:
    """A live list. ``lock``: "update" (row lock, also against new leads in the list, for a
    delete) or "no_key_update" (for a change)."""
    q = select(T).where(T.c.tenant_id == tenant_id, T.c.id == list_id, LIVE)
    if lock == "update":
        q = q.with_for_update()
    elif lock == "no_key_update":
        q = q.with_for_update(key_share=True)
    row = (await session.execute(q)).mappings().first()
    return dict(row) if row else None


async def get_by_number(session: AsyncSession, *, tenant_id: uuid.UUID,
                        number: int) -> dict[str, Any] | None:
    return await crud.get_by_number(session, T, tenant_id=tenant_id, number=number,
                                    where=[LIVE])


async def list_lists(session: AsyncSession, *, tenant_id: uuid.UUID, q: str | None,
                     order: Sequence[Any], offset: int,
                     limit: int) -> tuple[list[dict[str, Any]], int]:
    return await crud.list_named(session, T, tenant_id=tenant_id, q=q, where=[LIVE],
                                 order=order, offset=offset, limit=limit)


async def lead_counts(session: AsyncSession, *, scope: Readable,
                      list_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Live leads per list among those ``scope`` may read, for all of ``list_ids`` in one
    grouped query."""
    if not list_ids:
        return {}
    q = (select(LEADS.c.list_id, func.count())
         .where(*scope.where(), LEADS.c.list_id.in_(list_ids),
                LEADS.c.deleted_at.is_(None))
         .group_by(LEADS.c.list_id))
    return {row[0]: int(row[1]) for row in (await session.execute(q)).all()}


async def lock_name(session: AsyncSession, *, tenant_id: uuid.UUID, name: str) -> None:
    """Serialise concurrent writes of one list name in a workspace (released at commit)."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
                          {"k": f"list-name:{tenant_id}:{name.lower()}"})


async def name_taken(session: AsyncSession, *, tenant_id: uuid.UUID, name: str,
                     exclude_id: uuid.UUID | None = None) -> bool:
    q = select(T.c.id).where(T.c.tenant_id == tenant_id, LIVE,
                             func.lower(T.c.name) == name.lower())
    if exclude_id is not None:
        q = q.where(T.c.id != exclude_id)
    return (await session.execute(q.limit(1))).first() is not None


async def lock_default(session: AsyncSession, *, tenant_id: uuid.UUID) -> None:
    """Serialise switches of a workspace's default list (released at commit)."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
                          {"k": f"list-default:{tenant_id}"})


async def unset_default(session: AsyncSession, *, tenant_id: uuid.UUID) -> list[uuid.UUID]:
    """The current default stops being one; returns its id (if there was one)."""
    q = (update(T).where(T.c.tenant_id == tenant_id, T.c.is_default, LIVE)
         .values(is_default=False, updated_at=func.now(), version=T.c.version + 1)
         .returning(T.c.id))
    return list((await session.execute(q)).scalars())


async def update_list(session: AsyncSession, *, tenant_id: uuid.UUID, list_id: uuid.UUID,
                      values: dict[str, Any]) -> dict[str, Any]:
    return await crud.update_row(session, T, tenant_id=tenant_id, row_id=list_id,
                                 values=values)


async def soft_delete(session: AsyncSession, *, tenant_id: uuid.UUID,
                      list_id: uuid.UUID) -> None:
    await crud.update_row(session, T, tenant_id=tenant_id, row_id=list_id,
                          values={"deleted_at": func.now()})


async def has_live_leads(session: AsyncSession, *, tenant_id: uuid.UUID,
                         list_id: uuid.UUID) -> bool:
    q = select(sql_exists().where(LEADS.c.tenant_id == tenant_id, LEADS.c.list_id == list_id,
                                  LEADS.c.deleted_at.is_(None)))
    return bool((await session.execute(q)).scalar())


async def related_from_other_lists(session: AsyncSession, *, tenant_id: uuid.UUID,
                                   list_id: uuid.UUID) -> bool:
    """Whether a field (active or not) of another live list relates to this list."""
    live_lists = select(T.c.id).where(T.c.tenant_id == tenant_id, LIVE)
    q = select(sql_exists().where(
        FIELDS.c.tenant_id == tenant_id, FIELDS.c.related_list_id == list_id,
        FIELDS.c.list_id != list_id, FIELDS.c.list_id.in_(live_lists)))
    return bool((await session.execute(q)).scalar())


async def bump_schema_versions(session: AsyncSession, *, tenant_id: uuid.UUID,
                               list_ids: Collection[uuid.UUID] | Select[tuple[uuid.UUID]]
                               ) -> None:
    """A change to the field schema of ``list_ids`` (ids, or a query selecting them): the
    lists' compiled schemas, cached by ``schema_version``, are stale."""
    if isinstance(list_ids, Collection) and not list_ids:
        return
    ids = list_ids if isinstance(list_ids, Select) else list(list_ids)
    await session.execute(update(T).where(T.c.tenant_id == tenant_id, T.c.id.in_(ids))
                          .values(schema_version=T.c.schema_version + 1))
