"""Applying a list's field schema to the custom values of a lead write.

Compiled schemas are cached per (workspace, list, ``schema_version``): every schema
change bumps the version, so a stale schema is never used, and a write costs one
small query (the version) when the schema is cached."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.fields import repository
from leadbase.fields.engine import (
    CompiledSchema,
    FieldSpec,
    Outcome,
    RuleSpec,
    prepared,
    validate,
)
from leadbase.kit.errors import Conflict, ValidationFailed

_CACHE_SIZE = 1024
_cache: OrderedDict[tuple[uuid.UUID, uuid.UUID, int], CompiledSchema] = OrderedDict()


def compile_rows(fields: list[dict[str, Any]], rules: list[dict[str, Any]],
                 items: list[dict[str, Any]]) -> CompiledSchema:
    from leadbase.fields.formulas import check_definitions

    by_field: dict[uuid.UUID, list[RuleSpec]] = {}
    for rule in rules:
        by_field.setdefault(rule["field_id"], []).append(
            prepared(RuleSpec(type=rule["type"], value=rule["value"], message=rule["message"])))
    codes: dict[uuid.UUID, set[str]] = {}
    for item in items:
        codes.setdefault(item["code_list_id"], set()).add(item["code"])
    specs = {
        f["code"].lower(): FieldSpec(
            code=f["code"], name=f["name"], type=f["type"], subtype=f["subtype"],
            required=f["required"], default_value=f["default_value"],
            is_primary=f["is_primary"], input_mask=f["input_mask"],
            related_list_id=f["related_list_id"], expression=f["calculation_expression"],
            rules=tuple(by_field.get(f["id"], ())),
            items=frozenset(codes.get(f["code_list_id"], ())) if f["code_list_id"] else
            frozenset(),
        )
        for f in fields
    }
    expressions = {s.code: s.expression for s in specs.values() if s.type == "CALCULATED"}
    order = tuple(check_definitions(expressions, [s.code for s in specs.values()])
                  ) if expressions else ()
    return CompiledSchema(fields=specs, calculation_order=order)


async def schema_for(session: AsyncSession, *, tenant_id: uuid.UUID,
                     list_id: uuid.UUID) -> CompiledSchema:
    """The active schema of a list (422 LIST_NOT_FOUND when it is not in the workspace)."""
    version = await repository.list_version(session, tenant_id=tenant_id, list_id=list_id)
    if version is None:
        raise ValidationFailed("The list does not exist in this workspace.",
                               code="LIST_NOT_FOUND",
                               errors=[{"field": "list_id", "message": "unknown list"}])
    key = (tenant_id, list_id, version)
    hit = _cache.get(key)
    if hit is not None:
        _cache.move_to_end(key)
        return hit
    fields = await repository.list_fields(session, tenant_id=tenant_id, list_id=list_id,
                                          active=True)
    rules = await repository.rules_for(session, tenant_id=tenant_id,
                                       field_ids=[f["id"] for f in fields], active=True)
    items = await repository.items_for(
        session, tenant_id=tenant_id, active=True,
        code_list_ids=[f["code_list_id"] for f in fields if f["code_list_id"]])
    schema = compile_rows(fields, rules, items)
    _cache[key] = schema
    while len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return schema


def _formula_input(spec: FieldSpec | None, value: Any) -> Any:
    """Stored values as Excel wants them: dates as dates, decimals as numbers."""
    if spec is None or value is None:
        return value
    if spec.type == "DATE":
        return date.fromisoformat(value)
    if spec.type == "DATETIME":
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    if spec.type == "DECIMAL":
        return Decimal(value)
    return value


def primary_value_taken(code: str, existing_id: uuid.UUID | str) -> Conflict:
    """409 for a primary value another live lead of the list holds (the database refuses
    the write: the ``lead_field_keys`` triggers of migration 0009)."""
    return Conflict(f"Another lead of this list already has this {code}.",
                    code="DUPLICATE_FIELD_VALUE",
                    errors=[{"field": f"fields.{code}", "message": "already taken",
                             "rule": "primary"}],
                    extra={"existing_id": str(existing_id), "matched_on": f"fields.{code}"})


Evaluator = Callable[[tuple[str, ...], dict[str, Any]], dict[str, Any]]


def _evaluate(schema: CompiledSchema) -> Evaluator:
    from leadbase.fields.formulas import FormulaError, compile_formula

    def run(order: tuple[str, ...], values: dict[str, Any]) -> dict[str, Any]:
        inputs = {code: _formula_input(schema.get(code), value) for code, value in values.items()}
        results: dict[str, Any] = {}
        for code in order:
            spec = schema.get(code)
            if spec is None or spec.expression is None:
                continue
            try:
                value = compile_formula(spec.expression).evaluate({**inputs, **results})
            except FormulaError:
                value = None  # e.g. #DIV/0!: the value is undefined, the write stands
            results[spec.code] = value
        return results

    return run


def merge(schema: CompiledSchema, incoming: Mapping[str, Any], *, current: Mapping[str, Any],
          creating: bool, region: str, timezone: str | None) -> Outcome:
    """:func:`validate` with the list's formulas: the values, and what failed (related
    leads and primary values are the caller's to check)."""
    return validate(schema, incoming, current=current, creating=creating, region=region,
                    timezone=timezone, evaluate=_evaluate(schema))


async def apply(
    session: AsyncSession, *, tenant_id: uuid.UUID, list_id: uuid.UUID,
    incoming: Mapping[str, Any], current: Mapping[str, Any], creating: bool,
    region: str, timezone: str | None,
) -> dict[str, Any]:
    """The lead's complete ``fields`` after this write, or 422 listing every failure
    (``fields.<code>`` and the rule). Primary values are unique through ``lead_field_keys``
    when the lead row is written (see :func:`primary_value_taken`)."""
    schema = await schema_for(session, tenant_id=tenant_id, list_id=list_id)
    if not schema.fields and not incoming:
        return dict(current)
    outcome = merge(schema, incoming, current=current, creating=creating, region=region,
                    timezone=timezone)
    errors = outcome.errors
    for code, related_id, related_list in outcome.related:
        found = await repository.live_leads_in_list(
            session, tenant_id=tenant_id, list_id=related_list, ids=[uuid.UUID(related_id)])
        if not found:
            errors.append({"field": f"fields.{code}", "rule": "related_lead",
                           "message": "must be a lead of the related list"})
    if errors:
        raise ValidationFailed(
            f"Invalid custom field values: {', '.join(e['field'] for e in errors[:5])}.",
            code="INVALID_FIELD_VALUE", errors=errors)
    return outcome.values
