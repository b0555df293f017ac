"""The field engine: a list's schema compiled once, then applied to lead values.

:func:`compile_schema` turns field, rule and code-list rows into a
:class:`CompiledSchema` (cached per list and ``schema_version`` by the service).
:func:`validate` coerces and checks the ``fields`` of one lead write without any I/O and
reports every failure at once; what needs the database (related leads exist) is
returned for the service to check. Primary values are unique through ``lead_field_keys``
(migration 0009), which the database keeps for every writer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import regex

from leadbase.fields import coerce
from leadbase.fields.checks import CHECKSUMS, CheckError
from leadbase.fields.checks.masks import matches_mask
from leadbase.fields.coerce import FieldValueError

REGEX_TIMEOUT = 0.05  # seconds per value and pattern

MULTIPLE_SUBTYPES = ("SELECTOR_MULTIPLE", "CHECKBOX_MULTIPLE")
TEXTUAL = ("STRING", "TEXT", "EMAIL", "PHONE", "URL")
NUMERIC = ("INT", "DECIMAL")


@dataclass(frozen=True)
class RuleSpec:
    type: str
    value: Any
    message: str | None
    # What checking needs, prepared once per compiled schema (see :func:`prepared`): the
    # compiled pattern of a REGEX rule, the parsed limit of a comparison.
    ready: Any = field(default=None, compare=False)


def prepared(rule: RuleSpec) -> RuleSpec:
    """``rule`` with its pattern compiled or its limit parsed (``today`` stays a date
    computed when checked). Rules that cannot be prepared are checked as they are."""
    try:
        if rule.type == "REGEX":
            return replace(rule, ready=regex.compile(str(rule.value)))
        if rule.type in _COMPARE and rule.value != "today":
            return replace(rule, ready=_COMPARE[rule.type][0](rule.value))
    except (ValueError, ArithmeticError, regex.error, FieldValueError):
        pass
    return rule


@dataclass(frozen=True)
class FieldSpec:
    code: str
    name: str
    type: str
    subtype: str | None = None
    required: bool = False
    default_value: Any = None
    is_primary: bool = False
    input_mask: str | None = None
    related_list_id: Any = None
    expression: str | None = None
    rules: tuple[RuleSpec, ...] = ()
    items: frozenset[str] = frozenset()

    @property
    def multiple(self) -> bool:
        return self.subtype in MULTIPLE_SUBTYPES

    @property
    def uses_code_list(self) -> bool:
        return self.type in ("SELECTOR", "CHECKBOX") and (
            self.type == "SELECTOR" or self.subtype == "CHECKBOX_MULTIPLE")


@dataclass(frozen=True)
class CompiledSchema:
    fields: dict[str, FieldSpec]  # by lower-cased code
    calculation_order: tuple[str, ...] = ()

    def get(self, code: str) -> FieldSpec | None:
        return self.fields.get(code.lower())


EMPTY_SCHEMA = CompiledSchema(fields={})


@dataclass
class Outcome:
    values: dict[str, Any]
    errors: list[dict[str, str]] = field(default_factory=list)
    related: list[tuple[str, str, Any]] = field(default_factory=list)  # code, lead id, list


def coerce_value(spec: FieldSpec, value: Any, *, region: str, timezone: str | None) -> Any:
    """The canonical form of ``value`` for ``spec`` (type, code list, mask, then rules)."""
    kind = spec.type
    result: Any
    if kind in ("STRING", "TEXT"):
        result = (coerce.STRING if kind == "STRING" else coerce.TEXT)(value)
    elif kind == "INT":
        result = coerce.to_int(value)
    elif kind == "DECIMAL":
        result = coerce.decimal_text(coerce.to_decimal(value))
    elif kind == "DATE":
        result = coerce.to_date(value).isoformat()
    elif kind == "DATETIME":
        result = coerce.to_datetime(value).strftime("%Y-%m-%dT%H:%M:%SZ")
    elif kind == "BOOL":
        result = coerce.to_bool(value)
    elif kind == "EMAIL":
        result = coerce.to_email(value)
    elif kind == "PHONE":
        result = coerce.to_phone(value, region, timezone)
    elif kind == "URL":
        result = coerce.to_url(value)
    elif kind == "LEAD":
        result = coerce.to_lead_id(value)
    elif spec.uses_code_list:
        result = coerce.to_codes(value, spec.items, spec.multiple)
    elif kind == "CHECKBOX":
        result = coerce.to_bool(value)
    else:
        raise FieldValueError(f"cannot take a value of type {kind}")
    if spec.input_mask and isinstance(result, str) and not matches_mask(spec.input_mask,
                                                                        result):
        raise FieldValueError(f"must match the mask {spec.input_mask}", "input_mask")
    for rule in spec.rules:
        result = apply_rule(rule, result)
    return result


def _today() -> date:
    return datetime.now(UTC).date()


def _rule_date(value: Any) -> date:
    return _today() if value == "today" else coerce.to_date(value)


def _length(value: Any) -> int:
    return len(value) if isinstance(value, (str, list)) else len(str(value))


_COMPARE: dict[str, tuple[Callable[[Any], Any], Callable[[Any, Any], bool], str]] = {
    "MIN_LENGTH": (int, lambda v, lim: _length(v) >= lim, "must be at least {} characters"),
    "MAX_LENGTH": (int, lambda v, lim: _length(v) <= lim, "must be at most {} characters"),
    "MIN_VALUE": (Decimal, lambda v, lim: coerce.to_decimal(v) >= lim, "must be at least {}"),
    "MAX_VALUE": (Decimal, lambda v, lim: coerce.to_decimal(v) <= lim, "must be at most {}"),
    "MIN_DATE": (_rule_date, lambda v, lim: coerce.to_date(v) >= lim, "must be on or after {}"),
    "MAX_DATE": (_rule_date, lambda v, lim: coerce.to_date(v) <= lim, "must be on or before {}"),
}


def apply_rule(rule: RuleSpec, value: Any) -> Any:
    """Check ``value`` against ``rule``; return it (normalised by CHECKSUM rules)."""
    kind = rule.type
    if kind in _COMPARE:
        parse, ok, default = _COMPARE[kind]
        limit = rule.ready if rule.ready is not None else parse(rule.value)
        if not ok(value, limit):
            raise FieldValueError(rule.message or default.format(limit), kind.lower())
        return value
    if kind == "REGEX":
        items = value if isinstance(value, list) else [value]
        try:
            # A workspace's own pattern: bounded in time (catastrophic backtracking on a
            # crafted value must not stall the server), hence ``regex`` rather than ``re``.
            pattern = rule.ready if rule.ready is not None else regex.compile(str(rule.value))
            matched = all(pattern.search(str(item), timeout=REGEX_TIMEOUT) for item in items)
        except TimeoutError as exc:
            raise FieldValueError("the value took too long to check against the pattern",
                                  "regex_timeout") from exc
        if not matched:
            raise FieldValueError(rule.message or "has an invalid format", "regex")
        return value
    if kind == "ONE_OF":
        allowed = {str(v) for v in (rule.value or [])}
        items = value if isinstance(value, list) else [value]
        if not all(str(item) in allowed for item in items):
            raise FieldValueError(rule.message or f"must be one of {sorted(allowed)}", "one_of")
        return value
    if kind == "CHECKSUM":
        try:
            return CHECKSUMS[str(rule.value)](str(value))
        except CheckError as exc:
            raise FieldValueError(rule.message or str(exc), "checksum") from exc
    raise FieldValueError(f"has an unknown rule {kind}", "rule")


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def validate(
    schema: CompiledSchema, incoming: Mapping[str, Any], *, current: Mapping[str, Any],
    creating: bool, region: str, timezone: str | None,
    evaluate: Callable[[tuple[str, ...], dict[str, Any]], dict[str, Any]] | None = None,
) -> Outcome:
    """Validate ``incoming`` (the values sent) over ``current`` (the stored values).

    Only sent values are coerced and checked; ``required`` is checked on the result;
    defaults fill fields absent on create; calculated fields are recomputed."""
    values = {k: v for k, v in current.items()}
    out = Outcome(values=values)
    for raw_code, raw in incoming.items():
        spec = schema.get(raw_code)
        name = f"fields.{raw_code}"
        if spec is None:
            out.errors.append({"field": name, "message": "is not a field of this list",
                               "rule": "unknown_field"})
            continue
        if spec.type == "CALCULATED":
            out.errors.append({"field": name, "message": "is calculated and takes no value",
                               "rule": "calculated"})
            continue
        if raw_code != spec.code:
            values.pop(raw_code, None)
        if _empty(raw):
            values.pop(spec.code, None)
            continue
        try:
            values[spec.code] = coerce_value(spec, raw, region=region, timezone=timezone)
        except FieldValueError as exc:
            out.errors.append({"field": f"fields.{spec.code}", "message": exc.message,
                               "rule": exc.rule})
    for spec in schema.fields.values():
        if spec.type == "CALCULATED":
            continue
        if creating and spec.code not in values and not _empty(spec.default_value):
            values[spec.code] = spec.default_value
        if spec.required and _empty(values.get(spec.code)) and not any(
                e["field"] == f"fields.{spec.code}" for e in out.errors):
            out.errors.append({"field": f"fields.{spec.code}", "message": "is required",
                               "rule": "required"})
        value = values.get(spec.code)
        if _empty(value):
            continue
        if spec.type == "LEAD":
            out.related.append((spec.code, str(value), spec.related_list_id))
    if schema.calculation_order and evaluate is not None and not out.errors:
        values.update(evaluate(schema.calculation_order, values))
    return out
