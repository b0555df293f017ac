"""The hot task-list statements as SQL text (as ``leads.raw_listing``): the same statements
``tasks.listing`` builds with SQLAlchemy, for filters and orders that need nothing of the
lead but its visibility. Building those ``select``s (subqueries, a LATERAL, two dozen
columns) and their cache keys cost 1–3 ms of CPU a request, more than the database spent
on them. A test compares both paths' pages and totals; anything this module does not
write (``lead_name`` filters or sorts, keysets over a nullable column) goes through
SQLAlchemy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from leadbase.kit.pagination import SortColumn
from leadbase.leads.raw_listing import search_pattern
from leadbase.leads.repository import Readable
from leadbase.tasks.repository import LEAD_COLUMNS, TASK_COLUMNS, TaskFilter

_TASKS = ", ".join(f"t.{c.name}" for c in TASK_COLUMNS)
_LEAD_PARTS = (("l.first_name", "le__first_name"), ("l.last_name", "le__last_name"),
               ("l.email", "le__email"), ("l.phone", "le__phone"),
               ("l.owner_id", "le__owner_id"),
               ("concat_ws(' ', l.first_name, l.last_name)", "lead_name"))
assert [name for _, name in _LEAD_PARTS] == [c.name for c in LEAD_COLUMNS]
_LEAD = ", ".join(f"{sql} AS {name}" for sql, name in _LEAD_PARTS)
_TERM = "t.search_text LIKE lower(lb_unaccent(%s))"


@dataclass(frozen=True)
class Where:
    sql: str
    params: tuple[Any, ...]


def supported(f: TaskFilter, sort: list[SortColumn], after: list[Any] | None) -> bool:
    """Whether this module writes the statements of ``f`` in ``sort`` order from ``after``
    (a keyset only as a row comparison: one direction, no nullable column)."""
    if f.lead_name or any(c.name not in _ORDERABLE for c in sort):
        return False
    return after is None or (len({c.descending for c in sort}) == 1
                             and not any(c.nullable or v is None
                                         for c, v in zip(sort, after, strict=False)))


_ORDERABLE = frozenset({"position", "due_at", "created_at", "updated_at", "status", "title",
                        "priority", "number", "id"})


def _any(column: str, values: tuple[Any, ...], params: list[Any], cast: str = "") -> str:
    if len(values) == 1:
        params.append(values[0])
        return f"{column} = %s"
    params.append(list(values))
    return f"{column} = ANY(%s{cast})"


def where(scope: Readable, f: TaskFilter, *, term: bool, sort: list[SortColumn] | None = None,
          after: list[Any] | None = None) -> Where:
    """The tasks' own conditions (alias ``t``), as ``tasks.listing.conditions`` writes them;
    ``term``: with ``q=``; ``after``: the keyset (a row comparison, see
    :func:`supported`)."""
    params: list[Any] = [scope.tenant_id]
    conds = ["t.tenant_id = %s"]
    if not f.include_deleted:
        conds.append("t.deleted_at IS NULL")
    if f.statuses:
        conds.append(_any("t.status", f.statuses, params))
    if f.lead_ids:
        conds.append(_any("t.lead_id", f.lead_ids, params, "::uuid[]"))
    if f.listing_ids:
        conds.append(_any("t.listing_id", f.listing_ids, params, "::uuid[]"))
    if f.assignee_ids:
        assigned = _any("t.assignee_id", f.assignee_ids, params, "::uuid[]")
        conds.append(f"({assigned} OR t.assignee_id IS NULL)" if f.unassigned else assigned)
    elif f.unassigned:
        conds.append("t.assignee_id IS NULL")
    if f.tags:
        conds.append(_any("t.tag", f.tags, params))
    if f.priorities:
        conds.append(_any("t.priority", f.priorities, params))
    if f.due_before is not None:
        conds.append("t.due_at < %s")
        params.append(f.due_before)
    if f.due_after is not None:
        conds.append("t.due_at >= %s")
        params.append(f.due_after)
    if f.overdue:
        conds.append("t.status = 'open' AND t.due_at < now()")
    if f.title:
        conds.append("lower(t.title) LIKE %s ESCAPE '/'")
        escaped = f.title.lower().replace("/", "//").replace("%", "/%").replace("_", "/_")
        params.append(f"%{escaped}%")
    if term and f.q:
        conds.append(_TERM)
        params.append(search_pattern(f.q))
    if after is not None and sort:
        op = "<" if sort[0].descending else ">"
        conds.append(f"({', '.join(f't.{c.name}' for c in sort)}) {op} "
                     f"({', '.join(['%s'] * len(sort))})")
        params.extend(after)
    return Where(" AND ".join(conds), tuple(params))


def _order(sort: list[SortColumn], alias: str = "t") -> str:
    return ", ".join(f"{alias}.{c.name} {'DESC' if c.descending else 'ASC'}"
                     + (" NULLS LAST" if c.nullable else "") for c in sort)


def _visible(scope: Readable) -> tuple[str, tuple[Any, ...]]:
    """``FROM leads l WHERE ...``: the lead of row ``t`` is live and in ``scope`` (the
    readable set's own SQL, its columns qualified)."""
    sql, params = scope.sql()
    qualified = sql.replace("tenant_id", "l.tenant_id").replace("owner_id", "l.owner_id")
    return (f"FROM leads l WHERE l.id = t.lead_id AND {qualified} AND l.deleted_at IS NULL",
            params)


def page(scope: Readable, f: TaskFilter, sort: list[SortColumn], after: list[Any] | None,
         *, term: bool, limit: int, offset: int = 0,
         window: int | None = None) -> tuple[str, tuple[Any, ...]]:
    """The first ``limit`` tasks (from ``offset``) of the filter in ``sort`` order whose lead
    is visible, each with its lead's columns: the tasks walked (or, with ``term``,
    gathered by the trigram index and sorted) on their own and each row's lead probed in a
    LATERAL as the page fills (``tasks.listing.gather_query``). ``window``: at most that
    many tasks walked, the term tested on them (``tasks.listing.window_query``)."""
    w = where(scope, f, term=term and window is None, sort=sort, after=after)
    visible, vparams = _visible(scope)
    inner = (f"SELECT {_TASKS}" + (", t.search_text AS _text" if window else "")
             + f" FROM tasks t WHERE {w.sql} ORDER BY {_order(sort)}"
             + (" LIMIT %s" if window else ""))
    params: list[Any] = [*w.params] + ([window] if window else []) + [*vparams]
    outer_where = ""
    if window:
        assert f.q is not None
        outer_where = " WHERE t._text LIKE lower(lb_unaccent(%s))"
        params.append(search_pattern(f.q))
    sql = (f"SELECT {', '.join(f't.{c.name}' for c in TASK_COLUMNS)}, le.* FROM ({inner}) AS t "
           f"CROSS JOIN LATERAL (SELECT {_LEAD} {visible}) AS le{outer_where} "
           f"ORDER BY {_order(sort)} LIMIT %s")
    params.append(limit)
    if offset:
        sql += " OFFSET %s"
        params.append(offset)
    return sql, tuple(params)


def window_size(scope: Readable, f: TaskFilter, sort: list[SortColumn],
                after: list[Any] | None, window: int) -> tuple[str, tuple[Any, ...]]:
    """How many tasks the window holds (``tasks.listing.window_size_query``)."""
    w = where(scope, f, term=False, sort=sort, after=after)
    return (f"SELECT count(*) FROM (SELECT 1 FROM tasks t WHERE {w.sql} LIMIT %s) AS w",
            (*w.params, window))


def term_estimate(scope: Readable, q: str) -> tuple[str, tuple[Any, ...]]:
    """``EXPLAIN`` of the live tasks holding ``q`` (``tasks.listing.term_select``)."""
    return (f"EXPLAIN (FORMAT JSON) SELECT t.id FROM tasks t WHERE t.tenant_id = %s "
            f"AND t.deleted_at IS NULL AND {_TERM}", (scope.tenant_id, search_pattern(q)))


def joined_estimate(scope: Readable, f: TaskFilter, *, term: bool
                    ) -> tuple[str, tuple[Any, ...]]:
    """``EXPLAIN`` of the filter's tasks joined to their visible leads
    (``tasks.listing._joined``)."""
    w = where(scope, f, term=term)
    visible, vparams = _visible(scope)
    lead_where = visible.split(" WHERE ", 1)[1].replace("l.id = t.lead_id AND ", "")
    return (f"EXPLAIN (FORMAT JSON) SELECT t.id FROM tasks t JOIN leads l ON "
            f"l.tenant_id = t.tenant_id AND l.id = t.lead_id WHERE {w.sql} AND {lead_where}",
            (*w.params, *vparams))


def count(scope: Readable, f: TaskFilter, *, term: bool,
          cap: int) -> tuple[str, tuple[Any, ...]]:
    """The filter's tasks whose lead is visible, up to ``cap + 1`` (``count_query``): a
    primary-key probe of the lead per task (``OFFSET 0`` keeps it a subplan)."""
    w = where(scope, f, term=term)
    visible, vparams = _visible(scope)
    return (f"SELECT count(*) FROM (SELECT 1 FROM tasks t WHERE {w.sql} AND EXISTS "
            f"(SELECT 1 {visible} OFFSET 0) LIMIT %s) AS c", (*w.params, *vparams, cap + 1))
