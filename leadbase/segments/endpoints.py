"""Segments (``/api/v1/segments``): named saved rules over leads (dynamic) or fixed member
lists (static). Reading, counting, listing members and previewing need any role (within
the reader's readable set: an agent sees their own leads); writing needs manager or
higher."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from leadbase.auth.deps import IfMatch, ManagerScope, RequestScope, Scope, workspace_scope
from leadbase.kit.http import etag, json_response
from leadbase.kit.idempotency import idempotent
from leadbase.kit.pagination import NamedSort, NameQuery, PageParams, page_params
from leadbase.kit.schemas import from_row
from leadbase.leads.schemas import LeadPage, LeadRead
from leadbase.segments import service
from leadbase.segments.schemas import (
    MembersChange,
    MembersChanged,
    SegmentCount,
    SegmentCreate,
    SegmentPage,
    SegmentPreview,
    SegmentPreviewRead,
    SegmentRead,
    SegmentUpdate,
)

router = APIRouter(prefix="/segments", tags=["segments"])
# POSTs that write nothing (a preview): any role, as a read.
ReadPost = Annotated[RequestScope, workspace_scope(write=False)]

COUNT_CAP = 10_000
"""``exact=false``: segments the planner expects to hold at most this many leads are
counted (capped); larger ones answer the planner's estimate."""

_412: dict[int | str, dict[str, Any]] = {412: {"description": "If-Match names an older "
                                                              "version"}}


def _read(row: dict[str, Any], status: int = 200,
          headers: dict[str, str] | None = None) -> Response:
    return json_response(SegmentRead.model_validate(row), status,
                         headers={"ETag": etag(row["version"]), **(headers or {})})


@router.get("", response_model=SegmentPage)
async def list_segments(scope: Scope, params: Annotated[PageParams, Depends(page_params)],
                        q: NameQuery = None, sort: NamedSort = None,
                        kind: Literal["dynamic", "static"] | None = None) -> Response:
    """The workspace's segments, each with its condition in words (``summary``)."""
    rows, total = await service.list_segments(scope.session, ctx=scope.ctx, params=params,
                                              q=q, kind=kind, sort=sort)
    return json_response(SegmentPage(data=[SegmentRead.model_validate(r) for r in rows],
                                     total=total, page=params.page,
                                     per_page=params.per_page, next_cursor=None))


@router.post("", status_code=201, response_model=SegmentRead, responses={
    409: {"description": "SEGMENT_NAME_TAKEN"},
    422: {"description": "INVALID_RULE (errors name condition.... paths), LEAD_NOT_FOUND"}})
async def create_segment(request: Request, body: SegmentCreate,
                         scope: ManagerScope) -> Response:
    """Save a segment: ``kind: dynamic`` with a ``condition`` (checked now), or ``kind:
    static`` with optional first ``lead_ids``. Accepts ``Idempotency-Key``."""

    async def work() -> Response:
        row = await service.create_segment(scope.session, ctx=scope.ctx, body=body)
        return _read(row, 201, {"Location": f"/api/v1/segments/{row['id']}"})

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


@router.post("/preview", response_model=SegmentPreviewRead,
             responses={422: {"description": "INVALID_RULE"}})
async def preview_segment(body: SegmentPreview, scope: ReadPost) -> Response:
    """A draft condition's count (as ``/count``) and first page of leads, writing
    nothing."""
    result = await service.preview(scope.session, ctx=scope.ctx, body=body, cap=COUNT_CAP)
    result["data"] = [from_row(LeadRead, r) for r in result["data"]]
    return json_response(SegmentPreviewRead.model_construct(**result))


@router.get("/{segment_id}", response_model=SegmentRead)
async def get_segment(segment_id: uuid.UUID, scope: Scope) -> Response:
    return _read(await service.get_segment(scope.session, ctx=scope.ctx,
                                           segment_id=segment_id))


@router.patch("/{segment_id}", response_model=SegmentRead, responses={
    409: {"description": "SEGMENT_NAME_TAKEN"}, **_412})
