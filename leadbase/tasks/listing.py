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
from sqlalchemy import ColumnElement, Select, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db import raw
from leadbase.db.explain import Explain
from leadbase.kit.pagination import SortColumn, keyset_after
from leadbase.kit.sorting import order_by
from leadbase.leads.repository import Readable, search_pattern
from leadbase.leads.repository import T as LEADS
from leadbase.tasks import raw_listing
from leadbase.tasks.repository import LEAD_COLUMNS, TASK_COLUMNS, T, TaskFilter, base_query, nest

SEARCH_WINDOW = 10_000


def _like(column: ColumnElement[Any], part: str) -> ColumnElement[bool]:
    return func.lower(column).contains(part.lower(), autoescape=True)


def _term(q: str) -> ColumnElement[bool]:
    """The term: one trigram index on ``tasks.search_text`` (the task's title and tag and
    its lead's text, migration 0020), or tested row by row."""
    return T.c.search_text.like(search_pattern(q))


def term_select(tenant_id: Any, q: str) -> Select[Any]:
    """The live tasks holding ``q`` (for the planner's estimate of how many)."""
    return select(T.c.id).where(T.c.tenant_id == tenant_id, T.c.deleted_at.is_(None),
                                _term(q))


def conditions(scope: Readable, f: TaskFilter, *, search: str = "gather"
               ) -> list[ColumnElement[bool]]:
    """The filter's conditions; ``search``: ``gather`` or ``row`` (the term: the same
    condition, which the planner serves from the trigram index or tests row by row) or
    ``none`` (without the term)."""
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
    if f.q and search in ("gather", "row"):
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


def lead_free(f: TaskFilter, sort: list[SortColumn]) -> bool:
    """Whether the filter and the order need nothing of the lead but its visibility: then
    the tasks are walked (or gathered) on their own and each row's lead is probed only for
    the rows that pass (``_with_leads``), not for every task walked."""
    return not f.lead_name and all(c.name in _TASK_NAMES for c in sort)


_TASK_NAMES = frozenset(c.name for c in TASK_COLUMNS)


def _tasks_only(scope: Readable, f: TaskFilter, sort: list[SortColumn],
                after: list[Any] | None, *, term: bool,
                extra: tuple[ColumnElement[Any], ...] = ()) -> Select[Any]:
    """The filter's tasks by their own conditions (no lead), in ``sort`` order."""
    q = select(*TASK_COLUMNS, *extra).where(
        T.c.tenant_id == scope.tenant_id, *conditions(scope, f, search="row" if term else "none"))
    if not f.include_deleted:
        q = q.where(T.c.deleted_at.is_(None))
    if after is not None:
        q = q.where(keyset_after(sort, after))
    return q.order_by(*order_by(sort))


def _with_leads(scope: Readable, tasks: Any, sort: list[SortColumn], limit: int,
                offset: int = 0, where: tuple[ColumnElement[bool], ...] = ()) -> Select[Any]:
    """``tasks`` (an ordered subquery) with their leads' columns, in the same order, the
    first ``limit`` whose lead is live and in ``scope``: a LATERAL primary-key probe per
    row reaching it (the walk stops at the ``limit``-th row; the outer order is the
    subquery's, so there is no sort)."""
    lead = (select(*LEAD_COLUMNS)
            .where(LEADS.c.tenant_id == scope.tenant_id, LEADS.c.id == tasks.c.lead_id,
                   *scope.where(), LEADS.c.deleted_at.is_(None))
            .lateral("le"))
    outer_sort = [replace(c, column=tasks.c[c.name]) for c in sort]
    q = (select(*[tasks.c[c.name] for c in TASK_COLUMNS], *lead.c)
         .select_from(tasks.join(lead, true())).where(*where)
         .order_by(*order_by(outer_sort)).limit(limit))
    return q.offset(offset) if offset else q


def gather_query(scope: Readable, f: TaskFilter, sort: list[SortColumn],
                 after: list[Any] | None, offset: int, limit: int) -> Select[Any]:
    """A page of a search of a rare term (``lead_free``): its tasks from the trigram index,
    sorted, then their leads probed in order until the page is full."""
    return _with_leads(scope, _tasks_only(scope, f, sort, after, term=True)
                       .subquery("found"), sort, limit, offset)


def window_query(scope: Readable, f: TaskFilter, sort: list[SortColumn],
                 after: list[Any] | None, limit: int) -> Select[Any]:
    """The first ``limit`` matches among the next :data:`SEARCH_WINDOW` tasks of the
    order (the other filters applied; ``lead_free``). Not materialised: the walk stops at
    the ``limit``-th match whose lead is visible."""
    assert f.q is not None
    window = (_tasks_only(scope, f, sort, after, term=False,
                          extra=(T.c.search_text.label("_text"),))
              .limit(SEARCH_WINDOW).subquery("win"))
    return _with_leads(scope, window, sort, limit,
                       where=(window.c._text.like(search_pattern(f.q)),))


