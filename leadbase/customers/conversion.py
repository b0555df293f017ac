"""The rules of converting a lead: the workspace's conversion settings, whether a lead
can be converted (and why not), the customer a conversion would make from the lead, and
the existing customers it matches.

- Settings live in the workspace's ``settings["conversion"]``:
  ``required_lead_fields`` (a lead column, ``name`` = first or last name, ``contact`` =
  email or phone) and ``require_qualified``. Reading: any role; writing: manager+.
- Reasons a lead cannot be converted, each ``{code, message}`` (``field`` for a missing
  one): ``LEAD_DELETED``, ``LEAD_MERGED``, ``LEAD_ALREADY_CONVERTED``, ``LEAD_LOST``,
  ``LEAD_NOT_QUALIFIED`` (with ``require_qualified``), ``MISSING_FIELD``.
- Matching ("offered, not duplicated"): live customers with the ``name_key`` of the lead's
  company (else of the customer's name), or the ``email_domain`` of the lead's email
  unless it is a free mail domain, or the lead's very email.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.audit import service as audit
from leadbase.auth.context import Context
from leadbase.customers import keys, repository
from leadbase.customers import service as customers_service
from leadbase.customers.schemas import ConversionSettings, ConvertCustomer
from leadbase.events import outbox
from leadbase.kit.checks import require_changes
from leadbase.kit.errors import Conflict, ValidationFailed
from leadbase.tenants import service as tenants_service

SETTINGS_KEY = "conversion"
FIELD_LABELS = {"name": "a first or last name", "contact": "an email or a phone",
                "owner_id": "an owner"}


def settings_of(stored: dict[str, Any] | None) -> ConversionSettings:
    """The stored settings, what is unknown or invalid in them ignored (defaults)."""
    stored = stored or {}
    try:
        return ConversionSettings.model_validate(
            {k: v for k, v in stored.items() if k in ConversionSettings.model_fields})
    except ValueError:
        return ConversionSettings()


async def get_settings(session: AsyncSession, *, ctx: Context) -> ConversionSettings:
    tenant = await tenants_service.get_workspace(session, tenant_id=ctx.tenant_id)
    return settings_of(tenant["settings"].get(SETTINGS_KEY))


async def update_settings(session: AsyncSession, *, ctx: Context,
                          changes: dict[str, Any]) -> ConversionSettings:
    sent = {k: v for k, v in changes.items() if v is not None}
    require_changes(sent)
    current = await get_settings(session, ctx=ctx)
    new = ConversionSettings.model_validate({**current.model_dump(), **sent})
    await tenants_service.set_setting(session, tenant_id=ctx.tenant_id, key=SETTINGS_KEY,
                                      value=new.model_dump())
    changed = sorted(k for k, v in new.model_dump().items() if current.model_dump()[k] != v)
    await audit.record(session, ctx=ctx, action="conversion.settings_updated",
                       entity_type="workspace", entity_id=ctx.tenant_id,
                       changes={"fields": changed},
                       event=outbox.event(tenant_id=ctx.tenant_id,
                                          type="conversion.settings_updated",
                                          entity_type="workspace", entity_id=ctx.tenant_id,
                                          payload=new.model_dump()))
    return new


def _has(lead: dict[str, Any], field: str) -> bool:
    if field == "name":
        return bool(lead.get("first_name") or lead.get("last_name"))
    if field == "contact":
        return bool(lead.get("email") or lead.get("phone"))
    return lead.get(field) not in (None, "")


def reasons(lead: dict[str, Any], settings: ConversionSettings) -> list[dict[str, Any]]:
    """Why ``lead`` cannot be converted (none: it can)."""
    out: list[dict[str, Any]] = []
    if lead["deleted_at"] is not None:
        out.append({"code": "LEAD_DELETED", "message": "The lead is deleted."})
    if lead.get("merged_into_id") is not None:
        out.append({"code": "LEAD_MERGED",
                    "message": "The lead was merged into another; convert that one."})
    if converted(lead):
        out.append({"code": "LEAD_ALREADY_CONVERTED",
                    "message": "The lead has been converted already."})
    elif lead["status"] == "lost":
        out.append({"code": "LEAD_LOST", "message": "The lead is lost."})
    elif settings.require_qualified and lead["status"] != "qualified":
        out.append({"code": "LEAD_NOT_QUALIFIED",
                    "message": "The workspace converts only qualified leads."})
    for field in settings.required_lead_fields:
        if not _has(lead, field):
            label = FIELD_LABELS.get(field, f"a {field.replace('_', ' ')}")
            out.append({"code": "MISSING_FIELD", "field": field,
                        "message": f"The workspace requires {label} to convert a lead."})
    return out


def converted(lead: dict[str, Any]) -> bool:
    """Converted by a conversion (a lead only marked ``converted`` by hand has no
    customer: a conversion may still link one)."""
    return lead["status"] == "converted" and lead["customer_id"] is not None


def _full_name(lead: dict[str, Any]) -> str | None:
    name = " ".join(p for p in (lead.get("first_name"), lead.get("last_name")) if p)
    return name or None


def new_customer_values(lead: dict[str, Any], body: ConvertCustomer) -> dict[str, Any]:
    """The values of the customer a conversion makes: what ``body`` gives, else from
    the lead (a company when the lead names one, else a person). A company keeps the
    lead's (non free) email domain for later matches."""
    sent = body.model_dump(exclude={"id", "create"})
    kind = sent["kind"] or ("company" if lead.get("company") else "person")
    person = kind == "person"
    name = sent["name"] or ((lead.get("company") if not person else None)
                            or _full_name(lead) or lead.get("company") or lead.get("email"))
    if not name:
        raise ValidationFailed("The customer needs a name: the lead has no company, name "
                               "or email.", code="CUSTOMER_NAME_REQUIRED",
                               errors=[{"field": "customer.name", "message": "required"}])
    values = {**sent, "kind": kind, "name": name[:300]}
    if person:
        values["email"] = sent["email"] or lead.get("email")
        values["phone"] = sent["phone"] or lead.get("phone")
    if values["owner_id"] is None:
        values["owner_id"] = lead.get("owner_id")
    return values


