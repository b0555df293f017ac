"""Checking a rule when it is saved: its shape, each field against the catalog, each
operator against the field's kind, each value against both. Every problem is reported at
once, by its path inside the rule (``condition.all[1].value``), as a 422 ``INVALID_RULE``.
Values leave in the form both compilers use: dates as datetimes or ISO text, numbers as
Decimal, ids as UUIDs, ``eq``/``in`` as a tuple of allowed values."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from leadbase.kit.errors import ValidationFailed
from leadbase.rules.catalog import ALL_OPS, MEMBER, RELATIVE, Catalog, FieldDef
from leadbase.rules.nodes import All, AnyOf, Node, Not, Pred, Rule

MAX_DEPTH = 12
MAX_NODES = 300
MAX_VALUES = 1000
MAX_TEXT = 500
MAX_DAYS = 36500
MAX_WINDOW = 3650
PRED_KEYS = frozenset({"field", "op", "value", "within_days"})


class _Bad(Exception):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path, self.message = path, message


class _Parser:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.errors: list[dict[str, str]] = []
        self.count = 0

    def fail(self, path: str, message: str) -> None:
        self.errors.append({"field": path, "message": message})

    def node(self, raw: Any, path: str, depth: int) -> Node | None:
        self.count += 1
        if self.count > MAX_NODES:
            if self.count == MAX_NODES + 1:
                self.fail(path, f"a rule has at most {MAX_NODES} conditions")
            return None
        if depth > MAX_DEPTH:
            self.fail(path, f"a rule nests at most {MAX_DEPTH} levels")
            return None
        if not isinstance(raw, dict):
            self.fail(path, "must be an object: {\"all\": [...]}, {\"any\": [...]}, "
                            "{\"not\": {...}} or {\"field\", \"op\", \"value\"}")
            return None
        groups = [k for k in ("all", "any", "not") if k in raw]
        if groups:
            if len(raw) != 1:
                self.fail(path, f"'{groups[0]}' must be the only key of its object")
                return None
            key = groups[0]
            if key == "not":
                item = self.node(raw["not"], f"{path}.not", depth + 1)
                return Not(item) if item is not None else None
            items = raw[key]
            if not isinstance(items, list):
                self.fail(f"{path}.{key}", "must be a list of conditions")
                return None
            parsed = [self.node(x, f"{path}.{key}[{i}]", depth + 1) for i, x in enumerate(items)]
            nodes = tuple(p for p in parsed if p is not None)
            return All(nodes) if key == "all" else AnyOf(nodes)
        return self.pred(raw, path)

    def pred(self, raw: dict[str, Any], path: str) -> Pred | None:
        if extra := sorted(set(raw) - PRED_KEYS):
            self.fail(f"{path}.{extra[0]}", "unknown key (a predicate has field, op, value "
                                            "and, for activity counts, within_days)")
            return None
        name = raw.get("field")
        if not isinstance(name, str) or not name:
            self.fail(f"{path}.field", "required: the field the condition is about")
            return None
        found = self.catalog.lookup(name)
        if isinstance(found, str):
            self.fail(f"{path}.field", found)
            return None
        op = raw.get("op")
        if op not in ALL_OPS:
            self.fail(f"{path}.op", f"one of {', '.join(sorted(found.ops))}")
            return None
        if op not in found.ops:
            self.fail(f"{path}.op", f"'{op}' does not apply to {name} ({found.kind}); "
                                    f"use one of {', '.join(sorted(found.ops))}")
            return None
        within = self.window(raw, found, path)
        try:
            value = self.value(found, op, raw.get("value"), "value" in raw, f"{path}.value")
        except _Bad as bad:
            self.fail(bad.path, bad.message)
            return None
        iop = "in" if op in ("eq", "in") else "not_in" if op in ("ne", "not_in") else op
        if found.kind == "tags" and op in ("in", "not_in"):
            iop = op
        stored = {"field": found.name, "op": op}
        if "value" in raw and raw["value"] is not None:
            stored["value"] = raw["value"]
        if within is not None:
            stored["within_days"] = within
        return Pred(field=found, op=op, iop=iop, value=value, within_days=within, raw=stored)

    def window(self, raw: dict[str, Any], f: FieldDef, path: str) -> int | None:
        if "within_days" not in raw or raw["within_days"] is None:
            return None
        days = raw["within_days"]
        if f.source != "activities":
            self.fail(f"{path}.within_days", "only activity counts take within_days")
        elif not _is_int(days) or not 1 <= days <= MAX_WINDOW:
            self.fail(f"{path}.within_days", f"a whole number of days from 1 to {MAX_WINDOW}")
        else:
            return int(days)
        return None

    def value(self, f: FieldDef, op: str, value: Any, given: bool, path: str) -> Any:
        if op in ("exists", "missing"):
            if given and value is not None:
                raise _Bad(path, f"'{op}' takes no value")
            return None
        if not given or value is None:
            raise _Bad(path, "required")
        if op in RELATIVE:
            if not _is_int(value) or not 0 <= value <= MAX_DAYS:
                raise _Bad(path, f"a whole number of days from 0 to {MAX_DAYS}")
            return int(value)
        if op == "between":
            if not isinstance(value, list) or len(value) != 2:
                raise _Bad(path, "a list of two values: [low, high]")
            low, high = (self.scalar(f, v, f"{path}[{i}]") for i, v in enumerate(value))
            if low > high:
                raise _Bad(path, "the low value is above the high one")
            return (low, high)
        if f.kind == "tags":
            items = value if isinstance(value, list) else [value]
            if not items:
                raise _Bad(path, "at least one tag or code")
            return tuple(self.code(f, v, f"{path}[{i}]" if isinstance(value, list) else path)
                         for i, v in enumerate(items))
        if op in MEMBER:
            if op in ("in", "not_in"):
                if not isinstance(value, list) or not value:
                    raise _Bad(path, "a non-empty list of values")
                if len(value) > MAX_VALUES:
                    raise _Bad(path, f"at most {MAX_VALUES} values")
                items = [self.members(f, v, f"{path}[{i}]") for i, v in enumerate(value)]
            else:
                items = [self.members(f, value, path)]
            return tuple(dict.fromkeys(x for group in items for x in group))
        if op == "starts_with":
            text = self.text(value, path)
            if not text:
                raise _Bad(path, "a non-empty prefix")
            return text
        return self.scalar(f, value, path)

    def members(self, f: FieldDef, value: Any, path: str) -> tuple[Any, ...]:
        """The values one written value stands for (a stage code: every stage with it)."""
        if f.ref == "stage" and isinstance(value, str) and not _is_uuid(value):
            ids = self.catalog.stage_codes.get(value)
            if not ids:
                raise _Bad(path, f"no lead stage has the code '{value}'")
            return tuple(sorted(ids))
        return (self.scalar(f, value, path),)

    def scalar(self, f: FieldDef, value: Any, path: str) -> Any:
        kind = f.kind
        if kind in ("string", "enum"):
            if f.code is not None:
                return self.code(f, value, path)
            text = self.text(value, path)
            if f.choices is not None and text not in f.choices:
                raise _Bad(path, f"one of {', '.join(sorted(f.choices))}")
            return text.lower() if f.name == "email" else text
        if kind == "uuid":
            if not isinstance(value, str) or not _is_uuid(value):
                raise _Bad(path, "an id (UUID)" + (" or a stage code" if f.ref == "stage"
                                                    else ""))
            ident = uuid.UUID(value)
            if f.ref and not self.catalog.known(f.ref, ident):
                raise _Bad(path, f"no {f.ref} of this workspace has this id")
            return ident
        if kind in ("int", "count", "days"):
            if not _is_int(value):
                raise _Bad(path, "a whole number")
            if kind != "int" and value < 0:
                raise _Bad(path, "zero or more")
            return Decimal(value) if f.code else int(value)
        if kind == "number":
            return _number(value, path)
        if kind == "bool":
            if not isinstance(value, bool):
                raise _Bad(path, "true or false")
            return value
        if kind == "date":
            return _date(value, path).isoformat()
        if kind == "datetime":
            moment = _datetime(value, path)
            return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if f.code else moment
        raise _Bad(path, f"{f.name} takes no value")  # pragma: no cover

    def code(self, f: FieldDef, value: Any, path: str) -> str:
        text = self.text(value, path)
        if f.choices is not None and text not in f.choices:
            raise _Bad(path, f"'{text}' is not a code of {f.label}'s list")
        return text

    def text(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise _Bad(path, "a string")
        if len(value) > MAX_TEXT:
            raise _Bad(path, f"at most {MAX_TEXT} characters")
        return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _number(value: Any, path: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _Bad(path, "a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise _Bad(path, "a number") from exc
    if not number.is_finite():
        raise _Bad(path, "a finite number")
    return number


def _date(value: Any, path: str) -> date:
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise _Bad(path, "a date as YYYY-MM-DD")


def _datetime(value: Any, path: str) -> datetime:
    """An ISO 8601 date or date-time; a date is 00:00 UTC of that day, a time without
    offset is UTC."""
    if isinstance(value, str):
        try:
            moment = (datetime.combine(date.fromisoformat(value), datetime.min.time())
                      if len(value) == 10 else datetime.fromisoformat(value))
        except ValueError:
            pass
        else:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            # Whole seconds: custom date-times are stored to the second.
            return moment.astimezone(UTC).replace(microsecond=0)
    raise _Bad(path, "a date (YYYY-MM-DD) or date-time (ISO 8601)")


def parse(condition: Any, catalog: Catalog, *, path: str = "condition") -> Rule:
    """Check ``condition`` against ``catalog``; the rule, or 422 ``INVALID_RULE`` with
    every problem by its path."""
    parser = _Parser(catalog)
    root = parser.node(condition, path, 0)
    if parser.errors or root is None:
        errors = parser.errors or [{"field": path, "message": "invalid rule"}]
        raise ValidationFailed("Invalid rule: " + "; ".join(
            f"{e['field']}: {e['message']}" for e in errors[:3]), code="INVALID_RULE",
            errors=errors)
    return Rule(root)
