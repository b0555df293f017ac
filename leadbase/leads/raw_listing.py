"""The lead listings of the list's own filters and sorts as constant SQL on the raw driver.

Building a SQLAlchemy ``select`` of the 27 lead columns with its conditions, and the
statement-cache key SQLAlchemy derives from it, cost about a millisecond of CPU per
statement: most of a list request (``bench/leads_api.py``, beside its raw twin). The
statements of a page with the list's filters, a core-column sort and a keyset cursor are
written here as SQL text with their parameters instead (psycopg prepares each shape
after a few runs). They are the statements ``leads.listing`` builds with SQLAlchemy (same
conditions, order, limits; ``tests/leads/test_raw_listing.py`` compares the two), and
anything outside them — custom-field filters and sorts, a mixed-direction or nullable
keyset, a filter added to ``LeadFilter`` that this module does not know — returns None:
the caller builds the statement with SQLAlchemy as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from leadbase.kit.pagination import SortColumn, keyset_after
from leadbase.leads.filters import LeadFilter
from leadbase.leads.repository import COLUMNS, LeadSet

SELECT = ", ".join(c.name for c in COLUMNS)
# The lead's stage code beside its columns, as ``leads.repository.stage_code_of`` (the
# tenant is the statement's first parameter).
_STAGE = ("(SELECT s.code FROM pipeline_stages s WHERE s.tenant_id = %s "
          "AND s.id = {alias}.stage_id) AS stage")


def _out(alias: str) -> str:
    return f"{SELECT}, {_STAGE.format(alias=alias)}"
_LIKE = "search_text LIKE lower(lb_unaccent(%s))"
# The filters this module writes as SQL; a LeadFilter field beyond them (set to anything
# but its default) sends the listing through SQLAlchemy.
_KNOWN = frozenset({
    "status", "owner_id", "tags", "source", "list_id", "score_gte", "score_lte",
    "created_after", "created_before", "updated_after", "q", "include_deleted",
    "only_deleted"})
_OTHERS = tuple((name, info.default) for name, info in LeadFilter.model_fields.items()
                if name not in _KNOWN)


@dataclass(frozen=True)
class Where:
    sql: str
    params: tuple[Any, ...]


def _in(column: str, values: list[Any], params: list[Any]) -> str:
    params.extend(values)
    if len(values) == 1:
        return f"{column} = %s"
    return f"{column} IN ({', '.join(['%s'] * len(values))})"


def search_pattern(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def where(leads: LeadSet, *, search: bool = True) -> Where | None:
    """``leads.repository.conditions`` as SQL, or None outside this module's reach."""
    f = leads.f
    if leads.extra or f.model_extra or any(getattr(f, name) != default
                                           for name, default in _OTHERS):
        return None
    scope_sql, scope_params = leads.scope.sql()
    conds, params = [scope_sql], list(scope_params)
    if f.only_deleted:
        conds.append("deleted_at IS NOT NULL")
    elif not f.include_deleted:
        conds.append("deleted_at IS NULL")
    if f.statuses:
        conds.append(_in("status", f.statuses, params))
    if f.owner_none and f.owner_ids:
        conds.append(f"({_in('owner_id', f.owner_ids, params)} OR owner_id IS NULL)")
    elif f.owner_none:
        conds.append("owner_id IS NULL")
    elif f.owner_ids:
        conds.append(_in("owner_id", f.owner_ids, params))
    if f.tag_list:
        conds.append("tags && CAST(%s AS TEXT[])")
        params.append(f.tag_list)
    if f.sources:
        conds.append(_in("source", f.sources, params))
    if f.list_ids:
        conds.append(_in("list_id", f.list_ids, params))
    for column, op, value in (("score", ">=", f.score_gte), ("score", "<=", f.score_lte),
                              ("created_at", ">=", f.created_after),
                              ("created_at", "<", f.created_before),
                              ("updated_at", ">=", f.updated_after)):
        if value is not None:
            conds.append(f"{column} {op} %s")
            params.append(value)
    if search and f.search:
        conds.append(_LIKE)
        params.append(search_pattern(f.search))
    return Where(" AND ".join(conds), tuple(params))


