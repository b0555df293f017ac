"""All SQL for tasks. Every read joins the task's lead within the readable set of leads
(``leads.repository.Readable``: the workspace, and an agent's own leads) and only live
leads; ``tenant_id`` comes first in every WHERE and index.

Indexes (migration 0016, ``_tasks``): a listing's tasks in order ``(tenant_id,
listing_id, position, id)``, a lead's ``(tenant_id, lead_id, position, id)``, the
workspace's ``(tenant_id, position, id)``, ``(tenant_id, due_at, id)``, ``(tenant_id,
created_at DESC, id DESC)``, assignee and status with due date, and for ``q=`` a trigram
GIN index on the task's ``search_text`` (title, tag). A search gathers its matches as the
UNION of two index scans (the tasks' trigram index, and the leads' ``search_text`` trigram
index followed by each matching lead's tasks) before ordering them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    delete,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db import raw
from leadbase.db.base import table_of
from leadbase.kit.ids import new_id
from leadbase.leads.repository import Readable
from leadbase.leads.repository import T as LEADS
from leadbase.models import Task

T = table_of(Task)

TASK_COLUMNS = (T.c.id, T.c.number, T.c.lead_id, T.c.listing_id, T.c.title, T.c.status,
                T.c.due_at, T.c.priority, T.c.tag, T.c.note, T.c.assignee_id,
                T.c.completed_at, T.c.position, T.c.metadata.label("metadata"),
                T.c.created_at, T.c.updated_at, T.c.deleted_at, T.c.version)
LEAD_NAME = func.concat_ws(" ", LEADS.c.first_name, LEADS.c.last_name)
LEAD_COLUMNS = (LEADS.c.first_name.label("le__first_name"),
                LEADS.c.last_name.label("le__last_name"), LEADS.c.email.label("le__email"),
                LEADS.c.phone.label("le__phone"), LEADS.c.owner_id.label("le__owner_id"),
                LEAD_NAME.label("lead_name"))

SORTABLE: dict[str, tuple[ColumnElement[Any], bool]] = {
    "position": (T.c.position, False),
    "due_at": (T.c.due_at, True),
    "created_at": (T.c.created_at, False),
    "updated_at": (T.c.updated_at, False),
    "status": (T.c.status, False),
    "title": (T.c.title, False),
    "priority": (T.c.priority, False),
    "number": (T.c.number, False),
    "lead_name": (LEAD_NAME, False),
}
ID_COLUMN = T.c.id


@dataclass(frozen=True)
class TaskFilter:
    statuses: tuple[str, ...] = ()
    lead_ids: tuple[uuid.UUID, ...] = ()
    listing_ids: tuple[uuid.UUID, ...] = ()
    assignee_ids: tuple[uuid.UUID, ...] = ()
    unassigned: bool = False
    tags: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    due_before: datetime | None = None
    due_after: datetime | None = None
    overdue: bool = False
    q: str | None = None
    title: str | None = None  # part of the title (case-insensitive)
    lead_name: str | None = None  # part of the lead's name or contact
    include_deleted: bool = False


def nest(row: Any) -> dict[str, Any]:
    out = dict(row)
    out["lead"] = {"id": out["lead_id"], **{k[4:]: out.pop(k) for k in
                                            [k for k in out if k.startswith("le__")]}}
    return out


def base_query(scope: Readable, *, include_deleted: bool = False,
               extra: tuple[ColumnElement[Any], ...] = ()) -> Select[Any]:
    """Tasks with their lead's columns, of live leads in ``scope``."""
    q = (select(*TASK_COLUMNS, *LEAD_COLUMNS, *extra)
         .join(LEADS, (LEADS.c.tenant_id == T.c.tenant_id) & (LEADS.c.id == T.c.lead_id))
         .where(T.c.tenant_id == scope.tenant_id, *scope.where(),
                LEADS.c.deleted_at.is_(None)))
    if not include_deleted:
        q = q.where(T.c.deleted_at.is_(None))
    return q


async def get(session: AsyncSession, *, scope: Readable, task_id: uuid.UUID,
              include_deleted: bool = False,
              for_update: bool = False) -> dict[str, Any] | None:
    """The task, if its lead is in ``scope`` (and live)."""
    q = base_query(scope, include_deleted=include_deleted).where(T.c.id == task_id)
    if for_update:
        q = q.with_for_update(of=T)
    row = (await session.execute(q)).mappings().first()
    return nest(row) if row else None


async def exists(session: AsyncSession, *, tenant_id: uuid.UUID, task_id: uuid.UUID,
                 include_deleted: bool = False) -> bool:
    """Whether the workspace holds the task, its lead live (whoever may read it)."""
    q = (select(T.c.id)
         .join(LEADS, (LEADS.c.tenant_id == T.c.tenant_id) & (LEADS.c.id == T.c.lead_id))
         .where(T.c.tenant_id == tenant_id, T.c.id == task_id, LEADS.c.deleted_at.is_(None)))
    if not include_deleted:
        q = q.where(T.c.deleted_at.is_(None))
    return (await session.execute(q)).first() is not None


