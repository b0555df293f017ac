"""``/validation_rules``: a field's rules, in the style of ``/lead_fields``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.responses import Response

from leadbase.auth.deps import AdminScope, Scope
from leadbase.compat.fields import views
from leadbase.compat.fields.errors import RULE_NAMES, canonical, names
from leadbase.compat.fields.paging import Id, Paging
from leadbase.compat.fields.refs import Refs
from leadbase.compat.fields.schemas import (
    BIGINT_MAX,
    DeleteOut,
    RuleCreate,
    RuleOut,
    RuleReplace,
)
from leadbase.fields import schemas as canonical_schemas
from leadbase.fields import validation_rules as service
from leadbase.kit.errors import ValidationFailed

router = APIRouter(tags=["validation_rules"], dependencies=[names(RULE_NAMES)])

_PLAIN = {"rule_type_code": "type", "value": "value", "message": "message",
          "order": "position", "active": "active"}


def _values(body: RuleCreate | RuleReplace) -> dict[str, Any]:
    """Canonical attributes of the keys sent (``value`` may be sent as null)."""
    sent = body.model_dump(exclude_unset=True)
    return {_PLAIN[k]: v for k, v in sent.items()
            if k in _PLAIN and (v is not None or k == "value")}


@router.get("/validation_rules", response_model=list[RuleOut])
async def list_rules(scope: Scope, paging: Paging,
                     lead_field_id: Annotated[int | None, Query(ge=1, le=BIGINT_MAX)] = None
                     ) -> Response:
    """Validation rules, by field and order; ``lead_field_id`` keeps one field's."""
    refs = Refs(scope)
    field_id = (await refs.lead_field(lead_field_id))["id"] \
        if lead_field_id is not None else None
    rows, _ = await service.list_rules(scope.session, ctx=scope.ctx, field_id=field_id,
                                       offset=paging.offset, limit=paging.per_page)
    return views.respond([await views.rule(refs, r) for r in rows])


@router.post("/validation_rules", response_model=RuleOut)
async def create_rule(body: RuleCreate, scope: AdminScope) -> Response:
    """Attach a rule to a field: REGEX, MIN_LENGTH, MAX_LENGTH, MIN_VALUE, MAX_VALUE,
    MIN_DATE, MAX_DATE (``"today"`` allowed), ONE_OF (a list) or CHECKSUM (``DNI_ARG``,
    ``CUIT_ARG``, ``CBU_ARG``, ``CPF_BR``...)."""
    refs = Refs(scope)
    field = await refs.lead_field(body.lead_field_id, "lead_field_id")
    values = {**_values(body), "field_id": field["id"]}
    rule = await service.create_rule(scope.session, ctx=scope.ctx,
                                     body=canonical(canonical_schemas.RuleCreate, RULE_NAMES,
                                                    values))
    return views.respond(await views.rule(refs, rule, field["number"]))


@router.get("/validation_rules/{id}", response_model=RuleOut)
async def get_rule(id: Id, scope: Scope) -> Response:
    refs = Refs(scope)
    return views.respond(await views.rule(refs, await refs.rule(id)))


@router.put("/validation_rules/{id}", response_model=RuleOut)
async def replace_rule(id: Id, body: RuleReplace, scope: AdminScope) -> Response:
    """Change a rule: ``rule_type_code`` is mandatory; ``value``, ``message``, ``order`` and
    ``active`` keep their value when not sent. A rule stays on its field."""
    refs = Refs(scope)
    rule = await refs.rule(id)
    field_number = await refs.lead_field_number(rule["field_id"], required=True)
    if body.lead_field_id is not None and body.lead_field_id != field_number:
        raise ValidationFailed(
            f"lead_field_id: a validation rule cannot move to another field (this one belongs "
            f"to field {field_number}); create it on the other field and delete this one",
            code="RULE_MOVE_UNSUPPORTED")
    updated = await service.update_rule(
        scope.session, ctx=scope.ctx, rule_id=rule["id"],
        body=canonical(canonical_schemas.RuleUpdate, RULE_NAMES, _values(body)),
        expected_version=None)
    return views.respond(await views.rule(refs, updated, field_number))


@router.delete("/validation_rules/{id}", response_model=DeleteOut)
async def delete_rule(id: Id, scope: AdminScope) -> Response:
    refs = Refs(scope)
    rule = await refs.rule(id)
    await service.delete_rule(scope.session, ctx=scope.ctx, rule_id=rule["id"])
    return views.respond(DeleteOut(id=id, result="deleted"))
