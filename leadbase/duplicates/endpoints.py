"""Duplicates and merges: ``/api/v1/leads/duplicates`` (the workspace's groups and
scans) and ``/api/v1/leads/{id}/duplicates|merge|unmerge``. Mounted before the leads
router, whose ``/leads/{id}`` would take ``/leads/duplicates``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from leadbase.auth.deps import ManagerScope, Scope
from leadbase.duplicates import merge, service
from leadbase.duplicates.schemas import (
    CandidateList,
    GroupPage,
    MergeIn,
    MergeRead,
    MergeResult,
    ScanPage,
    ScanRead,
    UnmergeIn,
)
from leadbase.kit.http import etag, json_response
from leadbase.kit.idempotency import idempotent
from leadbase.kit.pagination import PageParams, page_params
from leadbase.kit.schemas import from_row
from leadbase.leads.schemas import LeadRead

router = APIRouter(prefix="/leads", tags=["duplicates"])

_MERGED: dict[int | str, dict[str, Any]] = {301: {
    "description": "The lead was merged into another (LEAD_MERGED; Location and merged_into "
                   "name the survivor)"}}


def _merge_read(record: dict[str, Any]) -> MergeRead:
    return MergeRead.model_validate({**record, "moved": merge.moved_counts(record)})


@router.get("/duplicates", response_model=GroupPage)
async def list_groups(scope: ManagerScope,
                      params: Annotated[PageParams, Depends(page_params)]) -> Response:
    """The workspace's likely duplicate groups from its last completed scan
    (``POST /leads/duplicates/scan``), best first. Leads merged or deleted since drop out
    of their group. Managers and up."""
    scan_id, rows, total = await service.groups(scope.session, ctx=scope.ctx,
                                                offset=params.offset, limit=params.per_page)
    return json_response(GroupPage.model_validate({
        "data": rows, "total": total, "page": params.page, "per_page": params.per_page,
        "next_cursor": None, "scan_id": scan_id}))


@router.post("/duplicates/scan", status_code=202, response_model=ScanRead,
             responses={409: {"description": "DUPLICATE_SCAN_RUNNING"}})
async def scan(request: Request, scope: ManagerScope) -> Response:
    """Scan the workspace for duplicate groups, as a job: poll
    ``GET /leads/duplicates/scans/{id}`` (``processed`` of ``total`` steps). Accepts
    ``Idempotency-Key``."""

    async def work() -> Response:
        job = await service.queue_scan(scope.session, ctx=scope.ctx)
        return json_response(ScanRead.model_validate(job), 202, headers={
            "Location": f"/api/v1/leads/duplicates/scans/{job['id']}"})

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


@router.get("/duplicates/scans", response_model=ScanPage)
async def list_scans(scope: ManagerScope,
                     params: Annotated[PageParams, Depends(page_params)]) -> Response:
    rows, total = await service.list_scans(scope.session, ctx=scope.ctx, offset=params.offset,
                                           limit=params.per_page)
    return json_response(ScanPage(data=[ScanRead.model_validate(r) for r in rows], total=total,
                                  page=params.page, per_page=params.per_page, next_cursor=None))


@router.get("/duplicates/scans/{scan_id}", response_model=ScanRead)
async def get_scan(scan_id: uuid.UUID, scope: ManagerScope) -> Response:
    return json_response(ScanRead.model_validate(
        await service.get_scan(scope.session, ctx=scope.ctx, scan_id=scan_id)))


@router.post("/duplicates/scans/{scan_id}/cancel", response_model=ScanRead,
             responses={409: {"description": "DUPLICATE_SCAN_FINISHED"}})
async def cancel_scan(scan_id: uuid.UUID, scope: ManagerScope) -> Response:
    return json_response(ScanRead.model_validate(
        await service.cancel_scan(scope.session, ctx=scope.ctx, scan_id=scan_id)))


@router.get("/{lead_id}/duplicates", response_model=CandidateList, responses=_MERGED)
async def lead_duplicates(lead_id: uuid.UUID, scope: Scope,
                          limit: Annotated[int, Query(ge=1, le=50)] = 10) -> Response:
    """Leads that are likely the same person as this one, best first, with a score 0-100
    and the reasons (``same_email`` as one mailbox, ``same_phone``, ``similar_name``,
    ``similar_company``, ``same_domain_last_name``). Only leads the caller can read."""
    matches = await service.lead_candidates(scope.session, ctx=scope.ctx, lead_id=lead_id,
                                            limit=limit)
    return json_response(CandidateList.model_validate({
        "lead_id": lead_id,
        "data": [{"lead": m.lead, "score": m.score, "reasons": m.reasons} for m in matches]}))


@router.post("/{lead_id}/merge", response_model=MergeResult, responses={
    409: {"description": "LEAD_ALREADY_MERGED, LEAD_DELETED"},
    422: {"description": "MERGE_WITH_ITSELF, MERGE_FIELD_UNKNOWN, MERGE_KEEP_NOT_IN_MERGE"}})
async def merge_leads(request: Request, lead_id: uuid.UUID, body: MergeIn,
                      scope: Scope) -> Response:
    """Merge ``other_ids`` (up to 10) into this lead, which survives: their activities,
    tasks, stage history, opportunities and listing interests move to it; ``keep`` names
    per field whose value it takes (default: its own, else the first non-empty); tags,
    metadata and custom fields are united. The merged leads are hidden and answer 301 to
    the survivor; ``POST /leads/{id}/unmerge`` undoes it within 30 days. Managers and up,
    or an agent owning every lead. Accepts ``Idempotency-Key``."""

    async def work() -> Response:
        lead, record = await merge.merge(scope.session, ctx=scope.ctx, lead_id=lead_id,
                                         body=body)
        return json_response(MergeResult(lead=from_row(LeadRead, lead),
                                         merge=_merge_read(record)),
                             headers={"ETag": etag(lead["version"])})

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


@router.post("/{lead_id}/unmerge", response_model=LeadRead, responses={
    409: {"description": "MERGE_WINDOW_CLOSED, NOTHING_TO_UNMERGE, LEAD_MERGED"},
    422: {"description": "NOT_MERGED_INTO_LEAD"}})
async def unmerge_leads(request: Request, lead_id: uuid.UUID, scope: Scope,
                        body: UnmergeIn | None = None) -> Response:
    """Restore leads merged into this one within 30 days (``lead_ids``, default all): they
    come back with what moved from them; when a whole merge is undone the survivor gets
    back the values it had (those nobody changed since). Accepts ``Idempotency-Key``."""

    async def work() -> Response:
        lead, _ = await merge.unmerge(scope.session, ctx=scope.ctx, lead_id=lead_id,
                                      body=body or UnmergeIn())
        return json_response(from_row(LeadRead, lead), headers={"ETag": etag(lead["version"])})

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)
