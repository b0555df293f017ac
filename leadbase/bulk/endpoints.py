"""Bulk operations on leads: ``POST /api/v1/leads/bulk`` and ``GET /api/v1/leads/bulk/{id}``."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from leadbase.auth.deps import Scope
from leadbase.bulk import service
from leadbase.bulk.schemas import BulkPage, BulkRequest, BulkResult, bulk_read
from leadbase.kit.http import json_response
from leadbase.kit.idempotency import idempotent
from leadbase.kit.pagination import PageParams, page_body, page_params

router = APIRouter(prefix="/leads/bulk", tags=["leads"])


@router.post("", response_model=BulkResult,
             responses={202: {"description": "By filter: queued as a job", "model": BulkResult},
                        422: {"description": "More than 10,000 ids (BULK_TOO_MANY_IDS), no "
                                             "target, nothing to update"}})
async def bulk_leads(request: Request, body: BulkRequest, scope: Scope) -> Response:
    """Update, delete or restore many leads. With ``ids`` (at most 10,000) the operation
    runs now and answers 200 with ``matched``, ``updated``, ``unchanged`` and ``failed``
    (``[{"id", "code", "message"}]``: each lead is validated as a single update; another
    workspace's ids are ``LEAD_NOT_FOUND``). With ``filter`` (the list's filters by name)
    it runs as a job: 202, then poll ``GET /api/v1/leads/bulk/{id}`` (``background: true``
    does the same with ids: advisable beyond a thousand). Agents reach only
    their own leads. Accepts ``Idempotency-Key``."""

    async def work() -> Response:
        if body.ids is not None and not body.background:
            job = await service.run_ids(scope.session, ctx=scope.ctx, body=body)
            return json_response(bulk_read(job))
        job = await service.queue_job(scope.session, ctx=scope.ctx, body=body)
        return json_response(bulk_read(job), 202,
                             headers={"Location": f"/api/v1/leads/bulk/{job['id']}"})

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


@router.get("", response_model=BulkPage)
async def list_bulk(scope: Scope,
                    params: Annotated[PageParams, Depends(page_params)]) -> Response:
    """Bulk operations, newest first (agents: their own)."""
    rows, total = await service.list_jobs(scope.session, ctx=scope.ctx, offset=params.offset,
                                          limit=params.per_page)
    return json_response(page_body([bulk_read(r).model_dump(mode="json") for r in rows],
                                   total=total, params=params, next_cursor=None))


@router.get("/{bulk_id}", response_model=BulkResult)
async def get_bulk(bulk_id: uuid.UUID, scope: Scope) -> Response:
    """A bulk operation's status and counts (a filter job saves them after every batch)."""
    return json_response(bulk_read(await service.get_job(scope.session, ctx=scope.ctx,
                                                         job_id=bulk_id)))


@router.post("/{bulk_id}/cancel", response_model=BulkResult,
             responses={409: {"description": "Finished already (BULK_JOB_NOT_CANCELLABLE)"}})
async def cancel_bulk(bulk_id: uuid.UUID, scope: Scope) -> Response:
    """Stop a bulk job by filter before its next batch of 500 leads; what was done stays
    done and is counted."""
    return json_response(bulk_read(await service.cancel_job(scope.session, ctx=scope.ctx,
                                                            job_id=bulk_id)))
