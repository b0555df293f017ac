"""Pipelines and stages (``/api/v1/pipelines``), boards and metrics, and a lead's stage
(``/api/v1/leads/{id}/stage``, ``/stage-history``). Reading needs any role (an agent's
board shows their own leads); changing pipelines and stages needs manager or higher;
moving a lead needs agent (their own leads) or higher."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from leadbase.auth.deps import IfMatch, ManagerScope, Scope
from leadbase.kit.http import etag, json_response
from leadbase.kit.idempotency import idempotent
from leadbase.kit.pagination import PageParams, page_params
from leadbase.pipelines import board, moves, service
from leadbase.pipelines.schemas import (
    BoardLeads,
    BoardRead,
    MetricsRead,
    PipelineCreate,
    PipelinePage,
    PipelineRead,
    PipelineUpdate,
    StageChangePage,
    StageChangeRead,
    StageCreate,
    StageMove,
    StageMoveRead,
    StageReorder,
    StageUpdate,
)

router = APIRouter(prefix="/pipelines", tags=["pipelines"])
leads_router = APIRouter(prefix="/leads", tags=["leads"])

BoardPerPage = Annotated[int, Query(ge=1, le=50, description="Leads per stage (max 50)")]
_412: dict[int | str, dict[str, Any]] = {412: {"description": "If-Match names an older version"}}


def _read(row: dict[str, Any]) -> Response:
    return json_response(PipelineRead.model_validate(row), headers={"ETag": etag(row["version"])})


@router.get("", response_model=PipelinePage)
async def list_pipelines(scope: Scope, params: Annotated[PageParams, Depends(page_params)],
                         kind: Literal["lead", "deal"] | None = None) -> Response:
    """The workspace's pipelines with their stages in order (by kind, then position)."""
    rows, total = await service.list_pipelines(scope.session, ctx=scope.ctx, kind=kind,
                                               params=params)
    return json_response(PipelinePage(data=[PipelineRead.model_validate(r) for r in rows],
                                      total=total, page=params.page, per_page=params.per_page,
                                      next_cursor=None))


@router.post("", status_code=201, response_model=PipelineRead,
             responses={409: {"description": "STAGE_CODE_TAKEN"}})
async def create_pipeline(request: Request, body: PipelineCreate,
                          scope: ManagerScope) -> Response:
    """Create a pipeline with its stages (in order). ``is_default: true`` makes it its
    kind's default. Accepts ``Idempotency-Key``."""

    async def work() -> Response:
        row = await service.create_pipeline(scope.session, ctx=scope.ctx, body=body)
        return json_response(PipelineRead.model_validate(row), 201, headers={
            "ETag": etag(row["version"]), "Location": f"/api/v1/pipelines/{row['id']}"})

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


@router.get("/{pipeline_id}", response_model=PipelineRead)
async def get_pipeline(pipeline_id: uuid.UUID, scope: Scope) -> Response:
    return _read(await service.get_pipeline(scope.session, ctx=scope.ctx,
                                            pipeline_id=pipeline_id))


@router.patch("/{pipeline_id}", response_model=PipelineRead, responses=_412)
async def update_pipeline(pipeline_id: uuid.UUID, body: PipelineUpdate, scope: ManagerScope,
                          if_match: IfMatch) -> Response:
    """Rename, describe, reposition, or make the default of its kind."""
    return _read(await service.update_pipeline(scope.session, ctx=scope.ctx,
                                               pipeline_id=pipeline_id, body=body,
                                               expected_version=if_match))


@router.delete("/{pipeline_id}", status_code=204, responses={
    409: {"description": "DEFAULT_PIPELINE, PIPELINE_NOT_EMPTY"}, **_412})
async def delete_pipeline(pipeline_id: uuid.UUID, scope: ManagerScope,
                          if_match: IfMatch) -> Response:
    """Soft-delete a pipeline that is not a default and holds no lead."""
    await service.delete_pipeline(scope.session, ctx=scope.ctx, pipeline_id=pipeline_id,
                                  expected_version=if_match)
    return Response(status_code=204)


@router.post("/{pipeline_id}/stages", status_code=201, response_model=PipelineRead,
             responses={409: {"description": "STAGE_CODE_TAKEN, TOO_MANY_STAGES"}})
async def add_stage(request: Request, pipeline_id: uuid.UUID, body: StageCreate,
                    scope: ManagerScope) -> Response:
    """Add a stage (at ``position``, default last); answers the pipeline. Accepts
    ``Idempotency-Key``."""

    async def work() -> Response:
        row = await service.add_stage(scope.session, ctx=scope.ctx, pipeline_id=pipeline_id,
                                      body=body)
        return json_response(PipelineRead.model_validate(row), 201,
                             headers={"ETag": etag(row["version"])})

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


@router.patch("/{pipeline_id}/stages/{stage_id}", response_model=PipelineRead, responses={
    409: {"description": "STAGE_CODE_TAKEN, STAGE_CODE_IN_USE"}, **_412})
