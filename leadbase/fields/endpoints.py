"""Field schema: definitions, validation rules and templates (``/api/v1``)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.responses import Response

from leadbase.auth.deps import AdminScope, IfMatch, Scope
from leadbase.fields import service, validation_rules
from leadbase.fields.schemas import (
    FieldCreate,
    FieldPage,
    FieldRead,
    FieldUpdate,
    RuleCreate,
    RulePage,
    RuleRead,
    RuleUpdate,
    TemplateRead,
)
from leadbase.fields.templates import TEMPLATES, template_dict
from leadbase.kit.http import etag, json_response
from leadbase.kit.pagination import PageParams, page_params

router = APIRouter(tags=["fields"])
Paging = Annotated[PageParams, Depends(page_params)]


def _field(row: dict[str, Any], status: int = 200) -> Response:
    return json_response(FieldRead.model_validate(row), status,
                         headers={"ETag": etag(row["version"])})


@router.get("/fields", response_model=FieldPage)
async def list_fields(scope: Scope, params: Paging, list_id: uuid.UUID | None = None,
                      active: bool | None = None) -> Response:
    """Field definitions (with their rules), by list and position."""
    rows, total = await service.list_fields(scope.session, ctx=scope.ctx, list_id=list_id,
                                            active=active, offset=params.offset,
                                            limit=params.per_page)
    return json_response(FieldPage(data=[FieldRead.model_validate(r) for r in rows],
                                   total=total, page=params.page, per_page=params.per_page,
                                   next_cursor=None))


@router.post("/fields", status_code=201, response_model=FieldRead)
async def create_field(body: FieldCreate, scope: AdminScope) -> Response:
    """Define a field, from scratch or from a template (``template_code``). The ``code``
    is the key in ``lead.fields``; it is derived from the name when not given."""
    return _field(await service.create_field(scope.session, ctx=scope.ctx, body=body), 201)


@router.get("/fields/{field_id}", response_model=FieldRead)
async def get_field(field_id: uuid.UUID, scope: Scope) -> Response:
    return _field(await service.get_field(scope.session, ctx=scope.ctx, field_id=field_id))


@router.patch("/fields/{field_id}", response_model=FieldRead)
async def update_field(field_id: uuid.UUID, body: FieldUpdate, scope: AdminScope,
                       if_match: IfMatch) -> Response:
    return _field(await service.update_field(scope.session, ctx=scope.ctx, field_id=field_id,
                                             body=body, expected_version=if_match))


@router.delete("/fields/{field_id}")
async def delete_field(field_id: uuid.UUID, scope: AdminScope, if_match: IfMatch) -> Response:
    """Erase the field and its rules while its list has no lead; afterwards deactivate it
    (``active=false``), keeping the data (restore brings it back)."""
    outcome = await service.delete_field(scope.session, ctx=scope.ctx, field_id=field_id,
                                         expected_version=if_match)
    return json_response({"id": str(field_id), "result": outcome})


@router.post("/fields/{field_id}/restore", response_model=FieldRead)
async def restore_field(field_id: uuid.UUID, scope: AdminScope) -> Response:
    return _field(await service.restore_field(scope.session, ctx=scope.ctx, field_id=field_id))


@router.get("/field-templates", response_model=list[TemplateRead])
async def list_templates(scope: Scope) -> Response:
    """The template catalog: type, mask and rules for common fields (EMAIL, DNI_ARG…)."""
    return json_response([template_dict(t) for t in TEMPLATES])


@router.get("/validation-rules", response_model=RulePage)
async def list_rules(scope: Scope, params: Paging, field_id: uuid.UUID | None = None) -> Response:
    rows, total = await validation_rules.list_rules(
        scope.session, ctx=scope.ctx, field_id=field_id, offset=params.offset,
        limit=params.per_page)
    return json_response(RulePage(data=[RuleRead.model_validate(r) for r in rows], total=total,
                                  page=params.page, per_page=params.per_page, next_cursor=None))


@router.post("/validation-rules", status_code=201, response_model=RuleRead)
async def create_rule(body: RuleCreate, scope: AdminScope) -> Response:
    """Attach a rule to a field: REGEX, MIN/MAX_LENGTH, MIN/MAX_VALUE, MIN/MAX_DATE
    (``"today"`` allowed), ONE_OF or CHECKSUM (``DNI_ARG``, ``CBU_ARG``, ``CPF_BR``…)."""
    rule = await validation_rules.create_rule(scope.session, ctx=scope.ctx, body=body)
    return json_response(RuleRead.model_validate(rule), 201,
                         headers={"ETag": etag(rule["version"])})


@router.get("/validation-rules/{rule_id}", response_model=RuleRead)
async def get_rule(rule_id: uuid.UUID, scope: Scope) -> Response:
    rule = await validation_rules.get_rule(scope.session, ctx=scope.ctx, rule_id=rule_id)
    return json_response(RuleRead.model_validate(rule), headers={"ETag": etag(rule["version"])})


@router.patch("/validation-rules/{rule_id}", response_model=RuleRead)
async def update_rule(rule_id: uuid.UUID, body: RuleUpdate, scope: AdminScope,
                      if_match: IfMatch) -> Response:
    rule = await validation_rules.update_rule(scope.session, ctx=scope.ctx, rule_id=rule_id,
                                              body=body, expected_version=if_match)
    return json_response(RuleRead.model_validate(rule), headers={"ETag": etag(rule["version"])})


@router.delete("/validation-rules/{rule_id}", status_code=204)
async def delete_rule(rule_id: uuid.UUID, scope: AdminScope) -> Response:
    await validation_rules.delete_rule(scope.session, ctx=scope.ctx, rule_id=rule_id)
    return Response(status_code=204)
