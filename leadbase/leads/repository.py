"""All SQL for leads. Every statement is filtered by ``tenant_id`` (and RLS checks it again)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from dataclasses import replace as dc_replace
from datetime import datetime
from typing import Any

import orjson
import psycopg
from sqlalchemy import (
    ColumnElement,
    Select,
    Text,
    cast,
    delete,
    func,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db import raw
from leadbase.db.base import table_of
from leadbase.db.explain import Explain
from leadbase.kit.ids import new_id
from leadbase.kit.pagination import SortColumn, keyset_after
from leadbase.kit.sorting import order_by
from leadbase.models import Event, Lead

T = table_of(Lead)
E = table_of(Event)

COLUMNS = (
    T.c.id, T.c.number, T.c.list_id, T.c.first_name, T.c.last_name, T.c.email, T.c.phone,
    T.c.company, T.c.job_title, T.c.source, T.c.status, T.c.score, T.c.temperature,
    T.c.owner_id, T.c.tags, T.c.notes, T.c.fields, T.c.metadata.label("metadata"),
    T.c.do_not_contact, T.c.consent, T.c.timezone, T.c.country, T.c.last_contacted_at,
    T.c.created_at, T.c.updated_at, T.c.deleted_at, T.c.version,
)

# Public sort name -> (column, nullable)
SORTABLE: dict[str, tuple[ColumnElement[Any], bool]] = {
    "created_at": (T.c.created_at, False),
    "updated_at": (T.c.updated_at, False),
    "number": (T.c.number, False),
    "score": (T.c.score, False),
    "status": (T.c.status, False),
    "first_name": (T.c.first_name, True),
    "last_name": (T.c.last_name, True),
    "email": (T.c.email, True),
    "phone": (T.c.phone, True),
    "company": (T.c.company, True),
    "job_title": (T.c.job_title, True),
    "source": (T.c.source, True),
    "temperature": (T.c.temperature, False),
    "last_contacted_at": (T.c.last_contacted_at, True),
}
ID_COLUMN = T.c.id

# The hot statements (create, get, duplicate checks) run on the raw driver (see
# leadbase.db.raw) as constant SQL; the column list is the same as COLUMNS.
_RETURNING = ", ".join(c.name for c in COLUMNS)
_JSON_COLUMNS = frozenset({"fields", "metadata", "score_breakdown"})
_WRITABLE = frozenset(c.name for c in T.c) - {"id", "tenant_id", "number", "search_text"}
_GET_SQL = f"SELECT {_RETURNING} FROM leads WHERE tenant_id = %s AND id = %s"
_LIVE = " AND deleted_at IS NULL"
_FOR_UPDATE = " FOR UPDATE"
_LOCK_SQL = ("SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0))) "
             "FROM (SELECT k FROM unnest(%s::text[]) AS k ORDER BY k) AS keys")
_DUPLICATE_SQL = (
    "SELECT id, matched FROM ("
    "(SELECT id, created_at, 'email' AS matched, 0 AS rank FROM leads WHERE tenant_id = %(t)s "
    "AND deleted_at IS NULL AND email = %(email)s AND id <> %(exclude)s "
    "ORDER BY created_at LIMIT 1) UNION ALL "
    "(SELECT id, created_at, 'phone', 1 FROM leads WHERE tenant_id = %(t)s "
    "AND deleted_at IS NULL AND phone = %(phone)s AND id <> %(exclude)s "
    "ORDER BY created_at LIMIT 1)) AS found ORDER BY rank LIMIT 1"
)
_NO_ID = uuid.UUID(int=0)


class PrimaryValueTaken(Exception):
    """The database refused a lead write: another live lead of the list holds the value
    of primary field ``code`` (raised by the ``lead_field_keys`` triggers, migration 0009)."""

    def __init__(self, code: str, existing_id: str) -> None:
        super().__init__(code, existing_id)
        self.code = code
        self.existing_id = existing_id


def _taken(exc: BaseException) -> PrimaryValueTaken | None:
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if isinstance(orig, psycopg.errors.UniqueViolation) and \
            orig.diag.constraint_name == "lead_field_keys_taken":
        return PrimaryValueTaken(orig.diag.column_name or "", orig.diag.message_detail or "")
    return None


def _param(column: str, value: Any) -> Any:
    return raw.jsonb(value) if column in _JSON_COLUMNS and value is not None else value


@dataclass
class LeadFilter:
    statuses: list[str] | None = None
    owner_ids: list[uuid.UUID] | None = None
    owner_none: bool = False
    tags: list[str] | None = None
    sources: list[str] | None = None
    list_ids: list[uuid.UUID] | None = None
    score_gte: int | None = None
    score_lte: int | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    q: str | None = None
    include_deleted: bool = False
    only_deleted: bool = False
    restrict_owner: uuid.UUID | None = None  # agents see only their own leads
    field_filters: list[tuple[str, str, str]] = field(default_factory=list)  # code, op, raw
    extra: list[ColumnElement[bool]] = field(default_factory=list)


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def conditions(tenant_id: uuid.UUID, f: LeadFilter) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [T.c.tenant_id == tenant_id]
    if f.only_deleted:
        conds.append(T.c.deleted_at.is_not(None))
    elif not f.include_deleted:
        conds.append(T.c.deleted_at.is_(None))
    if f.restrict_owner is not None:
        conds.append(T.c.owner_id == f.restrict_owner)
    if f.statuses:
        conds.append(T.c.status.in_(f.statuses) if len(f.statuses) > 1
                     else T.c.status == f.statuses[0])
    if f.owner_none and f.owner_ids:
        conds.append(T.c.owner_id.in_(f.owner_ids) | T.c.owner_id.is_(None))
    elif f.owner_none:
        conds.append(T.c.owner_id.is_(None))
    elif f.owner_ids:
        conds.append(T.c.owner_id.in_(f.owner_ids) if len(f.owner_ids) > 1
                     else T.c.owner_id == f.owner_ids[0])
    if f.tags:
        conds.append(T.c.tags.overlap(cast(f.tags, ARRAY(Text))))
    if f.sources:
        conds.append(T.c.source.in_(f.sources))
    if f.list_ids:
        conds.append(T.c.list_id.in_(f.list_ids))
    if f.score_gte is not None:
        conds.append(T.c.score >= f.score_gte)
    if f.score_lte is not None:
        conds.append(T.c.score <= f.score_lte)
    if f.created_after is not None:
        conds.append(T.c.created_at >= f.created_after)
    if f.created_before is not None:
        conds.append(T.c.created_at < f.created_before)
    if f.updated_after is not None:
        conds.append(T.c.updated_at >= f.updated_after)
    if f.q:
        conds.append(T.c.search_text.like(_search_pattern(f.q)))
    conds.extend(f.extra)
    return conds


async def insert_lead(session: AsyncSession, *, tenant_id: uuid.UUID,
                      values: dict[str, Any]) -> dict[str, Any]:
    """Raises :class:`PrimaryValueTaken` for a primary value another live lead of the list
    holds."""
    unknown = set(values) - _WRITABLE
    if unknown:
        raise ValueError(f"not writable lead columns: {sorted(unknown)}")
    columns = ["id", "tenant_id", *values]
    sql = (f"INSERT INTO leads ({', '.join(columns)}) VALUES "
           f"({', '.join(['%s'] * len(columns))}) RETURNING {_RETURNING}")
    params = (new_id(), tenant_id, *(_param(k, v) for k, v in values.items()))
    try:
        row = await raw.fetch_one(session, sql, params)
    except psycopg.errors.UniqueViolation as exc:
        taken = _taken(exc)
        if taken is None:
            raise
        raise taken from None
    assert row is not None
    return row


async def get(session: AsyncSession, *, tenant_id: uuid.UUID, lead_id: uuid.UUID,
              include_deleted: bool = False, for_update: bool = False) -> dict[str, Any] | None:
    sql = _GET_SQL + ("" if include_deleted else _LIVE) + (_FOR_UPDATE if for_update else "")
    return await raw.fetch_one(session, sql, (tenant_id, lead_id))


async def find_duplicate(
    session: AsyncSession, *, tenant_id: uuid.UUID, email: str | None, phone: str | None,
    exclude_id: uuid.UUID | None = None,
) -> tuple[uuid.UUID, str] | None:
    """The oldest live lead with this email (checked first) or phone, and what matched,
    after taking the transaction-scoped advisory locks of both identities (released at
    commit): concurrent writes of one email or phone in a workspace are serialised.

    Lock and lookup are two statements, because a statement's snapshot predates any lock
    it waits for (only the next statement sees a concurrent writer's row), sent in one
    round trip: the server runs them in order."""
    keys = ([f"email:{email}"] if email else []) + ([f"phone:{phone}"] if phone else [])
    if not keys:
        return None
    _, row = await raw.pipeline(session, [
        (_LOCK_SQL, ([f"lead:{tenant_id}:{k}" for k in keys],)),
        (_DUPLICATE_SQL, {"t": tenant_id, "email": email or None, "phone": phone or None,
                          "exclude": exclude_id or _NO_ID})])
    return (row[0], row[1]) if row else None


async def update_lead(session: AsyncSession, *, tenant_id: uuid.UUID, lead_id: uuid.UUID,
                      values: dict[str, Any]) -> dict[str, Any]:
    """Raises :class:`PrimaryValueTaken` when the change gives the lead a primary value
    (or brings it back to life with one) that another live lead of its list holds."""
    q = (update(T).where(T.c.tenant_id == tenant_id, T.c.id == lead_id)
         .values(**values, updated_at=func.now(), version=T.c.version + 1).returning(*COLUMNS))
    try:
        return dict((await session.execute(q)).mappings().one())
    except IntegrityError as exc:
        taken = _taken(exc)
        if taken is None:
            raise
        raise taken from None


async def purge(session: AsyncSession, *, tenant_id: uuid.UUID, lead_id: uuid.UUID) -> None:
    await session.execute(delete(T).where(T.c.tenant_id == tenant_id, T.c.id == lead_id))
    # Events may carry the lead's data: keep only the reference.
    await session.execute(
        update(E).where(E.c.tenant_id == tenant_id, E.c.entity_id == lead_id)
        .values(payload=func.jsonb_build_object("id", str(lead_id), "purged", True))
    )


def list_query(tenant_id: uuid.UUID, f: LeadFilter, sort: list[SortColumn],
               after: list[Any] | None, offset: int, limit: int) -> Select[Any]:
    if sort[0].nullable and sort[0].name.startswith("fields."):
        return _custom_sort_query(tenant_id, f, sort, after, offset, limit)
    q = select(*COLUMNS).where(*conditions(tenant_id, f))
    if after is not None:
        q = q.where(keyset_after(sort, after))
    elif offset:
        q = q.offset(offset)
    return q.order_by(*order_by(sort)).limit(limit)


def _custom_sort_query(tenant_id: uuid.UUID, f: LeadFilter, sort: list[SortColumn],
                       after: list[Any] | None, offset: int, limit: int) -> Select[Any]:
    """``sort=fields.<code>`` (NULLS LAST in both directions) as two ordered parts: the
    leads with a value, then those without. A field's index (``indexed``, see
    leadbase.fields.indexes) is ascending with NULLS LAST, so one ordered scan of it serves
    either part in either direction, where ``ORDER BY v DESC NULLS LAST`` would need a
    sort of every match. Each part stops at ``offset + limit`` rows; the outer query
    orders those few by (part, sort columns)."""
    first, rest = sort[0], sort[1:]
    keys = [c.column.label(f"_s{i}") for i, c in enumerate(sort)]
    conds = conditions(tenant_id, f)
    # Within a part the first column is never NULL (values) or always NULL (the rest), so
    # it sorts like a NOT NULL column: in the direction of the index scan.
    plain = dc_replace(first, nullable=False)
    skip = offset if after is None else 0
    parts = []
    if after is None or after[0] is not None:
        where = [*conds, first.column.is_not(None)]
        if after is not None:
            where.append(keyset_after([plain, *rest], after))
        parts.append(select(*COLUMNS, literal(0).label("_part"), *keys).where(*where)
                     .order_by(*order_by([plain, *rest])).limit(skip + limit))
    where = [*conds, first.column.is_(None)]
    if after is not None and after[0] is None:
        where.append(keyset_after(rest, after[1:]))
    parts.append(select(*COLUMNS, literal(1).label("_part"), *keys).where(*where)
                 .order_by(*order_by([plain, *rest])).limit(skip + limit))
    both = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery("page")
    outer = [SortColumn(c.name, both.c[f"_s{i}"], c.descending, c.nullable)
             for i, c in enumerate(sort)]
    q = select(*[both.c[c.name] for c in COLUMNS]).order_by(both.c["_part"],
                                                            *order_by(outer))
    if skip:
        q = q.offset(skip)
    return q.limit(limit)


SEARCH_WINDOW = 10_000
"""How far a ``q=`` search walks the sort order before gathering the matches instead."""


def _search_pattern(q: str) -> ColumnElement[Any]:
    return func.lower(func.lb_unaccent("%" + _escape_like(q) + "%"))


def search_window_query(tenant_id: uuid.UUID, f: LeadFilter, sort: list[SortColumn],
                        after: list[Any] | None, limit: int) -> Select[Any]:
    """The first ``limit`` matches of ``q`` among the next :data:`SEARCH_WINDOW` leads of
    the sort order (the other filters applied). When it finds ``limit`` rows they are the
    page: every lead beyond the window comes later in the order."""
    assert f.q is not None
    others = dc_replace(f, q=None)
    inner = select(*COLUMNS, T.c.search_text).where(*conditions(tenant_id, others))
    if after is not None:
        inner = inner.where(keyset_after(sort, after))
    window = inner.order_by(*order_by(sort)).limit(SEARCH_WINDOW).subquery("recent")
    outer = [dc_replace(c, column=window.c[c.column.name]) for c in sort]
    return (select(*[window.c[c.name] for c in COLUMNS])
            .where(window.c.search_text.like(_search_pattern(f.q)))
            .order_by(*order_by(outer)).limit(limit))


def search_matches_query(tenant_id: uuid.UUID, f: LeadFilter, sort: list[SortColumn],
                         after: list[Any] | None, limit: int) -> Select[Any]:
    """All the matches first (a materialised CTE: the trigram index gathers them whatever
    the estimate), then the page: for a term the window did not fill a page with, rarer
    than the planner may think."""
    inner = select(*COLUMNS).where(*conditions(tenant_id, f))
    if after is not None:
        inner = inner.where(keyset_after(sort, after))
    matches = inner.cte("matches").prefix_with("MATERIALIZED")
    outer = [dc_replace(c, column=matches.c[c.column.name]) for c in sort]
    return (select(*[matches.c[c.name] for c in COLUMNS])
            .order_by(*order_by(outer)).limit(limit))


async def list_leads(session: AsyncSession, *, tenant_id: uuid.UUID, f: LeadFilter,
                     sort: list[SortColumn], after: list[Any] | None, offset: int,
                     limit: int) -> list[dict[str, Any]]:
    """A page of leads.

    A ``q=`` search (first or cursor page, a core-column sort) that the planner means to
    answer by walking the sort order and filtering (it judges the term common) is bounded:
    the walk looks at :data:`SEARCH_WINDOW` leads, and when they do not hold a page the
    term is rarer than judged (the column's histogram resolves 1/500), so all its matches
    are gathered through the trigram index and sorted, instead of walking most of the
    table."""
    q = list_query(tenant_id, f, sort, after, offset, limit)
    if f.q and not (offset and after is None) and not sort[0].name.startswith("fields.") \
            and not _uses_index(await _plan(session, q), SEARCH_INDEX):
        window = search_window_query(tenant_id, f, sort, after, limit)
        rows = [dict(r) for r in (await session.execute(window)).mappings()]
        if len(rows) >= limit:
            return rows
        q = search_matches_query(tenant_id, f, sort, after, limit)
    return [dict(r) for r in (await session.execute(q)).mappings()]


SEARCH_INDEX = "ix_leads_tenant_search"


async def _plan(session: AsyncSession, stmt: Select[Any]) -> dict[str, Any]:
    """The planner's plan of ``stmt`` (``EXPLAIN (FORMAT JSON)``), its top node."""
    conn = await session.connection()  # Core execution: the ORM wants a SELECT-like statement
    plan = (await conn.execute(Explain(stmt))).scalar_one()
    if isinstance(plan, str | bytes):
        plan = orjson.loads(plan)
    top: dict[str, Any] = plan[0]["Plan"]
    return top


def _uses_index(node: dict[str, Any], name: str) -> bool:
    return node.get("Index Name") == name or any(
        _uses_index(child, name) for child in node.get("Plans", ()))


async def count(session: AsyncSession, *, tenant_id: uuid.UUID, f: LeadFilter,
                cap: int | None) -> int:
    """Exact count, or (with ``cap``) exact up to ``cap`` and ``cap + 1`` beyond it."""
    inner = select(T.c.id).where(*conditions(tenant_id, f))
    if cap is not None:
        inner = inner.limit(cap + 1)
    q = select(func.count()).select_from(inner.subquery())
    return int((await session.execute(q)).scalar_one())


async def estimate(session: AsyncSession, *, tenant_id: uuid.UUID, f: LeadFilter) -> int:
    """The planner's row estimate for the filter (cheap at any size)."""
    return int((await _plan(session, select(T.c.id).where(*conditions(tenant_id, f))))
               ["Plan Rows"])


def field_value_expr(code: str, numeric: bool) -> ColumnElement[Any]:
    """``fields->>'code'``, as a number for numeric fields (NULL when not a number).

    The code is written into the SQL as a literal, so the expression is the one of the
    field's index (leadbase.fields.indexes) whatever plan PostgreSQL caches: a bound
    parameter would only match the index in plans made for the parameter's value."""
    key = literal(code, Text, literal_execute=True)
    if not numeric:
        return T.c.fields.op("->>")(key)  # type: ignore[no-any-return]
    return func.lb_jsonb_numeric(T.c.fields.op("->")(key))


def field_equals_any(code: str, values: list[Any]) -> ColumnElement[bool]:
    """Containment (served by the GIN index on ``fields``): any of the values."""
    return or_(*[T.c.fields.contains({code: v}) for v in values])


def field_compare(code: str, op: str, value: Any, numeric: bool) -> ColumnElement[bool]:
    expr = field_value_expr(code, numeric)
    result: ColumnElement[bool] = expr >= value if op == "gte" else expr <= value
    return result
