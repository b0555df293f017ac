"""Exports: ``GET /api/v1/leads/export`` (streamed) and background export jobs
(``/api/v1/exports``)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import FileResponse, Response, StreamingResponse

from leadbase.auth.deps import RequestScope as _RequestScope
from leadbase.auth.deps import Scope, workspace_scope
from leadbase.exports import service
from leadbase.exports.download import download
from leadbase.exports.formats import MEDIA_TYPES, Format, HeaderStyle
from leadbase.exports.schemas import ExportCreate, ExportPage, ExportRead, export_read
from leadbase.kit.http import json_response
from leadbase.kit.idempotency import idempotent
from leadbase.kit.pagination import PageParams, page_body, page_params
from leadbase.leads.filters import LeadFilter

leads_router = APIRouter(prefix="/leads", tags=["exports"])
router = APIRouter(prefix="/exports", tags=["exports"])
# Exporting reads: viewers may export, and may queue a background export.
ReadScope = Annotated[_RequestScope, workspace_scope(write=False)]


@leads_router.get("/export", response_class=StreamingResponse,
                  responses={200: {"content": {MEDIA_TYPES["csv"]: {},
                                               MEDIA_TYPES["xlsx"]: {}}}})
async def export_leads(
    request: Request, scope: Scope, f: Annotated[LeadFilter, Query()],
    format: Annotated[Format, Query(description="csv (streamed) or xlsx")] = "csv",
    headers: Annotated[HeaderStyle, Query(description="custom-field columns headed by "
                                          "their labels or by fields.<code>")] = "labels",
) -> Response:
    """Download the leads matching the filters of ``GET /api/v1/leads`` (the same query
    parameters). CSV is streamed as it is read (UTF-8 with BOM); XLSX is built, then sent
    (for very large sets prefer ``POST /api/v1/exports``). Agents export their own leads."""
    plan = await service.prepare(scope.session, ctx=scope.ctx, f=f, headers=headers)
    await service.record_download(scope.session, ctx=scope.ctx, fmt=format,
                                  filters=[k for k in request.query_params
                                           if k not in ("format", "headers")])
    return await download(request, ctx=scope.ctx, plan=plan, fmt=format)


@router.post("", status_code=202, response_model=ExportRead)
async def create_export(request: Request, body: ExportCreate, scope: ReadScope) -> Response:
    """Queue a background export of the leads matching ``filters`` (the names and values
    of the list endpoint's query parameters). Poll ``GET /api/v1/exports/{id}``; when
    ``status`` is ``completed``, fetch ``download_url``. Accepts ``Idempotency-Key``."""

    async def work() -> Response:
        job = await service.create_job(scope.session, ctx=scope.ctx, fmt=body.format,
                                       headers=body.headers, params=body.filters)
        return json_response(export_read(job), 202,
                             headers={"Location": f"/api/v1/exports/{job['id']}"})

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


@router.get("", response_model=ExportPage)
async def list_exports(scope: Scope,
                       params: Annotated[PageParams, Depends(page_params)]) -> Response:
    """Export jobs, newest first (agents and viewers: their own)."""
    rows, total = await service.list_jobs(scope.session, ctx=scope.ctx, offset=params.offset,
                                          limit=params.per_page)
    return json_response(page_body([export_read(r).model_dump(mode="json") for r in rows],
                                   total=total, params=params, next_cursor=None))


@router.get("/{export_id}", response_model=ExportRead)
async def get_export(export_id: uuid.UUID, scope: Scope) -> Response:
    """Status and progress (``processed_rows`` of ``total_rows``, saved every 2 s)."""
    job = await service.get_job(scope.session, ctx=scope.ctx, job_id=export_id)
    return json_response(export_read(job))


@router.post("/{export_id}/cancel", response_model=ExportRead,
             responses={409: {"description": "Already finished (EXPORT_NOT_CANCELLABLE)"}})
async def cancel_export(export_id: uuid.UUID, scope: ReadScope) -> Response:
    """Cancel a queued or running export; its partial file is removed."""
    job = await service.cancel_job(scope.session, ctx=scope.ctx, job_id=export_id)
    return json_response(export_read(job))


@router.get("/{export_id}/download", response_class=FileResponse)
async def download_export(request: Request, export_id: uuid.UUID, scope: Scope) -> Response:
    """The finished file (409 ``EXPORT_NOT_READY`` before that)."""
    path, job = await service.download_path(
        scope.session, ctx=scope.ctx, job_id=export_id,
        data_dir=request.app.state.settings.resolved_data_dir())
    return FileResponse(path, media_type=MEDIA_TYPES[job["format"]],
                        filename=job["file_name"], headers={"Cache-Control": "no-store"})