def _order(sort: list[SortColumn]) -> str | None:
    parts = []
    for c in sort:
        name = getattr(c.column, "name", None)
        if c.name.startswith("fields.") or name is None:
            return None
        parts.append(f"{name} {'DESC' if c.descending else 'ASC'}"
                     + (" NULLS LAST" if c.nullable else ""))
    return ", ".join(parts)


def _keyset(sort: list[SortColumn], after: list[Any]) -> tuple[str, tuple[Any, ...]] | None:
    """Rows after ``after`` as a row comparison (what ``keyset_after`` makes when every
    column runs one way and holds no NULL); None for the other keysets."""
    keyset_after(sort, after)  # the cursor's values checked against the sort (422)
    if len({c.descending for c in sort}) != 1 or any(
            c.nullable or v is None for c, v in zip(sort, after, strict=True)):
        return None
    names = ", ".join(c.column.name for c in sort)  # type: ignore[attr-defined]
    marks = ", ".join(["%s"] * len(sort))
    return f"({names}) {'<' if sort[0].descending else '>'} ({marks})", tuple(after)


@dataclass(frozen=True)
class PageSql:
    """The statements of a page: ``plain``; for a ``q=`` search, ``window`` (the first
    matches among the next SEARCH_WINDOW leads of the order) and ``matches`` (all the
    matches gathered, then ordered)."""

    plain: tuple[str, tuple[Any, ...]]
    window: tuple[str, tuple[Any, ...]] | None
    matches: tuple[str, tuple[Any, ...]] | None


def page(leads: LeadSet, sort: list[SortColumn], after: list[Any] | None, offset: int,
         limit: int, window_rows: int) -> PageSql | None:
    full = where(leads)
    order = _order(sort)
    if full is None or order is None:
        return None
    ks_sql, ks_params = "", ()
    if after is not None:
        keyset = _keyset(sort, after)
        if keyset is None:
            return None
        ks_sql, ks_params = keyset
    more = f" AND {ks_sql}" if ks_sql else ""
    tail = f" ORDER BY {order}" + (" OFFSET %s" if offset and after is None else "") \
        + " LIMIT %s"
    tail_params = ((offset,) if offset and after is None else ()) + (limit,)
    tenant = (leads.scope.tenant_id,)
    plain = (f"SELECT {_out('leads')} FROM leads WHERE {full.sql}{more}{tail}",
             tenant + full.params + ks_params + tail_params)
    if not leads.f.search or (offset and after is None):
        return PageSql(plain, None, None)
    rest = where(leads, search=False)
    assert rest is not None
    pattern = search_pattern(leads.f.search)
    window = (f"SELECT {_out('recent')} FROM (SELECT {SELECT}, search_text FROM leads "
              f"WHERE {rest.sql}{more} ORDER BY {order} LIMIT {int(window_rows)}) AS recent "
              f"WHERE recent.{_LIKE} ORDER BY {order} LIMIT %s",
              tenant + rest.params + ks_params + (pattern, limit))
    matches = (f"WITH matches AS MATERIALIZED (SELECT {SELECT} FROM leads WHERE "
               f"{full.sql}{more}) SELECT {_out('matches')} FROM matches ORDER BY {order} "
               "LIMIT %s",
               full.params + ks_params + tenant + (limit,))
    return PageSql(plain, window, matches)


def count(leads: LeadSet, cap: int | None) -> tuple[str, tuple[Any, ...]] | None:
    w = where(leads)
    if w is None:
        return None
    if cap is None:
        return f"SELECT count(*) FROM leads WHERE {w.sql}", w.params
    return (f"SELECT count(*) FROM (SELECT id FROM leads WHERE {w.sql} LIMIT %s) AS capped",
            (*w.params, cap + 1))


def estimate(leads: LeadSet) -> tuple[str, tuple[Any, ...]] | None:
    w = where(leads)
    return None if w is None else (f"EXPLAIN (FORMAT JSON) SELECT id FROM leads WHERE {w.sql}",
                                   w.params)
