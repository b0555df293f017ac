"""Rules for leads: normalisation, duplicates, visibility, concurrency, audit and events."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from dataclasses import replace as dc_replace
from typing import Any

from sqlalchemy import ColumnElement, func
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.activities import service as activities
from leadbase.audit import service as audit
from leadbase.auth.context import Context
from leadbase.events import outbox
from leadbase.fields import values as field_values
from leadbase.kit.checks import check_version, require_changes
from leadbase.kit.errors import AppError, Conflict, Forbidden, NotFound, ValidationFailed
from leadbase.kit.pagination import PageParams, decode_cursor, encode_cursor
from leadbase.kit.schemas import from_row, json_size_error
from leadbase.kit.sorting import parse_sort
from leadbase.leads import field_filters, listing, repository, rules
from leadbase.leads.filters import LeadFilter
from leadbase.leads.repository import LeadSet, readable
from leadbase.leads.schemas import LeadCreate, LeadRead, LeadUpdate, OnDuplicate
from leadbase.pipelines import placement
from leadbase.segments import resolve as segments_resolve
from leadbase.tenants import service as tenants_service
from leadbase.users import repository as users_repository


def lead_not_found() -> NotFound:
    """The error of :func:`get_lead` (for callers that read the lead their own way)."""
    return NotFound("Lead not found.", code="LEAD_NOT_FOUND")


_not_found = lead_not_found


async def _missing(session: AsyncSession, ctx: Context, lead_id: uuid.UUID,
                   merged: str | None) -> AppError:
    """The error for a lead not found: for a lead merged into another (leadbase.duplicates),
    a 301 to the survivor (``merged="redirect"``, reads) or 409 ``LEAD_MERGED``
    (``"conflict"``, writes), both naming ``merged_into``; otherwise 404."""
    target = None if merged is None else await repository.merged_into(
        session, scope=readable(ctx), lead_id=lead_id)
    if target is None:
        return _not_found()
    extra = {"merged_into": str(target)}
    if merged == "redirect":
        return AppError("The lead was merged into another.", code="LEAD_MERGED", status=301,
                        extra=extra, headers={"Location": f"/api/v1/leads/{target}"})
    return Conflict("The lead was merged into another: change that one, or unmerge it.",
                    code="LEAD_MERGED", extra=extra)


def event_payload(lead: dict[str, Any]) -> dict[str, Any]:
    return from_row(LeadRead, lead).model_dump(mode="json")


async def _normalise(session: AsyncSession, ctx: Context, values: dict[str, Any]) -> None:
    """leads.rules.normalise with the workspace's region and time zone."""
    region, timezone = "", None
    if values.get("phone") is not None:
        ws = await tenants_service.defaults(session, tenant_id=ctx.tenant_id)
        region, timezone = ws.region, ws.timezone
    rules.normalise(values, region=region, timezone=timezone)


async def _check_owner(session: AsyncSession, ctx: Context, owner_id: uuid.UUID | None,
                       refusal: str) -> None:
    """A lead may get this owner: it stays in the writer's readable set (403 ``refusal``
    otherwise), and the owner is an active user of the workspace."""
    if not readable(ctx).holds_owner(owner_id):
        raise Forbidden(refusal, code="OWNER_NOT_ALLOWED")
    if owner_id is None:
        return
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


