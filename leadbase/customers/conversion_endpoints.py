"""Qualifying and converting leads (``/api/v1/leads/{id}/qualify``, ``/unqualify``,
``/can-convert``, ``/convert``, ``/api/v1/leads/unqualified-reasons``) and the workspace's
conversion settings (``/api/v1/conversion/settings``).

Agents act on their own leads; viewers read (``can-convert``, the reasons report);
changing the settings needs manager or higher.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from leadbase.auth.deps import IfMatch, ManagerScope, Scope
from leadbase.customers import conversion, flows
from leadbase.customers.schemas import (
    CanConvert,
    ConversionSettings,
    ConversionSettingsUpdate,
    ConvertRequest,
    ConvertResult,
    UnqualifiedReasons,
    Unqualify,
)
from leadbase.kit.http import etag, json_response
from leadbase.kit.idempotency import idempotent
from leadbase.kit.schemas import Timestamp, from_row
from leadbase.leads import qualification
from leadbase.leads.schemas import LeadRead

leads_router = APIRouter(prefix="/leads", tags=["conversion"])
settings_router = APIRouter(prefix="/conversion", tags=["conversion"])

_LEAD_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "LEAD_NOT_FOUND"},
    409: {"description": "LEAD_CONVERTED, LEAD_MERGED"},
    412: {"description": "If-Match names an older version"}}


def _lead(row: dict[str, Any]) -> Response:
    return json_response(from_row(LeadRead, row), headers={"ETag": etag(row["version"])})


@leads_router.get("/unqualified-reasons", response_model=UnqualifiedReasons)
async def unqualified_reasons(
    scope: Scope,
    start: Annotated[Timestamp | None, Query(alias="from", description=(
        "Start (inclusive; default 30 days before 'to')"))] = None,
    end: Annotated[Timestamp | None, Query(alias="to",
                                           description="End (exclusive; default now)")] = None,
) -> Response:
    """How often each reason was given when leads were unqualified in [from, to), most
    frequent first (a lead unqualified twice counts twice). Agents: their own leads."""
    found = await qualification.unqualified_reasons(scope.session, ctx=scope.ctx,
                                                    start=start, end=end)
    return json_response(UnqualifiedReasons.model_validate(found).model_dump(
        mode="json", by_alias=True))


@leads_router.post("/{lead_id}/qualify", response_model=LeadRead, responses=_LEAD_ERRORS)
async def qualify_lead(lead_id: uuid.UUID, scope: Scope, if_match: IfMatch) -> Response:
    """Status ``qualified`` and ``qualified_at`` now, with a status change on the
    timeline. A qualified lead stays as it is."""
    return _lead(await qualification.qualify(scope.session, ctx=scope.ctx, lead_id=lead_id,
                                             expected_version=if_match))


@leads_router.post("/{lead_id}/unqualify", response_model=LeadRead, responses=_LEAD_ERRORS)
async def unqualify_lead(lead_id: uuid.UUID, body: Unqualify, scope: Scope,
                         if_match: IfMatch) -> Response:
    """Status ``unqualified`` with the reason (required): kept on the lead
    (``unqualified_reason``) and on the timeline entry, and counted by
    ``/leads/unqualified-reasons``."""
    return _lead(await qualification.unqualify(scope.session, ctx=scope.ctx,
                                               lead_id=lead_id, reason=body.reason,
                                               expected_version=if_match))


@leads_router.get("/{lead_id}/can-convert", response_model=CanConvert,
                  responses={404: {"description": "LEAD_NOT_FOUND"}})
async def can_convert(lead_id: uuid.UUID, scope: Scope) -> Response:
    """Whether the lead can be converted, and every reason why not (``LEAD_DELETED``,
    ``LEAD_MERGED``, ``LEAD_ALREADY_CONVERTED``, ``LEAD_LOST``, ``LEAD_NOT_QUALIFIED``,
    ``MISSING_FIELD`` with the ``field`` the workspace requires)."""
    return json_response(CanConvert.model_validate(
        await flows.can_convert(scope.session, ctx=scope.ctx, lead_id=lead_id)))


@leads_router.post("/{lead_id}/convert", response_model=ConvertResult, responses={
    404: {"description": "LEAD_NOT_FOUND"},
    409: {"description": "LEAD_CANNOT_CONVERT (with reasons), CUSTOMER_MATCH_FOUND (with "
                         "candidates and hidden_candidates)"},
    412: {"description": "If-Match names an older version"},
    422: {"description": "CUSTOMER_NOT_FOUND, OPPORTUNITY_NOT_REQUESTED, STAGE_NOT_FOUND, "
                         "CUSTOMER_NAME_REQUIRED, VALIDATION_ERROR"}})
async def convert_lead(request: Request, lead_id: uuid.UUID, body: ConvertRequest,
                       scope: Scope, if_match: IfMatch) -> Response:
    """Convert the lead in one transaction: reuse (``customer: {id}``) or create the
    customer — an existing customer with the lead's company name or email domain is
    offered (409 ``CUSTOMER_MATCH_FOUND``) rather than duplicated; ``customer: {create:
    true}`` creates anyway — optionally an opportunity in the default deal pipeline, and
    the lead marked converted (``lead.converted`` event). A converted lead answers its
    first conversion (``already_converted: true``). Accepts ``Idempotency-Key``."""

    async def work() -> Response:
        done = await flows.convert(scope.session, ctx=scope.ctx, lead_id=lead_id, body=body,
                                   expected_version=if_match)
        result = ConvertResult.model_validate({
            "lead": from_row(LeadRead, done.lead), "customer": done.customer,
            "opportunity": done.opportunity, "customer_created": done.customer_created,
            "already_converted": done.already_converted})
        return json_response(result, headers={"ETag": etag(done.lead["version"])})

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


@settings_router.get("/settings", response_model=ConversionSettings)
async def get_settings(scope: Scope) -> Response:
    """What a lead needs before it can be converted."""
    return json_response(await conversion.get_settings(scope.session, ctx=scope.ctx))


@settings_router.put("/settings", response_model=ConversionSettings)
async def update_settings(body: ConversionSettingsUpdate, scope: ManagerScope) -> Response:
    """``required_lead_fields``: e.g. ``["email", "company"]`` (a lead column, ``name``
    for a first or last name, ``contact`` for an email or phone); ``require_qualified``:
    only qualified leads convert. What is not sent is kept."""
    return json_response(await conversion.update_settings(
        scope.session, ctx=scope.ctx, changes=body.model_dump(exclude_unset=True)))
