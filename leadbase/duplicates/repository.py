"""All SQL of duplicates and merges, always scoped to the workspace (and RLS)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db import raw
from leadbase.db.base import table_of
from leadbase.duplicates.candidates import BRIEF
from leadbase.kit import crud
from leadbase.leads.repository import RETURNING, Readable
from leadbase.models import DuplicateGroup, DuplicateScan, LeadMerge

SCANS = table_of(DuplicateScan)
GROUPS = table_of(DuplicateGroup)
MERGES = table_of(LeadMerge)
SCAN_ROWS = crud.Rows(SCANS)
MERGE_ROWS = crud.Rows(MERGES)

# The tables whose rows about a lead a merge moves to the survivor, and whether they have
# ``deleted_at`` (their live and deleted rows are found by two partial indexes each).
MOVED_TABLES: dict[str, bool] = {"activities": True, "tasks": True, "stage_changes": False,
                                 "opportunities": True}


def _source(table: str, deleted: bool) -> str:
    base = f"SELECT id, lead_id FROM {table} WHERE tenant_id = %(t)s AND lead_id = ANY(%(o)s)"
    if not deleted:
        return base
    return f"{base} AND deleted_at IS NULL UNION ALL {base} AND deleted_at IS NOT NULL"


def _moving(table: str, source: str) -> str:
    """Move the rows ``source`` selects (``id, lead_id``) to the survivor; the rows moved
    with the lead they came from. The UPDATE finds them by primary key
    (``id = ANY(ARRAY(...))``), never by a join the planner could make a hash join over
    the whole table."""
    return (f"WITH src AS MATERIALIZED ({source}), moved AS (UPDATE {table} SET lead_id = "
            "%(s)s WHERE tenant_id = %(t)s AND id = ANY(ARRAY(SELECT id FROM src)) "
            "RETURNING id) SELECT src.lead_id, src.id FROM src JOIN moved USING (id)")


def _move_sql(table: str, deleted: bool) -> str:
    return _moving(table, _source(table, deleted))


# A listing interest moves unless the survivor (or an earlier one of the merged leads)
# already has one for that listing: (tenant_id, lead_id, listing_id) is unique.
_MOVE_LISTINGS_SQL = _moving("lead_listings", (
    "SELECT DISTINCT ON (listing_id) id, lead_id FROM lead_listings "
    "WHERE tenant_id = %(t)s AND lead_id = ANY(%(o)s) AND listing_id NOT IN ("
    "SELECT listing_id FROM lead_listings WHERE tenant_id = %(t)s AND lead_id = %(s)s) "
    "ORDER BY listing_id, array_position(%(o)s, lead_id), created_at, id"))

_LOCK_SQL = (f"SELECT {RETURNING}, merged_into_id, merged_at FROM leads "
             "WHERE {scope} AND id = ANY(%s) ORDER BY id FOR UPDATE")
_HIDE_SQL = ("UPDATE leads SET merged_into_id = %(s)s, merged_at = now(), deleted_at = now(), "
             "updated_at = now(), version = version + 1 "
             "WHERE tenant_id = %(t)s AND id = ANY(%(o)s)")
_REVIVE_SQL = ("UPDATE leads SET merged_into_id = NULL, merged_at = NULL, deleted_at = NULL, "
               "updated_at = now(), version = version + 1 "
               "WHERE tenant_id = %(t)s AND id = ANY(%(o)s) AND merged_into_id = %(s)s")
_BACK_SQL = ("UPDATE {table} SET lead_id = %(to)s WHERE tenant_id = %(t)s "
             "AND id = ANY(%(ids)s) AND lead_id = %(s)s")


async def lock_leads(session: AsyncSession, *, scope: Readable,
                     ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    """The leads of ``ids`` in ``scope`` (deleted and merged ones too), locked in id
    order (two merges of overlapping leads wait for each other, never deadlock)."""
    where, params = scope.sql()
    return await raw.fetch_all(session, _LOCK_SQL.replace("{scope}", where),
                               (*params, ids))


async def move_children(session: AsyncSession, *, tenant_id: uuid.UUID,
                        survivor_id: uuid.UUID,
                        others: list[uuid.UUID]) -> dict[str, dict[str, list[str]]]:
    """Move the rows about ``others`` to the survivor, one UPDATE per table; the ids
    moved, per table and merged lead."""
    params = {"t": tenant_id, "s": survivor_id, "o": others}
    statements = [_move_sql(t, d) for t, d in MOVED_TABLES.items()] + [_MOVE_LISTINGS_SQL]
    results = await raw.fetch_each(session, [(sql, params) for sql in statements])
    moved: dict[str, dict[str, list[str]]] = {}
    for table, rows in zip([*MOVED_TABLES, "lead_listings"], results, strict=True):
        per: dict[str, list[str]] = {}
        for row in rows:
            per.setdefault(str(row["lead_id"]), []).append(str(row["id"]))
        moved[table] = per
    return moved


async def hide(session: AsyncSession, *, tenant_id: uuid.UUID, survivor_id: uuid.UUID,
               others: list[uuid.UUID]) -> None:
    await raw.execute(session, _HIDE_SQL, {"t": tenant_id, "s": survivor_id, "o": others})


async def move_back(session: AsyncSession, *, tenant_id: uuid.UUID, survivor_id: uuid.UUID,
                    moved: dict[str, dict[str, list[str]]], leads: list[uuid.UUID]) -> None:
    """Put back what a merge moved from ``leads`` (rows still on the survivor)."""
    statements: list[raw.Statement] = []
    for table, per in moved.items():
        for lead, ids in per.items():
            if uuid.UUID(lead) in leads and ids:
                statements.append((_BACK_SQL.replace("{table}", table),
                                   {"t": tenant_id, "s": survivor_id, "to": uuid.UUID(lead),
                                    "ids": [uuid.UUID(i) for i in ids]}))
    if statements:
        await raw.fetch_each(session, statements)


async def revive(session: AsyncSession, *, tenant_id: uuid.UUID, survivor_id: uuid.UUID,
                 leads: list[uuid.UUID]) -> None:
    await raw.execute(session, _REVIVE_SQL, {"t": tenant_id, "s": survivor_id, "o": leads})


async def merges_of(session: AsyncSession, *, tenant_id: uuid.UUID, survivor_id: uuid.UUID,
                    for_update: bool = False) -> list[dict[str, Any]]:
    """The survivor's merges not wholly undone, newest first."""
    q = (select(MERGES).where(MERGES.c.tenant_id == tenant_id,
                              MERGES.c.survivor_id == survivor_id,
                              MERGES.c.status != "unmerged")
         .order_by(MERGES.c.created_at.desc(), MERGES.c.id.desc()))
    if for_update:
        q = q.with_for_update()
    return [dict(r) for r in (await session.execute(q)).mappings()]


