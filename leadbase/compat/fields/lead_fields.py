"""``/lead_fields``: the document's endpoints, over the fields service."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.responses import Response

from leadbase.auth.deps import AdminScope, Scope
from leadbase.compat.fields import views
from leadbase.compat.fields.errors import FIELD_NAMES, canonical, missing, names
from leadbase.compat.fields.paging import Id, Paging
from leadbase.compat.fields.refs import Refs
from leadbase.compat.fields.schemas import (
    BIGINT_MAX,
    DeleteOut,
    LeadFieldCreate,
    LeadFieldDetailed,
    LeadFieldReplace,
    TemplateOut,
)
from leadbase.fields import service
from leadbase.fields.schemas import FieldCreate, FieldUpdate
from leadbase.fields.templates import TEMPLATES
from leadbase.kit.errors import ValidationFailed

router = APIRouter(tags=["lead_fields"], dependencies=[names(FIELD_NAMES)])

# Profile attribute → canonical attribute (the references are translated apart).
_PLAIN = {"name": "name", "code": "code", "field_type_code": "type",
          "field_subtype_code": "subtype", "required": "required", "is_primary": "is_primary",
          "is_visible": "is_visible", "default_value": "default_value", "order": "position",
          "input_mask": "input_mask", "calculation_expression": "calculation_expression",
          "field_template_code": "template_code"}


async def _values(refs: Refs, body: LeadFieldCreate | LeadFieldReplace) -> dict[str, Any]:
    """The canonical attributes of a body (``null`` and absent alike: not given)."""
    sent = {k: v for k, v in body.model_dump().items() if v is not None}
    values = {_PLAIN[k]: v for k, v in sent.items() if k in _PLAIN}
    values["list_id"] = (await refs.campaign(body.campaign_id, "campaign_id"))["id"]
    values["section_id"] = (await refs.section(body.lead_field_section_id,
                                               "lead_field_section_id"))["id"]
    if body.nomenclator_id is not None:
        values["code_list_id"] = (await refs.nomenclator(body.nomenclator_id,
                                                         "nomenclator_id"))["id"]
    if body.related_campaign_id is not None:
        values["related_list_id"] = (await refs.campaign(body.related_campaign_id,
                                                         "related_campaign_id"))["id"]
    return values


@router.get("/lead_fields", response_model=list[LeadFieldDetailed])
async def list_lead_fields(
    scope: Scope, paging: Paging, only_active: bool = True,
    campaign_id: Annotated[int | None, Query(ge=1, le=BIGINT_MAX)] = None,
    detailed: bool = False,
) -> Response:
    """The configured fields, by campaign and order. ``only_active=false`` includes the
    deactivated ones; ``detailed=true`` adds ``field_template_code``, ``validation_rules``,
    ``created_at`` and ``updated_at`` to each field."""
    refs = Refs(scope)
    list_id = (await refs.campaign(campaign_id))["id"] if campaign_id is not None else None
    rows, _ = await service.list_fields(scope.session, ctx=scope.ctx, list_id=list_id,
                                        active=True if only_active else None,
                                        offset=paging.offset, limit=paging.per_page)
    # Fields of a deleted campaign are out of sight with it.
    live = [r for r in rows if await refs.campaign_number(r["list_id"]) is not None]
    return views.respond([await views.lead_field(refs, r, detailed=detailed) for r in live])


@router.get("/lead_fields/templates", response_model=list[TemplateOut])
async def list_templates(scope: Scope) -> Response:
    """The catalog of field templates (``STANDARD_FIELD_TEMPLATES``): code, name, type and
    the validation rules a field created from it gets."""
    return views.respond([views.template(t) for t in TEMPLATES])


@router.get("/lead_fields/{id}", response_model=LeadFieldDetailed)
async def get_lead_field(id: Id, scope: Scope) -> Response:
    """One field, in detail (with its validation rules)."""
    refs = Refs(scope)
    return views.respond(await views.lead_field(refs, await refs.lead_field(id), detailed=True))


@router.post("/lead_fields", response_model=LeadFieldDetailed)
async def create_lead_field(body: LeadFieldCreate, scope: AdminScope) -> Response:
    """Option A: from a template (``field_template_code``; ``name`` overrides the
    template's). Option B: by hand (``name`` and ``field_type_code``; ``input_mask``,
    ``nomenclator_id`` with ``field_subtype_code``, ``related_campaign_id`` for LEAD,
    ``calculation_expression`` for CALCULATED)."""
    refs = Refs(scope)
    values = await _values(refs, body)
    if "template_code" not in values:
        if "name" not in values and "code_list_id" in values:
            values["name"] = (await refs.nomenclator(body.nomenclator_id or 0))["name"]
        lacking = [k for k in ("name", "field_type_code") if _PLAIN[k] not in values]
        if lacking:
            raise missing(*lacking, body=body.model_dump(exclude_unset=True))
    created = await service.create_field(scope.session, ctx=scope.ctx,
                                         body=canonical(FieldCreate, FIELD_NAMES, values))
    return views.respond(await views.lead_field(refs, created, detailed=True))


@router.put("/lead_fields/active/{id}", response_model=LeadFieldDetailed)
async def restore_lead_field(id: Id, scope: AdminScope) -> Response:
    """Restore a deactivated field: it is active (visible and in use) again."""
    refs = Refs(scope)
    field = await refs.lead_field(id)
    restored = await service.restore_field(scope.session, ctx=scope.ctx, field_id=field["id"])
    return views.respond(await views.lead_field(refs, restored, detailed=True))


@router.put("/lead_fields/{id}", response_model=LeadFieldDetailed)
async def replace_lead_field(id: Id, body: LeadFieldReplace, scope: AdminScope) -> Response:
    """Replace a field's configuration: the mandatory attributes are required, the
    optional ones not sent return to their defaults. A field stays in its campaign."""
    refs = Refs(scope)
    field = await refs.lead_field(id)
    values = await _values(refs, body)
    if values.pop("list_id") != field["list_id"]:
        current = await refs.campaign_number(field["list_id"])
        raise ValidationFailed(
            f"campaign_id: a lead field cannot move to another campaign (this one belongs "
            f"to campaign {current}); create it in the other campaign and delete this one",
            code="FIELD_MOVE_UNSUPPORTED")
    updated = await service.update_field(scope.session, ctx=scope.ctx, field_id=field["id"],
                                         body=canonical(FieldUpdate, FIELD_NAMES, values),
                                         expected_version=None, replace=True)
    return views.respond(await views.lead_field(refs, updated, detailed=True))


@router.delete("/lead_fields/{id}", response_model=DeleteOut)
async def delete_lead_field(id: Id, scope: AdminScope) -> Response:
    """Erase the field and its validation rules (``"result": "deleted"``); once its
    campaign has leads, deactivate it instead (``active=false``, ``"result":
    "deactivated"``), keeping the values stored."""
    refs = Refs(scope)
    field = await refs.lead_field(id)
    outcome = await service.delete_field(scope.session, ctx=scope.ctx, field_id=field["id"],
                                         expected_version=None)
    return views.respond(DeleteOut(id=id, result=outcome))
