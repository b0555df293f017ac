"""Listings (``/api/v1/listings``) and lead-listing links (``/api/v1/leads/{id}/listings``).

Everyone in the workspace reads the inventory; managers and above change it. A lead's
links follow the lead: whoever may change the lead (an agent: their own) links it.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from leadbase.auth.deps import IfMatch, Scope
from leadbase.kit.errors import ValidationFailed
from leadbase.kit.http import etag, json_response
from leadbase.kit.idempotency import idempotent
from leadbase.kit.pagination import PageParams, page_params
from leadbase.listings import service
from leadbase.listings.repository import ListingFilter
from leadbase.listings.schemas import (
    LeadListingCreate,
    LeadListingPage,
    LeadListingRead,
    LeadListingUpdate,
    ListingCreate,
    ListingPage,
    ListingRead,
    ListingUpdate,
)
from leadbase.models.listings import LISTING_KINDS, LISTING_STATUSES

router = APIRouter(prefix="/listings", tags=["listings"])
lead_links_router = APIRouter(prefix="/leads/{lead_id}/listings", tags=["listings"])

CSV = Annotated[str | None, Query(max_length=200, description="Comma-separated values")]


def _csv(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def _read(row: dict[str, Any]) -> ListingRead:
    return ListingRead.model_validate(row)


def _link(row: dict[str, Any]) -> LeadListingRead:
    return LeadListingRead.model_validate(row)


async def listing_filter(
    kind: CSV = None, status: CSV = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200,
                                   description="Part of title, reference, make or model")
                 ] = None,
    price_gte: Annotated[Decimal | None, Query(ge=0)] = None,
    price_lte: Annotated[Decimal | None, Query(ge=0)] = None,
    currency: Annotated[str | None, Query(min_length=3, max_length=3)] = None,
    make: Annotated[str | None, Query(max_length=100)] = None,
    include_deleted: bool = False,
) -> ListingFilter:
    kinds, statuses = _csv(kind), _csv(status)
    for name, values, allowed in (("kind", kinds, LISTING_KINDS),
                                  ("status", statuses, LISTING_STATUSES)):
        bad = [v for v in values if v not in allowed]
        if bad:
            raise ValidationFailed(f"Unknown {name}: {', '.join(bad)}.", code="INVALID_FILTER",
                                   errors=[{"field": name,
                                            "message": f"one of {', '.join(allowed)}"}])
    return ListingFilter(kinds=kinds, statuses=statuses, q=q, price_gte=price_gte,
                         price_lte=price_lte, currency=currency.upper() if currency else None,
                         make=make, include_deleted=include_deleted)


@router.post("", status_code=201, response_model=ListingRead,
             responses={403: {"description": "ROLE_REQUIRED (managers and above)"}})
async def create_listing(request: Request, body: ListingCreate, scope: Scope) -> Response:
    """Add a listing. ``attributes`` are checked against the ``kind`` (a vehicle's
    ``vin`` by its check digit where its format has one). Accepts ``Idempotency-Key``."""

    async def work() -> Response:
        row = await service.create_listing(scope.session, ctx=scope.ctx, body=body)
        return json_response(_read(row), 201,
                             headers={"ETag": etag(row["version"]),
                                      "Location": f"/api/v1/listings/{row['id']}"})

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


@router.get("", response_model=ListingPage)
async def list_listings(
    request: Request, scope: Scope,
    f: Annotated[ListingFilter, Depends(listing_filter)],
    params: Annotated[PageParams, Depends(page_params)],
    sort: Annotated[str | None, Query(max_length=200, description=(
        "created_at, updated_at, number, title, price, status; '-' for descending"))] = None,
) -> Response:
    """The workspace's listings with filters, sorting, and page or cursor pagination."""
    found = await service.list_listings(scope.session, ctx=scope.ctx, f=f, sort=sort,
                                        params=params,
                                        count_cap=request.app.state.settings.count_exact_limit)
    return json_response(ListingPage(
        data=[_read(r) for r in found.rows], total=found.total,
        page=params.page if params.cursor is None else None, per_page=params.per_page,
        next_cursor=found.next_cursor))