async def insert_task(session: AsyncSession, *, tenant_id: uuid.UUID,
                      values: dict[str, Any]) -> dict[str, Any]:
    q = insert(T).values(id=new_id(), tenant_id=tenant_id, **values).returning(*TASK_COLUMNS)
    return dict((await session.execute(q)).mappings().one())


async def update_task(session: AsyncSession, *, tenant_id: uuid.UUID, task_id: uuid.UUID,
                      values: dict[str, Any]) -> dict[str, Any]:
    q = (update(T).where(T.c.tenant_id == tenant_id, T.c.id == task_id)
         .values(**values, updated_at=func.now(), version=T.c.version + 1)
         .returning(*TASK_COLUMNS))
    return dict((await session.execute(q)).mappings().one())


async def purge_task(session: AsyncSession, *, tenant_id: uuid.UUID,
                     task_id: uuid.UUID) -> None:
    await session.execute(delete(T).where(T.c.tenant_id == tenant_id, T.c.id == task_id))


# Ordering -----------------------------------------------------------------------------

def _in_scope(tenant_id: uuid.UUID, listing_id: uuid.UUID | None,
              lead_id: uuid.UUID) -> list[ColumnElement[bool]]:
    """The task's ordering scope: its listing's tasks, or (without a listing) its lead's
    tasks that have no listing either."""
    conds: list[ColumnElement[bool]] = [T.c.tenant_id == tenant_id, T.c.deleted_at.is_(None)]
    if listing_id is not None:
        conds.append(T.c.listing_id == listing_id)
    else:
        conds.extend([T.c.lead_id == lead_id, T.c.listing_id.is_(None)])
    return conds


async def last_position(session: AsyncSession, *, tenant_id: uuid.UUID,
                        listing_id: uuid.UUID | None,
                        lead_id: uuid.UUID) -> Decimal | None:
    q = (select(T.c.position).where(*_in_scope(tenant_id, listing_id, lead_id))
         .order_by(T.c.position.desc(), T.c.id.desc()).limit(1))
    value: Decimal | None = (await session.execute(q)).scalar_one_or_none()
    return value


async def neighbour(session: AsyncSession, *, tenant_id: uuid.UUID,
                    listing_id: uuid.UUID | None, lead_id: uuid.UUID,
                    position: Decimal, row_id: uuid.UUID, after: bool,
                    exclude: uuid.UUID) -> Decimal | None:
    """The position of the next task after (or before) ``(position, row_id)`` in the
    scope, ``exclude`` left out (one index step)."""
    key = tuple_(T.c.position, T.c.id)
    q = (select(T.c.position).where(*_in_scope(tenant_id, listing_id, lead_id),
                                    T.c.id != exclude,
                                    key > tuple_(position, row_id) if after
                                    else key < tuple_(position, row_id))
         .order_by(*((T.c.position, T.c.id) if after
                     else (T.c.position.desc(), T.c.id.desc()))).limit(1))
    value: Decimal | None = (await session.execute(q)).scalar_one_or_none()
    return value


async def renumber(session: AsyncSession, *, tenant_id: uuid.UUID,
                   listing_id: uuid.UUID | None, lead_id: uuid.UUID) -> None:
    """Positions 1, 2, 3... in the present order (only when two positions tie)."""
    ranked = (select(T.c.id, func.row_number().over(order_by=(T.c.position, T.c.id))
                     .label("rank")).where(*_in_scope(tenant_id, listing_id, lead_id))
              .subquery())
    await session.execute(update(T).where(T.c.tenant_id == tenant_id, T.c.id == ranked.c.id)
                          .values(position=ranked.c.rank))


async def visible_ids(session: AsyncSession, *, scope: Readable,
                      ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    """``id, lead_id, listing_id`` of the live tasks among ``ids`` in ``scope``, locked in
    id order (two reorders of the same tasks wait for each other, never deadlock)."""
    q = (select(T.c.id, T.c.lead_id, T.c.listing_id)
         .join(LEADS, (LEADS.c.tenant_id == T.c.tenant_id) & (LEADS.c.id == T.c.lead_id))
         .where(T.c.tenant_id == scope.tenant_id, *scope.where(),
                LEADS.c.deleted_at.is_(None), T.c.deleted_at.is_(None),
                T.c.id.in_(ids))
         .order_by(T.c.id).with_for_update(of=T))
    return [dict(r) for r in (await session.execute(q)).mappings()]


_SET_POSITIONS = (
    "UPDATE tasks AS t SET position = v.p, updated_at = now(), version = t.version + 1 "
    "FROM unnest(%s::uuid[], %s::numeric[]) AS v(id, p) "
    "WHERE t.tenant_id = %s AND t.id = v.id AND t.deleted_at IS NULL"
)


async def set_positions(session: AsyncSession, *, tenant_id: uuid.UUID,
                        positions: list[tuple[uuid.UUID, Decimal]]) -> None:
    """One UPDATE for the lot (the caller checked every id is visible)."""
    await raw.execute(session, _SET_POSITIONS,
                      ([i for i, _ in positions], [p for _, p in positions], tenant_id))
