"""The SQL of lead listings: a page (keyset or offset, core or custom-field sort, bounded
``q=`` searches), counts and the planner's estimates. The conditions come from
leads.repository (the readable set and the filter)."""

from __future__ import annotations

from dataclasses import replace as dc_replace
from typing import Any

import orjson
from sqlalchemy import Select, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db import raw
from leadbase.db.explain import Explain
from leadbase.kit.pagination import SortColumn, keyset_after
from leadbase.kit.sorting import order_by
from leadbase.leads import raw_listing
from leadbase.leads.repository import (
    COLUMNS,
    READ_COLUMNS,
    LeadSet,
    T,
    conditions,
    search_pattern,
    stage_code_of,
)


def list_query(leads: LeadSet, sort: list[SortColumn],
               after: list[Any] | None, offset: int, limit: int) -> Select[Any]:
    if sort[0].nullable and sort[0].name.startswith("fields."):
        return _custom_sort_query(leads, sort, after, offset, limit)
    q = select(*READ_COLUMNS).where(*conditions(leads))
    if after is not None:
        q = q.where(keyset_after(sort, after))
    elif offset:
        q = q.offset(offset)
    return q.order_by(*order_by(sort)).limit(limit)


def _custom_sort_query(leads: LeadSet, sort: list[SortColumn],
                       after: list[Any] | None, offset: int, limit: int) -> Select[Any]:
    """``sort=fields.<code>`` (NULLS LAST in both directions) as two ordered parts: the
    leads with a value, then those without. A field's index (``indexed``, see
    leadbase.fields.indexes) is ascending with NULLS LAST, so one ordered scan of it serves
    either part in either direction, where ``ORDER BY v DESC NULLS LAST`` would need a
    sort of every match. Each part stops at ``offset + limit`` rows; the outer query
    orders those few by (part, sort columns)."""
    first, rest = sort[0], sort[1:]
    keys = [c.column.label(f"_s{i}") for i, c in enumerate(sort)]
    conds = conditions(leads)
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
    q = select(*[both.c[c.name] for c in COLUMNS],
               stage_code_of(leads, both.c.stage_id)).order_by(both.c["_part"],
                                                            *order_by(outer))
    if skip:
        q = q.offset(skip)
    return q.limit(limit)


SEARCH_WINDOW = 10_000
"""How far a ``q=`` search walks the sort order before gathering the matches instead."""


def search_window_query(leads: LeadSet, sort: list[SortColumn],
                        after: list[Any] | None, limit: int) -> Select[Any]:
    """The first ``limit`` matches of ``q`` among the next :data:`SEARCH_WINDOW` leads of
    the sort order (the other filters applied). When it finds ``limit`` rows they are the
    page: every lead beyond the window comes later in the order."""
    assert leads.f.search is not None
    inner = select(*COLUMNS, T.c.search_text).where(*conditions(leads, search=False))
    if after is not None:
        inner = inner.where(keyset_after(sort, after))
    window = inner.order_by(*order_by(sort)).limit(SEARCH_WINDOW).subquery("recent")
    outer = [dc_replace(c, column=window.c[c.column.name]) for c in sort]
    return (select(*[window.c[c.name] for c in COLUMNS],
                   stage_code_of(leads, window.c.stage_id))
            .where(window.c.search_text.like(search_pattern(leads.f.search)))
            .order_by(*order_by(outer)).limit(limit))


def search_matches_query(leads: LeadSet, sort: list[SortColumn],
                         after: list[Any] | None, limit: int) -> Select[Any]:
    """All the matches first (a materialised CTE: the trigram index gathers them whatever
    the estimate), then the page: for a term the window did not fill a page with, rarer
    than the planner may think."""
    inner = select(*COLUMNS).where(*conditions(leads))
    if after is not None:
        inner = inner.where(keyset_after(sort, after))
    matches = inner.cte("matches").prefix_with("MATERIALIZED")
    outer = [dc_replace(c, column=matches.c[c.column.name]) for c in sort]
    return (select(*[matches.c[c.name] for c in COLUMNS],
                   stage_code_of(leads, matches.c.stage_id))
            .order_by(*order_by(outer)).limit(limit))


async def page(session: AsyncSession, *, leads: LeadSet,
                     sort: list[SortColumn], after: list[Any] | None, offset: int,
                     limit: int) -> list[dict[str, Any]]:
    """A page of leads.

    A ``q=`` search (first or cursor page, a core-column sort) is bounded: it looks for the
    page among the next :data:`SEARCH_WINDOW` leads of the sort order first (a common term
    fills it within a few hundred), and when they do not hold a page the term is rare, so
    all its matches are gathered through the trigram index and sorted, instead of walking
    most of the table. (The planner, asked first with an EXPLAIN before every search,
    judged terms by a histogram resolving 1/500; the window costs less than asking.)

    The list's own filters and core sorts run as constant SQL on the raw driver
    (``leads.raw_listing``); custom-field filters and sorts through SQLAlchemy."""
    fast = raw_listing.page(leads, sort, after, offset, limit, SEARCH_WINDOW)
    if fast is not None:
        if fast.window is not None and fast.matches is not None:
            rows = await raw.fetch_all(session, *fast.window)
            if len(rows) >= limit:
                return rows
            return await raw.fetch_all(session, *fast.matches)
        return await raw.fetch_all(session, *fast.plain)
    q = list_query(leads, sort, after, offset, limit)
    if leads.f.search and not (offset and after is None) \
            and not sort[0].name.startswith("fields."):
        window = search_window_query(leads, sort, after, limit)
        rows = [dict(r) for r in (await session.execute(window)).mappings()]
        if len(rows) >= limit:
            return rows
        q = search_matches_query(leads, sort, after, limit)
    return [dict(r) for r in (await session.execute(q)).mappings()]


async def _plan(session: AsyncSession, stmt: Select[Any]) -> dict[str, Any]:
    """The planner's plan of ``stmt`` (``EXPLAIN (FORMAT JSON)``), its top node."""
    conn = await session.connection()  # Core execution: the ORM wants a SELECT-like statement
    plan = (await conn.execute(Explain(stmt))).scalar_one()
    if isinstance(plan, str | bytes):
        plan = orjson.loads(plan)
    top: dict[str, Any] = plan[0]["Plan"]
    return top


async def count(session: AsyncSession, *, leads: LeadSet,
                cap: int | None) -> int:
    """Exact count, or (with ``cap``) exact up to ``cap`` and ``cap + 1`` beyond it."""
    fast = raw_listing.count(leads, cap)
    if fast is not None:
        row = await raw.fetch_row(session, *fast)
        assert row is not None
        return int(row[0])
    inner = select(T.c.id).where(*conditions(leads))
    if cap is not None:
        inner = inner.limit(cap + 1)
    q = select(func.count()).select_from(inner.subquery())
    return int((await session.execute(q)).scalar_one())


async def estimate(session: AsyncSession, *, leads: LeadSet) -> int:
    """The planner's row estimate for the filter (cheap at any size)."""
    fast = raw_listing.estimate(leads)
    if fast is not None:
        row = await raw.fetch_row(session, *fast)
        assert row is not None
        plan = orjson.loads(row[0]) if isinstance(row[0], str | bytes) else row[0]
        return int(plan[0]["Plan"]["Plan Rows"])
    return int((await _plan(session, select(T.c.id).where(*conditions(leads))))
               ["Plan Rows"])
