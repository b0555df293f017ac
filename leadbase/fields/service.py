"""Rules for field definitions: shape, references, formulas, delete (validation rules:
:mod:`leadbase.fields.validation_rules`).

Every change bumps the list's ``schema_version`` (so compiled schemas are rebuilt) and
leaves an audit entry."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.audit import service as audit
from leadbase.auth.context import Context
from leadbase.codelists import repository as codelists_repository
from leadbase.events import outbox
from leadbase.fields import definitions, indexes, repository
from leadbase.fields.engine import FieldSpec, RuleSpec
from leadbase.fields.schemas import FieldCreate, FieldUpdate
from leadbase.fields.templates import BY_CODE
from leadbase.kit.checks import check_version, found, require_changes
from leadbase.kit.errors import Conflict, NotFound, ValidationFailed
from leadbase.lists import repository as lists_repository
from leadbase.lists.sections import repository as sections_repository
from leadbase.tenants import service as tenants_service

ATTRIBUTES = ("name", "code", "type", "subtype", "section_id", "required", "default_value",
              "is_primary", "is_visible", "position", "input_mask", "code_list_id",
              "related_list_id", "calculation_expression", "indexed")


def _field_not_found() -> NotFound:
    return NotFound("Field not found.", code="FIELD_NOT_FOUND")


async def _with_rules(session: AsyncSession, ctx: Context,
                      fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rules = await repository.rules_for(session, tenant_id=ctx.tenant_id,
                                       field_ids=[f["id"] for f in fields])
    by_field: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for rule in rules:
        by_field.setdefault(rule["field_id"], []).append(rule)
    return [{**f, "rules": by_field.get(f["id"], [])} for f in fields]


async def list_fields(session: AsyncSession, *, ctx: Context, list_id: uuid.UUID | None,
                      active: bool | None, offset: int = 0,
                      limit: int | None = None) -> tuple[list[dict[str, Any]], int]:
    rows, total = await repository.page_fields(session, tenant_id=ctx.tenant_id,
                                               list_id=list_id, active=active, offset=offset,
                                               limit=limit)
    return await _with_rules(session, ctx, rows), total


async def get_field(session: AsyncSession, *, ctx: Context, field_id: uuid.UUID,
                    for_update: bool = False) -> dict[str, Any]:
    row = found(await repository.get_field(session, tenant_id=ctx.tenant_id, field_id=field_id,
                                           for_update=for_update), _field_not_found)
    return (await _with_rules(session, ctx, [row]))[0]


async def get_field_by_number(session: AsyncSession, *, ctx: Context,
                              number: int) -> dict[str, Any]:
    row = found(await repository.get_field_by_number(session, tenant_id=ctx.tenant_id,
                                                     number=number), _field_not_found)
    return (await _with_rules(session, ctx, [row]))[0]


async def _check_references(session: AsyncSession, ctx: Context, values: dict[str, Any]) -> None:
    tenant = ctx.tenant_id
    # Sections are the workspace's: a field of any list may sit in any of them.
    if values.get("section_id") is not None and await sections_repository.get(
            session, tenant_id=tenant, section_id=values["section_id"]) is None:
        raise definitions.invalid("section_id", "no such section", "SECTION_NOT_FOUND")
    if values.get("code_list_id") is not None and await codelists_repository.get(
            session, tenant_id=tenant, code_list_id=values["code_list_id"]) is None:
        raise definitions.invalid("code_list_id", "no such code list", "CODE_LIST_NOT_FOUND")
    if values.get("related_list_id") is not None and await repository.list_version(
            session, tenant_id=tenant, list_id=values["related_list_id"]) is None:
        raise definitions.invalid("related_list_id", "no such list", "LIST_NOT_FOUND")


async def _check_formulas(session: AsyncSession, ctx: Context, values: dict[str, Any],
                          field_id: uuid.UUID | None) -> None:
    """Every calculated field of the list still compiles, references known codes and
    has no cycle, with this definition in place."""
    from leadbase.fields.formulas import FormulaError, ambiguous_codes, check_definitions

    others = [f for f in await repository.list_fields(
        session, tenant_id=ctx.tenant_id, list_id=values["list_id"], active=True)
        if f["id"] != field_id]
    fields = [*others, values] if values.get("active", True) else others
    codes = [f["code"] for f in fields]
    clash = ambiguous_codes(codes)
    if clash:
        raise definitions.invalid("code", f"codes differ only by case: {', '.join(clash)}",
                                  "FIELD_CODE_TAKEN")
    expressions = {f["code"]: f["calculation_expression"] for f in fields
                   if f["type"] == "CALCULATED"}
    if not expressions:
        return
    try:
        check_definitions(expressions, codes)
    except FormulaError as exc:
        raise ValidationFailed(str(exc), code=exc.code, errors=[
            {"field": "calculation_expression", "message": str(exc)}]) from exc


async def _validate_definition(session: AsyncSession, ctx: Context, values: dict[str, Any],
                               rules: list[RuleSpec], field_id: uuid.UUID | None) -> None:
    definitions.check_shape(values)
    if values.get("indexed"):
        indexes.check_indexable(values["type"], values.get("subtype"))
    await _check_references(session, ctx, values)
    if await repository.code_taken(session, tenant_id=ctx.tenant_id, list_id=values["list_id"],
                                   code=values["code"], exclude_id=field_id):
        raise Conflict(f"The list already has a field with the code '{values['code']}'.",
                       code="FIELD_CODE_TAKEN",
                       errors=[{"field": "code", "message": "already used in this list"}])
    await _check_formulas(session, ctx, values, field_id)
    ws = await tenants_service.defaults(session, tenant_id=ctx.tenant_id)
    items: frozenset[str] = frozenset()
    if values.get("code_list_id") and values.get("default_value") is not None:
        rows = await repository.items_for(session, tenant_id=ctx.tenant_id, active=True,
                                          code_list_ids=[values["code_list_id"]])
        items = frozenset(r["code"] for r in rows)
    spec = FieldSpec(code=values["code"], name=values["name"], type=values["type"],
                     subtype=values.get("subtype"), default_value=values.get("default_value"),
                     input_mask=values.get("input_mask"), rules=tuple(rules), items=items)
    values["default_value"] = definitions.check_default(spec, ws.region)


async def bump(session: AsyncSession, ctx: Context, list_id: uuid.UUID) -> None:
    """The list's field schema changed: its ``schema_version`` moves on."""
    await lists_repository.bump_schema_versions(session, tenant_id=ctx.tenant_id,
                                                list_ids=[list_id])


