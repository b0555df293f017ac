"""Rules for activities.

``log_system`` is how every other domain puts an entry on a lead's timeline (a stage move,
a status change, an assignment, a task event): call it in the writing transaction. It
moves the lead's ``last_activity_at`` too; a caller that updates the lead anyway takes
:func:`system_entry` (the INSERT alone, as a statement for its own round trip) and moves
the clock in its own UPDATE.

An activity is *scheduled* while ``completed_at`` is empty (it was given a
``scheduled_for`` and not done yet) and *completed* once it has one. ``occurred_at``
places it on the timeline: when it happened, or when it is planned for. Every write
moves the lead's ``last_activity_at`` forward (to when it happened, or to now for a
planned one); a completed contact (:data:`types.CONTACT_TYPES`) moves
``last_contacted_at``. Both only ever move forward: deleting an activity leaves them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.activities import repository, types
from leadbase.activities.schemas import ActivityCreate, ActivityRead, ActivityUpdate
from leadbase.activities.types import SYSTEM_TYPES
from leadbase.audit import service as audit
from leadbase.auth.context import Context
from leadbase.db import raw
from leadbase.db.raw import Statement
from leadbase.events import outbox
from leadbase.kit.checks import check_version, require_changes
from leadbase.kit.errors import Forbidden, NotFound, ValidationFailed
from leadbase.kit.ids import new_id
from leadbase.kit.pagination import decode_cursor, encode_cursor
from leadbase.leads.repository import readable
from leadbase.opportunities import repository as opportunities_repository

# A completed activity may be dated this far ahead of the server's clock (clock skew).
FUTURE_SKEW = timedelta(minutes=5)
LIST_SORT = "-occurred_at,-id"
UPCOMING_SORT = "scheduled_for,id"


async def log_system(
    session: AsyncSession, ctx: Context, *, lead_id: uuid.UUID, type: str,
    attributes: dict[str, Any], description: str | None = None,
    occurred_at: datetime | None = None, task_id: uuid.UUID | None = None,
    listing_id: uuid.UUID | None = None, opportunity_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """A completed system entry on ``lead_id``'s timeline, by the context's actor (about
    ``opportunity_id`` when given). The caller has checked that the lead is readable by
    ``ctx``."""
    if type not in SYSTEM_TYPES:
        raise ValueError(f"not a system activity type: {type!r}")
    return await repository.insert_completed(
        session, tenant_id=ctx.tenant_id, lead_id=lead_id, type=type, attributes=attributes,
        description=description, author_user_id=ctx.actor_user_id, occurred_at=occurred_at,
        task_id=task_id, listing_id=listing_id, opportunity_id=opportunity_id)


def system_entry(ctx: Context, *, lead_id: uuid.UUID, type: str, attributes: dict[str, Any],
                 description: str | None = None, occurred_at: datetime | None = None,
                 task_id: uuid.UUID | None = None, listing_id: uuid.UUID | None = None
                 ) -> tuple[uuid.UUID, Statement]:
    """:func:`log_system` as a statement (its id, and the INSERT) for a caller that
    updates the lead itself in the same transaction and sends it in its own round trip:
    the entry's INSERT alone, the lead's ``last_activity_at`` left to the caller's UPDATE
    of the lead (``greatest(last_activity_at, occurred_at)``), so a write logs its entry
    without a second UPDATE of the lead (a stage move)."""
    if type not in SYSTEM_TYPES:
        raise ValueError(f"not a system activity type: {type!r}")
    return repository.entry_only_statement(
        tenant_id=ctx.tenant_id, lead_id=lead_id, type=type, attributes=attributes,
        description=description, author_user_id=ctx.actor_user_id, occurred_at=occurred_at,
        task_id=task_id, listing_id=listing_id)
async def log_system_many(
    session: AsyncSession, ctx: Context, *,
    entries: list[tuple[uuid.UUID, str, dict[str, Any], str | None]],
) -> None:
    """:func:`log_system` for many leads at once, set-based: ``(lead_id, type,
    attributes, description)`` each. The caller has checked the leads are readable."""
    for entry in entries:
        if entry[1] not in SYSTEM_TYPES:
            raise ValueError(f"not a system activity type: {entry[1]!r}")
    await repository.insert_system_many(session, tenant_id=ctx.tenant_id, entries=entries,
                                        author_user_id=ctx.actor_user_id)


def system_statement(ctx: Context, *, lead_id: uuid.UUID, type: str,
                     attributes: dict[str, Any], description: str | None = None
                     ) -> raw.Statement:
    """:func:`log_system` as a statement, for a caller that sends it in one round trip
    with its other writes (an assignment with its audit entry and event)."""
    if type not in SYSTEM_TYPES:
        raise ValueError(f"not a system activity type: {type!r}")
    return repository.system_statement(
        tenant_id=ctx.tenant_id, lead_id=lead_id, ids=[new_id()],
        entries=[(type, attributes, description)], author_user_id=ctx.actor_user_id,
        occurred_at=None)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


async def log_lead_changes(session: AsyncSession, ctx: Context, *, lead_id: uuid.UUID,
                           before: dict[str, Any], changed: dict[str, Any]) -> None:
    """The ``status_change`` and ``assignment`` entries of one lead write (the leads
    service calls this with the lead as it was and the columns that changed), in one
    statement."""
    entries: list[tuple[str, dict[str, Any], str | None]] = []
    if "status" in changed:
        entries.append(("status_change", {"from": before.get("status"),
                                          "to": changed["status"]}, None))
    if "owner_id" in changed:
        entries.append(("assignment", {"from_owner_id": _str(before.get("owner_id")),
                                       "to_owner_id": _str(changed["owner_id"])}, None))
    if entries:
        await repository.insert_system(session, tenant_id=ctx.tenant_id, lead_id=lead_id,
                                       entries=entries, author_user_id=ctx.actor_user_id,
                                       occurred_at=None)


async def _opportunity_lead(session: AsyncSession, ctx: Context,
                            opportunity_id: uuid.UUID,
                            lead_id: uuid.UUID | None) -> uuid.UUID | None:
    """The lead of an opportunity ``ctx`` reaches (404 ``OPPORTUNITY_NOT_FOUND``
    otherwise); a ``lead_id`` sent beside it must be that lead."""
    # Imported here: the opportunities service writes timeline entries through this one.
    from leadbase.opportunities import service as opportunities_service

    opportunity = await opportunities_service.get_opportunity(
        session, ctx=ctx, opportunity_id=opportunity_id)
    if lead_id is not None and lead_id != opportunity["lead_id"]:
        raise invalid("lead_id", "not the lead of the opportunity")
    found: uuid.UUID | None = opportunity["lead_id"]
    return found


def _not_found() -> NotFound:
    return NotFound("Activity not found.", code="ACTIVITY_NOT_FOUND")


def lead_not_found() -> NotFound:
    return NotFound("Lead not found.", code="LEAD_NOT_FOUND")


def read_model(row: dict[str, Any]) -> ActivityRead:
    return ActivityRead.model_validate({
        **row, "status": "scheduled" if row["completed_at"] is None else "completed",
        "is_system": row["type"] in SYSTEM_TYPES})


def _payload(row: dict[str, Any]) -> dict[str, Any]:
    return read_model(row).model_dump(mode="json")


def invalid(field: str, message: str, code: str = "INVALID_ACTIVITY") -> ValidationFailed:
    return ValidationFailed(f"{field}: {message}", code=code,
                            errors=[{"field": field, "message": message}])


def _when(values: dict[str, Any], now: datetime) -> dict[str, Any]:
    """``occurred_at`` from what was given, and the checks on the moments."""
    completed, scheduled = values.get("completed_at"), values.get("scheduled_for")
    for key in ("completed_at", "occurred_at"):
        moment = values.get(key)
        if moment is not None and completed is not None and moment > now + FUTURE_SKEW:
            raise invalid(key, "a completed activity cannot be in the future")
    if values.get("occurred_at") is None:
        values["occurred_at"] = completed or scheduled or now
    return values


def _clocks(row: dict[str, Any], now: datetime) -> tuple[datetime, datetime | None]:
    """Where a write of ``row`` moves its lead's ``last_activity_at`` and
    ``last_contacted_at``."""
    if row.get("completed_at") is None:
        return now, None
    touch = min(row["occurred_at"], now)
    contact = touch if types.is_contact(row["type"], row.get("attributes") or {}) else None
    return touch, contact


async def create(session: AsyncSession, *, ctx: Context,
                 body: ActivityCreate) -> dict[str, Any]:
    """An activity about a lead the caller reads, or about an opportunity it reaches (the
    opportunity's lead, if any, becomes the activity's: its timeline shows it)."""
    scope = readable(ctx)
    values = body.model_dump()
    values["attributes"] = types.validate_attributes(body.type, body.attributes)
    if body.opportunity_id is not None:
        values["lead_id"] = await _opportunity_lead(session, ctx, body.opportunity_id,
                                                    body.lead_id)
    elif body.lead_id is None:
        raise invalid("lead_id", "lead_id or opportunity_id is required")
    elif not await repository.lead_reachable(session, scope=scope, lead_id=body.lead_id):
        raise lead_not_found()
    task_ok, listing_ok = await repository.references_exist(
        session, tenant_id=ctx.tenant_id, lead_id=values["lead_id"], task_id=body.task_id,
        listing_id=body.listing_id)
    if not task_ok:
        raise invalid("task_id", "no such task of this lead", code="TASK_NOT_FOUND")
    if not listing_ok:
        raise invalid("listing_id", "no such listing", code="LISTING_NOT_FOUND")
    now = datetime.now(UTC)
    if values["scheduled_for"] is None and values["completed_at"] is None:
        values["completed_at"] = values["occurred_at"] or now
    _when(values, now)
    values["author_user_id"] = ctx.actor_user_id
    touch, contact = _clocks(values, now)
    row = await repository.insert(session, tenant_id=ctx.tenant_id, values=values,
                                  touch=touch, contact=contact)
    if row["opportunity_id"] is not None:
        await opportunities_repository.touch(session, tenant_id=ctx.tenant_id,
                                             opportunity_id=row["opportunity_id"], at=touch)
    await audit.record(session, ctx=ctx, action="activity.created", entity_type="activity",
                       entity_id=row["id"], changes={"type": row["type"],
                                                     "lead_id": _str(row["lead_id"]),
                                                     "opportunity_id":
                                                         _str(row["opportunity_id"])},
                       event=outbox.event(tenant_id=ctx.tenant_id, type="activity.created",
                                          entity_type="activity", entity_id=row["id"],
                                          payload=_payload(row)))
    return row


async def get(session: AsyncSession, *, ctx: Context, activity_id: uuid.UUID,
              for_update: bool = False) -> dict[str, Any]:
    row = await repository.get(session, scope=readable(ctx), activity_id=activity_id,
                               for_update=for_update)
    if row is None:
        raise _not_found()
    return row


def _writable(row: dict[str, Any]) -> None:
    if row["type"] in SYSTEM_TYPES:
        raise Forbidden("System entries are written by Leadbase and cannot be changed or "
                        "deleted.", code="SYSTEM_ACTIVITY_READ_ONLY")


async def update(session: AsyncSession, *, ctx: Context, activity_id: uuid.UUID,
                 body: ActivityUpdate, expected_version: int | None) -> dict[str, Any]:
    current = await get(session, ctx=ctx, activity_id=activity_id, for_update=True)
    _writable(current)
    check_version(current, expected_version, what="activity")
    patch = body.model_dump(exclude_unset=True)
    require_changes(patch)
    if "attributes" in patch:
        if patch["attributes"] is None:
            raise invalid("attributes", "cannot be null")
        merged = {**current["attributes"], **patch["attributes"]}
        patch["attributes"] = types.validate_attributes(
            current["type"], {k: v for k, v in merged.items() if v is not None})
    if "occurred_at" in patch and patch["occurred_at"] is None:
        raise invalid("occurred_at", "cannot be null")
    after = {**current, **patch}
    if after["completed_at"] is None and after["scheduled_for"] is None:
        raise invalid("completed_at", "an activity is either completed or scheduled")
    now = datetime.now(UTC)
    if "completed_at" in patch and patch["completed_at"] is not None \
            and current["completed_at"] is None and "occurred_at" not in patch:
        after["occurred_at"] = patch["completed_at"]  # done now: placed when it was done
    elif "scheduled_for" in patch and after["completed_at"] is None \
            and "occurred_at" not in patch and patch["scheduled_for"] is not None:
        after["occurred_at"] = patch["scheduled_for"]
    check = {k: after[k] for k in ("completed_at", "scheduled_for")}
    check["occurred_at"] = after["occurred_at"]
    _when(check, now)
    columns = ("description", "attributes", "scheduled_for", "completed_at", "occurred_at")
    changed = {k: after[k] for k in columns if after[k] != current[k]}
    if not changed:
        return current
    touch, contact = _clocks(after, now)
    row = await repository.update(session, tenant_id=ctx.tenant_id, activity_id=activity_id,
                                  values=changed, touch=touch, contact=contact)
    if row["opportunity_id"] is not None:
        await opportunities_repository.touch(session, tenant_id=ctx.tenant_id,
                                             opportunity_id=row["opportunity_id"], at=touch)
    fields = sorted(changed)
    await audit.record(session, ctx=ctx, action="activity.updated", entity_type="activity",
                       entity_id=activity_id, changes={"fields": fields},
                       event=outbox.event(tenant_id=ctx.tenant_id, type="activity.updated",
                                          entity_type="activity", entity_id=activity_id,
                                          payload={"activity": _payload(row),
                                                   "changed": fields}))
    return row


async def delete(session: AsyncSession, *, ctx: Context, activity_id: uuid.UUID,
                 expected_version: int | None) -> None:
    current = await get(session, ctx=ctx, activity_id=activity_id, for_update=True)
    _writable(current)
    check_version(current, expected_version, what="activity")
    await repository.soft_delete(session, tenant_id=ctx.tenant_id, activity_id=activity_id)
    await audit.record(session, ctx=ctx, action="activity.deleted", entity_type="activity",
                       entity_id=activity_id,
                       event=outbox.event(tenant_id=ctx.tenant_id, type="activity.deleted",
                                          entity_type="activity", entity_id=activity_id,
                                          payload={"id": str(activity_id),
                                                   "lead_id": _str(current["lead_id"]),
                                                   "opportunity_id":
                                                       _str(current["opportunity_id"])}))


def paged(rows: list[dict[str, Any]], limit: int, sort: str,
          key: tuple[str, str]) -> tuple[list[dict[str, Any]], str | None]:
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(sort, [rows[-1][key[0]], rows[-1][key[1]]])


def after_of(cursor: str | None, sort: str) -> list[Any] | None:
    return decode_cursor(cursor, sort, (datetime, uuid.UUID)) if cursor else None


async def list_activities(session: AsyncSession, *, ctx: Context, f: dict[str, Any],
                          cursor: str | None,
                          limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first, keyset-paged, among the activities of the leads ``ctx`` reads."""
    unknown = sorted(set(f.get("types") or ()) - types.ALL_TYPES)
    if unknown:
        raise invalid("type", f"unknown activity types: {', '.join(unknown)}")
    rows = await repository.list_page(session, scope=readable(ctx), f=f,
                                      after=after_of(cursor, LIST_SORT), limit=limit + 1)
    return paged(rows, limit, LIST_SORT, ("occurred_at", "id"))
