"""Leads: the canonical REST API (``/api/v1/leads``)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from leadbase.auth.deps import IfMatch, Scope
from leadbase.kit.http import etag, json_response
from leadbase.kit.idempotency import idempotent
from leadbase.kit.pagination import PageParams, page_params
from leadbase.kit.schemas import from_row
from leadbase.leads import service
from leadbase.leads.filters import LeadFilter
from leadbase.leads.schemas import LeadCreate, LeadPage, LeadRead, LeadUpdate, OnDuplicate

router = APIRouter(prefix="/leads", tags=["leads"])

ON_DUPLICATE = Annotated[
    OnDuplicate,
    Query(description="error: 409 with the existing id; allow: create anyway; "
                      "update: merge into the existing lead"),
]


def _read(lead: dict[str, object]) -> LeadRead:
    return from_row(LeadRead, lead)  # a row of the database: not validated again


@router.post("", status_code=201, response_model=LeadRead,
             responses={200: {"description": "Merged into an existing lead (on_duplicate=update)"},
                        409: {"description": "Duplicate (DUPLICATE_LEAD, with existing_id)"}})
async def create_lead(request: Request, body: LeadCreate, scope: Scope,
                      on_duplicate: ON_DUPLICATE = "error") -> Response:
    """Create a lead. Phones are normalised to E.164 with the workspace's region, emails
    lowercased. A live lead with the same email or phone answers 409 unless
    ``on_duplicate`` says otherwise. Accepts ``Idempotency-Key``."""

    async def work() -> Response:
        result = await service.create_lead(scope.session, ctx=scope.ctx, body=body,
                                           on_duplicate=on_duplicate)
        lead = result.lead
        return json_response(_read(lead), 201 if result.created else 200,
                             headers={"ETag": etag(lead["version"]),
                                      "Location": f"/api/v1/leads/{lead['id']}"})

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


@router.get("", response_model=LeadPage)
async def list_leads(
    request: Request,
    scope: Scope,
    f: Annotated[LeadFilter, Query()],
    params: Annotated[PageParams, Depends(page_params)],
    sort: Annotated[str | None, Query(max_length=200,
                                      description="e.g. -created_at,last_name")] = None,
) -> Response:
    """List leads with filters, sorting, and page or cursor pagination. Agents see only
    the leads they own. Custom fields: ``fields.<code>=a,b`` (any of),
    ``fields.<code>_gte=`` / ``_lte=`` for numbers and dates, ``sort=fields.<code>``."""
    listing = await service.list_leads(scope.session, ctx=scope.ctx, f=f, sort=sort,
                                       params=params,
                                       count_cap=request.app.state.settings.count_exact_limit)
    page = LeadPage.model_construct(
        data=[_read(r) for r in listing.rows], total=listing.total,
        total_is_estimate=listing.total_is_estimate,
        page=params.page if params.cursor is None else None, per_page=params.per_page,
        next_cursor=listing.next_cursor,
    )
    return json_response(page)


@router.get("/{lead_id}", response_model=LeadRead)
async def get_lead(lead_id: uuid.UUID, scope: Scope, include_deleted: bool = False) -> Response:
    """One lead. A lead merged into another answers 301 to the survivor (problem+json
    with ``merged_into``)."""
    lead = await service.get_lead(scope.session, ctx=scope.ctx, lead_id=lead_id,
                                  include_deleted=include_deleted, merged="redirect")
    return json_response(_read(lead), headers={"ETag": etag(lead["version"])})


@router.patch("/{lead_id}", response_model=LeadRead)
async def update_lead(lead_id: uuid.UUID, body: LeadUpdate, scope: Scope, if_match: IfMatch,
                      on_duplicate: ON_DUPLICATE = "error") -> Response:
    """Change some fields. Send ``If-Match: "<version>"`` (the ETag) to refuse the change
    with 412 when someone else changed the lead first."""
    lead = await service.update_lead(scope.session, ctx=scope.ctx, lead_id=lead_id, body=body,
                                     expected_version=if_match, on_duplicate=on_duplicate)
    return json_response(_read(lead), headers={"ETag": etag(lead["version"])})


@router.delete("/{lead_id}", status_code=204)
async def delete_lead(lead_id: uuid.UUID, scope: Scope, if_match: IfMatch,
                      purge: Annotated[bool, Query(description="Erase for good (admins; "
                                                   "privacy requests)")] = False) -> Response:
    """Soft-delete (restorable), or with ``purge=true`` erase the lead entirely."""
    await service.delete_lead(scope.session, ctx=scope.ctx, lead_id=lead_id,
                              expected_version=if_match, purge=purge)
    return Response(status_code=204)


@router.post("/{lead_id}/restore", response_model=LeadRead)
async def restore_lead(lead_id: uuid.UUID, scope: Scope,
                       on_duplicate: ON_DUPLICATE = "error") -> Response:
    lead = await service.restore_lead(scope.session, ctx=scope.ctx, lead_id=lead_id,
                                      on_duplicate=on_duplicate)
    return json_response(_read(lead), headers={"ETag": etag(lead["version"])})
