"""A rule as SQL: one boolean condition over the leads table, for finding and counting the
matching leads set-based.

Semantics shared with :mod:`leadbase.rules.memory` (the property test holds the two
equal): a comparison on a missing value is false; ``ne``/``not_in`` are the negation of
``eq``/``in`` (so true when missing); ``not`` is plain negation. SQL's NULL would break the
last one, so negation is pushed down the tree: at positive polarity a predicate is used
as it is (NULL acts as false in WHERE, AND and OR), at negative polarity it becomes
``NOT coalesce(p, false)``. Predicates keep the forms the indexes serve: equality on
columns, containment (``@>``/``&&``) on tags and custom fields (GIN), the expression of a
custom field's own index for ranges, and counts as ``id IN (SELECT lead_id ... GROUP BY
lead_id HAVING ...)`` over the activity and task indexes."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Text,
    and_,
    cast,
    exists,
    false,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY

from leadbase.db.base import table_of
from leadbase.leads.repository import T, escape_like, field_value_expr
from leadbase.models import Activity, Task
from leadbase.rules.catalog import Aggregate
from leadbase.rules.nodes import All, AnyOf, Node, Not, Pred, Rule

A = table_of(Activity)
K = table_of(Task)
DAY = timedelta(days=1)
_EMPTY_JSON: list[ColumnElement[Any]] = [
    literal_column(f"'{v}'::jsonb") for v in ("null", '""', "[]")]


def _compare(expr: Any, op: str, value: Any) -> ColumnElement[bool]:
    if op == "gt":
        return expr > value  # type: ignore[no-any-return]
    if op == "gte":
        return expr >= value  # type: ignore[no-any-return]
    if op == "lt":
        return expr < value  # type: ignore[no-any-return]
    if op == "lte":
        return expr <= value  # type: ignore[no-any-return]
    low, high = value
    return and_(expr >= low, expr <= high)


class _Compiler:
    def __init__(self, *, now: datetime, tenant_id: uuid.UUID | None,
                 counts: Mapping[Aggregate, ColumnElement[Any]] | None = None) -> None:
        self.now = now
        self.tenant_id = tenant_id
        self.counts = counts

    def node(self, node: Node, negate: bool) -> ColumnElement[bool]:
        if isinstance(node, Not):
            return self.node(node.item, not negate)
        if isinstance(node, All | AnyOf):
            parts = [self.node(i, negate) for i in node.items]
            conjunction = isinstance(node, All) != negate
            if not parts:
                return true() if conjunction else false()
            return and_(*parts) if conjunction else or_(*parts)
        if node.field.kind == "count":
            return self.count(node, negate)
        expr, nullable = self.pred(node)
        if not negate:
            return expr
        return not_(func.coalesce(expr, false()) if nullable else expr)

    # One predicate: its condition, and whether it can be NULL.

    def pred(self, p: Pred) -> tuple[ColumnElement[bool], bool]:
        f = p.field
        if f.kind == "days":
            return self.days(p), True
        if f.code is not None:
            return self.custom(p)
        col = T.c[f.column or f.name]
        if p.iop in ("exists", "missing"):
            if f.kind == "tags":
                present = func.cardinality(col) > 0
            elif f.kind == "string":
                present = and_(col.is_not(None), col != "")
            else:
                present = col.is_not(None)
            return (present if p.iop == "exists" else not_(present)), False
        if f.kind == "tags":
            arr = cast(list(p.value), ARRAY(Text))
            if p.iop == "contains":
                return col.contains(arr), False
            hit = col.overlap(arr)
            return (hit if p.iop == "in" else not_(hit)), False
        if p.iop in ("in", "not_in"):
            values = list(p.value)
            hit = col == values[0] if len(values) == 1 else col.in_(values)
            if p.iop == "in":
                return hit, f.nullable
            if not f.nullable:
                return not_(hit), False
            return or_(col.is_(None), not_(hit)), False
        if p.iop == "starts_with":
            return col.like(escape_like(p.value) + "%", escape="\\"), f.nullable
        if p.iop == "older_than_days":
            return col < self.now - p.value * DAY, f.nullable
        if p.iop == "newer_than_days":
            return col >= self.now - p.value * DAY, f.nullable
        return _compare(col, p.iop, p.value), f.nullable

    def custom(self, p: Pred) -> tuple[ColumnElement[bool], bool]:
        f = p.field
        code = f.code
        assert code is not None
        raw = T.c.fields.op("->")(literal(code, Text, literal_execute=True))
        if p.iop in ("exists", "missing"):
            present = func.coalesce(raw.not_in(_EMPTY_JSON), false())
            return (present if p.iop == "exists" else not_(present)), False
        if f.kind == "tags":
            if p.iop == "contains":
                return T.c.fields.contains({code: list(p.value)}), False
            hit = or_(*[T.c.fields.contains({code: [v]}) for v in p.value])
            return (hit if p.iop == "in" else not_(hit)), False
        numeric = f.kind in ("int", "number")
        if p.iop in ("in", "not_in"):
            if numeric:
                hit = field_value_expr(code, True).in_(list(p.value))
                return (hit, True) if p.iop == "in" else (not_(func.coalesce(hit, false())),
                                                         False)
            hit = or_(*[T.c.fields.contains({code: v}) for v in p.value])
            return (hit if p.iop == "in" else not_(hit)), False
        text = type_coerce(field_value_expr(code, False), Text)
        # Only a JSON string is text for comparisons (as in memory).
        is_text = func.jsonb_typeof(raw) == "string"
        if p.iop == "starts_with":
            return and_(is_text, text.like(escape_like(p.value) + "%", escape="\\")), True
        if numeric:
            return _compare(field_value_expr(code, True), p.iop, p.value), True
        value: Any = p.value
        if p.iop in ("older_than_days", "newer_than_days"):
            moment = self.now - p.value * DAY
            value = (moment.date().isoformat() if f.kind == "date"
                     else moment.strftime("%Y-%m-%dT%H:%M:%SZ"))
            return and_(is_text, text < value if p.iop == "older_than_days"
                        else text >= value), True
        return and_(is_text, _compare(text, p.iop, value)), True

    def days(self, p: Pred) -> ColumnElement[bool]:
        """Whole days since the stage was entered, as bounds on ``stage_entered_at``:
        ``days >= n`` is ``entered <= now - n days``."""
        col = T.c.stage_entered_at
        if p.iop == "exists":
            return col.is_not(None)
        if p.iop == "missing":
            return col.is_(None)

        def at_least(n: int) -> ColumnElement[bool]:
            return col <= self.now - n * DAY

        def below(n: int) -> ColumnElement[bool]:
            return col > self.now - n * DAY

        if p.iop == "not_in":  # ne: true when there is no stage
            return or_(col.is_(None), _int_range(p, at_least, below))
        return _int_range(p, at_least, below)

    def count(self, p: Pred, negate: bool) -> ColumnElement[bool]:
        """``count op value`` (or its negation) as one semi- or anti-join. Which counts
        pass is known from the constants: when zero fails, the leads whose rows pass
        (``EXISTS`` when every positive count passes, else ``id IN (SELECT lead_id ...
        GROUP BY lead_id HAVING ...)``); when zero passes, the leads without a failing
        group (``NOT EXISTS``, a hash anti-join). Never ``OR`` and never ``NOT IN
        (subquery)``, which PostgreSQL would run once per lead."""
        agg = p.aggregate
        assert agg is not None
        if self.counts is not None and agg in self.counts:
            return self.counted(p, self.counts[agg], negate)

        def ok(c: int) -> bool:
            return _holds(p, c) != negate

        positives = [ok(c) for c in range(1, _bound(p) + 1)]
        table, where = self.aggregate_source(agg)
        n = func.count()
        having: ColumnElement[bool] = _int_range(p, lambda k: n >= k, lambda k: n < k)
        if negate:
            having = not_(having)
        groups = select(table.c.lead_id).where(*where).group_by(table.c.lead_id)
        rows = exists(select(1).select_from(table).where(*where, table.c.lead_id == T.c.id))
        if ok(0):
            if all(positives):
                return true()
            if not any(positives):
                return ~rows
            failing = groups.having(not_(having)).subquery()
            return ~exists(select(1).select_from(failing)
                           .where(failing.c.lead_id == T.c.id))
        if not any(positives):
            return false()
        if all(positives):
            return rows
        return T.c.id.in_(groups.having(having))

    @staticmethod
    def counted(p: Pred, n: ColumnElement[Any], negate: bool) -> ColumnElement[bool]:
        """``count op value`` on a count the caller computed (never NULL: zero when the
        lead has no rows)."""
        hit = _int_range(p, lambda k: n >= k, lambda k: n < k)
        return not_(hit) if negate else hit

    def aggregate_source(self, agg: Aggregate) -> tuple[Any, list[ColumnElement[bool]]]:
        source, detail, days = agg
        if source == "activities":
            table = A
            where = [A.c.deleted_at.is_(None), A.c.type == detail, A.c.occurred_at <= self.now]
            if days is not None:
                where.append(A.c.occurred_at >= self.now - days * DAY)
        else:
            table = K
            where = [K.c.deleted_at.is_(None), K.c.status == "open"]
            if detail == "overdue":
                where.append(K.c.due_at < self.now)
        if self.tenant_id is not None:
            where.insert(0, table.c.tenant_id == self.tenant_id)
        else:
            where.insert(0, table.c.tenant_id == T.c.tenant_id)
        return table, where


def _bound(p: Pred) -> int:
    """A count past every constant of ``p``: beyond it the comparison no longer changes."""
    v = p.value
    numbers = list(v) if isinstance(v, tuple) else [v]
    return max(int(x) for x in numbers) + 2


def _holds(p: Pred, n: int) -> bool:
    """Whether ``n op value`` holds (counts)."""
    op, v = p.iop, p.value
    if op == "in":
        return n in v
    if op == "not_in":
        return n not in v
    if op == "between":
        return bool(v[0] <= n <= v[1])
    return bool({"gt": n > v, "gte": n >= v, "lt": n < v, "lte": n <= v}[op])


def _int_range(p: Pred, at_least: Callable[[int], ColumnElement[bool]],
               below: Callable[[int], ColumnElement[bool]]) -> ColumnElement[bool]:
    """A whole-number comparison written with two monotone conditions:
    ``at_least(n)`` (x >= n) and ``below(n)`` (x < n)."""
    op, v = p.iop, p.value
    if op == "gt":
        return at_least(v + 1)
    if op == "gte":
        return at_least(v)
    if op == "lt":
        return below(v)
    if op == "lte":
        return below(v + 1)
    if op == "between":
        return and_(at_least(v[0]), below(v[1] + 1))
    hit = or_(*[and_(at_least(n), below(n + 1)) for n in v])
    return hit if op == "in" else not_(hit)


def to_sql(rule: Rule, *, now: datetime, tenant_id: uuid.UUID | None = None,
           counts: Mapping[Aggregate, ColumnElement[Any]] | None = None
           ) -> ColumnElement[bool]:
    """The condition over ``leads`` (:data:`leadbase.leads.repository.T`) that holds for
    exactly the leads :func:`leadbase.rules.matches` accepts at ``now``. Pass
    ``tenant_id`` so the count subqueries start with it (their indexes); without it they
    are correlated to the lead's workspace. ``counts`` gives, per aggregate, a column
    holding the lead's count (as :func:`counts_of` computes them, joined by the caller):
    those predicates compare it instead of a subquery of their own."""
    return _Compiler(now=now, tenant_id=tenant_id, counts=counts).node(rule.root, False)


def count_filter(agg: Aggregate, now: datetime) -> ColumnElement[bool]:
    """Which of the rows :func:`counts_of` reads count towards ``agg`` (beyond what every
    row of its source shares: the workspace, live, occurred by ``now`` / open)."""
    source, detail, days = agg
    if source == "activities":
        conds = [A.c.type == detail]
        if days is not None:
            conds.append(A.c.occurred_at >= now - days * DAY)
        return and_(*conds)
    return K.c.due_at < now if detail == "overdue" else K.c.id.is_not(None)


def _count_sources(aggregates: Iterable[Aggregate], tenant_id: uuid.UUID, now: datetime
                   ) -> list[tuple[Any, list[Aggregate], list[ColumnElement[bool]]]]:
    """Per source the table, its aggregates and the conditions every counted row meets."""
    wanted = sorted(set(aggregates), key=lambda a: (a[0], a[1], a[2] or 0))
    out = []
    for source, table in (("activities", A), ("tasks", K)):
        aggs = [a for a in wanted if a[0] == source]
        if not aggs:
            continue
        where = [table.c.tenant_id == tenant_id, table.c.deleted_at.is_(None)]
        if source == "activities":
            where += [A.c.occurred_at <= now, A.c.type.in_(sorted({a[1] for a in aggs}))]
        else:
            where.append(K.c.status == "open")
        out.append((table, aggs, where))
    return out


def counts_of(aggregates: Iterable[Aggregate], *, tenant_id: uuid.UUID, now: datetime,
              lead_ids: Any = None) -> list[tuple[Any, dict[Aggregate, ColumnElement[Any]]]]:
    """Per source (activities, tasks), one query counting every aggregate of
    ``aggregates`` at once (``count(*) FILTER (...)``), and each aggregate's column in it.
    With ``lead_ids`` (a list of ids): grouped, one row ``(lead_id, c0, c1, ...)`` per
    lead with any row (others have none). Without: a ``LATERAL`` subquery correlated to
    the lead of :data:`T` (one row for every lead, zeros included; join it ``ON true``),
    which PostgreSQL runs as one probe of ``ix_activities_tenant_lead_time`` (or the
    tasks' lead index) per lead, so a statement over a range of leads costs what its
    leads hold, not what the workspace holds. The same counts ``load_facts`` reads for
    the in-memory check."""
    out: list[tuple[Any, dict[Aggregate, ColumnElement[Any]]]] = []
    for table, aggs, where in _count_sources(aggregates, tenant_id, now):
        cols = [func.count().filter(count_filter(a, now)).label(f"c{i}")
                for i, a in enumerate(aggs)]
        sub: Any
        if lead_ids is None:
            sub = (select(*cols).where(*where, table.c.lead_id == T.c.id)
                   .lateral(f"n_{table.name}"))
        else:
            sub = (select(table.c.lead_id, *cols).where(*where, table.c.lead_id.in_(lead_ids))
                   .group_by(table.c.lead_id).subquery(f"n_{table.name}"))
        out.append((sub, {a: sub.c[f"c{i}"] for i, a in enumerate(aggs)}))
    return out
