"""A checked rule: a tree of :class:`All`, :class:`AnyOf`, :class:`Not` and
:class:`Pred` nodes whose values are already in the form both compilers use (see
``rules.parse``). Made only by :func:`leadbase.rules.parse`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from leadbase.rules.catalog import Aggregate, FieldDef


@dataclass(frozen=True)
class Pred:
    """``field op value``. ``op`` is the operator as written; ``iop`` the one the
    compilers apply: ``eq``/``in`` become ``in`` and ``ne``/``not_in`` become ``not_in``
    over a tuple of values, the rest stay. ``raw`` is the predicate as stored."""

    field: FieldDef
    op: str
    iop: str
    value: Any
    within_days: int | None
    raw: dict[str, Any]

    @property
    def aggregate(self) -> Aggregate | None:
        f = self.field
        if f.kind != "count":
            return None
        assert f.source and f.detail
        return (f.source, f.detail, self.within_days)


@dataclass(frozen=True)
class All:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = All | AnyOf | Not | Pred


def walk(node: Node) -> Iterator[Pred]:
    if isinstance(node, Pred):
        yield node
    elif isinstance(node, Not):
        yield from walk(node.item)
    else:
        for item in node.items:
            yield from walk(item)


def _json(node: Node) -> dict[str, Any]:
    if isinstance(node, Pred):
        return dict(node.raw)
    if isinstance(node, Not):
        return {"not": _json(node.item)}
    key = "all" if isinstance(node, All) else "any"
    return {key: [_json(i) for i in node.items]}


@dataclass(frozen=True)
class Rule:
    """A checked condition. ``needs`` names the counts the in-memory check reads
    (activities of a type in a window, open and overdue tasks); ``to_json`` is the form to
    store (parse it again when loaded: ids and field types may have changed since)."""

    root: Node

    @cached_property
    def needs(self) -> frozenset[Aggregate]:
        return frozenset(a for p in walk(self.root) if (a := p.aggregate) is not None)

    def predicates(self) -> list[Pred]:
        return list(walk(self.root))

    def to_json(self) -> dict[str, Any]:
        return _json(self.root)


def combine_needs(*rules: Rule | None) -> frozenset[Aggregate]:
    """The counts several rules need together (one :func:`load_facts` for all)."""
    out: frozenset[Aggregate] = frozenset()
    for rule in rules:
        if rule is not None:
            out |= rule.needs
    return out
