"""All SQL for customers, their contacts (leads), opportunities and timeline; always
tenant-scoped, and for agents narrowed to what they may see (:func:`visible`).

An agent sees the customers it owns and those of the leads it may read (their
``customer_id``); the opportunities it owns and those of the leads it may read
(``opportunities.repository.OppScope``). Every other role sees the workspace."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    bindparam,
    exists,
    false,
    func,
    literal_column,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db import raw
from leadbase.db.base import table_of
from leadbase.kit.ids import new_id
from leadbase.kit.pagination import SortColumn, keyset_after
from leadbase.kit.sorting import order_by
from leadbase.leads.repository import READ_COLUMNS, Readable, escape_like
from leadbase.leads.repository import T as LEADS
from leadbase.models import Activity, Customer, Opportunity
from leadbase.opportunities.repository import OppScope

C = table_of(Customer)
O = table_of(Opportunity)  # noqa: E741
A = table_of(Activity)

COLUMNS = tuple(c for c in C.c if c.name != "tenant_id")
SORTABLE: dict[str, tuple[ColumnElement[Any], bool]] = {
    "created_at": (C.c.created_at, False),
    "updated_at": (C.c.updated_at, False),
    "name": (C.c.name, False),
    "number": (C.c.number, False),
}
ID_COLUMN = C.c.id
# The expression of ix_customers_tenant_search, written out (bound parameters for its
# literals would keep the planner from matching the index).
SEARCH: ColumnElement[str] = literal_column(
    "lower(customers.name || ' ' || coalesce(customers.email, ''))")
WRITABLE = frozenset(c.name for c in C.c) - {"id", "tenant_id", "number", "created_at"}

TIMELINE_COLUMNS = (A.c.id, A.c.type, A.c.lead_id, A.c.opportunity_id, A.c.description,
                    A.c.attributes, A.c.occurred_at, A.c.scheduled_for, A.c.completed_at,
                    A.c.author_user_id.label("author_id"))


@dataclass(frozen=True)
class Visible:
    """The customers a principal may see: built from the readable set of leads by
    :func:`visible`."""

    leads: Readable

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.leads.tenant_id

    @property
    def user_id(self) -> uuid.UUID | None:
        return self.leads.owner_id if self.leads.own else None

    def _readable_lead(self, link: ColumnElement[Any]) -> ColumnElement[bool]:
        return exists(select(LEADS.c.id).where(
            *self.leads.where(), LEADS.c.deleted_at.is_(None), link))

    def customers(self) -> list[ColumnElement[bool]]:
        conds: list[ColumnElement[bool]] = [C.c.tenant_id == self.tenant_id]
        if self.leads.own:
            if self.user_id is None:
                conds.append(false())
            else:
                conds.append(or_(C.c.owner_id == self.user_id,
                                 self._readable_lead(LEADS.c.customer_id == C.c.id)))
        return conds

    def writable(self, owner_id: uuid.UUID | None) -> bool:
        """Whether the principal may change a customer owned by ``owner_id`` (an agent:
        its own)."""
        return not self.leads.own or (owner_id is not None and owner_id == self.user_id)


def visible(leads: Readable) -> Visible:
    return Visible(leads)


async def insert(session: AsyncSession, *, tenant_id: uuid.UUID,
                 values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - WRITABLE
    if unknown:
        raise ValueError(f"not writable customer columns: {sorted(unknown)}")
    q = C.insert().values(id=new_id(), tenant_id=tenant_id, **values).returning(*COLUMNS)
    return dict((await session.execute(q)).mappings().one())


async def get(session: AsyncSession, *, scope: Visible, customer_id: uuid.UUID,
              include_deleted: bool = False, for_update: bool = False
              ) -> dict[str, Any] | None:
    q = select(*COLUMNS).where(*scope.customers(), C.c.id == customer_id)
    if not include_deleted:
        q = q.where(C.c.deleted_at.is_(None))
    if for_update:
        q = q.with_for_update(of=C)
    row = (await session.execute(q)).mappings().first()
    return dict(row) if row else None


async def update_customer(session: AsyncSession, *, tenant_id: uuid.UUID,
                          customer_id: uuid.UUID, values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - WRITABLE
    if unknown:
        raise ValueError(f"not writable customer columns: {sorted(unknown)}")
    q = (update(C).where(C.c.tenant_id == tenant_id, C.c.id == customer_id)
         .values(**values, updated_at=func.now(), version=C.c.version + 1)
         .returning(*COLUMNS))
    return dict((await session.execute(q)).mappings().one())


@dataclass(frozen=True)
class CustomerFilter:
    kinds: tuple[str, ...] = ()
    owner_ids: tuple[uuid.UUID, ...] = ()
    email_domains: tuple[str, ...] = ()
    q: str | None = None
    include_deleted: bool = False


def _conditions(scope: Visible, f: CustomerFilter) -> list[ColumnElement[bool]]:
    conds = scope.customers()
    if not f.include_deleted:
        conds.append(C.c.deleted_at.is_(None))
    if f.kinds:
        conds.append(C.c.kind.in_(f.kinds))
    if f.owner_ids:
        conds.append(C.c.owner_id.in_(f.owner_ids))
    if f.email_domains:
        conds.append(C.c.email_domain.in_(f.email_domains))
    if f.q:
        conds.append(SEARCH.like(bindparam("search", "%" + escape_like(f.q.lower()) + "%")))
    return conds


async def list_page(session: AsyncSession, *, scope: Visible, f: CustomerFilter,
                    sort: list[SortColumn], after: list[Any] | None, offset: int,
                    limit: int) -> list[dict[str, Any]]:
    q = select(*COLUMNS).where(*_conditions(scope, f))
    q = q.where(keyset_after(sort, after)) if after is not None else q.offset(offset)
    q = q.order_by(*order_by(sort)).limit(limit)
    return [dict(r) for r in (await session.execute(q)).mappings()]


async def count(session: AsyncSession, *, scope: Visible, f: CustomerFilter,
                cap: int) -> int:
    inner = select(C.c.id).where(*_conditions(scope, f)).limit(cap + 1).subquery()
    return int((await session.execute(select(func.count()).select_from(inner))).scalar_one())


# Matching on conversion: the advisory locks of the keys (released at commit) serialise
# conversions that could create the same customer; the lookup runs after them, in a
# statement of its own (a statement's snapshot predates the locks it waits for).
_LOCK_SQL = ("SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0))) "
             "FROM (SELECT k FROM unnest(%s::text[]) AS k ORDER BY k) AS keys")
_MATCH_SQL = (
    "SELECT id, kind, name, email, email_domain, owner_id, "
    "array_remove(ARRAY[CASE WHEN name_key = %(key)s THEN 'name' END, "
    "CASE WHEN email_domain = %(domain)s THEN 'email_domain' END, "
    "CASE WHEN lower(email) = %(email)s THEN 'email' END], NULL) AS matched_on "
    "FROM customers WHERE tenant_id = %(t)s AND deleted_at IS NULL AND ("
    "name_key = %(key)s OR email_domain = %(domain)s OR "
    "(email_domain = %(email_domain)s AND lower(email) = %(email)s)) "
    "ORDER BY (name_key = %(key)s) DESC, created_at, id LIMIT %(n)s"
)


async def lock_and_match(session: AsyncSession, *, tenant_id: uuid.UUID,
                         key: str | None, domain: str | None, email: str | None,
                         limit: int = 20) -> list[dict[str, Any]]:
    """Live customers of the workspace whose ``name_key`` is ``key``, whose
    ``email_domain`` is ``domain`` (a company's domain, never a free mail one) or whose
    email is ``email``, after taking the locks of those keys: the name matches first,
    then the oldest."""
    keys = [f"customer:{tenant_id}:{k}" for k in (
        f"name:{key}" if key else None, f"domain:{domain}" if domain else None,
        f"email:{email}" if email else None) if k]
    if not keys:
        return []
    email_domain = email.rsplit("@", 1)[1] if email and "@" in email else None
    _, rows = await raw.fetch_each(session, [
        (_LOCK_SQL, (keys,)),
        (_MATCH_SQL, {"t": tenant_id, "key": key or None, "domain": domain,
                      "email": email, "email_domain": email_domain, "n": limit})])
    return rows


async def visible_ids(session: AsyncSession, *, scope: Visible,
                      ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of ``ids`` the principal may see."""
    if not ids:
        return set()
    q = select(C.c.id).where(*scope.customers(), C.c.id.in_(ids))
    return set((await session.execute(q)).scalars())


async def contacts_page(session: AsyncSession, *, leads: Readable, customer_id: uuid.UUID,
                        after: list[Any] | None, limit: int) -> list[dict[str, Any]]:
    """Live leads converted into the customer that ``leads`` may read, newest first."""
    q = select(*READ_COLUMNS).where(*leads.where(), LEADS.c.deleted_at.is_(None),
                                    LEADS.c.customer_id == customer_id)
    if after is not None:
        q = q.where(tuple_(LEADS.c.created_at, LEADS.c.id) < tuple_(*after))
    q = q.order_by(LEADS.c.created_at.desc(), LEADS.c.id.desc()).limit(limit)
    return [dict(r) for r in (await session.execute(q)).mappings()]


async def timeline_page(session: AsyncSession, *, scope: Visible, customer_id: uuid.UUID,
                        after: list[Any] | None, limit: int) -> list[dict[str, Any]]:
    """Activities of the customer's contacts (leads the caller may read) and of its
    opportunities (that the caller may see), newest first: the two index scans (by lead,
    by opportunity) merged."""
    contacts = select(LEADS.c.id).where(*scope.leads.where(), LEADS.c.deleted_at.is_(None),
                                        LEADS.c.customer_id == customer_id)
    deals = select(O.c.id).where(*OppScope(scope.leads).where(), O.c.deleted_at.is_(None),
                                 O.c.customer_id == customer_id)
    base = [A.c.tenant_id == scope.tenant_id, A.c.deleted_at.is_(None)]
    if after is not None:
        base.append(tuple_(A.c.occurred_at, A.c.id) < tuple_(*after))
    by_lead = (select(*TIMELINE_COLUMNS).where(*base, A.c.lead_id.in_(contacts))
               .order_by(A.c.occurred_at.desc(), A.c.id.desc()).limit(limit))
    by_deal = (select(*TIMELINE_COLUMNS).where(*base, A.c.opportunity_id.in_(deals),
                                               or_(A.c.lead_id.is_(None),
                                                   A.c.lead_id.not_in(contacts)))
               .order_by(A.c.occurred_at.desc(), A.c.id.desc()).limit(limit))
    both = by_lead.union_all(by_deal).subquery()
    q = (select(both).order_by(both.c.occurred_at.desc(), both.c.id.desc()).limit(limit))
    return [dict(r) for r in (await session.execute(q)).mappings()]