async def update_stage(pipeline_id: uuid.UUID, stage_id: uuid.UUID, body: StageUpdate,
                       scope: ManagerScope, if_match: IfMatch) -> Response:
    """Rename a stage or change its probability, category or rot days. The ``code`` stays
    unless sent, and changes only while no lead is or was in the stage. ``If-Match``
    names the pipeline's version (its ETag); every stage change bumps it."""
    return _read(await service.update_stage(scope.session, ctx=scope.ctx,
                                            pipeline_id=pipeline_id, stage_id=stage_id,
                                            body=body, expected_version=if_match))


@router.post("/{pipeline_id}/stages/reorder", response_model=PipelineRead, responses=_412)
async def reorder_stages(pipeline_id: uuid.UUID, body: StageReorder, scope: ManagerScope,
                         if_match: IfMatch) -> Response:
    """Set the order of every live stage (``If-Match``: the pipeline's version)."""
    return _read(await service.reorder_stages(scope.session, ctx=scope.ctx,
                                              pipeline_id=pipeline_id,
                                              stage_ids=body.stage_ids,
                                              expected_version=if_match))


@router.delete("/{pipeline_id}/stages/{stage_id}", response_model=PipelineRead, responses={
    409: {"description": "STAGE_NOT_EMPTY (name move_to), LAST_STAGE"}, **_412})
async def delete_stage(pipeline_id: uuid.UUID, stage_id: uuid.UUID, scope: ManagerScope,
                       if_match: IfMatch,
                       move_to: Annotated[str | None, Query(
                           max_length=64, description="Id or code of the stage that gets "
                                                      "its leads")] = None) -> Response:
    """Delete a stage; its leads move to ``move_to`` (each with its stage change)."""
    return _read(await service.delete_stage(scope.session, ctx=scope.ctx,
                                            pipeline_id=pipeline_id, stage_id=stage_id,
                                            move_to=move_to, expected_version=if_match))


@router.get("/{pipeline_id}/board", response_model=BoardRead)
async def get_board(pipeline_id: uuid.UUID, scope: Scope, per_page: BoardPerPage = 20
                    ) -> Response:
    """Per stage: how many leads it holds and the newest ``per_page`` of them, with a
    cursor for the next page (``/board/stages/{stage_id}``). Agents: their own leads."""
    body = await board.board(scope.session, ctx=scope.ctx, pipeline_id=pipeline_id,
                             per_page=per_page)
    return json_response(BoardRead.model_validate(body))


@router.get("/{pipeline_id}/board/stages/{stage_id}", response_model=BoardLeads)
async def get_board_stage(pipeline_id: uuid.UUID, stage_id: uuid.UUID, scope: Scope,
                          per_page: BoardPerPage = 20,
                          cursor: Annotated[str | None, Query(max_length=2048)] = None
                          ) -> Response:
    """The next page of a stage's leads on the board."""
    body = await board.stage_leads(scope.session, ctx=scope.ctx, pipeline_id=pipeline_id,
                                   stage_id=stage_id, cursor=cursor, per_page=per_page)
    return json_response(BoardLeads.model_validate(body))


@router.get("/{pipeline_id}/metrics", response_model=MetricsRead)
async def get_metrics(pipeline_id: uuid.UUID, scope: Scope,
                      from_: Annotated[date | None, Query(alias="from")] = None,
                      to: date | None = None) -> Response:
    """Per stage over the period (UTC days, both inclusive; default the last 30 days):
    leads in it now, entered, exited, average and median time in stage, and the share of
    the period's entries that later reached a stage further on. Not for agents."""
    body = await board.metrics(scope.session, ctx=scope.ctx, pipeline_id=pipeline_id,
                               start=from_, end=to)
    return json_response(MetricsRead.model_validate(body))


@leads_router.post("/{lead_id}/stage", response_model=StageMoveRead, responses={
    412: {"description": "If-Match names an older version of the lead"},
    422: {"description": "STAGE_NOT_FOUND"}})
async def move_lead(lead_id: uuid.UUID, body: StageMove, scope: Scope,
                    if_match: IfMatch) -> Response:
    """Move the lead to a stage (id, or code of its pipeline or of ``pipeline_id``), with
    its stage change, timeline entry and ``lead.stage_changed`` event. Moving it to the
    stage it is in changes nothing (``change: null``). Optional ``If-Match``."""
    lead, change = await moves.move_lead(scope.session, ctx=scope.ctx, lead_id=lead_id,
                                         body=body, expected_version=if_match)
    return json_response(StageMoveRead.model_validate({"lead": lead, "change": change}),
                         headers={"ETag": etag(lead["version"])})


@leads_router.get("/{lead_id}/stage-history", response_model=StageChangePage)
async def stage_history(lead_id: uuid.UUID, scope: Scope,
                        params: Annotated[PageParams, Depends(page_params)]) -> Response:
    """The lead's stage changes, newest first (cursor-paged; ``from_stage_id`` null: its
    entry into its first stage)."""
    rows, next_cursor = await moves.stage_history(scope.session, ctx=scope.ctx,
                                                  lead_id=lead_id, params=params)
    return json_response(StageChangePage(
        data=[StageChangeRead.model_validate(r) for r in rows], total=None,
        page=None, per_page=params.per_page, next_cursor=next_cursor))
