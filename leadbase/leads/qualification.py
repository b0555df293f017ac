"""Qualifying and unqualifying leads, and the report of unqualify reasons.

- ``qualify``: status ``qualified`` and ``qualified_at`` (from any status but
  ``converted``; a merged lead neither); already qualified: nothing changes.
- ``unqualify``: status ``unqualified`` with the reason, kept in
  ``leads.unqualified_reason`` (the last one) and on the timeline entry (every one, for
  the report); the same reason again changes nothing.
- Both lock the lead row, honour ``If-Match`` (412), put a ``status_change`` entry on
  the timeline, audit (``lead.qualified`` / ``lead.unqualified``) and emit
  ``lead.updated`` (what scoring, auto-advance and webhooks already follow).
- ``unqualified_reasons``: unqualify decisions in [from, to) per reason, among the
  leads the caller may read.

Errors: ``LEAD_NOT_FOUND`` 404, ``LEAD_CONVERTED`` / ``LEAD_MERGED`` 409,
``VERSION_MISMATCH`` 412, ``INVALID_RANGE`` 422.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.activities import service as activities
from leadbase.audit import service as audit
from leadbase.auth.context import Context
from leadbase.events import outbox
from leadbase.kit.checks import check_version
from leadbase.kit.errors import Conflict, ValidationFailed
from leadbase.leads import repository
from leadbase.leads.repository import readable
from leadbase.leads.service import event_payload, lead_not_found

DEFAULT_REPORT_DAYS = 30
MAX_REASONS = 200


async def locked_lead(session: AsyncSession, *, ctx: Context, lead_id: uuid.UUID,
                      include_deleted: bool = False) -> dict[str, Any]:
    """The lead ``ctx`` may write, its row locked (404 otherwise; deleted ones only with
    ``include_deleted``)."""
    lead = await repository.with_merge(session, scope=readable(ctx), lead_id=lead_id,
                                       for_update=True)
    if lead is None or (lead["deleted_at"] is not None and not include_deleted):
        raise lead_not_found()
    return lead


def _refuse_closed(lead: dict[str, Any], action: str) -> None:
    if lead["merged_into_id"] is not None:
        raise Conflict(f"A merged lead cannot be {action}; use the lead it was merged into.",
                       code="LEAD_MERGED", extra={"merged_into": str(lead["merged_into_id"])})
    if lead["status"] == "converted":
        raise Conflict(f"A converted lead cannot be {action}.", code="LEAD_CONVERTED",
                       extra={"customer_id": str(lead["customer_id"])
                              if lead["customer_id"] else None})


async def _write(session: AsyncSession, ctx: Context, current: dict[str, Any],
                 values: dict[str, Any], action: str, entry: dict[str, Any]) -> dict[str, Any]:
    lead = await repository.update_lead(session, scope=readable(ctx), lead_id=current["id"],
                                        values=values)
    await activities.log_system(session, ctx, lead_id=lead["id"], type="status_change",
                                attributes={"from": current["status"], **entry})
    fields = sorted(values)
    await audit.record(session, ctx=ctx, action=action, entity_type="lead",
                       entity_id=lead["id"], changes={"fields": fields, **entry},
                       event=outbox.event(tenant_id=ctx.tenant_id, type="lead.updated",
                                          entity_type="lead", entity_id=lead["id"],
                                          payload={"lead": event_payload(lead),
                                                   "changed": fields}))
    return lead


async def qualify(session: AsyncSession, *, ctx: Context, lead_id: uuid.UUID,
                  expected_version: int | None = None) -> dict[str, Any]:
    current = await locked_lead(session, ctx=ctx, lead_id=lead_id)
    check_version(current, expected_version, what="lead")
    _refuse_closed(current, "qualified")
    if current["status"] == "qualified":
        return current
    return await _write(session, ctx, current,
                        {"status": "qualified", "qualified_at": func.now()},
                        "lead.qualified", {"to": "qualified"})


async def unqualify(session: AsyncSession, *, ctx: Context, lead_id: uuid.UUID,
                    reason: str, expected_version: int | None = None) -> dict[str, Any]:
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationFailed("A reason is required.", code="REASON_REQUIRED",
                               errors=[{"field": "reason", "message": "required"}])
    current = await locked_lead(session, ctx=ctx, lead_id=lead_id)
    check_version(current, expected_version, what="lead")
    _refuse_closed(current, "unqualified")
    if current["status"] == "unqualified" and current["unqualified_reason"] == reason:
        return current
    return await _write(session, ctx, current,
                        {"status": "unqualified", "unqualified_reason": reason},
                        "lead.unqualified", {"to": "unqualified", "reason": reason})


async def unqualified_reasons(session: AsyncSession, *, ctx: Context,
                              start: datetime | None, end: datetime | None
                              ) -> dict[str, Any]:
    """``{start, end, total, reasons: [{reason, count}]}``: unqualify decisions in
    [start, end) (default: the 30 days before ``end``, which defaults to now), most
    frequent first (at most 200 reasons)."""
    end = end or datetime.now(UTC)
    start = start or end - timedelta(days=DEFAULT_REPORT_DAYS)
    if start >= end:
        raise ValidationFailed("'from' must be before 'to'.", code="INVALID_RANGE",
                               errors=[{"field": "from", "message": "must be before 'to'"}])
    total, reasons = await repository.unqualified_reasons(
        session, leads=readable(ctx), start=start, end=end, limit=MAX_REASONS)
    return {"start": start, "end": end, "total": total, "reasons": reasons}