async def _duplicate_error(session: AsyncSession, ctx: Context,
                           found: tuple[uuid.UUID, str]) -> Conflict:
    """409 naming the existing lead, if the caller may read it (an agent is not told the
    id of another agent's lead)."""
    existing_id, matched_on = found
    extra = {"matched_on": matched_on}
    if await repository.get(session, scope=readable(ctx), lead_id=existing_id) is not None:
        extra = {"existing_id": str(existing_id), **extra}
    return Conflict(f"A lead with this {matched_on} already exists.", code="DUPLICATE_LEAD",
                    extra=extra)


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
    if not rules.has_identity(values):
        raise rules.identity_required()
    values.update(await placement.first_placement(
        session, tenant_id=ctx.tenant_id, stage=values.pop("stage"),
        pipeline_id=values.pop("pipeline_id")))
    await _normalise(session, ctx, values)
    if values.get("owner_id") is None:
        values["owner_id"] = readable(ctx).default_owner
    if values["owner_id"] is not None:
        await _check_owner(session, ctx, values["owner_id"],
                           "An agent can only assign leads to themselves.")
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
            merged = None
            if on_duplicate == "update":
                merged = await _merge(session, ctx, found[0], body)
            if merged is None:
                raise await _duplicate_error(session, ctx, found)
            return CreateResult(lead=merged, created=False)
    if values.get("metadata") is None:
        values["metadata"] = {}
    for key in ("do_not_contact", "consent"):
        if values.get(key) is None:
            values[key] = False
    from leadbase.assignment import flows as assignment  # it builds on this module

    decision = None
    if values["owner_id"] is None:  # the workspace's rules may give it one (auto-assign)
        decision = await assignment.prepare_new(session, ctx=ctx, values=values)
    lead = await _written(repository.insert_lead(session, tenant_id=ctx.tenant_id,
                                                 values=values))
    await audit.record(session, ctx=ctx, action="lead.created", entity_type="lead",
                       entity_id=lead["id"],
                       changes={"fields": sorted(k for k, v in values.items()
                                                 if v not in (None, {}, [], False))},
                       event=outbox.event(tenant_id=ctx.tenant_id, type="lead.created",
                                          entity_type="lead", entity_id=lead["id"],
                                          payload=event_payload(lead)),
                       more=assignment.new_lead_statements(ctx=ctx, lead=lead,
                                                           decision=decision))
    return CreateResult(lead=lead, created=True)


async def _merge(session: AsyncSession, ctx: Context, lead_id: uuid.UUID,
                 body: LeadCreate) -> dict[str, Any] | None:
    """on_duplicate=update: fill the existing lead with the new values (tags added,
    ``fields`` and ``metadata`` merged key by key). None when the caller may not write
    that lead (another agent's)."""
    current = await repository.get(session, scope=readable(ctx), lead_id=lead_id,
                                   for_update=True)
    if current is None:
        return None
    patch = rules.merge_patch(current, body.model_dump(exclude_unset=True,
                                                       exclude={"stage", "pipeline_id"}))
    if problem := json_size_error(patch.get("metadata")):  # each part was, the sum may not be
        raise ValidationFailed(f"The merged metadata {problem}.", code="METADATA_TOO_LARGE",
                               errors=[{"field": "metadata", "message": problem}])
    return await _apply_update(session, ctx, current, patch, expected_version=None,
                               on_duplicate="allow")


async def get_lead(session: AsyncSession, *, ctx: Context, lead_id: uuid.UUID,
                   include_deleted: bool = False, for_update: bool = False,
                   merged: str | None = None) -> dict[str, Any]:
    """The lead; 404 when missing (``merged``: see :func:`_missing`)."""
    lead = await repository.get(session, scope=readable(ctx), lead_id=lead_id,
                                include_deleted=include_deleted, for_update=for_update)
    if lead is None:
        raise await _missing(session, ctx, lead_id, merged)
    return lead


