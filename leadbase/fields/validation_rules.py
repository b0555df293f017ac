"""Rules for the validation rules of field definitions (``/validation-rules``).

A rule belongs to a field (not a calculated one); its value is checked against its type
when saved. Every change bumps the field's list's ``schema_version`` and leaves an audit
entry."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.audit import service as audit
from leadbase.auth.context import Context
from leadbase.fields import definitions, repository
from leadbase.fields.schemas import RuleCreate, RuleUpdate
from leadbase.fields.service import bump, get_field
from leadbase.kit.checks import check_version, found, require_changes
from leadbase.kit.errors import NotFound


def _rule_not_found() -> NotFound:
    return NotFound("Validation rule not found.", code="RULE_NOT_FOUND")


async def get_rule(session: AsyncSession, *, ctx: Context, rule_id: uuid.UUID,
                   for_update: bool = False) -> dict[str, Any]:
    return found(await repository.get_rule(session, tenant_id=ctx.tenant_id, rule_id=rule_id,
                                           for_update=for_update), _rule_not_found)


async def get_rule_by_number(session: AsyncSession, *, ctx: Context,
                             number: int) -> dict[str, Any]:
    """The same as ``get_rule``, by the rule's integer ``number`` (profiles' ids)."""
    return found(await repository.get_rule_by_number(session, tenant_id=ctx.tenant_id,
                                                     number=number), _rule_not_found)


async def list_rules(session: AsyncSession, *, ctx: Context, field_id: uuid.UUID | None,
                     offset: int = 0, limit: int | None = None
                     ) -> tuple[list[dict[str, Any]], int]:
    return await repository.page_rules(session, tenant_id=ctx.tenant_id, field_id=field_id,
                                       offset=offset, limit=limit)


async def create_rule(session: AsyncSession, *, ctx: Context,
                      body: RuleCreate) -> dict[str, Any]:
    field = await get_field(session, ctx=ctx, field_id=body.field_id)
    if field["type"] == "CALCULATED":
        raise definitions.invalid("field_id", "calculated fields take no rules", "INVALID_RULE")
    value = definitions.check_rule_value(body.type, body.value)
    rule = await repository.RULE_ROWS.insert(session, tenant_id=ctx.tenant_id, values={
        "field_id": field["id"], "type": body.type, "value": value, "message": body.message,
        "position": body.position, "active": body.active})
    await bump(session, ctx, field["list_id"])
    await audit.record(session, ctx=ctx, action="validation_rule.created",
                       entity_type="validation_rule", entity_id=rule["id"],
                       changes={"field_id": str(field["id"]), "type": body.type})
    return rule


async def update_rule(session: AsyncSession, *, ctx: Context, rule_id: uuid.UUID,
                      body: RuleUpdate, expected_version: int | None) -> dict[str, Any]:
    rule = await get_rule(session, ctx=ctx, rule_id=rule_id, for_update=True)
    check_version(rule, expected_version, what="rule")
    sent = body.model_dump(exclude_unset=True)
    require_changes(sent)
    kind = sent.get("type") or rule["type"]
    values = {k: v for k, v in sent.items() if v is not None and k != "value"}
    if "value" in sent or "type" in sent:
        values["value"] = definitions.check_rule_value(
            kind, sent["value"] if "value" in sent else rule["value"])
    updated = await repository.RULE_ROWS.update(session, tenant_id=ctx.tenant_id,
                                                row_id=rule_id, values=values)
    field = await get_field(session, ctx=ctx, field_id=rule["field_id"])
    await bump(session, ctx, field["list_id"])
    await audit.record(session, ctx=ctx, action="validation_rule.updated",
                       entity_type="validation_rule", entity_id=rule_id,
                       changes={"fields": sorted(values)})
    return updated


async def delete_rule(session: AsyncSession, *, ctx: Context, rule_id: uuid.UUID) -> None:
    rule = await get_rule(session, ctx=ctx, rule_id=rule_id, for_update=True)
    field = await get_field(session, ctx=ctx, field_id=rule["field_id"])
    await repository.RULE_ROWS.delete(session, tenant_id=ctx.tenant_id, row_id=rule_id)
    await bump(session, ctx, field["list_id"])
    await audit.record(session, ctx=ctx, action="validation_rule.deleted",
                       entity_type="validation_rule", entity_id=rule_id)
