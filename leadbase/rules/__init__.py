"""The rule language: one JSON condition tree for segments, scoring, assignment,
auto-advance and, later, campaign triggers and dialer queues.

A condition is ``{"all": [...]}``, ``{"any": [...]}``, ``{"not": {...}}`` or a predicate
``{"field": ..., "op": ..., "value": ...}`` (``"within_days"`` for activity counts).
:func:`parse` checks it against the workspace's :class:`Catalog` (422 ``INVALID_RULE``
naming the path of every problem); the :class:`Rule` compiles two ways, :func:`to_sql`
for sets and :func:`matches` for one lead's :class:`Facts`, which the property test in
``tests/rules`` holds equal. :func:`describe` puts it in words. See README "The rule
language" for the fields and operators."""

from leadbase.rules.catalog import Aggregate, Catalog, FieldDef, load_catalog
from leadbase.rules.facts import count_aggregates, load_facts
from leadbase.rules.memory import Facts, check_node, check_pred, matches
from leadbase.rules.nodes import All, AnyOf, Not, Pred, Rule, combine_needs
from leadbase.rules.parse import parse
from leadbase.rules.sql import count_filter, counts_of, to_sql
from leadbase.rules.words import describe, describe_node, describe_pred

__all__ = [
    "Aggregate", "All", "AnyOf", "Catalog", "Facts", "FieldDef", "Not", "Pred", "Rule",
    "check_node", "check_pred", "combine_needs", "count_aggregates", "count_filter",
    "counts_of", "describe",
    "describe_node", "describe_pred", "load_catalog", "load_facts", "matches", "parse",
    "to_sql",
]
