"""The profile's string ids: a prefix and the row's UUID in 32 hex digits.

``lead_0190f3c2a1b27c3e8d4f5a6b7c8d9e0f`` is the lead whose canonical id is
``0190f3c2-a1b2-7c3e-8d4f-5a6b7c8d9e0f``: reversible without a lookup (no query to turn
an id into a row, or an owner into an ``agent_…`` id on a page of leads), and as
unguessable as the UUID. Prefixes: ``lead_`` (leads), ``act_`` (activities), ``opp_``
(opportunities), ``agent_`` (users), ``cus_`` (customers). The canonical form with dashes
is accepted after the prefix as well; anything else names nothing (404).

Every id a request names is remembered on the request (``request.state``), so that a
service's not-found answers in the document's words: ``"Lead lead_xxx not found"``.
"""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import Request

from leadbase.kit.errors import NotFound

Kind = Literal["lead", "activity", "opportunity", "agent", "customer"]
PREFIX: dict[Kind, str] = {"lead": "lead_", "activity": "act_", "opportunity": "opp_",
                           "agent": "agent_", "customer": "cus_"}
LABEL: dict[Kind, str] = {"lead": "Lead", "activity": "Activity",
                          "opportunity": "Opportunity", "agent": "Agent",
                          "customer": "Customer"}
# The canonical not-found codes → the kind of id they are about.
NOT_FOUND_KINDS: dict[str, Kind] = {
    "LEAD_NOT_FOUND": "lead", "ACTIVITY_NOT_FOUND": "activity",
    "OPPORTUNITY_NOT_FOUND": "opportunity", "USER_NOT_FOUND": "agent",
    "OWNER_NOT_FOUND": "agent", "CUSTOMER_NOT_FOUND": "customer"}
MAX_ID = 64


def encode(kind: Kind, value: uuid.UUID | None) -> str | None:
    return None if value is None else PREFIX[kind] + value.hex


def parse(kind: Kind, raw: str) -> uuid.UUID | None:
    """The UUID a profile id names, or None when it is no id of this kind."""
    prefix = PREFIX[kind]
    if not isinstance(raw, str) or len(raw) > MAX_ID or not raw.startswith(prefix):
        return None
    body = raw[len(prefix):]
    if len(body) not in (32, 36):
        return None
    try:
        return uuid.UUID(body)
    except ValueError:
        return None


def not_found(kind: Kind, raw: str) -> NotFound:
    code = {v: k for k, v in NOT_FOUND_KINDS.items() if k != "OWNER_NOT_FOUND"}[kind]
    return NotFound(f"{LABEL[kind]} {raw} not found", code=code)


def remember(request: Request, kind: Kind, raw: str) -> None:
    named: dict[str, str] = getattr(request.state, "crm_ids", None) or {}
    named.setdefault(kind, raw)
    request.state.crm_ids = named


def named(request: Request, kind: Kind) -> str | None:
    found: dict[str, str] = getattr(request.state, "crm_ids", None) or {}
    return found.get(kind)


def resolve(request: Request, kind: Kind, raw: str) -> uuid.UUID:
    """The UUID ``raw`` names (remembered for the error messages), or the document's 404."""
    remember(request, kind, raw)
    value = parse(kind, raw)
    if value is None:
        raise not_found(kind, raw)
    return value
