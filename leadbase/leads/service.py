"""Rules for leads: normalisation, duplicates, visibility, concurrency, audit and events."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.audit import service as audit
from leadbase.auth.context import Context
from leadbase.events import outbox
from leadbase.fields import values as field_values
from leadbase.kit.checks import check_version, require_changes
from leadbase.kit.contact import normalize_email, parse_phone
from leadbase.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from leadbase.kit.pagination import PageParams, decode_cursor, encode_cursor
from leadbase.kit.sorting import parse_sort
from leadbase.leads import field_filters, repository
from leadbase.leads.schemas import LeadCreate, LeadRead, LeadUpdate, OnDuplicate
from leadbase.tenants import service as tenants_service
from leadbase.users import repository as users_repository

IDENTITY = ("first_name", "last_name", "email", "phone")


def _not_found() -> NotFound:
    return NotFound("Lead not found.", code="LEAD_NOT_FOUND")


def event_payload(lead: dict[str, Any]) -> dict[str, Any]:
    return LeadRead.model_validate(lead).model_dump(mode="json")


async def _normalise(session: AsyncSession, ctx: Context, values: dict[str, Any]) -> None:
    """Normalise contact data in place: E.164 phone with time zone and country, email."""
    if values.get("email") is not None:
        values["email"] = normalize_email(values["email"])
    if "phone" in values:
        if values["phone"] is None:
            values["timezone"] = None
            values["country"] = None
        else:
            ws = await tenants_service.defaults(session, tenant_id=ctx.tenant_id)
            phone = parse_phone(values["phone"], region=ws.region,
                                preferred_timezone=ws.timezone)
            values["phone"] = phone.e164
            values["timezone"] = phone.timezone
            values["country"] = phone.country


async def _check_owner(session: AsyncSession, ctx: Context, owner_id: uuid.UUID | None) -> None:
    if owner_id is None:
        return
    if ctx.sees_only_own_leads and owner_id != ctx.actor_user_id:
        raise Forbidden("An agent can only assign leads to themselves.",
                        code="OWNER_NOT_ALLOWED")
    user = await users_repository.get(session, tenant_id=ctx.tenant_id, user_id=owner_id)
    if user is None or not user["is_active"]:
        raise ValidationFailed("The owner must be an active user of this workspace.",
                               code="OWNER_NOT_FOUND",
                               errors=[{"field": "owner_id",
                                        "message": "unknown or inactive user"}])


async def _duplicate(session: AsyncSession, ctx: Context, email: str | None, phone: str | None,
                     exclude_id: uuid.UUID | None = None) -> tuple[uuid.UUID, str] | None:
    return await repository.find_duplicate(session, tenant_id=ctx.tenant_id, email=email,
                                           phone=phone, exclude_id=exclude_id)


def _duplicate_error(found: tuple[uuid.UUID, str]) -> Conflict:
    existing_id, matched_on = found
    return Conflict(
        f"A lead with this {matched_on} already exists.",
        code="DUPLICATE_LEAD",
        extra={"existing_id": str(existing_id), "matched_on": matched_on},
    )


async def _written(write: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    """The lead row a write returns; 409 when the database refuses a primary value another
    live lead of the list holds (the ``lead_field_keys`` triggers, for every writer)."""
    try:
        return await write
    except repository.PrimaryValueTaken as exc:
        raise field_values.primary_value_taken(exc.code, exc.existing_id) from None


@dataclass(frozen=True)
class CreateResult:
    lead: dict[str, Any]
    created: bool  # False when merged into an existing lead (on_duplicate=update)


async def create_lead(session: AsyncSession, *, ctx: Context, body: LeadCreate,
                      on_duplicate: OnDuplicate = "error") -> CreateResult:
    values = body.model_dump(exclude_unset=False)
    if not any(values.get(k) for k in IDENTITY):
        raise ValidationFailed(
            "A lead needs at least a name, an email or a phone number.",
            code="LEAD_IDENTITY_REQUIRED",
            errors=[{"field": k, "message": "one of first_name, last_name, email, phone "
                     "is required"} for k in IDENTITY],
        )
    await _normalise(session, ctx, values)
    if values.get("owner_id") is None and ctx.sees_only_own_leads:
        values["owner_id"] = ctx.actor_user_id
    await _check_owner(session, ctx, values.get("owner_id"))
    ws = await tenants_service.defaults(session, tenant_id=ctx.tenant_id)
    if values.get("list_id") is None:
        values["list_id"] = ws.default_list_id
    values["fields"] = await field_values.apply(
        session, tenant_id=ctx.tenant_id, list_id=values["list_id"],
        incoming=values.get("fields") or {}, current={}, creating=True,
        region=ws.region, timezone=ws.timezone)
    if on_duplicate != "allow":
        found = await _duplicate(session, ctx, values.get("email"), values.get("phone"))
        if found is not None:
            if on_duplicate == "error":
                raise _duplicate_error(found)
            merged = await _merge(session, ctx, found[0], body)
            return CreateResult(lead=merged, created=False)
    if values.get("metadata") is None:
        values["metadata"] = {}
    for key in ("do_not_contact", "consent"):
        if values.get(key) is None:
            values[key] = False
    lead = await _written(repository.insert_lead(session, tenant_id=ctx.tenant_id,
                                                 values=values))
    await audit.record(session, ctx=ctx, action="lead.created", entity_type="lead",
                       entity_id=lead["id"],
                       changes={"fields": sorted(k for k, v in values.items()
                                                 if v not in (None, {}, [], False))},
                       event=outbox.event(tenant_id=ctx.tenant_id, type="lead.created",
                                          entity_type="lead", entity_id=lead["id"],
                                          payload=event_payload(lead)))
    return CreateResult(lead=lead, created=True)


async def _merge(session: AsyncSession, ctx: Context, lead_id: uuid.UUID,
                 body: LeadCreate) -> dict[str, Any]:
    """on_duplicate=update: fill the existing lead with the new values (tags added,
    ``fields`` and ``metadata`` merged key by key)."""
    current = await repository.get(session, tenant_id=ctx.tenant_id, lead_id=lead_id,
                                   for_update=True)
    if current is None:  # pragma: no cover - found under the same lock
        raise _not_found()
    patch = merge_patch(current, body.model_dump(exclude_unset=True))
    return await _apply_update(session, ctx, current, patch, expected_version=None,
                               on_duplicate="allow")


def merge_patch(current: dict[str, Any], sent: dict[str, Any]) -> dict[str, Any]:
    """What merging ``sent`` into an existing lead changes: every value sent wins, tags
    are added, ``metadata`` is merged key by key (``fields`` are merged by the field
    engine). Creating with on_duplicate=update and imports with it both merge so."""
    patch: dict[str, Any] = {k: v for k, v in sent.items()
                             if v is not None and k not in ("tags", "metadata")}
    if sent.get("tags"):
        patch["tags"] = list(dict.fromkeys([*current["tags"], *sent["tags"]]))
    if sent.get("metadata"):
        patch["metadata"] = {**current["metadata"], **sent["metadata"]}
    return patch


async def get_lead(session: AsyncSession, *, ctx: Context, lead_id: uuid.UUID,
                   include_deleted: bool = False, for_update: bool = False) -> dict[str, Any]:
    lead = await repository.get(session, tenant_id=ctx.tenant_id, lead_id=lead_id,
                                include_deleted=include_deleted, for_update=for_update)
    if lead is None or (ctx.sees_only_own_leads and lead["owner_id"] != ctx.actor_user_id):
        raise _not_found()
    return lead


async def update_lead(session: AsyncSession, *, ctx: Context, lead_id: uuid.UUID,
                      body: LeadUpdate, expected_version: int | None,
                      on_duplicate: OnDuplicate = "error") -> dict[str, Any]:
    current = await get_lead(session, ctx=ctx, lead_id=lead_id, for_update=True)
    patch = body.model_dump(exclude_unset=True)
    require_changes(patch)
    return await _apply_update(session, ctx, current, patch, expected_version=expected_version,
                               on_duplicate=on_duplicate)


async def _apply_update(session: AsyncSession, ctx: Context, current: dict[str, Any],
                        patch: dict[str, Any], *, expected_version: int | None,
                        on_duplicate: OnDuplicate) -> dict[str, Any]:
    check_version(current, expected_version, what="lead")
    for key in ("status", "tags", "metadata", "do_not_contact", "consent"):
        if key in patch and patch[key] is None:
            raise ValidationFailed(f"'{key}' cannot be null.", code="NULL_NOT_ALLOWED",
                                   errors=[{"field": key, "message": "cannot be null"}])
    await _normalise(session, ctx, patch)
    after = {**current, **patch}
    if not any(after.get(k) for k in IDENTITY):
        raise ValidationFailed("A lead needs at least a name, an email or a phone number.",
                               code="LEAD_IDENTITY_REQUIRED")
    if "owner_id" in patch and patch["owner_id"] != current["owner_id"]:
        if ctx.sees_only_own_leads:
            raise Forbidden("An agent cannot reassign leads.", code="OWNER_NOT_ALLOWED")
        await _check_owner(session, ctx, patch["owner_id"])
    if "list_id" in patch and patch["list_id"] is None:
        patch.pop("list_id")  # a lead always belongs to a list
    moving = "list_id" in patch and patch["list_id"] != current["list_id"]
    if "fields" in patch or moving:
        ws = await tenants_service.defaults(session, tenant_id=ctx.tenant_id)
        sent_fields = patch.get("fields") or {}
        # Moving to another list re-validates every value against the target schema.
        patch["fields"] = await field_values.apply(
            session, tenant_id=ctx.tenant_id,
            list_id=patch["list_id"] if moving else current["list_id"],
            incoming={**current["fields"], **sent_fields} if moving else sent_fields,
            current={} if moving else current["fields"], creating=moving,
            region=ws.region, timezone=ws.timezone)
    changed = {k: v for k, v in patch.items() if current.get(k) != v}
    if not changed:
        return current
    if on_duplicate != "allow" and ("email" in changed or "phone" in changed):
        found = await _duplicate(session, ctx, changed.get("email"), changed.get("phone"),
                                 exclude_id=current["id"])
        if found is not None:
            raise _duplicate_error(found)
    lead = await _written(repository.update_lead(session, tenant_id=ctx.tenant_id,
                                                 lead_id=current["id"], values=changed))
    fields = sorted(k for k in changed if k not in ("timezone", "country"))
    await audit.record(session, ctx=ctx, action="lead.updated", entity_type="lead",
                       entity_id=lead["id"], changes={"fields": fields},
                       event=outbox.event(tenant_id=ctx.tenant_id, type="lead.updated",
                                          entity_type="lead", entity_id=lead["id"],
                                          payload={"lead": event_payload(lead),
                                                   "changed": fields}))
    return lead


async def delete_lead(session: AsyncSession, *, ctx: Context, lead_id: uuid.UUID,
                      expected_version: int | None, purge: bool = False) -> None:
    """Soft delete; ``purge`` erases the row for privacy requests (admins only) and
    leaves an audit entry with no personal data."""
    if purge:
        if not ctx.principal.at_least("admin"):
            raise Forbidden("Only an admin can purge a lead.", code="ROLE_REQUIRED")
        current = await get_lead(session, ctx=ctx, lead_id=lead_id, include_deleted=True,
                                 for_update=True)
    else:
        current = await get_lead(session, ctx=ctx, lead_id=lead_id, for_update=True)
    check_version(current, expected_version, what="lead")
    if purge:
        await repository.purge(session, tenant_id=ctx.tenant_id, lead_id=lead_id)
        await audit.record(session, ctx=ctx, action="lead.purged", entity_type="lead",
                           entity_id=lead_id, changes={"number": current["number"]},
                           event=outbox.event(tenant_id=ctx.tenant_id, type="lead.deleted",
                                              entity_type="lead", entity_id=lead_id,
                                              payload={"id": str(lead_id), "purged": True}))
        return
    await repository.update_lead(session, tenant_id=ctx.tenant_id, lead_id=lead_id,
                                 values={"deleted_at": func.now()})
    await audit.record(session, ctx=ctx, action="lead.deleted", entity_type="lead",
                       entity_id=lead_id,
                       event=outbox.event(tenant_id=ctx.tenant_id, type="lead.deleted",
                                          entity_type="lead", entity_id=lead_id,
                                          payload={"id": str(lead_id), "purged": False}))


async def restore_lead(session: AsyncSession, *, ctx: Context, lead_id: uuid.UUID,
                       on_duplicate: OnDuplicate = "error") -> dict[str, Any]:
    current = await get_lead(session, ctx=ctx, lead_id=lead_id, include_deleted=True,
                             for_update=True)
    if current["deleted_at"] is None:
        raise Conflict("The lead is not deleted.", code="LEAD_NOT_DELETED")
    # Its list must still exist (a deleted list takes no lead back).
    await field_values.schema_for(session, tenant_id=ctx.tenant_id, list_id=current["list_id"])
    if on_duplicate != "allow":
        found = await _duplicate(session, ctx, current["email"], current["phone"],
                                 exclude_id=lead_id)
        if found is not None:
            raise _duplicate_error(found)
    lead = await _written(repository.update_lead(session, tenant_id=ctx.tenant_id,
                                                 lead_id=lead_id, values={"deleted_at": None}))
    await audit.record(session, ctx=ctx, action="lead.restored", entity_type="lead",
                       entity_id=lead_id,
                       event=outbox.event(tenant_id=ctx.tenant_id, type="lead.updated",
                                          entity_type="lead", entity_id=lead_id,
                                          payload={"lead": event_payload(lead),
                                                   "changed": ["deleted_at"]}))
    return lead


@dataclass(frozen=True)
class LeadListing:
    rows: list[dict[str, Any]]
    total: int | None
    total_is_estimate: bool
    next_cursor: str | None


async def list_leads(session: AsyncSession, *, ctx: Context, f: repository.LeadFilter,
                     sort: str | None, params: PageParams,
                     count_cap: int) -> LeadListing:
    """A page of leads. With ``count=auto``, ``total`` is exact up to ``count_cap`` rows
    and the planner's estimate beyond (``total_is_estimate``), and absent on cursor
    pages; ``count=exact`` always counts, ``count=none`` never does."""
    if ctx.sees_only_own_leads:
        f.restrict_owner = ctx.actor_user_id
    sort_codes = [part.strip().lstrip("-+")[7:] for part in (sort or "").split(",")
                  if part.strip().lstrip("-+").startswith("fields.")]
    types = await field_filters.resolve_types(
        session, tenant_id=ctx.tenant_id, list_ids=f.list_ids,
        codes=sorted({c for c, _, _ in f.field_filters} | set(sort_codes)))
    if f.field_filters:
        ws = await tenants_service.defaults(session, tenant_id=ctx.tenant_id)
        f.extra = field_filters.conditions(f.field_filters, types, ws.region)
    sortable = dict(repository.SORTABLE)
    for code in sort_codes:
        sortable[f"fields.{code}"] = field_filters.sort_column(types[code.lower()])
    sort_key, columns = parse_sort(sort, sortable, default="-created_at",
                                   tiebreak=("id", repository.ID_COLUMN))
    after = decode_cursor(params.cursor, sort_key) if params.cursor else None
    rows = await repository.list_leads(session, tenant_id=ctx.tenant_id, f=f, sort=columns,
                                       after=after, offset=params.offset,
                                       limit=params.per_page + 1)
    next_cursor = None
    if len(rows) > params.per_page:
        rows = rows[: params.per_page]
        last = rows[-1]
        next_cursor = encode_cursor(sort_key, [
            field_filters.sort_value(types[c.name[7:].lower()], last)
            if c.name.startswith("fields.") else last[c.name] for c in columns])
    total: int | None = None
    estimated = False
    if params.count == "exact":
        total = await repository.count(session, tenant_id=ctx.tenant_id, f=f, cap=None)
    elif params.count == "auto" and after is None:
        # Cursor pages skip the total (the first page gave it). Otherwise: the whole
        # result is on this page; or the planner's estimate when it is clearly large
        # (counting big filtered sets costs more than the page); or an exact count
        # capped at count_cap.
        if params.offset == 0 and next_cursor is None:
            total = len(rows)
        else:
            guess = await repository.estimate(session, tenant_id=ctx.tenant_id, f=f)
            if guess > count_cap:
                total, estimated = guess, True
            else:
                total = await repository.count(session, tenant_id=ctx.tenant_id, f=f,
                                               cap=count_cap)
                if total > count_cap:
                    total, estimated = max(guess, count_cap + 1), True
    return LeadListing(rows=rows, total=total, total_is_estimate=estimated,
                       next_cursor=next_cursor)