async def update_segment(segment_id: uuid.UUID, body: SegmentUpdate, scope: ManagerScope,
                         if_match: IfMatch) -> Response:
    """Rename, describe, or change a dynamic segment's condition (checked as when
    created). Optional ``If-Match``."""
    return _read(await service.update_segment(scope.session, ctx=scope.ctx,
                                              segment_id=segment_id, body=body,
                                              expected_version=if_match))


@router.delete("/{segment_id}", status_code=204, responses=_412)
async def delete_segment(segment_id: uuid.UUID, scope: ManagerScope,
                         if_match: IfMatch) -> Response:
    """Delete the segment (a static one's member list with it). Optional ``If-Match``."""
    await service.delete_segment(scope.session, ctx=scope.ctx, segment_id=segment_id,
                                 expected_version=if_match)
    return Response(status_code=204)


@router.get("/{segment_id}/count", response_model=SegmentCount)
async def count_segment(segment_id: uuid.UUID, scope: Scope,
                        exact: Annotated[bool, Query(
                            description="true: count every lead; false: count up to "
                                        f"{COUNT_CAP:,}, the planner's estimate beyond")
                        ] = False) -> Response:
    """How many of the segment's live leads you can read, and whether it is an
    estimate."""
    body = await service.count_segment(scope.session, ctx=scope.ctx, segment_id=segment_id,
                                       exact=exact, cap=COUNT_CAP)
    return json_response(SegmentCount.model_validate(body))


@router.get("/{segment_id}/members", response_model=LeadPage)
async def list_members(request: Request, segment_id: uuid.UUID, scope: Scope,
                       params: Annotated[PageParams, Depends(page_params)],
                       sort: Annotated[str | None, Query(max_length=200)] = None
                       ) -> Response:
    """The segment's live leads (yours, for an agent), as ``GET /leads?segment_id=``
    answers them: same lead JSON, sorts and keyset cursors."""
    listing = await service.list_members(
        scope.session, ctx=scope.ctx, segment_id=segment_id, sort=sort, params=params,
        count_cap=request.app.state.settings.count_exact_limit)
    return json_response(LeadPage.model_construct(
        data=[from_row(LeadRead, r) for r in listing.rows], total=listing.total,
        total_is_estimate=listing.total_is_estimate,
        page=params.page if params.cursor is None else None, per_page=params.per_page,
        next_cursor=listing.next_cursor))


@router.post("/{segment_id}/members", response_model=MembersChanged, responses={
    409: {"description": "SEGMENT_NOT_STATIC"}, 422: {"description": "LEAD_NOT_FOUND"}})
async def add_members(request: Request, segment_id: uuid.UUID, body: MembersChange,
                      scope: ManagerScope) -> Response:
    """Add leads (up to 1,000 ids) to a static segment; those already in it are counted
    as ``unchanged``. Accepts ``Idempotency-Key``."""

    async def work() -> Response:
        result = await service.change_members(scope.session, ctx=scope.ctx,
                                              segment_id=segment_id, lead_ids=body.lead_ids,
                                              add=True)
        return json_response(MembersChanged.model_validate(result))

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


@router.post("/{segment_id}/members/remove", response_model=MembersChanged,
             responses={409: {"description": "SEGMENT_NOT_STATIC"}})
async def remove_members(segment_id: uuid.UUID, body: MembersChange,
                         scope: ManagerScope) -> Response:
    """Remove leads (up to 1,000 ids) from a static segment."""
    result = await service.change_members(scope.session, ctx=scope.ctx,
                                          segment_id=segment_id, lead_ids=body.lead_ids,
                                          add=False)
    return json_response(MembersChanged.model_validate(result))


@router.delete("/{segment_id}/members/{lead_id}", status_code=204,
               responses={409: {"description": "SEGMENT_NOT_STATIC"}})
async def remove_member(segment_id: uuid.UUID, lead_id: uuid.UUID,
                        scope: ManagerScope) -> Response:
    """Remove one lead from a static segment (204 also when it was no member)."""
    await service.change_members(scope.session, ctx=scope.ctx, segment_id=segment_id,
                                 lead_ids=[lead_id], add=False)
    return Response(status_code=204)
