"""Rules for customers: normalisation and the derived match keys, visibility, owners,
concurrency, audit and events; their contacts, opportunities and timeline.

Public functions (keyword-only after ``session``; none commits):

- ``create_customer(session, *, ctx, body: CustomerCreate) -> row``
- ``get_customer(session, *, ctx, customer_id, include_deleted=False,
  for_update=False) -> row``
- ``list_customers(session, *, ctx, f: CustomerFilter, sort=None, params,
  count_cap=1000) -> CustomerList``
- ``update_customer(session, *, ctx, customer_id, body: CustomerUpdate,
  expected_version=None) -> row``
- ``delete_customer(session, *, ctx, customer_id, expected_version=None)``
- ``contacts(...)``, ``opportunities(...)``, ``timeline(...)``: keyset pages, newest first.

Errors: ``CUSTOMER_NOT_FOUND`` 404 (another workspace's, or not visible to an agent);
``CUSTOMER_NOT_YOURS`` 403 (an agent changing a customer it can see but does not own);
``OWNER_NOT_ALLOWED`` 403, ``OWNER_NOT_FOUND`` 422; ``VERSION_MISMATCH`` 412.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.audit import service as audit
from leadbase.auth.context import Context
from leadbase.customers import keys, repository
from leadbase.customers.repository import CustomerFilter, Visible, visible
from leadbase.customers.schemas import CustomerCreate, CustomerRead, CustomerUpdate
from leadbase.events import outbox
from leadbase.kit.checks import check_version, require_changes
from leadbase.kit.contact import normalize_email, parse_phone
from leadbase.kit.errors import Forbidden, NotFound, ValidationFailed
from leadbase.kit.pagination import PageParams, decode_cursor, encode_cursor
from leadbase.kit.sorting import parse_sort
from leadbase.leads.repository import readable
from leadbase.opportunities import records as opportunity_records
from leadbase.opportunities.records import OpportunityList, OpportunityQuery
from leadbase.opportunities.repository import OpportunityFilter
from leadbase.tenants import service as tenants_service
from leadbase.users import repository as users_repository

MAX_PAGE = 100


def not_found() -> NotFound:
    return NotFound("Customer not found.", code="CUSTOMER_NOT_FOUND")


def scope_of(ctx: Context) -> Visible:
    return visible(readable(ctx))


def event_payload(row: dict[str, Any]) -> dict[str, Any]:
    return CustomerRead.model_validate(row).model_dump(mode="json")


async def normalise(session: AsyncSession, ctx: Context, values: dict[str, Any]) -> None:
    """Email lower-cased and checked, phone to E.164 (the workspace's region)."""
    if values.get("email"):
        values["email"] = normalize_email(values["email"])
    if values.get("phone"):
        ws = await tenants_service.defaults(session, tenant_id=ctx.tenant_id)
        values["phone"] = parse_phone(values["phone"], region=ws.region).e164


def derive(values: dict[str, Any]) -> None:
    """``name_key`` and ``email_domain`` from ``name``, ``email`` and ``website``."""
    values["name_key"] = keys.name_key(values["name"])
    values["email_domain"] = keys.email_domain(values.get("email"), values.get("website"))


async def check_owner(session: AsyncSession, ctx: Context,
                      owner_id: uuid.UUID | None) -> None:
    """An agent's customers are its own; an owner is an active user of the workspace."""
    if not scope_of(ctx).writable(owner_id):
        raise Forbidden("An agent can only own its customers itself.",
                        code="OWNER_NOT_ALLOWED")
    if owner_id is None:
        return
    user = await users_repository.get(session, tenant_id=ctx.tenant_id, user_id=owner_id)
    if user is None or not user["is_active"]:
        raise ValidationFailed("The owner must be an active user of this workspace.",
                               code="OWNER_NOT_FOUND",
                               errors=[{"field": "owner_id",
                                        "message": "unknown or inactive user"}])


async def insert_customer(session: AsyncSession, *, ctx: Context, values: dict[str, Any],
                          action: str = "customer.created",
                          domain: str | None = None) -> dict[str, Any]:
    """Insert checked values (the caller normalised them and checked the owner), with
    the derived keys (``domain``: the ``email_domain`` when neither email nor website
    gives one), its audit entry and ``customer.created`` event."""
    if values.get("metadata") is None:
        values["metadata"] = {}
    derive(values)
    if values["email_domain"] is None:
        values["email_domain"] = domain
    row = await repository.insert(session, tenant_id=ctx.tenant_id, values=values)
    await audit.record(session, ctx=ctx, action=action, entity_type="customer",
                       entity_id=row["id"],
                       changes={"fields": sorted(k for k, v in values.items()
                                                 if v not in (None, {}, ""))},
                       event=outbox.event(tenant_id=ctx.tenant_id, type="customer.created",
                                          entity_type="customer", entity_id=row["id"],
                                          payload=event_payload(row)))
    return row


async def create_customer(session: AsyncSession, *, ctx: Context,
                          body: CustomerCreate) -> dict[str, Any]:
    values = body.model_dump()
    await normalise(session, ctx, values)
    if values["owner_id"] is None:
        values["owner_id"] = scope_of(ctx).user_id  # an agent's: its own
    await check_owner(session, ctx, values["owner_id"])
    return await insert_customer(session, ctx=ctx, values=values)


async def get_customer(session: AsyncSession, *, ctx: Context, customer_id: uuid.UUID,
                       include_deleted: bool = False,
                       for_update: bool = False) -> dict[str, Any]:
    row = await repository.get(session, scope=scope_of(ctx), customer_id=customer_id,
                               include_deleted=include_deleted, for_update=for_update)
    if row is None:
        raise not_found()
    return row


def _writable(ctx: Context, row: dict[str, Any]) -> None:
    if not scope_of(ctx).writable(row["owner_id"]):
        raise Forbidden("An agent can change only the customers it owns.",
                        code="CUSTOMER_NOT_YOURS")


@dataclass(frozen=True)
class CustomerList:
    rows: list[dict[str, Any]]
    total: int | None
    next_cursor: str | None


async def list_customers(session: AsyncSession, *, ctx: Context, f: CustomerFilter,
                         sort: str | None = None, params: PageParams,
                         count_cap: int = 1000) -> CustomerList:
    """A page of the customers ``ctx`` may see (``-created_at`` unless ``sort`` says
    otherwise, ties by id); ``total`` exact up to ``count_cap`` (then ``count_cap + 1``),
    none on cursor pages or with ``count=none``."""
    sort_key, columns = parse_sort(sort, repository.SORTABLE, default="-created_at",
                                   tiebreak=("id", repository.ID_COLUMN))
    after = decode_cursor(params.cursor, sort_key) if params.cursor else None
    scope = scope_of(ctx)
    rows = await repository.list_page(session, scope=scope, f=f, sort=columns, after=after,
                                      offset=params.offset, limit=params.per_page + 1)
    next_cursor = None
    if len(rows) > params.per_page:
        rows = rows[: params.per_page]
        next_cursor = encode_cursor(sort_key, [rows[-1][c.name] for c in columns])
    total: int | None = None
    if after is None and params.count != "none":
        if params.offset == 0 and next_cursor is None:
            total = len(rows)
        else:
            total = await repository.count(session, scope=scope, f=f, cap=count_cap)
    return CustomerList(rows=rows, total=total, next_cursor=next_cursor)


async def update_customer(session: AsyncSession, *, ctx: Context, customer_id: uuid.UUID,
                          body: CustomerUpdate,
                          expected_version: int | None = None) -> dict[str, Any]:
    current = await get_customer(session, ctx=ctx, customer_id=customer_id, for_update=True)
    check_version(current, expected_version, what="customer")
    _writable(ctx, current)
    patch = body.model_dump(exclude_unset=True)
    require_changes(patch)
    for key in ("kind", "name", "metadata"):
        if key in patch and patch[key] is None:
            raise ValidationFailed(f"'{key}' cannot be null.", code="NULL_NOT_ALLOWED",
                                   errors=[{"field": key, "message": "cannot be null"}])
    await normalise(session, ctx, patch)
    if "owner_id" in patch and patch["owner_id"] != current["owner_id"]:
        await check_owner(session, ctx, patch["owner_id"])
    changed = {k: v for k, v in patch.items() if current.get(k) != v}
    if not changed:
        return current
    if "name" in changed:
        changed["name_key"] = keys.name_key(changed["name"])
    if "email" in changed or "website" in changed:  # else a kept domain stays
        after = {**current, **changed}
        changed["email_domain"] = keys.email_domain(after["email"], after["website"])
    row = await repository.update_customer(session, tenant_id=ctx.tenant_id,
                                           customer_id=customer_id, values=changed)
    fields = sorted(changed)
    await audit.record(session, ctx=ctx, action="customer.updated", entity_type="customer",
                       entity_id=customer_id, changes={"fields": fields},
                       event=outbox.event(tenant_id=ctx.tenant_id, type="customer.updated",
                                          entity_type="customer", entity_id=customer_id,
                                          payload={"customer": event_payload(row),
                                                   "changed": fields}))
    return row


async def delete_customer(session: AsyncSession, *, ctx: Context, customer_id: uuid.UUID,
                          expected_version: int | None = None) -> None:
    """Soft delete: its contacts keep ``customer_id`` (the customer is hidden, not
    erased), and conversion no longer offers it."""
    current = await get_customer(session, ctx=ctx, customer_id=customer_id, for_update=True)
    check_version(current, expected_version, what="customer")
    _writable(ctx, current)
    await repository.update_customer(session, tenant_id=ctx.tenant_id,
                                     customer_id=customer_id,
                                     values={"deleted_at": func.now()})
    await audit.record(session, ctx=ctx, action="customer.deleted", entity_type="customer",
                       entity_id=customer_id,
                       event=outbox.event(tenant_id=ctx.tenant_id, type="customer.deleted",
                                          entity_type="customer", entity_id=customer_id,
                                          payload={"id": str(customer_id)}))


@dataclass(frozen=True)
class Keyset:
    rows: list[dict[str, Any]]
    next_cursor: str | None


def _keyset(rows: list[dict[str, Any]], limit: int, sort: str,
            names: tuple[str, str]) -> Keyset:
    if len(rows) <= limit:
        return Keyset(rows, None)
    rows = rows[:limit]
    return Keyset(rows, encode_cursor(sort, [rows[-1][names[0]], rows[-1][names[1]]]))


def _after(cursor: str | None, sort: str) -> list[Any] | None:
    return decode_cursor(cursor, sort) if cursor else None


async def contacts(session: AsyncSession, *, ctx: Context, customer_id: uuid.UUID,
                   cursor: str | None, limit: int) -> Keyset:
    """The leads converted into the customer that the caller may read, newest first."""
    await get_customer(session, ctx=ctx, customer_id=customer_id)
    rows = await repository.contacts_page(session, leads=readable(ctx),
                                          customer_id=customer_id,
                                          after=_after(cursor, "contacts"), limit=limit + 1)
    return _keyset(rows, limit, "contacts", ("created_at", "id"))


async def opportunities(session: AsyncSession, *, ctx: Context, customer_id: uuid.UUID,
                        statuses: tuple[str, ...] = (), sort: str | None = None,
                        params: PageParams, count_cap: int = 1000) -> OpportunityList:
    """The customer's live opportunities the caller may see (the opportunities list,
    its sorts and pagination; newest first unless told)."""
    await get_customer(session, ctx=ctx, customer_id=customer_id)
    return await opportunity_records.list_opportunities(
        session, ctx=ctx, sort=sort, params=params, count_cap=count_cap,
        f=OpportunityQuery(OpportunityFilter(statuses=statuses,
                                             customer_ids=(customer_id,))))


async def timeline(session: AsyncSession, *, ctx: Context, customer_id: uuid.UUID,
                   cursor: str | None, limit: int) -> Keyset:
    """Activities of the customer's contacts and opportunities, newest first."""
    await get_customer(session, ctx=ctx, customer_id=customer_id)
    rows = await repository.timeline_page(session, scope=scope_of(ctx),
                                          customer_id=customer_id,
                                          after=_after(cursor, "timeline"), limit=limit + 1)
    return _keyset(rows, limit, "timeline", ("occurred_at", "id"))