async def _announce(session: AsyncSession, ctx: Context, action: str, field: dict[str, Any],
                    *, reindex: bool) -> None:
    """The outbox event of a field change. ``reindex``: the list's expression indexes must
    follow (a worker job builds or drops them, see leadbase.fields.indexes)."""
    await outbox.emit(session, tenant_id=ctx.tenant_id, type=action, entity_type="field",
                      entity_id=field["id"],
                      payload={"id": str(field["id"]), "list_id": str(field["list_id"]),
                               "code": field["code"], "reindex": reindex})


async def create_field(session: AsyncSession, *, ctx: Context,
                       body: FieldCreate) -> dict[str, Any]:
    sent = body.model_dump(exclude_unset=True)
    named = set(sent)
    template = None
    if body.template_code is not None:
        template = BY_CODE.get(body.template_code.upper())
        if template is None:
            raise definitions.invalid("template_code", "unknown template",
                                      "TEMPLATE_NOT_FOUND")
        sent.setdefault("name", template.name)
        sent.setdefault("type", template.field_type_code)
        if template.field_subtype_code:
            sent.setdefault("subtype", template.field_subtype_code)
        if template.input_mask:
            sent.setdefault("input_mask", template.input_mask)
    for key in ("name", "type"):
        if not sent.get(key):
            raise definitions.invalid(key, "is required (or give a template_code)",
                                      "FIELD_ATTRIBUTE_REQUIRED")
    list_id = body.list_id or (await tenants_service.defaults(
        session, tenant_id=ctx.tenant_id)).default_list_id
    values: dict[str, Any] = {
        "list_id": list_id, "name": sent["name"],
        "code": sent.get("code") or definitions.code_from_name(
            template.code if template and "name" not in named else sent["name"]),
        "type": sent["type"], "subtype": sent.get("subtype"),
        "section_id": sent.get("section_id"), "required": sent.get("required") or False,
        "default_value": sent.get("default_value"),
        "is_primary": sent.get("is_primary") or False,
        "is_visible": True if sent.get("is_visible") is None else sent["is_visible"],
        "position": sent.get("position") or 0, "input_mask": sent.get("input_mask"),
        "code_list_id": sent.get("code_list_id"),
        "related_list_id": sent.get("related_list_id"),
        "calculation_expression": sent.get("calculation_expression"),
        "template_code": template.code if template else None,
        "indexed": sent.get("indexed") or False,
    }
    if await repository.list_version(session, tenant_id=ctx.tenant_id, list_id=list_id) is None:
        raise definitions.invalid("list_id", "no such list", "LIST_NOT_FOUND")
    template_rules = [RuleSpec(r.type, r.value, r.message) for r in template.rules] \
        if template else []
    await _validate_definition(session, ctx, values, template_rules, None)
    field = await repository.FIELD_ROWS.insert(session, tenant_id=ctx.tenant_id, values=values)
    for position, rule in enumerate(template_rules):
        await repository.RULE_ROWS.insert(session, tenant_id=ctx.tenant_id, values={
            "field_id": field["id"], "type": rule.type, "value": rule.value,
            "message": rule.message, "position": position})
    await bump(session, ctx, list_id)
    await audit.record(session, ctx=ctx, action="field.created", entity_type="field",
                       entity_id=field["id"], changes={"fields": sorted(sent)})
    await _announce(session, ctx, "field.created", field, reindex=values["indexed"])
    return await get_field(session, ctx=ctx, field_id=field["id"])


