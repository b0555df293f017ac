"""A rule in words, for breakdowns, dry runs and screens: ``source is website``,
``no activity for 21 days``, ``2 or more calls in the last 30 days``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from leadbase.rules.nodes import All, Node, Not, Pred, Rule

_COMPARE = {"gt": "more than", "gte": "at least", "lt": "less than", "lte": "at most"}
_WHEN = {"gt": "after", "gte": "on or after", "lt": "before", "lte": "on or before"}


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC") if (value.hour, value.minute) != (0, 0) \
            else value.strftime("%Y-%m-%d")
    return str(value)


def _raw(p: Pred) -> Any:
    return p.raw.get("value")


def _list(values: Any) -> str:
    items = values if isinstance(values, list) else [values]
    return ", ".join(_show(v) for v in items)


def _count(p: Pred) -> str:
    label = p.field.label
    window = f" in the last {p.within_days} days" if p.within_days else ""
    v = _raw(p)
    if p.op == "eq" and v == 0:
        return f"no {label}{window}"
    if p.op == "gte":
        return f"{v} or more {label}{window}"
    if p.op == "gt":
        return f"more than {v} {label}{window}"
    if p.op in ("lt", "lte"):
        return f"{_COMPARE[p.op]} {v} {label}{window}"
    if p.op == "between":
        return f"{v[0]} to {v[1]} {label}{window}"
    return f"{label}{window} {'is' if p.op == 'eq' else 'is not'} {_list(v)}"


def describe_pred(p: Pred) -> str:
    f, op, v = p.field, p.op, _raw(p)
    label = f.label
    if f.kind == "count":
        return _count(p)
    if op == "exists":
        return f"has {label}" if f.kind == "tags" else f"{label} is set"
    if op == "missing":
        return f"no {label}" if f.kind == "tags" else f"{label} is empty"
    if op == "older_than_days":
        if f.name == "last_activity_at":
            return f"no activity for {v} days"
        if f.name == "last_contacted_at":
            return f"not contacted for {v} days"
        return f"{label} more than {v} days ago"
    if op == "newer_than_days":
        return f"{label} in the last {v} days"
    if f.kind == "tags":
        noun = "tag" if f.name == "tags" else label
        if op == "contains":
            return f"has {noun} {_list(v)}"
        if op == "in":
            return f"has any {noun} of {_list(v)}"
        return f"has no {noun} of {_list(v)}"
    if op == "eq":
        return f"{label} is {_show(v)}"
    if op == "ne":
        return f"{label} is not {_show(v)}"
    if op == "in":
        return f"{label} is one of {_list(v)}"
    if op == "not_in":
        return f"{label} is none of {_list(v)}"
    if op == "starts_with":
        return f"{label} starts with '{v}'"
    words = _WHEN if f.kind in ("datetime", "date") else _COMPARE
    if op == "between":
        return f"{label} between {_show(v[0])} and {_show(v[1])}"
    if f.kind == "days":
        return f"{_COMPARE[op]} {v} days in stage"
    return f"{label} {words[op]} {_show(v)}"


def describe_node(node: Node, *, nested: bool = False) -> str:
    if isinstance(node, Pred):
        return describe_pred(node)
    if isinstance(node, Not):
        return f"not ({describe_node(node.item)})"
    if not node.items:
        return "every lead" if isinstance(node, All) else "no lead"
    if len(node.items) == 1:
        return describe_node(node.items[0], nested=nested)
    joiner = " and " if isinstance(node, All) else " or "
    text = joiner.join(describe_node(i, nested=True) for i in node.items)
    return f"({text})" if nested else text


def describe(rule: Rule) -> str:
    return describe_node(rule.root)
