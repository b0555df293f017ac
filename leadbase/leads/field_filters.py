"""Filtering and sorting leads on custom fields: ``fields.<code>=a,b``,
``fields.<code>_gte=``/``_lte=`` and ``sort=fields.<code>``.

Values are coerced by the field's type to the stored canonical form, so
``fields.Edad=42`` finds ``42`` and ``fields.Alta_gte=2026-01-01`` compares ISO dates.
Equality uses JSONB containment (the GIN index on ``fields``); ranges compare dates as
ISO text and numbers as numeric."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.fields import repository as fields_repository
from leadbase.fields.coerce import FieldValueError
from leadbase.fields.engine import FieldSpec, coerce_value
from leadbase.fields.indexes import NUMERIC_TYPES
from leadbase.kit.errors import ValidationFailed
from leadbase.leads import repository

RANGE_TYPES = ("INT", "DECIMAL", "DATE", "DATETIME", "CALCULATED")


def _invalid(field: str, message: str, code: str = "INVALID_FILTER") -> ValidationFailed:
    return ValidationFailed(f"{field}: {message}", code=code,
                            errors=[{"field": field, "message": message}])


async def resolve_types(session: AsyncSession, *, tenant_id: uuid.UUID,
                        list_ids: list[uuid.UUID] | None,
                        codes: list[str]) -> dict[str, dict[str, Any]]:
    """Field definitions by lower-cased code; one type per code across the lists asked."""
    if not codes:
        return {}
    rows = await fields_repository.list_fields(session, tenant_id=tenant_id, codes=codes)
    if list_ids:
        rows = [r for r in rows if r["list_id"] in list_ids]
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        key = row["code"].lower()
        if key in found and (found[key]["type"], found[key]["subtype"]) != (row["type"],
                                                                              row["subtype"]):
            raise _invalid(f"fields.{row['code']}", "has different types in different lists; "
                           "filter by list_id", "AMBIGUOUS_FIELD")
        found.setdefault(key, row)
    for code in codes:
        if code.lower() not in found:
            raise _invalid(f"fields.{code}", "is not a field of this workspace",
                           "UNKNOWN_FIELD")
    return found


def _canonical(row: dict[str, Any], raw: str, region: str) -> Any:
    kind = row["type"]
    if kind == "CALCULATED":
        try:
            return Decimal(raw)
        except ArithmeticError:
            return raw
    spec = FieldSpec(code=row["code"], name=row["name"],
                     type=kind if kind not in ("SELECTOR", "CHECKBOX") or row["code_list_id"]
                     is None else "STRING", subtype=None)
    try:
        return coerce_value(spec, raw, region=region, timezone=None)
    except FieldValueError as exc:
        raise _invalid(f"fields.{row['code']}", exc.message) from exc


def conditions(filters: list[tuple[str, str, str]], types: dict[str, dict[str, Any]],
               region: str) -> list[ColumnElement[bool]]:
    out = []
    for name, op, raw in filters:
        row = types[name.lower()]
        code, kind = row["code"], row["type"]
        multiple = row["subtype"] in ("SELECTOR_MULTIPLE", "CHECKBOX_MULTIPLE")
        if op == "eq":
            values = [_canonical(row, v.strip(), region) for v in raw.split(",") if v.strip()]
            if kind == "CALCULATED":
                values = [float(v) if isinstance(v, Decimal) else v for v in values]
            out.append(repository.field_equals_any(
                code, [[v] for v in values] if multiple else values))
            continue
        if kind not in RANGE_TYPES:
            raise _invalid(f"fields.{code}_{op}", f"ranges need a number or date field, "
                           f"not {kind}")
        value = _canonical(row, raw, region)
        numeric = kind in NUMERIC_TYPES
        out.append(repository.field_compare(code, op, Decimal(str(value)) if numeric else value,
                                            numeric))
    return out


def sort_column(row: dict[str, Any]) -> tuple[ColumnElement[Any], bool]:
    """The sort expression (nullable): the one an ``indexed`` field's index holds."""
    return repository.field_value_expr(row["code"], row["type"] in NUMERIC_TYPES), True


def sort_value(row: dict[str, Any], lead: dict[str, Any]) -> Any:
    """The value a lead has for a custom-field sort (what the cursor must carry)."""
    value = lead["fields"].get(row["code"])
    if value is None:
        return None
    if row["type"] in NUMERIC_TYPES:
        try:
            return Decimal(str(value))
        except ArithmeticError:
            return None
    return value if isinstance(value, str) else json.dumps(value)
