"""A rule checked against one lead in memory: its row and the counts the rule needs
(:class:`Facts`, loaded set-based by :func:`leadbase.rules.facts.load_facts`). The same
semantics as :mod:`leadbase.rules.sql`, value for value, which the property test holds."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from leadbase.rules.catalog import Aggregate
from leadbase.rules.nodes import All, AnyOf, Node, Not, Pred, Rule

DAY = timedelta(days=1)
_NUMERIC_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?")  # lb_jsonb_numeric's pattern


@dataclass(frozen=True)
class Facts:
    """What a rule reads of one lead: its row (the leads columns by name, ``fields`` a
    dict) and the counts of :attr:`Rule.needs` (missing counts are zero)."""

    lead: Mapping[str, Any]
    counts: Mapping[Aggregate, int] = field(default_factory=dict)


def json_numeric(value: Any) -> Decimal | None:
    """``lb_jsonb_numeric``: a JSON number, or a string of digits, as a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    if isinstance(value, str) and _NUMERIC_TEXT.fullmatch(value):
        return Decimal(value)
    return None


def json_equal(stored: Any, value: Any) -> bool:
    """JSONB equality of a stored scalar and a rule's value (what containment of a scalar
    compares): numbers by value, every other type only with its own type."""
    if isinstance(stored, bool) or isinstance(value, bool):
        return isinstance(stored, bool) and isinstance(value, bool) and stored == value
    if isinstance(stored, int | float | Decimal) and isinstance(value, int | float | Decimal):
        return Decimal(str(stored)) == Decimal(str(value))
    return type(stored) is type(value) and bool(stored == value)


def _compare(actual: Any, op: str, value: Any) -> bool:
    if op == "gt":
        return bool(actual > value)
    if op == "gte":
        return bool(actual >= value)
    if op == "lt":
        return bool(actual < value)
    if op == "lte":
        return bool(actual <= value)
    return bool(value[0] <= actual <= value[1])


def _int_op(actual: int, op: str, value: Any) -> bool:
    if op == "in":
        return actual in value
    if op == "not_in":
        return actual not in value
    return _compare(actual, op, value)


class _Checker:
    def __init__(self, facts: Facts, now: datetime) -> None:
        self.facts, self.now = facts, now

    def node(self, node: Node) -> bool:
        if isinstance(node, Not):
            return not self.node(node.item)
        if isinstance(node, All):
            return all(self.node(i) for i in node.items)
        if isinstance(node, AnyOf):
            return any(self.node(i) for i in node.items)
        return self.pred(node)

    def pred(self, p: Pred) -> bool:
        f = p.field
        if f.kind == "count":
            agg = p.aggregate
            assert agg is not None
            return _int_op(int(self.facts.counts.get(agg, 0)), p.iop, p.value)
        if f.kind == "days":
            entered = self.facts.lead.get("stage_entered_at")
            if p.iop in ("exists", "missing"):
                return (entered is not None) == (p.iop == "exists")
            if entered is None:
                return p.iop == "not_in"
            return _int_op((self.now - entered) // DAY, p.iop, p.value)
        if f.code is not None:
            return self.custom(p, (self.facts.lead.get("fields") or {}).get(f.code))
        actual = self.facts.lead.get(f.column or f.name)
        if p.iop in ("exists", "missing"):
            if f.kind == "tags":
                present = bool(actual)
            elif f.kind == "string":
                present = actual is not None and actual != ""
            else:
                present = actual is not None
            return present == (p.iop == "exists")
        if f.kind == "tags":
            tags = set(actual or ())
            if p.iop == "contains":
                return set(p.value) <= tags
            hit = bool(tags & set(p.value))
            return hit if p.iop == "in" else not hit
        if p.iop in ("in", "not_in"):
            hit = actual is not None and actual in p.value
            return hit if p.iop == "in" else not hit
        if actual is None:
            return False
        if p.iop == "starts_with":
            return str(actual).startswith(p.value)
        if p.iop == "older_than_days":
            return bool(actual < self.now - p.value * DAY)
        if p.iop == "newer_than_days":
            return bool(actual >= self.now - p.value * DAY)
        return _compare(actual, p.iop, p.value)

    def custom(self, p: Pred, stored: Any) -> bool:
        f = p.field
        if p.iop in ("exists", "missing"):
            present = stored is not None and stored != "" and stored != []
            return present == (p.iop == "exists")
        if f.kind == "tags":
            items = stored if isinstance(stored, list) else None

            def has(v: str) -> bool:
                return items is not None and any(json_equal(e, v) for e in items)

            if p.iop == "contains":
                return all(has(v) for v in p.value)
            hit = any(has(v) for v in p.value)
            return hit if p.iop == "in" else not hit
        numeric = f.kind in ("int", "number")
        if p.iop in ("in", "not_in"):
            if numeric:
                number = json_numeric(stored)
                hit = number is not None and number in p.value
            else:
                hit = any(json_equal(stored, v) for v in p.value)
            return hit if p.iop == "in" else not hit
        if numeric:
            number = json_numeric(stored)
            return number is not None and _compare(number, p.iop, p.value)
        if not isinstance(stored, str):
            return False
        if p.iop == "starts_with":
            return stored.startswith(p.value)
        if p.iop in ("older_than_days", "newer_than_days"):
            moment = self.now - p.value * DAY
            bound = (moment.date().isoformat() if f.kind == "date"
                     else moment.strftime("%Y-%m-%dT%H:%M:%SZ"))
            return bool(stored < bound) if p.iop == "older_than_days" else bool(stored >= bound)
        return _compare(stored, p.iop, p.value)


def matches(rule: Rule, facts: Facts, *, now: datetime) -> bool:
    """Whether the lead of ``facts`` meets ``rule`` at ``now``."""
    return _Checker(facts, now).node(rule.root)


def check_pred(pred: Pred, facts: Facts, *, now: datetime) -> bool:
    """One predicate of a rule (explanations: which parts held)."""
    return _Checker(facts, now).pred(pred)


def check_node(node: Node, facts: Facts, *, now: datetime) -> bool:
    return _Checker(facts, now).node(node)
