"""The SQL of task lists: conditions, a page, the bounded ``q=`` search, counts.

``q=`` matches the task's title and tag (``tasks.search_text``) or its lead's name,
email, phone and company (``leads.search_text``), both under trigram GIN indexes. A page
of a search is found in up to two steps:

1. **Window.** Walk the sort order (the filters' index, e.g. a listing's tasks by
   position) over at most :data:`SEARCH_WINDOW` tasks, testing the term on each. A common
   term fills the page in the first few hundred; and when the filters hold fewer tasks
   than the window (a listing's), the window saw them all, so its matches are the answer.
2. **Gather.** Otherwise the term is rare: its matches are gathered as the UNION of the
   two trigram index scans (a materialised CTE), then filtered and ordered.

The count follows the same split: a dense term is counted by a walk that stops at the
cap, a rare one over the gathered matches.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession

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
    company, hold ``q``: the UNION of the tasks' and the leads' trigram index scans."""
    pattern = search_pattern(q)
    own = select(T.c.id).where(T.c.tenant_id == tenant_id, T.c.deleted_at.is_(None),
                               T.c.search_text.like(pattern))
    by_lead = (select(T.c.id)
               .select_from(LEADS.join(T, (T.c.tenant_id == LEADS.c.tenant_id)
                                       & (T.c.lead_id == LEADS.c.id)))
               .where(LEADS.c.tenant_id == tenant_id, LEADS.c.deleted_at.is_(None),
                      LEADS.c.search_text.like(pattern), T.c.tenant_id == tenant_id,
                      T.c.deleted_at.is_(None)))
    return union(own, by_lead).cte("matches").prefix_with("MATERIALIZED")


def _term(q: str) -> ColumnElement[bool]:
    """The term tested row by row (the window and the dense count)."""
    pattern = search_pattern(q)
    return or_(T.c.search_text.like(pattern), LEADS.c.search_text.like(pattern))


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


def window_query(scope: Readable, f: TaskFilter, sort: list[SortColumn],
                 after: list[Any] | None, limit: int) -> Select[Any]:
    """The first ``limit`` matches among the next :data:`SEARCH_WINDOW` tasks of the
    order (the other filters applied), and how many tasks the window held (``_seen``)."""
    assert f.q is not None
    pattern = search_pattern(f.q)
    inner = base_query(scope, include_deleted=f.include_deleted,
                       extra=(T.c.search_text.label("_task_text"),
                              LEADS.c.search_text.label("_lead_text"))
                       ).where(*conditions(scope, f, search="none"))
    if after is not None:
        inner = inner.where(keyset_after(sort, after))
    window = inner.order_by(*order_by(sort)).limit(SEARCH_WINDOW).cte("win").prefix_with(
        "MATERIALIZED")
    names = [c.name for c in (*TASK_COLUMNS, *LEAD_COLUMNS)]
    outer_sort = [replace(c, column=window.c[c.name]) for c in sort]
    seen = select(func.count()).select_from(window).scalar_subquery().label("_seen")
    return (select(*[window.c[n] for n in names], seen)
            .where(or_(window.c._task_text.like(pattern), window.c._lead_text.like(pattern)))
            .order_by(*order_by(outer_sort)).limit(limit))


COUNT_WALK = 100_000
"""How many tasks a count of a dense ``q=`` term tests before it gives up (an estimate)."""


def _count_base(scope: Readable, f: TaskFilter, search: str,
                extra: tuple[ColumnElement[Any], ...] = ()) -> Select[Any]:
    inner = (select(T.c.id, *extra)
             .join(LEADS, (LEADS.c.tenant_id == T.c.tenant_id) & (LEADS.c.id == T.c.lead_id))
             .where(T.c.tenant_id == scope.tenant_id, *scope.where(),
                    LEADS.c.deleted_at.is_(None), *conditions(scope, f, search=search)))
    if not f.include_deleted:
        inner = inner.where(T.c.deleted_at.is_(None))
    return inner


def count_query(scope: Readable, f: TaskFilter, cap: int, search: str) -> Select[Any]:
    """``gather``/``none``: exact up to ``cap`` (``cap + 1`` beyond). ``row`` (a dense
    term): the matches among the first :data:`COUNT_WALK` tasks of the filter, up to
    ``cap + 1``."""
    if search != "row" or not f.q:
        inner = _count_base(scope, f, search).limit(cap + 1).subquery()
        return select(func.count()).select_from(inner)
    walk = _count_base(scope, f, "none", extra=(_term(f.q).label("m"),)).limit(
        COUNT_WALK).subquery()
    hits = select(walk.c.id).where(walk.c.m).limit(cap + 1).subquery()
    return select(func.count()).select_from(hits)


async def page(session: AsyncSession, *, scope: Readable, f: TaskFilter,
               sort: list[SortColumn], after: list[Any] | None, offset: int,
               limit: int) -> tuple[list[dict[str, Any]], str]:
    """A page of tasks, and how a count of the same filter should search (``row`` for a
    dense term, ``gather`` otherwise)."""
    if f.q and not offset:
        rows = [dict(r) for r in (await session.execute(
            window_query(scope, f, sort, after, limit))).mappings()]
        if len(rows) >= limit or (rows and rows[0]["_seen"] < SEARCH_WINDOW):
            return [nest({k: v for k, v in r.items() if k != "_seen"}) for r in rows], (
                "row" if len(rows) >= limit else "gather")
        if not rows:
            probe = select(func.count()).select_from(
                base_query(scope, include_deleted=f.include_deleted)
                .where(*conditions(scope, f, search="none")).limit(SEARCH_WINDOW).subquery())
            if int((await session.execute(probe)).scalar_one()) < SEARCH_WINDOW:
                return [], "gather"  # the window held every task of the filter
    q = page_query(scope, f, sort, after, offset, limit)
    return [nest(r) for r in (await session.execute(q)).mappings()], "gather"


async def count(session: AsyncSession, *, scope: Readable, f: TaskFilter, cap: int,
                search: str = "gather") -> tuple[int, bool]:
    """Exact up to ``cap`` (``cap + 1`` beyond), and whether it is an estimate: a dense
    term whose walk of :data:`COUNT_WALK` tasks ended before ``cap + 1`` matches, with
    tasks left beyond it (the matches seen are a lower bound)."""
    found = int((await session.execute(count_query(scope, f, cap, search))).scalar_one())
    if search != "row" or found > cap:
        return found, False
    walked = select(func.count()).select_from(
        _count_base(scope, f, "none").limit(COUNT_WALK + 1).subquery())
    return found, int((await session.execute(walked)).scalar_one()) > COUNT_WALK