# -- scans and groups ---------------------------------------------------------------------

async def get_scan(session: AsyncSession, *, tenant_id: uuid.UUID, scan_id: uuid.UUID,
                   for_update: bool = False) -> dict[str, Any] | None:
    return await crud.get_row(session, SCANS, tenant_id=tenant_id, row_id=scan_id,
                              for_update=for_update)


async def list_scans(session: AsyncSession, *, tenant_id: uuid.UUID, offset: int,
                     limit: int) -> tuple[list[dict[str, Any]], int]:
    return await crud.list_rows(session, SCANS, tenant_id=tenant_id,
                                order=[SCANS.c.created_at.desc(), SCANS.c.id.desc()],
                                offset=offset, limit=limit)


async def latest_completed_scan(session: AsyncSession, *,
                                tenant_id: uuid.UUID) -> uuid.UUID | None:
    row = await raw.fetch_row(
        session, "SELECT id FROM duplicate_scans WHERE tenant_id = %s AND status = 'completed' "
                 "ORDER BY finished_at DESC, id DESC LIMIT 1", (tenant_id,))
    return row[0] if row else None


async def groups_page(session: AsyncSession, *, tenant_id: uuid.UUID, scan_id: uuid.UUID,
                      offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    q = (select(GROUPS).where(GROUPS.c.tenant_id == tenant_id, GROUPS.c.scan_id == scan_id)
         .order_by(GROUPS.c.score.desc(), GROUPS.c.id).offset(offset).limit(limit))
    rows = [dict(r) for r in (await session.execute(q)).mappings()]
    total = (await session.execute(
        select(func.count()).select_from(GROUPS)
        .where(GROUPS.c.tenant_id == tenant_id, GROUPS.c.scan_id == scan_id))).scalar_one()
    return rows, int(total)


async def briefs(session: AsyncSession, *, scope: Readable,
                 ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """The live leads of ``ids`` in ``scope``, by id."""
    where, params = scope.sql()
    rows = await raw.fetch_all(session, f"SELECT {BRIEF} FROM leads WHERE {where} AND "
                               "deleted_at IS NULL AND id = ANY(%s)", (*params, ids))
    return {r["id"]: r for r in rows}
