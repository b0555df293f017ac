"""Auto-advance rules of a lead pipeline's stages
(``/api/v1/pipelines/{id}/stages/{stage_id}/advance-rules``) and evaluating a lead now
(``POST /api/v1/leads/{id}/auto-advance``). Reading rules needs any role, changing them
manager or higher; an evaluation that moves needs agent (their own leads) or higher, a
``dry_run`` any role."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from leadbase.auth.deps import IfMatch, ManagerScope, RequestScope, Scope, workspace_scope
from leadbase.kit.http import etag, json_response
from leadbase.kit.idempotency import idempotent
from leadbase.pipelines.advance import evaluate, service
from leadbase.pipelines.advance.schemas import (
    AdvanceRuleCreate,
    AdvanceRulePage,
    AdvanceRuleRead,
    AdvanceRuleUpdate,
    AutoAdvanceRead,
)

router = APIRouter(prefix="/pipelines", tags=["pipelines"])
leads_router = APIRouter(prefix="/leads", tags=["leads"])
RULES = "/{pipeline_id}/stages/{stage_id}/advance-rules"
# The role check of a move is the service's (a dry run is a read).
ReadPost = Annotated[RequestScope, workspace_scope(write=False)]
_412: dict[int | str, dict[str, Any]] = {412: {"description": "If-Match names an older "
                                                              "version"}}


def _read(row: dict[str, Any], status: int = 200,
          headers: dict[str, str] | None = None) -> Response:
    return json_response(AdvanceRuleRead.model_validate(row), status,
                         headers={"ETag": etag(row["version"]), **(headers or {})})


@router.get(RULES, response_model=AdvanceRulePage)
async def list_advance_rules(pipeline_id: uuid.UUID, stage_id: uuid.UUID,
                             scope: Scope) -> Response:
    """The stage's rules in the order they are tried (at most 20: one page)."""
    rows = await service.list_rules(scope.session, ctx=scope.ctx, pipeline_id=pipeline_id,
                                    stage_id=stage_id)
    return json_response(AdvanceRulePage(
        data=[AdvanceRuleRead.model_validate(r) for r in rows], total=len(rows), page=1,
        per_page=max(len(rows), 1), next_cursor=None))


@router.post(RULES, status_code=201, response_model=AdvanceRuleRead, responses={
    409: {"description": "TOO_MANY_RULES"},
    422: {"description": "INVALID_RULE (errors name condition.... paths), "
                         "INVALID_TARGET_STAGE"}})
async def create_advance_rule(request: Request, pipeline_id: uuid.UUID, stage_id: uuid.UUID,
                              body: AdvanceRuleCreate, scope: ManagerScope) -> Response:
    """Add a rule: a lead in this stage that meets ``condition`` moves to
    ``target_stage`` (id or code of another stage of the pipeline). Accepts
    ``Idempotency-Key``."""

    async def work() -> Response:
        row = await service.create_rule(scope.session, ctx=scope.ctx, pipeline_id=pipeline_id,
                                        stage_id=stage_id, body=body)
        return _read(row, 201, {"Location": f"/api/v1/pipelines/{pipeline_id}/stages/"
                                            f"{stage_id}/advance-rules/{row['id']}"})

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


@router.get(RULES + "/{rule_id}", response_model=AdvanceRuleRead)
async def get_advance_rule(pipeline_id: uuid.UUID, stage_id: uuid.UUID, rule_id: uuid.UUID,
                           scope: Scope) -> Response:
    return _read(await service.get_rule(scope.session, ctx=scope.ctx,
                                        pipeline_id=pipeline_id, stage_id=stage_id,
                                        rule_id=rule_id))


@router.patch(RULES + "/{rule_id}", response_model=AdvanceRuleRead, responses=_412)
async def update_advance_rule(pipeline_id: uuid.UUID, stage_id: uuid.UUID,
                              rule_id: uuid.UUID, body: AdvanceRuleUpdate,
                              scope: ManagerScope, if_match: IfMatch) -> Response:
    """Change a rule's name, condition, target, place (``position``) or ``enabled``.
    Optional ``If-Match``."""
    return _read(await service.update_rule(scope.session, ctx=scope.ctx,
                                           pipeline_id=pipeline_id, stage_id=stage_id,
                                           rule_id=rule_id, body=body,
                                           expected_version=if_match))


@router.delete(RULES + "/{rule_id}", status_code=204, responses=_412)
async def delete_advance_rule(pipeline_id: uuid.UUID, stage_id: uuid.UUID,
                              rule_id: uuid.UUID, scope: ManagerScope,
                              if_match: IfMatch) -> Response:
    await service.delete_rule(scope.session, ctx=scope.ctx, pipeline_id=pipeline_id,
                              stage_id=stage_id, rule_id=rule_id, expected_version=if_match)
    return Response(status_code=204)


@leads_router.post("/{lead_id}/auto-advance", response_model=AutoAdvanceRead, responses={
    403: {"description": "ROLE_REQUIRED (a viewer without dry_run)"}})
async def auto_advance(request: Request, lead_id: uuid.UUID, scope: ReadPost,
                       dry_run: Annotated[bool, Query(
                           description="Answer which rule would fire (and why each other "
                                       "would not), writing nothing")] = False) -> Response:
    """Evaluate the auto-advance rules of the lead's stage now, in order: the first that
    matches moves the lead (one move at most), as a stage change with the reason
    ``auto-advance: <rule>``. Accepts ``Idempotency-Key``."""

    async def work() -> Response:
        result = await evaluate.auto_advance(scope.session, ctx=scope.ctx, lead_id=lead_id,
                                             dry_run=dry_run)
        return json_response(AutoAdvanceRead.model_validate(result),
                             headers={"ETag": etag(result["lead"]["version"])})

    if dry_run:
        return await work()
    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)
