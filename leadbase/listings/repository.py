"""All SQL for listings and lead-listing links, scoped to the workspace (``tenant_id``
first in every WHERE and index); the leads of a listing also by the readable set of
leads (``leads.repository.Readable``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db import raw
from leadbase.db.base import table_of
from leadbase.kit.ids import new_id
from leadbase.kit.pagination import SortColumn, keyset_after
from leadbase.kit.sorting import order_by
from leadbase.leads.repository import Readable, search_pattern
from leadbase.leads.repository import T as LEADS
from leadbase.models import LeadListing, Listing

T = table_of(Listing)
L = table_of(LeadListing)

COLUMNS = (T.c.id, T.c.number, T.c.kind, T.c.title, T.c.reference, T.c.status, T.c.price,
           T.c.currency, T.c.description, T.c.attributes, T.c.created_at, T.c.updated_at,
           T.c.deleted_at, T.c.version)
LINK_COLUMNS = (L.c.id, L.c.lead_id, L.c.listing_id, L.c.interest, L.c.note, L.c.created_at,
                L.c.updated_at, L.c.version)
LEAD_COLUMNS = (LEADS.c.id, LEADS.c.number, LEADS.c.first_name, LEADS.c.last_name,
                LEADS.c.email, LEADS.c.phone, LEADS.c.status, LEADS.c.owner_id)

SORTABLE: dict[str, tuple[ColumnElement[Any], bool]] = {
    "created_at": (T.c.created_at, False),
    "updated_at": (T.c.updated_at, False),
    "number": (T.c.number, False),
    "title": (T.c.title, False),
    "price": (T.c.price, True),
    "status": (T.c.status, False),
}
ID_COLUMN = T.c.id
LINK_SORT_KEY = "-created_at,-id"


@dataclass(frozen=True)
class ListingFilter:
    kinds: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    q: str | None = None
    price_gte: Decimal | None = None
    price_lte: Decimal | None = None
    currency: str | None = None
    make: str | None = None
    include_deleted: bool = False


def _conditions(tenant_id: uuid.UUID, f: ListingFilter) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [T.c.tenant_id == tenant_id]
    if not f.include_deleted:
        conds.append(T.c.deleted_at.is_(None))
    if f.kinds:
        conds.append(T.c.kind.in_(f.kinds))
    if f.statuses:
        conds.append(T.c.status.in_(f.statuses))
    if f.q:
        conds.append(T.c.search_text.like(search_pattern(f.q)))
    if f.price_gte is not None:
        conds.append(T.c.price >= f.price_gte)
    if f.price_lte is not None:
        conds.append(T.c.price <= f.price_lte)
    if f.currency:
        conds.append(T.c.currency == f.currency)
    if f.make:
        conds.append(func.lower(T.c.attributes["make"].astext) == f.make.lower())
    return conds


async def insert_listing(session: AsyncSession, *, tenant_id: uuid.UUID,
                         values: dict[str, Any]) -> dict[str, Any]:
    q = insert(T).values(id=new_id(), tenant_id=tenant_id, **values).returning(*COLUMNS)
    return dict((await session.execute(q)).mappings().one())


async def get_listing(session: AsyncSession, *, tenant_id: uuid.UUID, listing_id: uuid.UUID,
                      include_deleted: bool = False,
                      for_update: bool = False) -> dict[str, Any] | None:
    q = select(*COLUMNS).where(T.c.tenant_id == tenant_id, T.c.id == listing_id)
    if not include_deleted:
        q = q.where(T.c.deleted_at.is_(None))
    if for_update:
        q = q.with_for_update()
    row = (await session.execute(q)).mappings().first()
    return dict(row) if row else None


async def get_listings(session: AsyncSession, *, tenant_id: uuid.UUID,
                       listing_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """Live listings by id (one query, for embedding in other resources: constant SQL on
    the raw driver, as it runs with every page of a profile's tasks)."""
    if not listing_ids:
        return {}
    rows = await raw.fetch_all(session, _GET_MANY, (tenant_id, sorted(set(listing_ids))))
    return {r["id"]: r for r in rows}


_GET_MANY = (f"SELECT {', '.join(c.name for c in COLUMNS)} FROM listings WHERE tenant_id = %s "
             "AND id = ANY(%s::uuid[]) AND deleted_at IS NULL")


async def update_listing(session: AsyncSession, *, tenant_id: uuid.UUID,
                         listing_id: uuid.UUID, values: dict[str, Any]) -> dict[str, Any]:
    q = (update(T).where(T.c.tenant_id == tenant_id, T.c.id == listing_id)
         .values(**values, updated_at=func.now(), version=T.c.version + 1)
         .returning(*COLUMNS))
    return dict((await session.execute(q)).mappings().one())


async def purge_listing(session: AsyncSession, *, tenant_id: uuid.UUID,
                        listing_id: uuid.UUID) -> None:
    await session.execute(delete(T).where(T.c.tenant_id == tenant_id, T.c.id == listing_id))


async def list_listings(session: AsyncSession, *, tenant_id: uuid.UUID, f: ListingFilter,
                        sort: list[SortColumn], after: list[Any] | None, offset: int,
                        limit: int) -> list[dict[str, Any]]:
    q = select(*COLUMNS).where(*_conditions(tenant_id, f))
    if after is not None:
        q = q.where(keyset_after(sort, after))
    elif offset:
        q = q.offset(offset)
    q = q.order_by(*order_by(sort)).limit(limit)
    return [dict(r) for r in (await session.execute(q)).mappings()]


async def count_listings(session: AsyncSession, *, tenant_id: uuid.UUID, f: ListingFilter,
                         cap: int) -> int:
    inner = select(T.c.id).where(*_conditions(tenant_id, f)).limit(cap + 1).subquery()
    return int((await session.execute(select(func.count()).select_from(inner))).scalar_one())


# Links ------------------------------------------------------------------------------

async def insert_link(session: AsyncSession, *, tenant_id: uuid.UUID, lead_id: uuid.UUID,
                      listing_id: uuid.UUID, interest: str | None,
                      note: str | None) -> dict[str, Any] | None:
    """The new link, or None when the lead and listing are linked already."""
    q = (pg_insert(L).values(id=new_id(), tenant_id=tenant_id, lead_id=lead_id,
                             listing_id=listing_id, interest=interest, note=note)
         .on_conflict_do_nothing().returning(*LINK_COLUMNS))
    row = (await session.execute(q)).mappings().first()
    return dict(row) if row else None


async def get_link(session: AsyncSession, *, tenant_id: uuid.UUID, lead_id: uuid.UUID,
                   listing_id: uuid.UUID, for_update: bool = False) -> dict[str, Any] | None:
    q = select(*LINK_COLUMNS).where(L.c.tenant_id == tenant_id, L.c.lead_id == lead_id,
                                    L.c.listing_id == listing_id)
    if for_update:
        q = q.with_for_update()
    row = (await session.execute(q)).mappings().first()
    return dict(row) if row else None


async def update_link(session: AsyncSession, *, tenant_id: uuid.UUID, link_id: uuid.UUID,
                      values: dict[str, Any]) -> dict[str, Any]:
    q = (update(L).where(L.c.tenant_id == tenant_id, L.c.id == link_id)
         .values(**values, updated_at=func.now(), version=L.c.version + 1)
         .returning(*LINK_COLUMNS))
    return dict((await session.execute(q)).mappings().one())


async def delete_link(session: AsyncSession, *, tenant_id: uuid.UUID,
                      link_id: uuid.UUID) -> None:
    await session.execute(delete(L).where(L.c.tenant_id == tenant_id, L.c.id == link_id))


def _link_sort() -> list[SortColumn]:
    return [SortColumn("created_at", L.c.created_at, True, False),
            SortColumn("id", L.c.id, True, False)]


async def links_of_lead(session: AsyncSession, *, tenant_id: uuid.UUID, lead_id: uuid.UUID,
                        after: list[Any] | None, limit: int,
                        offset: int = 0) -> list[dict[str, Any]]:
    """The lead's links, newest first, each with its (live) listing as ``listing``."""
    sort = _link_sort()
    q = (select(*LINK_COLUMNS, *[c.label(f"li__{c.name}") for c in COLUMNS])
         .join(T, (T.c.tenant_id == L.c.tenant_id) & (T.c.id == L.c.listing_id))
         .where(L.c.tenant_id == tenant_id, L.c.lead_id == lead_id, T.c.deleted_at.is_(None)))
    if after is not None:
        q = q.where(keyset_after(sort, after))
    elif offset:
        q = q.offset(offset)
    rows = (await session.execute(q.order_by(*order_by(sort)).limit(limit))).mappings()
    return [_nest(dict(r), "li__", "listing") for r in rows]


async def links_of_listing(session: AsyncSession, *, scope: Readable, listing_id: uuid.UUID,
                           after: list[Any] | None, limit: int,
                           offset: int = 0) -> list[dict[str, Any]]:
    """The listing's links to live leads of the readable set ``scope``, newest first,
    each with its lead as ``lead``."""
    sort = _link_sort()
    q = (select(*LINK_COLUMNS, *[c.label(f"le__{c.name}") for c in LEAD_COLUMNS])
         .join(LEADS, (LEADS.c.tenant_id == L.c.tenant_id) & (LEADS.c.id == L.c.lead_id))
         .where(L.c.tenant_id == scope.tenant_id, L.c.listing_id == listing_id,
                *scope.where(), LEADS.c.deleted_at.is_(None)))
    if after is not None:
        q = q.where(keyset_after(sort, after))
    elif offset:
        q = q.offset(offset)
    rows = (await session.execute(q.order_by(*order_by(sort)).limit(limit))).mappings()
    return [_nest(dict(r), "le__", "lead") for r in rows]


def _nest(row: dict[str, Any], prefix: str, name: str) -> dict[str, Any]:
    inner = {k[len(prefix):]: row.pop(k) for k in [k for k in row if k.startswith(prefix)]}
    row[name] = inner
    return row