def window_size_query(scope: Readable, f: TaskFilter, sort: list[SortColumn],
                      after: list[Any] | None) -> Select[Any]:
    """How many tasks the window holds (fewer than :data:`SEARCH_WINDOW`: all the
    filter's; tasks of any lead, as the window walks them)."""
    inner = select(T.c.id).where(T.c.tenant_id == scope.tenant_id,
                                 *conditions(scope, f, search="none"))
    if not f.include_deleted:
        inner = inner.where(T.c.deleted_at.is_(None))
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


def _only_the_term(scope: Readable, f: TaskFilter) -> bool:
    return not scope.own and replace(f, q=None) == TaskFilter()


async def term_estimate(session: AsyncSession, scope: Readable, f: TaskFilter) -> int:
    """The planner's estimate of the live tasks holding ``f.q`` (kept in the session's
    info for the count of the same request when the term is the whole filter)."""
    assert f.q is not None
    if RAW:
        guess = await _raw_plan_rows(session, raw_listing.term_estimate(scope, f.q))
    else:
        guess = await _plan_rows(session, term_select(scope.tenant_id, f.q))
    session.info[_ESTIMATE] = (scope.tenant_id, f.q, guess)
    return guess


RAW = True
"""Run the statements :mod:`.raw_listing` writes where it writes them (tests compare)."""


async def _raw_plan_rows(session: AsyncSession, statement: raw.Statement) -> int:
    row = await raw.fetch_row(session, *statement)
    assert row is not None
    plan = orjson.loads(row[0]) if isinstance(row[0], str | bytes) else row[0]
    return int(plan[0]["Plan"]["Plan Rows"])


async def _raw_rows(session: AsyncSession, statement: raw.Statement) -> list[dict[str, Any]]:
    return [nest(r) for r in await raw.fetch_all(session, *statement)]


async def _raw_int(session: AsyncSession, statement: raw.Statement) -> int:
    row = await raw.fetch_row(session, *statement)
    assert row is not None
    return int(row[0])


_ESTIMATE = "leadbase.tasks.term_estimate"


async def page(session: AsyncSession, *, scope: Readable, f: TaskFilter,
               sort: list[SortColumn], after: list[Any] | None, offset: int,
               limit: int) -> tuple[list[dict[str, Any]], str]:
    """A page of tasks, and how a count of the same filter should search: ``row`` (a
    dense term: the page came from the window), ``small`` (the window held every task of
    the filter) or ``gather``. A search within a listing or lead, or of a term the planner
    expects in more than :data:`GATHER_LIMIT` tasks, walks the window first; a rare one
    is gathered from the trigram index at once."""
    fast = RAW and lead_free(f, sort) and raw_listing.supported(f, sort, after)
    if f.q and lead_free(f, sort):
        if not offset and (f.listing_ids or f.lead_ids or await term_estimate(
                session, scope, f) > GATHER_LIMIT):
            if fast:
                rows = await _raw_rows(session, raw_listing.page(
                    scope, f, sort, after, term=True, limit=limit, window=SEARCH_WINDOW))
            else:
                rows = [nest(r) for r in (await session.execute(
                    window_query(scope, f, sort, after, limit))).mappings()]
            if len(rows) >= limit:
                return rows, "row"
            held = await _raw_int(session, raw_listing.window_size(
                scope, f, sort, after, SEARCH_WINDOW)) if fast else int((await session.execute(
                    window_size_query(scope, f, sort, after))).scalar_one())
            if held < SEARCH_WINDOW:
                return rows, "small"  # the window held every task of the filter
        if fast:
            return await _raw_rows(session, raw_listing.page(
                scope, f, sort, after, term=True, limit=limit, offset=offset)), "gather"
        q = gather_query(scope, f, sort, after, offset, limit)
    elif fast:
        return await _raw_rows(session, raw_listing.page(
            scope, f, sort, after, term=False, limit=limit, offset=offset)), "gather"
    else:
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
    fast = RAW and raw_listing.supported(f, [], None)
    known = session.info.get(_ESTIMATE)
    if search == "row" and _only_the_term(scope, f) and known is not None \
            and known[:2] == (scope.tenant_id, f.q):
        guess = known[2]  # the page's estimate of the same tasks (no other condition)
        if guess > cap:
            return guess, True
    elif search == "row" or not f.q:
        guess = await _raw_plan_rows(session, raw_listing.joined_estimate(
            scope, f, term=bool(f.q))) if fast else await _plan_rows(
            session, _joined(scope, f, "row" if f.q else "none"))
        if guess > cap:
            return guess, True
    if search == "row":
        held = await _raw_int(session, raw_listing.window_size(
            scope, f, [], None, SEARCH_WINDOW)) if fast else int((await session.execute(
                window_size_query(scope, f, [], None))).scalar_one())
        search = "small" if held < SEARCH_WINDOW else "gather"
    mode = "row" if search == "small" else "gather"
    if fast:
        found = await _raw_int(session, raw_listing.count(scope, f, term=bool(f.q), cap=cap))
    else:
        found = int((await session.execute(count_query(scope, f, cap, mode))).scalar_one())
    if found > cap:
        return max(guess or 0, cap + 1), True
    return found, False
