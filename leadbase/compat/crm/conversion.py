"""``/leads/{id}/convert``, ``can-convert``, ``qualify`` and ``unqualify``, over the
conversion flow (``leadbase.customers.flows``) and the qualification service
(``leadbase.leads.qualification``).

- ``convert {createOpportunity, estimatedValue, notes}`` answers ``{lead, customer,
  opportunity, customerCreated, alreadyConverted}`` (``opportunity`` null unless asked
  for). The customer is made from the lead (a company when it names one, else a person);
  when existing customers match (same company name, email domain or email): 409
  ``CUSTOMER_MATCH_FOUND`` with ``candidates`` (``cus_…`` ids) — send ``customerId`` to
  reuse one, or ``createCustomer: true`` to make a new one anyway. The opportunity goes
  into the default deal pipeline (``stage``: default its first), named
  ``opportunityName`` or after the customer, ``estimatedValue`` its value. A lead
  converted before answers its first conversion (``alreadyConverted: true``), whatever
  the body says. A lead that cannot be converted: 409 ``LEAD_CANNOT_CONVERT`` with
  ``reasons``.
- ``can-convert`` answers ``{canConvert, reasons: [{code, message, field}]}``.
- ``qualify`` and ``unqualify {reason}`` answer the lead; a converted or merged lead:
  409.
All four: agents on their own leads only; viewers may ask ``can-convert``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from leadbase.auth.deps import IfMatch, Scope
from leadbase.compat.crm import ids, views
from leadbase.compat.crm.errors import reason
from leadbase.compat.crm.leads import lead_id
from leadbase.compat.crm.opportunity_schemas import CanConvertOut, Convert, ConvertOut, Unqualify
from leadbase.compat.crm.schemas import LeadOut
from leadbase.customers import flows
from leadbase.customers.schemas import ConvertRequest
from leadbase.kit.idempotency import idempotent
from leadbase.leads import qualification
from leadbase.opportunities import service as opportunities

router = APIRouter(prefix="/leads", tags=["conversion"])


def _lead(row: dict[str, Any]) -> Response:
    return views.respond(views.lead(row), headers=views.etag_of(row))


def _request(request: Request, body: Convert) -> ConvertRequest:
    """The document's body → the canonical conversion request."""
    customer: dict[str, Any] = {}
    if body.customer_id is not None:
        customer["id"] = ids.resolve(request, "customer", body.customer_id)
    if body.create_customer:
        customer["create"] = True
    if body.customer_name is not None:
        customer["name"] = body.customer_name
    if body.customer_kind is not None:
        customer["kind"] = body.customer_kind.lower()
    opportunity: dict[str, Any] | None = None
    if body.create_opportunity:
        opportunity = {"name": body.opportunity_name, "value": body.estimated_value,
                       "stage": body.stage.lower() if body.stage else None,
                       "expected_close_date": body.expected_close_date,
                       "currency": body.currency}
    return views.canonical(ConvertRequest, {
        "create_opportunity": body.create_opportunity, "opportunity": opportunity,
        "customer": customer, "notes": body.notes})


@router.post("/{id}/convert", response_model=ConvertOut)
async def convert_lead(request: Request, id: str, body: Convert, scope: Scope,
                       if_match: IfMatch) -> Response:
    """Convert the lead into a customer (reused or made from the lead) and, with
    ``createOpportunity``, an opportunity worth ``estimatedValue``, in one transaction.
    Existing matching customers: 409 ``CUSTOMER_MATCH_FOUND`` with ``candidates`` (reuse
    one with ``customerId``, or ``createCustomer: true``). Converting again answers the
    first conversion. Accepts ``Idempotency-Key``."""

    async def work() -> Response:
        done = await flows.convert(scope.session, ctx=scope.ctx, lead_id=lead_id(request, id),
                                   body=_request(request, body), expected_version=if_match)
        opportunity = (views.opportunity(opportunities.presented(scope.ctx, done.opportunity))
                       if done.opportunity is not None else None)
        return views.respond({"lead": views.lead(done.lead),
                              "customer": views.customer(done.customer),
                              "opportunity": opportunity,
                              "customerCreated": done.customer_created,
                              "alreadyConverted": done.already_converted},
                             headers=views.etag_of(done.lead))

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


@router.get("/{id}/can-convert", response_model=CanConvertOut)
async def can_convert(request: Request, id: str, scope: Scope) -> Response:
    """``{canConvert, reasons}``: every reason why not (``LEAD_DELETED``, ``LEAD_MERGED``,
    ``LEAD_ALREADY_CONVERTED``, ``LEAD_LOST``, ``LEAD_NOT_QUALIFIED``, ``MISSING_FIELD``
    with the ``field`` the workspace requires)."""
    found = await flows.can_convert(scope.session, ctx=scope.ctx,
                                    lead_id=lead_id(request, id))
    return views.respond({"canConvert": found["can_convert"],
                          "reasons": [reason(r) for r in found["reasons"]]})


@router.post("/{id}/qualify", response_model=LeadOut)
async def qualify_lead(request: Request, id: str, scope: Scope, if_match: IfMatch
                       ) -> Response:
    """Status ``QUALIFIED`` (a qualified lead stays as it is); on its timeline. A
    converted or merged lead: 409."""
    return _lead(await qualification.qualify(scope.session, ctx=scope.ctx,
                                             lead_id=lead_id(request, id),
                                             expected_version=if_match))


@router.post("/{id}/unqualify", response_model=LeadOut)
async def unqualify_lead(request: Request, id: str, body: Unqualify, scope: Scope,
                         if_match: IfMatch) -> Response:
    """Status ``UNQUALIFIED`` with the ``reason`` (required; kept and reported by
    ``/api/v1/leads/unqualified-reasons``). A converted or merged lead: 409."""
    return _lead(await qualification.unqualify(scope.session, ctx=scope.ctx,
                                               lead_id=lead_id(request, id),
                                               reason=body.reason,
                                               expected_version=if_match))
