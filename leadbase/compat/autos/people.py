"""The person a lead of the document is about (``targetName``, ``targetInfo``): calls to
``leads.contacts``, and the task's metadata key that keeps ``targetInfo`` as it was sent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from leadbase.auth.deps import RequestScope
from leadbase.compat.autos import views
from leadbase.compat.autos.schemas import LeadOut
from leadbase.leads import contacts

# The task's metadata: {"autos": {"targetInfo": "<as sent>"}}.
KEY = "autos"


def _summary(lead: Mapping[str, Any]) -> dict[str, Any]:
    return {k: lead.get(k) for k in ("id", "first_name", "last_name", "email", "phone",
                                     "owner_id")}


async def person(scope: RequestScope, target_info: str, target_name: str) -> dict[str, Any]:
    """The lead ``target_info`` names (found or created with ``target_name``)."""
    found = await contacts.lead_for_contact(scope.session, ctx=scope.ctx,
                                            contact=target_info, name=target_name)
    return _summary(found.lead)


async def change(scope: RequestScope, task: Mapping[str, Any], target_name: str | None,
                 target_info: str | None) -> dict[str, Any]:
    """The task's person renamed and/or given the contact (``leads.contacts`` rules)."""
    lead: Mapping[str, Any] = task["lead"]
    if target_info is not None:
        lead = await contacts.claim_contact(scope.session, ctx=scope.ctx,
                                            lead_id=task["lead_id"], contact=target_info)
    if target_name is not None:
        lead = await contacts.rename(scope.session, ctx=scope.ctx, lead_id=task["lead_id"],
                                     name=target_name)
    return _summary(lead)


def metadata(current: Mapping[str, Any] | None, target_info: str) -> dict[str, Any]:
    return {**(current or {}), KEY: {**((current or {}).get(KEY) or {}),
                                     "targetInfo": target_info}}


def target_info(task: Mapping[str, Any]) -> str:
    """As sent; for a task filed elsewhere (the canonical API), the person's phone or
    email."""
    sent = ((task.get("metadata") or {}).get(KEY) or {}).get("targetInfo")
    if isinstance(sent, str):
        return sent
    lead = task.get("lead") or {}
    return str(lead.get("phone") or lead.get("email") or "")


def view(task: Mapping[str, Any]) -> LeadOut:
    return views.lead(task, contacts.full_name(task.get("lead") or {}), target_info(task))