@router.get("/{listing_id}", response_model=ListingRead)
async def get_listing(listing_id: uuid.UUID, scope: Scope,
                      include_deleted: bool = False) -> Response:
    row = await service.get_listing(scope.session, ctx=scope.ctx, listing_id=listing_id,
                                    include_deleted=include_deleted)
    return json_response(_read(row), headers={"ETag": etag(row["version"])})


@router.patch("/{listing_id}", response_model=ListingRead,
              responses={412: {"description": "If-Match names an older version"}})
async def update_listing(listing_id: uuid.UUID, body: ListingUpdate, scope: Scope,
                         if_match: IfMatch) -> Response:
    """Change some fields; ``attributes`` merge key by key (null removes a key). Send
    ``If-Match: "<version>"`` to refuse the change with 412 when someone else changed the
    listing first."""
    row = await service.update_listing(scope.session, ctx=scope.ctx, listing_id=listing_id,
                                       body=body, expected_version=if_match)
    return json_response(_read(row), headers={"ETag": etag(row["version"])})


@router.delete("/{listing_id}", status_code=204)
async def delete_listing(listing_id: uuid.UUID, scope: Scope, if_match: IfMatch,
                         permanent: bool = False) -> Response:
    """Soft-delete, or with ``permanent=true`` erase the listing and its links."""
    await service.delete_listing(scope.session, ctx=scope.ctx, listing_id=listing_id,
                                 expected_version=if_match, permanent=permanent)
    return Response(status_code=204)


@router.get("/{listing_id}/leads", response_model=LeadListingPage)
async def leads_of_listing(listing_id: uuid.UUID, scope: Scope,
                           params: Annotated[PageParams, Depends(page_params)]) -> Response:
    """The leads interested in this listing (agents: their own leads), newest link
    first, each with its ``lead``."""
    found = await service.leads_of_listing(scope.session, ctx=scope.ctx,
                                           listing_id=listing_id, params=params)
    return json_response(LeadListingPage(
        data=[_link(r) for r in found.rows], total=None,
        page=params.page if params.cursor is None else None, per_page=params.per_page,
        next_cursor=found.next_cursor))


@lead_links_router.post("", status_code=201, response_model=LeadListingRead,
                        responses={409: {"description": "LISTING_ALREADY_LINKED"}})
async def link_listing(request: Request, lead_id: uuid.UUID, body: LeadListingCreate,
                       scope: Scope) -> Response:
    """Record the lead's interest in a listing. Accepts ``Idempotency-Key``."""

    async def work() -> Response:
        row = await service.link_lead(scope.session, ctx=scope.ctx, lead_id=lead_id,
                                      body=body)
        return json_response(_link(row), 201, headers={"ETag": etag(row["version"])})

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


@lead_links_router.get("", response_model=LeadListingPage)
async def listings_of_lead(lead_id: uuid.UUID, scope: Scope,
                           params: Annotated[PageParams, Depends(page_params)]) -> Response:
    """The listings this lead is interested in, newest link first, each with its
    ``listing``."""
    found = await service.listings_of_lead(scope.session, ctx=scope.ctx, lead_id=lead_id,
                                           params=params)
    return json_response(LeadListingPage(
        data=[_link(r) for r in found.rows], total=None,
        page=params.page if params.cursor is None else None, per_page=params.per_page,
        next_cursor=found.next_cursor))


@lead_links_router.patch("/{listing_id}", response_model=LeadListingRead)
async def update_link(lead_id: uuid.UUID, listing_id: uuid.UUID, body: LeadListingUpdate,
                      scope: Scope, if_match: IfMatch) -> Response:
    row = await service.update_link(scope.session, ctx=scope.ctx, lead_id=lead_id,
                                    listing_id=listing_id, body=body,
                                    expected_version=if_match)
    return json_response(_link(row), headers={"ETag": etag(row["version"])})


@lead_links_router.delete("/{listing_id}", status_code=204)
async def unlink_listing(lead_id: uuid.UUID, listing_id: uuid.UUID, scope: Scope,
                         if_match: IfMatch) -> Response:
    await service.unlink_lead(scope.session, ctx=scope.ctx, lead_id=lead_id,
                              listing_id=listing_id, expected_version=if_match)
    return Response(status_code=204)