def match_keys(lead: dict[str, Any], values: dict[str, Any]
               ) -> tuple[str | None, str | None, str | None]:
    """(name key, company domain, email) a conversion matches existing customers by."""
    key = keys.name_key(lead.get("company") or values["name"]) or None
    email = lead.get("email") or values.get("email")
    domain = keys.matchable_domain(keys.domain_of_email(email))
    return key, domain, (email.lower() if email else None)


async def check_matches(session: AsyncSession, *, ctx: Context, lead: dict[str, Any],
                        values: dict[str, Any]) -> None:
    """409 ``CUSTOMER_MATCH_FOUND`` when live customers match what the conversion would
    create: ``candidates`` are those the caller may see (reuse one with
    ``customer: {id}``), ``hidden_candidates`` counts the others (an agent's colleagues');
    ``customer: {create: true}`` creates a new one anyway. The match keys stay locked
    until the transaction ends (concurrent conversions of one company wait)."""
    key, domain, email = match_keys(lead, values)
    rows = await repository.lock_and_match(session, tenant_id=ctx.tenant_id, key=key,
                                           domain=domain, email=email)
    if not rows:
        return
    seen = await repository.visible_ids(session, scope=customers_service.scope_of(ctx),
                                        ids=[r["id"] for r in rows])
    shown = [_candidate(r) for r in rows if r["id"] in seen]
    raise Conflict(
        "Existing customers match this lead: reuse one with customer.id, or create a new "
        "one with customer.create=true.", code="CUSTOMER_MATCH_FOUND",
        extra={"candidates": shown, "hidden_candidates": len(rows) - len(shown)})


def _candidate(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(row["id"]), "kind": row["kind"], "name": row["name"],
            "email": row["email"], "email_domain": row["email_domain"],
            "owner_id": str(row["owner_id"]) if row["owner_id"] else None,
            "matched_on": list(row["matched_on"])}


async def reusable(session: AsyncSession, *, ctx: Context,
                   customer_id: uuid.UUID) -> dict[str, Any]:
    """A live customer the caller may see, for ``customer: {id}`` (else 422)."""
    row = await repository.get(session, scope=customers_service.scope_of(ctx),
                               customer_id=customer_id, for_update=True)
    if row is None:
        raise ValidationFailed("Unknown customer.", code="CUSTOMER_NOT_FOUND",
                               errors=[{"field": "customer.id", "message": "unknown customer"}])
    return row
