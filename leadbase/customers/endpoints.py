"""Customers (``/api/v1/customers``): companies and people who bought, their contacts
(the leads converted into them), opportunities and timeline.

Everyone reads what they may see (an agent: the customers it owns and those of its
leads); agents write the customers they own, managers and up every one; viewers read.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from leadbase.auth.deps import IfMatch, Scope
from leadbase.customers import service
from leadbase.customers.repository import CustomerFilter
from leadbase.customers.schemas import (
    CustomerCreate,
    CustomerPage,
    CustomerRead,
    CustomerUpdate,
    TimelineEntry,
    TimelinePage,
)
from leadbase.kit.errors import ValidationFailed
from leadbase.kit.http import etag, json_response
from leadbase.kit.idempotency import idempotent
from leadbase.kit.pagination import PageParams, page_params
from leadbase.kit.schemas import from_row
from leadbase.leads.schemas import LeadPage, LeadRead
from leadbase.models.deals import CUSTOMER_KINDS, OPPORTUNITY_STATUSES
from leadbase.opportunities.schemas import OpportunityPage, OpportunityRead

router = APIRouter(prefix="/customers", tags=["customers"])

CSV = Annotated[str | None, Query(max_length=2000, description="Comma-separated values")]
Cursor = Annotated[str | None, Query(max_length=2048,
                                     description="Opaque cursor from next_cursor")]
Limit = Annotated[int, Query(ge=1, le=service.MAX_PAGE, description="Rows per page (max 100)")]
_412: dict[int | str, dict[str, Any]] = {412: {"description": "If-Match names an older "
                                                              "version"}}


def _csv(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def _bad(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"Invalid filter {field}: {message}.", code="INVALID_FILTER",
                            errors=[{"field": field, "message": message}])


async def customer_filter(
    kind: CSV = None, owner_id: CSV = None, email_domain: CSV = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200,
                                   description="Part of the name or email")] = None,
    include_deleted: bool = False,
) -> CustomerFilter:
    kinds = _csv(kind)
    if any(k not in CUSTOMER_KINDS for k in kinds):
        raise _bad("kind", "one of company, person")
    try:
        owners = tuple(uuid.UUID(v) for v in _csv(owner_id))
    except ValueError:
        raise _bad("owner_id", "not a list of UUIDs") from None
    return CustomerFilter(kinds=kinds, owner_ids=owners,
                          email_domains=tuple(d.lower() for d in _csv(email_domain)),
                          q=q, include_deleted=include_deleted)


def _read(row: dict[str, Any], status: int = 200,
          headers: dict[str, str] | None = None) -> Response:
    return json_response(from_row(CustomerRead, row), status,
                         headers={"ETag": etag(row["version"]), **(headers or {})})


@router.post("", status_code=201, response_model=CustomerRead,
             responses={403: {"description": "OWNER_NOT_ALLOWED"},
                        422: {"description": "OWNER_NOT_FOUND, INVALID_EMAIL, "
                                             "INVALID_PHONE, VALIDATION_ERROR"}})
async def create_customer(request: Request, body: CustomerCreate, scope: Scope) -> Response:
    """Create a company or a person. ``name_key`` and ``email_domain`` (what conversion
    matches by) are derived. An agent's customers are its own. Accepts
    ``Idempotency-Key``."""

    async def work() -> Response:
        row = await service.create_customer(scope.session, ctx=scope.ctx, body=body)
        return _read(row, 201, {"Location": f"/api/v1/customers/{row['id']}"})

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


@router.get("", response_model=CustomerPage)
async def list_customers(request: Request, scope: Scope,
                         f: Annotated[CustomerFilter, Depends(customer_filter)],
                         params: Annotated[PageParams, Depends(page_params)],
                         sort: Annotated[str | None, Query(max_length=200, description=(
                             "created_at (default -created_at), updated_at, name, number; "
                             "'-' for descending"))] = None) -> Response:
    """Customers with filters (``kind``, ``owner_id``, ``email_domain``, ``q``), page or
    cursor pagination."""
    found = await service.list_customers(
        scope.session, ctx=scope.ctx, f=f, sort=sort, params=params,
        count_cap=request.app.state.settings.count_exact_limit)
    return json_response(CustomerPage(
        data=[from_row(CustomerRead, r) for r in found.rows], total=found.total,
        page=params.page if params.cursor is None else None, per_page=params.per_page,
        next_cursor=found.next_cursor))


@router.get("/{customer_id}", response_model=CustomerRead)
async def get_customer(customer_id: uuid.UUID, scope: Scope,
                       include_deleted: bool = False) -> Response:
    return _read(await service.get_customer(scope.session, ctx=scope.ctx,
                                            customer_id=customer_id,
                                            include_deleted=include_deleted))


@router.patch("/{customer_id}", response_model=CustomerRead, responses=_412)
async def update_customer(customer_id: uuid.UUID, body: CustomerUpdate, scope: Scope,
                          if_match: IfMatch) -> Response:
    """Change some fields (``name_key`` / ``email_domain`` follow). Send
    ``If-Match: "<version>"``."""
    return _read(await service.update_customer(scope.session, ctx=scope.ctx,
                                               customer_id=customer_id, body=body,
                                               expected_version=if_match))


@router.delete("/{customer_id}", status_code=204, responses=_412)
async def delete_customer(customer_id: uuid.UUID, scope: Scope, if_match: IfMatch) -> Response:
    """Soft delete: hidden from lists and from conversion's matches; its contacts keep
    the link."""
    await service.delete_customer(scope.session, ctx=scope.ctx, customer_id=customer_id,
                                  expected_version=if_match)
    return Response(status_code=204)


@router.get("/{customer_id}/contacts", response_model=LeadPage)
async def customer_contacts(customer_id: uuid.UUID, scope: Scope, cursor: Cursor = None,
                            per_page: Limit = 25) -> Response:
    """The leads converted into the customer (those the caller may read), newest first."""
    found = await service.contacts(scope.session, ctx=scope.ctx, customer_id=customer_id,
                                   cursor=cursor, limit=per_page)
    return json_response(LeadPage(data=[from_row(LeadRead, r) for r in found.rows],
                                  total=None, page=None, per_page=per_page,
                                  next_cursor=found.next_cursor))


@router.get("/{customer_id}/opportunities", response_model=OpportunityPage)
async def customer_opportunities(
    request: Request, customer_id: uuid.UUID, scope: Scope,
    params: Annotated[PageParams, Depends(page_params)],
    status: Annotated[str | None, Query(max_length=100,
                                        description="open, won, lost (comma-separated)")
                      ] = None,
    sort: Annotated[str | None, Query(max_length=200, description=(
        "As GET /opportunities (default -created_at)"))] = None,
) -> Response:
    """The customer's opportunities (those the caller may see), newest first unless
    ``sort`` says otherwise; page or cursor pagination."""
    statuses = _csv(status)
    if any(s not in OPPORTUNITY_STATUSES for s in statuses):
        raise _bad("status", "one of open, won, lost")
    found = await service.opportunities(
        scope.session, ctx=scope.ctx, customer_id=customer_id, statuses=statuses, sort=sort,
        params=params, count_cap=request.app.state.settings.count_exact_limit)
    return json_response(OpportunityPage(
        data=[OpportunityRead.model_validate(r) for r in found.rows], total=found.total,
        page=params.page if params.cursor is None else None, per_page=params.per_page,
        next_cursor=found.next_cursor))


@router.get("/{customer_id}/timeline", response_model=TimelinePage)
async def customer_timeline(customer_id: uuid.UUID, scope: Scope, cursor: Cursor = None,
                            per_page: Limit = 25) -> Response:
    """Activities of the customer's contacts and of its opportunities, newest first."""
    found = await service.timeline(scope.session, ctx=scope.ctx, customer_id=customer_id,
                                   cursor=cursor, limit=per_page)
    return json_response(TimelinePage(
        data=[TimelineEntry.model_validate(r) for r in found.rows], per_page=per_page,
        next_cursor=found.next_cursor))