async def update_lead(session: AsyncSession, *, ctx: Context, lead_id: uuid.UUID,
                      body: LeadUpdate, expected_version: int | None,
                      on_duplicate: OnDuplicate = "error") -> dict[str, Any]:
    current = await get_lead(session, ctx=ctx, lead_id=lead_id, for_update=True,
                             merged="conflict")
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
    if not rules.has_identity(after):
        raise rules.identity_required(per_field=False)
    if "owner_id" in patch and patch["owner_id"] != current["owner_id"]:
        await _check_owner(session, ctx, patch["owner_id"], "An agent cannot reassign leads.")
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
            raise await _duplicate_error(session, ctx, found)
    lead = await _written(repository.update_lead(session, scope=readable(ctx),
                                                 lead_id=current["id"], values=changed))
    if "status" in changed or "owner_id" in changed:  # on the lead's timeline
        await activities.log_lead_changes(session, ctx, lead_id=lead["id"], before=current,
                                          changed=changed)
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
        current = await get_lead(session, ctx=ctx, lead_id=lead_id, for_update=True,
                                 merged="conflict")
    check_version(current, expected_version, what="lead")
    if purge:
        await repository.purge(session, scope=readable(ctx), lead_id=lead_id)
        await audit.record(session, ctx=ctx, action="lead.purged", entity_type="lead",
                           entity_id=lead_id, changes={"number": current["number"]},
                           event=outbox.event(tenant_id=ctx.tenant_id, type="lead.deleted",
                                              entity_type="lead", entity_id=lead_id,
                                              payload={"id": str(lead_id), "purged": True}))
        return
    await repository.update_lead(session, scope=readable(ctx), lead_id=lead_id,
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
    if await repository.merged_into(session, scope=readable(ctx), lead_id=lead_id):
        raise await _missing(session, ctx, lead_id, "conflict")  # unmerge brings it back
    # Its list must still exist (a deleted list takes no lead back).
    await field_values.schema_for(session, tenant_id=ctx.tenant_id, list_id=current["list_id"])
    if on_duplicate != "allow":
        found = await _duplicate(session, ctx, current["email"], current["phone"],
                                 exclude_id=lead_id)
        if found is not None:
            raise await _duplicate_error(session, ctx, found)
    lead = await _written(repository.update_lead(session, scope=readable(ctx),
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


async def _resolved(session: AsyncSession, ctx: Context, f: LeadFilter,
                    sort_codes: list[str]) -> tuple[LeadSet, dict[str, dict[str, Any]]]:
    types = await field_filters.resolve_types(
        session, tenant_id=ctx.tenant_id, list_ids=f.list_ids,
        codes=sorted({c for c, _, _ in f.field_filters} | set(sort_codes)))
    extra: tuple[Any, ...] = ()
    if f.field_filters:
        ws = await tenants_service.defaults(session, tenant_id=ctx.tenant_id)
        extra = tuple(field_filters.conditions(f.field_filters, types, ws.region))
    if f.pipeline_ids or f.stages:
        extra += tuple(await placement.stage_conditions(session, tenant_id=ctx.tenant_id,
                                                        f=f))
    if f.segment_id is not None:
        # The segment's rule (rules.to_sql) or its member list; LeadSet.extra sends the
        # listing through SQLAlchemy (leads.raw_listing knows no segment).
        extra += (await segments_resolve.filter_condition(
            session, tenant_id=ctx.tenant_id, segment_id=f.segment_id),)
    return LeadSet(scope=readable(ctx), f=f, extra=extra), types


async def lead_set(session: AsyncSession, *, ctx: Context, f: LeadFilter,
                   extra: tuple[ColumnElement[bool], ...] = ()) -> LeadSet:
    """The leads ``f`` selects among those ``ctx`` may read, its custom-field filters
    checked (422) and made conditions: what lists, exports and bulk operations query.
    ``extra``: further conditions (a draft rule, ``rules.to_sql``)."""
    leads, _ = await _resolved(session, ctx, f, [])
    return dc_replace(leads, extra=leads.extra + extra) if extra else leads


async def list_leads(session: AsyncSession, *, ctx: Context, f: LeadFilter,
                     sort: str | None, params: PageParams,
                     count_cap: int,
                     extra: tuple[ColumnElement[bool], ...] = ()) -> LeadListing:
    """A page of the leads ``ctx`` may read. With ``count=auto``, ``total`` is exact up to
    ``count_cap`` rows and the planner's estimate beyond (``total_is_estimate``), and absent
    on cursor pages; ``count=exact`` always counts, ``count=none`` never does. ``extra``:
    further conditions (a draft rule of a segment preview)."""
    sort_codes = [part.strip().lstrip("-+")[7:] for part in (sort or "").split(",")
                  if part.strip().lstrip("-+").startswith("fields.")]
    leads, types = await _resolved(session, ctx, f, sort_codes)
    if extra:
        leads = dc_replace(leads, extra=leads.extra + extra)
    sortable = dict(repository.SORTABLE)
    for code in sort_codes:
        sortable[f"fields.{code}"] = field_filters.sort_column(types[code.lower()])
    sort_key, columns = parse_sort(sort, sortable, default="-created_at",
                                   tiebreak=("id", repository.ID_COLUMN))
    after = decode_cursor(params.cursor, sort_key) if params.cursor else None
    rows = await listing.page(session, leads=leads, sort=columns, after=after,
                              offset=params.offset, limit=params.per_page + 1)
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
        total = await listing.count(session, leads=leads, cap=None)
    elif params.count == "auto" and after is None:
        # Cursor pages skip the total (the first page gave it). Otherwise: the whole
        # result is on this page; or the planner's estimate when it is clearly large
        # (counting big filtered sets costs more than the page); or an exact count
        # capped at count_cap.
        if params.offset == 0 and next_cursor is None:
            total = len(rows)
        else:
            guess = await listing.estimate(session, leads=leads)
            if guess > count_cap:
                total, estimated = guess, True
            else:
                total = await listing.count(session, leads=leads, cap=count_cap)
                if total > count_cap:
                    total, estimated = max(guess, count_cap + 1), True
    return LeadListing(rows=rows, total=total, total_is_estimate=estimated,
                       next_cursor=next_cursor)
