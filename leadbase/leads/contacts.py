"""The lead a piece of contact data is about: found by its normalised email or phone, or
created. Faces that file work "about a person" by a contact (the ``autos`` profile's
``targetInfo``) call :func:`lead_for_contact`, so two items about one person share one lead.

Rules (decided here, once, for every caller):

- A contact with an ``@`` is an email, anything else a phone number; both are normalised
  with the leads' own rules (``leads.rules``: the email lowercased and checked, the phone to
  E.164 with the workspace's region), so ``+212-600-123456`` and ``+212600123456`` are one
  person. A contact that is neither is the 422 of the rule (``INVALID_EMAIL`` /
  ``INVALID_PHONE``).
- The lookup is the duplicate check of lead creation (``repository.find_duplicate``): the
  oldest live lead with that email or phone, under the transaction's advisory lock of
  that identity, so two concurrent requests about one new person make one lead.
- A lead found is used as it is: the name sent does not rename it.
- A lead created gets the name split at its first run of whitespace (``"Ana María López"``
  → first name ``Ana``, last name ``María López``; one word → first name only), the
  contact, and the caller as owner when the caller is an agent (as any lead an agent
  creates).
- Changing the contact of an item's person (:func:`claim_contact`): a contact of that lead
  already is kept; one no live lead has becomes the lead's email or phone; one of another
  lead is a 422 ``CONTACT_TAKEN`` (the item would be about someone else).
- The contact belongs to a lead the caller may not read (an agent, another agent's lead):
  403 ``CONTACT_NOT_YOURS``. The caller is not given that lead, and no second lead is made
  for the same person (that would split the person's history in two).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.auth.context import Context
from leadbase.kit.errors import Forbidden, ValidationFailed
from leadbase.leads import repository, rules, service
from leadbase.leads.repository import readable
from leadbase.leads.schemas import LeadCreate, LeadUpdate
from leadbase.tenants import service as tenants_service

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class ContactLead:
    lead: dict[str, Any]
    created: bool


def split_name(name: str | None) -> tuple[str | None, str | None]:
    """``(first_name, last_name)`` of a full name: split at the first whitespace."""
    words = _SPACE.split((name or "").strip(), maxsplit=1)
    first = words[0] or None
    last = words[1] if len(words) > 1 else None
    return first, last


def full_name(lead: dict[str, Any]) -> str:
    """The name a lead is shown by: first and last name joined by a space."""
    return " ".join(p for p in (lead.get("first_name"), lead.get("last_name")) if p)


async def normalised_contact(session: AsyncSession, *, ctx: Context,
                             contact: str) -> dict[str, str]:
    """``{"email": ...}`` or ``{"phone": ...}``: the contact as a lead stores it."""
    raw = contact.strip()
    if "@" in raw:
        return {"email": rules.email(raw)}
    ws = await tenants_service.defaults(session, tenant_id=ctx.tenant_id)
    parsed = rules.phone(raw, region=ws.region, timezone=ws.timezone)
    return {"phone": str(parsed["phone"])}


def not_yours() -> Forbidden:
    return Forbidden("This contact belongs to a lead you cannot access.",
                     code="CONTACT_NOT_YOURS")


async def lead_for_contact(session: AsyncSession, *, ctx: Context, contact: str,
                           name: str | None) -> ContactLead:
    """The live lead whose email or phone is ``contact`` (normalised), or a new one named
    ``name``. 422 for a contact that is no email and no phone number; 403
    ``CONTACT_NOT_YOURS`` when the lead is out of the caller's reach."""
    values = await normalised_contact(session, ctx=ctx, contact=contact)
    found = await repository.find_duplicate(session, tenant_id=ctx.tenant_id,
                                            email=values.get("email"),
                                            phone=values.get("phone"))
    if found is not None:
        lead = await repository.get(session, scope=readable(ctx), lead_id=found[0])
        if lead is None:
            raise not_yours()
        return ContactLead(lead=lead, created=False)
    first, last = split_name(name)
    body = LeadCreate(first_name=first, last_name=last, **values)
    # The identity's lock is held (find_duplicate, until commit) and nobody has it:
    # create without looking again.
    result = await service.create_lead(session, ctx=ctx, body=body, on_duplicate="allow")
    return ContactLead(lead=result.lead, created=True)


async def rename(session: AsyncSession, *, ctx: Context, lead_id: uuid.UUID,
                 name: str) -> dict[str, Any]:
    """Give the lead the full name ``name`` (split as for a new lead)."""
    first, last = split_name(name)
    current = await service.get_lead(session, ctx=ctx, lead_id=lead_id, for_update=True)
    if (current["first_name"], current["last_name"]) == (first, last):
        return current
    return await service.update_lead(session, ctx=ctx, lead_id=lead_id,
                                     body=LeadUpdate(first_name=first, last_name=last),
                                     expected_version=None)


async def claim_contact(session: AsyncSession, *, ctx: Context, lead_id: uuid.UUID,
                        contact: str) -> dict[str, Any]:
    """The lead, with ``contact`` as its email or phone: kept when it is the lead's
    already, set when no live lead has it, 422 ``CONTACT_TAKEN`` when another has."""
    values = await normalised_contact(session, ctx=ctx, contact=contact)
    current = await service.get_lead(session, ctx=ctx, lead_id=lead_id, for_update=True)
    found = await repository.find_duplicate(session, tenant_id=ctx.tenant_id,
                                            email=values.get("email"),
                                            phone=values.get("phone"))
    if found is not None and found[0] == lead_id:
        return current
    if found is not None:
        field = next(iter(values))
        raise ValidationFailed(f"This {field} belongs to another lead.", code="CONTACT_TAKEN",
                               errors=[{"field": field, "message": "belongs to another lead"}])
    return await service.update_lead(session, ctx=ctx, lead_id=lead_id,
                                     body=LeadUpdate(**values), expected_version=None)
