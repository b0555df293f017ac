"""Converting a lead: one transaction across customers, opportunities and the lead.

``convert`` locks the lead row first (two conversions of one lead at once: the second
waits, then answers the first's result), checks the rules (``customers.conversion``),
reuses or creates the customer (an existing match is offered, not duplicated), creates
the opportunity when asked (``opportunities.service.create_opportunity`` in the default
deal pipeline), marks the lead converted (``converted_at``, ``customer_id``,
``converted_opportunity_id``), puts a ``status_change`` entry on its timeline, and
audits ``lead.converted`` with the events ``lead.converted`` and ``lead.updated``.

A lead converted before answers that first conversion (same customer and opportunity,
``already_converted: true``), whatever the body says.

Errors: ``LEAD_NOT_FOUND`` 404; ``LEAD_CANNOT_CONVERT`` 409 with ``reasons``;
``CUSTOMER_MATCH_FOUND`` 409 with ``candidates``; ``CUSTOMER_NOT_FOUND`` 422 (a
``customer.id`` the caller cannot use); ``OPPORTUNITY_NOT_REQUESTED`` 422; the
opportunity's own 422s (``STAGE_NOT_FOUND`` ...); ``VERSION_MISMATCH`` 412.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.activities import service as activities
from leadbase.audit import service as audit
from leadbase.auth.context import Context, system_context
from leadbase.customers import conversion, keys, repository
from leadbase.customers import service as customers_service
from leadbase.customers.schemas import ConvertCustomer, ConvertOpportunity, ConvertRequest
from leadbase.events import outbox
from leadbase.kit.checks import check_version
from leadbase.kit.errors import Conflict, ValidationFailed
from leadbase.leads import qualification
from leadbase.leads import repository as leads_repository
from leadbase.leads import service as leads_service
from leadbase.leads.repository import readable
from leadbase.opportunities import service as opportunities_service
from leadbase.opportunities.schemas import OpportunityCreate


@dataclass(frozen=True)
class Conversion:
    lead: dict[str, Any]
    customer: dict[str, Any]
    opportunity: dict[str, Any] | None
    customer_created: bool
    already_converted: bool


async def can_convert(session: AsyncSession, *, ctx: Context,
                      lead_id: uuid.UUID) -> dict[str, Any]:
    """``{can_convert, reasons}`` for a lead the caller may read (deleted ones too)."""
    lead = await leads_repository.with_merge(session, scope=readable(ctx), lead_id=lead_id)
    if lead is None:
        raise leads_service.lead_not_found()
    found = conversion.reasons(lead, await conversion.get_settings(session, ctx=ctx))
    return {"can_convert": not found, "reasons": found}


async def convert(session: AsyncSession, *, ctx: Context, lead_id: uuid.UUID,
                  body: ConvertRequest, expected_version: int | None = None) -> Conversion:
    lead = await qualification.locked_lead(session, ctx=ctx, lead_id=lead_id,
                                           include_deleted=True)
    if conversion.converted(lead):
        return await _first(session, ctx, lead)
    check_version(lead, expected_version, what="lead")
    problems = conversion.reasons(lead, await conversion.get_settings(session, ctx=ctx))
    if problems:
        raise Conflict("The lead cannot be converted: " + "; ".join(
            p["message"] for p in problems), code="LEAD_CANNOT_CONVERT",
            extra={"reasons": problems})
    if body.opportunity is not None and not body.create_opportunity:
        raise ValidationFailed("An opportunity is described but create_opportunity is "
                               "false.", code="OPPORTUNITY_NOT_REQUESTED",
                               errors=[{"field": "create_opportunity",
                                        "message": "must be true to create the opportunity"}])
    customer, created = await _customer(session, ctx, lead, body.customer)
    opportunity = None
    if body.create_opportunity:
        opportunity = await _opportunity(session, ctx, lead, customer,
                                         body.opportunity or ConvertOpportunity())
    updated = await leads_repository.update_lead(
        session, scope=readable(ctx), lead_id=lead["id"], values={
            "status": "converted", "converted_at": func.now(), "customer_id": customer["id"],
            "converted_opportunity_id": opportunity["id"] if opportunity else None})
    entry = {"customer_id": str(customer["id"]), "customer_created": created,
             "opportunity_id": str(opportunity["id"]) if opportunity else None}
    await activities.log_system(session, ctx, lead_id=lead["id"], type="status_change",
                                attributes={"from": lead["status"], "to": "converted",
                                            **entry}, description=body.notes)
    result = Conversion(lead=updated, customer=customer, opportunity=opportunity,
                        customer_created=created, already_converted=False)
    lead_payload = leads_service.event_payload(updated)
    await audit.record(
        session, ctx=ctx, action="lead.converted", entity_type="lead", entity_id=lead["id"],
        changes={"fields": ["converted_at", "converted_opportunity_id", "customer_id",
                            "status"], **entry},
        event=outbox.event(tenant_id=ctx.tenant_id, type="lead.converted",
                           entity_type="lead", entity_id=lead["id"],
                           payload=event_payload(result)),
        more=[outbox.event(tenant_id=ctx.tenant_id, type="lead.updated", entity_type="lead",
                           entity_id=lead["id"],
                           payload={"lead": lead_payload,
                                    "changed": ["converted_at", "customer_id", "status"]})])
    return result


def event_payload(result: Conversion) -> dict[str, Any]:
    return {"lead": leads_service.event_payload(result.lead),
            "customer": customers_service.event_payload(result.customer),
            "opportunity": opportunities_service.event_payload(result.opportunity)
            if result.opportunity else None,
            "customer_created": result.customer_created}


async def _customer(session: AsyncSession, ctx: Context, lead: dict[str, Any],
                    body: ConvertCustomer) -> tuple[dict[str, Any], bool]:
    """The customer named by ``body.id``, else a new one (409 when one matches, unless
    ``body.create``)."""
    if body.id is not None:
        return await conversion.reusable(session, ctx=ctx, customer_id=body.id), False
    values = conversion.new_customer_values(lead, body)
    await customers_service.normalise(session, ctx, values)
    await customers_service.check_owner(session, ctx, values["owner_id"])
    if not body.create:
        await conversion.check_matches(session, ctx=ctx, lead=lead, values=values)
    domain = (keys.matchable_domain(keys.domain_of_email(lead["email"]))
              if values["kind"] == "company" else None)
    row = await customers_service.insert_customer(session, ctx=ctx, values=values,
                                                  domain=domain)
    return row, True


async def _opportunity(session: AsyncSession, ctx: Context, lead: dict[str, Any],
                       customer: dict[str, Any], body: ConvertOpportunity
                       ) -> dict[str, Any]:
    return await opportunities_service.create_opportunity(
        session, ctx=ctx, lead=lead, body=OpportunityCreate(
            name=body.name or customer["name"], customer_id=customer["id"],
            lead_id=lead["id"], stage=body.stage, value=body.value or Decimal("0"),
            currency=body.currency, expected_close_date=body.expected_close_date,
            source=lead["source"]))


async def _first(session: AsyncSession, ctx: Context, lead: dict[str, Any]) -> Conversion:
    """The result of the lead's conversion, read as the workspace sees it (the caller
    may read the lead, so its conversion is the caller's to see)."""
    everything = readable(system_context(ctx.tenant_id))
    customer = await repository.get(session, scope=repository.visible(everything),
                                    customer_id=lead["customer_id"], include_deleted=True)
    assert customer is not None  # leads.customer_id: a customer of the workspace
    opportunity = None
    if lead["converted_opportunity_id"] is not None:
        opportunity = await opportunities_service.read_any(
            session, ctx, lead["converted_opportunity_id"])
    return Conversion(lead=lead, customer=customer, opportunity=opportunity,
                      customer_created=False, already_converted=True)
