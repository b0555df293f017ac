"""The SQL of task lists: conditions, a page, the bounded ``q=`` search, counts.

``q=`` matches the task's title and tag or its lead's name, email, phone and company:
all in ``tasks.search_text`` (the lead's part kept by triggers, migration 0020) under one
trigram GIN index. A page of a search is found so:

1. **Rare terms are gathered.** When the planner expects at most :data:`GATHER_LIMIT`
   matches, they are gathered by the trigram index scan (a materialised CTE), then
   filtered and ordered.
2. **Common terms walk a window.** Otherwise the sort order (the filters' index, e.g. a
   listing's tasks by position) is walked over at most :data:`SEARCH_WINDOW` tasks,
   testing the term on each: a common term fills the page within a few hundred; and when
   the filters hold fewer tasks than the window (a listing's), the window saw them all,
   so its matches are the answer. Only a window that neither fills the page nor holds the
   whole filter falls back to gathering.

The count follows the same split: a dense term's total is the planner's estimate when it
is beyond the count cap; a small filter is counted by testing its tasks; the rest over
the gathered matches.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db.explain import Explain
from leadbase.kit.pagination import SortColumn, keyset_after
from leadbase.kit.sorting import order_by
from leadbase.leads.repository import Readable, search_pattern
from leadbase.leads.repository import T as LEADS
from leadbase.tasks.repository import LEAD_COLUMNS, TASK_COLUMNS, T, TaskFilter, base_query, nest

SEARCH_WINDOW = 10_000


def _like(column: ColumnElement[Any], part: str) -> ColumnElement[bool]:
    return func.lower(column).contains(part.lower(), autoescape=True)


def matches_cte(tenant_id: Any, q: str) -> Any:
    """The ids of the live tasks whose title or tag, or whose lead's name, email, phone or
    company, hold ``q``: one trigram index scan of ``tasks.search_text`` (which holds the
    lead's text too, migration 0020), materialised."""
    own = select(T.c.id).where(T.c.tenant_id == tenant_id, T.c.deleted_at.is_(None),
                               _term(q))
    return own.cte("matches").prefix_with("MATERIALIZED")


def _term(q: str) -> ColumnElement[bool]:
    """The term tested row by row (the window and the dense count)."""
    return T.c.search_text.like(search_pattern(q))


def conditions(scope: Readable, f: TaskFilter, *, search: str = "gather"
               ) -> list[ColumnElement[bool]]:
    """The filter's conditions; ``search``: ``gather`` (the matches CTE), ``row`` (the
    term tested per row) or ``none``."""
    conds: list[ColumnElement[bool]] = []
    if f.statuses:
        conds.append(T.c.status.in_(f.statuses))
    if f.lead_ids:
        conds.append(T.c.lead_id.in_(f.lead_ids))
    if f.listing_ids:
        conds.append(T.c.listing_id.in_(f.listing_ids) if len(f.listing_ids) > 1
                     else T.c.listing_id == f.listing_ids[0])
    if f.assignee_ids and f.unassigned:
        conds.append(T.c.assignee_id.in_(f.assignee_ids) | T.c.assignee_id.is_(None))
    elif f.assignee_ids:
        conds.append(T.c.assignee_id.in_(f.assignee_ids))
    elif f.unassigned:
        conds.append(T.c.assignee_id.is_(None))
    if f.tags:
        conds.append(T.c.tag.in_(f.tags))
    if f.priorities:
        conds.append(T.c.priority.in_(f.priorities))
    if f.due_before is not None:
        conds.append(T.c.due_at < f.due_before)
    if f.due_after is not None:
        conds.append(T.c.due_at >= f.due_after)
    if f.overdue:
        conds.extend([T.c.status == "open", T.c.due_at < func.now()])
    if f.title:
        conds.append(_like(T.c.title, f.title))
    if f.lead_name:
        conds.append(LEADS.c.search_text.like(search_pattern(f.lead_name)))
    if f.q and search == "gather":
        matches = matches_cte(scope.tenant_id, f.q)
        conds.append(T.c.id.in_(select(matches.c.id)))
    elif f.q and search == "row":
        conds.append(_term(f.q))
    return conds


def page_query(scope: Readable, f: TaskFilter, sort: list[SortColumn],
               after: list[Any] | None, offset: int, limit: int,
               search: str = "gather") -> Select[Any]:
    q = base_query(scope, include_deleted=f.include_deleted).where(
        *conditions(scope, f, search=search))
    if after is not None:
        q = q.where(keyset_after(sort, after))
    elif offset:
        q = q.offset(offset)
    return q.order_by(*order_by(sort)).limit(limit)


def _window_inner(scope: Readable, f: TaskFilter, sort: list[SortColumn],
                  after: list[Any] | None, extra: tuple[ColumnElement[Any], ...] = ()
                  ) -> Select[Any]:
    inner = base_query(scope, include_deleted=f.include_deleted, extra=extra).where(
        *conditions(scope, f, search="none"))
    if after is not None:
        inner = inner.where(keyset_after(sort, after))
    return inner.order_by(*order_by(sort)).limit(SEARCH_WINDOW)


def window_query(scope: Readable, f: TaskFilter, sort: list[SortColumn],
                 after: list[Any] | None, limit: int) -> Select[Any]:
    """The first ``limit`` matches among the next :data:`SEARCH_WINDOW` tasks of the
    order (the other filters applied). Not materialised: the walk stops at the
    ``limit``-th match (the outer order is the inner one)."""
    assert f.q is not None
    pattern = search_pattern(f.q)
    window = _window_inner(scope, f, sort, after,
                           extra=(T.c.search_text.label("_text"),)).subquery("win")
    names = [c.name for c in (*TASK_COLUMNS, *LEAD_COLUMNS)]
    outer_sort = [replace(c, column=window.c[c.name]) for c in sort]
    return (select(*[window.c[n] for n in names])
            .where(window.c._text.like(pattern))
            .order_by(*order_by(outer_sort)).limit(limit))


def window_size_query(scope: Readable, f: TaskFilter, sort: list[SortColumn],
                      after: list[Any] | None) -> Select[Any]:
    """How many tasks the window holds (fewer than :data:`SEARCH_WINDOW`: all the
    filter's)."""
    inner = _count_base(scope, f, "none")
    if after is not None:
        inner = inner.where(keyset_after(sort, after))
    return select(func.count()).select_from(inner.limit(SEARCH_WINDOW).subquery())


def _live_lead(scope: Readable) -> ColumnElement[bool]:
    """The task's lead is live and in ``scope``: a per-row primary-key probe (``OFFSET 0``
    keeps it a subplan; a join would hash every lead of the workspace to count a few)."""
    return (select(LEADS.c.id)
            .where(LEADS.c.tenant_id == T.c.tenant_id, LEADS.c.id == T.c.lead_id,
                   *scope.where(), LEADS.c.deleted_at.is_(None))
            .offset(0).exists())


def _joined(scope: Readable, f: TaskFilter, search: str,
            extra: tuple[ColumnElement[Any], ...] = ()) -> Select[Any]:
    """The filter's tasks joined to their leads (the planner's estimates of a count come
    from this form: a join estimates the lead's conditions, where the count's probe would
    be guessed at half)."""
    inner = (select(T.c.id, *extra)
             .join(LEADS, (LEADS.c.tenant_id == T.c.tenant_id) & (LEADS.c.id == T.c.lead_id))
             .where(T.c.tenant_id == scope.tenant_id, *scope.where(),
                    LEADS.c.deleted_at.is_(None), *conditions(scope, f, search=search)))
    if not f.include_deleted:
        inner = inner.where(T.c.deleted_at.is_(None))
    return inner


def _count_base(scope: Readable, f: TaskFilter, search: str,
                extra: tuple[ColumnElement[Any], ...] = ()) -> Select[Any]:
    if not extra and not f.lead_name:
        inner = select(T.c.id).where(T.c.tenant_id == scope.tenant_id, _live_lead(scope),
                                     *conditions(scope, f, search=search))
        return inner if f.include_deleted else inner.where(T.c.deleted_at.is_(None))
    return _joined(scope, f, search, extra)


def count_query(scope: Readable, f: TaskFilter, cap: int, search: str) -> Select[Any]:
    """Exact up to ``cap`` (``cap + 1`` beyond)."""
    inner = _count_base(scope, f, search).limit(cap + 1).subquery()
    return select(func.count()).select_from(inner)


GATHER_LIMIT = 5_000
"""A term the planner expects in at most this many tasks or leads is gathered at once."""


async def _plan_rows(session: AsyncSession, stmt: Any) -> int:
    conn = await session.connection()  # Core execution: EXPLAIN is no ORM statement
    plan = (await conn.execute(Explain(stmt))).scalar_one()
    if isinstance(plan, str | bytes):
        plan = orjson.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def _matches_select(scope: Readable, q: str) -> Select[Any]:
    matches = matches_cte(scope.tenant_id, q)
    return select(matches.c.id)


async def page(session: AsyncSession, *, scope: Readable, f: TaskFilter,
               sort: list[SortColumn], after: list[Any] | None, offset: int,
               limit: int) -> tuple[list[dict[str, Any]], str]:
    """A page of tasks, and how a count of the same filter should search: ``row`` (a
    dense term: the page came from the window), ``small`` (the window held every task of
    the filter) or ``gather``. A term the planner expects to be rare is gathered at once
    (its few matches through the trigram indexes, whatever the other filters); a common
    one walks the window first."""
    if f.q and not offset and await _plan_rows(
            session, _matches_select(scope, f.q)) > GATHER_LIMIT:
        rows = [nest(r) for r in (await session.execute(
            window_query(scope, f, sort, after, limit))).mappings()]
        if len(rows) >= limit:
            return rows, "row"
        held = int((await session.execute(window_size_query(scope, f, sort, after))
                    ).scalar_one())
        if held < SEARCH_WINDOW:
            return rows, "small"  # the window held every task of the filter
    q = page_query(scope, f, sort, after, offset, limit)
    return [nest(r) for r in (await session.execute(q)).mappings()], "gather"


async def count(session: AsyncSession, *, scope: Readable, f: TaskFilter, cap: int,
                search: str = "gather") -> tuple[int, bool]:
    """Exact up to ``cap``, and whether it is an estimate: the planner's estimate is the
    answer when it is beyond ``cap`` (counting thousands of tasks, each with its lead's
    probe, costs more than the page; as the leads' ``count=auto``), and beyond ``cap`` an
    exact count stops at ``cap + 1`` (answered as ``max(estimate, cap + 1)``, an
    estimate). A dense ``q=`` term (``row``) walked the window: when the window held
    every task of the filter (``small``) its count tests each of them; other searches
    count over the gathered matches."""
    guess: int | None = None
    if search == "row" or not f.q:
        guess = await _plan_rows(session, _joined(scope, f, "row" if f.q else "none"))
        if guess > cap:
            return guess, True
    if search == "row":
        held = int((await session.execute(window_size_query(scope, f, [], None))
                    ).scalar_one())
        search = "small" if held < SEARCH_WINDOW else "gather"
    mode = "row" if search == "small" else "gather"
    found = int((await session.execute(count_query(scope, f, cap, mode))).scalar_one())
    if found > cap:
        return max(guess or 0, cap + 1), True
    return found, False