async def update_field(session: AsyncSession, *, ctx: Context, field_id: uuid.UUID,
                       body: FieldUpdate, expected_version: int | None,
                       replace: bool = False) -> dict[str, Any]:
    """PATCH semantics; ``replace=True`` (PUT) also resets the attributes not sent (not
    ``indexed``, an operational setting the profiles' documents do not know)."""
    current = await get_field(session, ctx=ctx, field_id=field_id, for_update=True)
    check_version(current, expected_version, what="field")
    sent = body.model_dump(exclude_unset=True)
    require_changes(sent)
    values = {k: current[k] for k in ATTRIBUTES}
    if replace:
        for key in ("subtype", "section_id", "default_value", "input_mask", "code_list_id",
                    "related_list_id", "calculation_expression"):
            values[key] = None
        values.update(required=False, is_primary=False, is_visible=True)
    values.update({k: v for k, v in sent.items() if v is not None or k in (
        "subtype", "section_id", "default_value", "input_mask", "code_list_id",
        "related_list_id", "calculation_expression")})
    values["list_id"] = current["list_id"]
    if values["type"] != current["type"] and await repository.list_has_leads(
            session, tenant_id=ctx.tenant_id, list_id=current["list_id"]):
        raise Conflict("The type of a field cannot change once its list has leads.",
                       code="FIELD_TYPE_LOCKED")
    if values["code"] != current["code"] and await repository.list_has_leads(
            session, tenant_id=ctx.tenant_id, list_id=current["list_id"]):
        raise Conflict("The code of a field cannot change once its list has leads.",
                       code="FIELD_CODE_LOCKED")
    rules = [RuleSpec(r["type"], r["value"], r["message"]) for r in current["rules"]
             if r["active"]]
    await _validate_definition(session, ctx, {**values, "active": current["active"]}, rules,
                               field_id)
    changed = {k: v for k, v in values.items() if k in ATTRIBUTES and current[k] != v}
    if changed:
        await repository.FIELD_ROWS.update(session, tenant_id=ctx.tenant_id, row_id=field_id,
                                           values=changed)
        if current["active"] and "is_primary" in changed:
            await repository.set_primary_keys(session, tenant_id=ctx.tenant_id,
                                              list_id=current["list_id"], code=values["code"],
                                              primary=values["is_primary"])
        await bump(session, ctx, current["list_id"])
        await audit.record(session, ctx=ctx, action="field.updated", entity_type="field",
                           entity_id=field_id, changes={"fields": sorted(changed)})
        await _announce(session, ctx, "field.updated", {**current, **values}, reindex=(
            "indexed" in changed or (values["indexed"] and bool({"code", "type"} & set(changed)))))
    return await get_field(session, ctx=ctx, field_id=field_id)


async def _referenced_by_formula(session: AsyncSession, ctx: Context,
                                 field: dict[str, Any]) -> list[str]:
    from leadbase.fields.formulas import references

    users = []
    for other in await repository.list_fields(session, tenant_id=ctx.tenant_id,
                                              list_id=field["list_id"], active=True):
        if other["id"] != field["id"] and other["calculation_expression"] and \
                field["code"].upper() in references(other["calculation_expression"]):
            users.append(other["code"])
    return users


async def delete_field(session: AsyncSession, *, ctx: Context, field_id: uuid.UUID,
                       expected_version: int | None) -> str:
    """Hard delete (with its rules) while the list has no lead; afterwards a soft delete
    (``active=false``) that keeps the data. Returns ``"deleted"`` or ``"deactivated"``."""
    field = await get_field(session, ctx=ctx, field_id=field_id, for_update=True)
    check_version(field, expected_version, what="field")
    users = await _referenced_by_formula(session, ctx, field)
    if users:
        raise Conflict(f"Calculated fields use this field: {', '.join(users)}.",
                       code="FIELD_IN_USE")
    if await repository.list_has_leads(session, tenant_id=ctx.tenant_id,
                                       list_id=field["list_id"]):
        if field["active"]:
            await repository.FIELD_ROWS.update(session, tenant_id=ctx.tenant_id,
                                               row_id=field_id, values={"active": False})
            if field["is_primary"]:
                await repository.set_primary_keys(session, tenant_id=ctx.tenant_id,
                                                  list_id=field["list_id"],
                                                  code=field["code"], primary=False)
        outcome = "deactivated"
    else:
        await repository.FIELD_ROWS.delete(session, tenant_id=ctx.tenant_id, row_id=field_id)
        outcome = "deleted"
    await bump(session, ctx, field["list_id"])
    await audit.record(session, ctx=ctx, action=f"field.{outcome}", entity_type="field",
                       entity_id=field_id)
    await _announce(session, ctx, f"field.{outcome}", field, reindex=field["indexed"])
    return outcome


async def restore_field(session: AsyncSession, *, ctx: Context,
                        field_id: uuid.UUID) -> dict[str, Any]:
    field = await get_field(session, ctx=ctx, field_id=field_id, for_update=True)
    if not field["active"]:
        await _check_formulas(session, ctx, {**field, "active": True}, field_id)
        await repository.FIELD_ROWS.update(session, tenant_id=ctx.tenant_id, row_id=field_id,
                                           values={"active": True})
        if field["is_primary"]:
            await repository.set_primary_keys(session, tenant_id=ctx.tenant_id,
                                              list_id=field["list_id"], code=field["code"],
                                              primary=True)
        await bump(session, ctx, field["list_id"])
        await audit.record(session, ctx=ctx, action="field.restored", entity_type="field",
                           entity_id=field_id)
        await _announce(session, ctx, "field.restored", field, reindex=field["indexed"])
    return await get_field(session, ctx=ctx, field_id=field_id)
