"""Rules for listings (inventory) and the links between leads and listings.

Public functions (keyword-only after ``session``; none commits):

- ``create_listing(session, *, ctx, body: ListingCreate) -> row``
- ``get_listing(session, *, ctx, listing_id, include_deleted=False, for_update=False)``
- ``get_listings(session, *, ctx, listing_ids) -> {id: row}`` (live ones; for embedding)
- ``list_listings(session, *, ctx, f: ListingFilter, sort, params, count_cap=1000)
  -> ListingList``
- ``update_listing(session, *, ctx, listing_id, body: ListingUpdate, expected_version)``
- ``delete_listing(session, *, ctx, listing_id, expected_version, permanent=False)``
- ``link_lead(session, *, ctx, lead_id, body: LeadListingCreate) -> link``
- ``update_link(session, *, ctx, lead_id, listing_id, body, expected_version) -> link``
- ``unlink_lead(session, *, ctx, lead_id, listing_id, expected_version) -> None``
- ``listings_of_lead(session, *, ctx, lead_id, params) -> LinkList`` (links + listing)
- ``leads_of_listing(session, *, ctx, listing_id, params) -> LinkList`` (links + lead)

Rows are dicts with the columns of ``ListingRead``. Errors: ``LISTING_NOT_FOUND`` (404,
also for another workspace's ids), ``ROLE_REQUIRED`` (403: inventory is written by
managers and above; agents and viewers read it), ``VALIDATION_ERROR`` with
``attributes.<name>`` fields (422), ``VERSION_MISMATCH`` (412), ``LISTING_ALREADY_LINKED``
(409), ``LINK_NOT_FOUND`` (404). Links follow the lead: whoever may change the lead
(an agent: their own) may link it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.audit import service as audit
from leadbase.auth.context import Context
from leadbase.events import outbox
from leadbase.kit.checks import check_version, require_changes
from leadbase.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from leadbase.kit.pagination import PageParams, decode_cursor, encode_cursor
from leadbase.kit.sorting import parse_sort
from leadbase.leads import service as leads_service
from leadbase.leads.repository import readable
from leadbase.listings import attributes as attrs
from leadbase.listings import repository
from leadbase.listings.repository import LINK_SORT_KEY, ListingFilter
from leadbase.listings.schemas import (
    LeadListingCreate,
    LeadListingUpdate,
    ListingCreate,
    ListingRead,
    ListingUpdate,
)

WRITER_ROLE = "manager"


def not_found() -> NotFound:
    return NotFound("Listing not found.", code="LISTING_NOT_FOUND")


def _link_not_found() -> NotFound:
    return NotFound("This lead is not linked to this listing.", code="LINK_NOT_FOUND")


def _require_writer(ctx: Context) -> None:
    if not ctx.principal.at_least(WRITER_ROLE):
        raise Forbidden("Only managers and above change the inventory.",
                        code="ROLE_REQUIRED")


def event_payload(row: dict[str, Any]) -> dict[str, Any]:
    return ListingRead.model_validate(row).model_dump(mode="json")


def _checked_attributes(kind: str, values: dict[str, Any]) -> dict[str, Any]:
    try:
        return attrs.validate(kind, values)
    except ValidationError as exc:
        errors = attrs.errors_of(exc)
        raise ValidationFailed(f"Invalid attributes for a {kind}: "
                               + ", ".join(e["field"] for e in errors[:5]),
                               errors=errors) from None


def _price_pair(price: Any, currency: Any) -> None:
    if price is not None and currency is None:
        raise ValidationFailed("A price needs its currency.", code="CURRENCY_REQUIRED",
                               errors=[{"field": "currency",
                                        "message": "required with a price"}])


async def create_listing(session: AsyncSession, *, ctx: Context,
                         body: ListingCreate) -> dict[str, Any]:
    _require_writer(ctx)
    values = body.model_dump()
    values["attributes"] = _checked_attributes(body.kind, values.get("attributes") or {})
    _price_pair(values["price"], values["currency"])
    row = await repository.insert_listing(session, tenant_id=ctx.tenant_id, values=values)
    await audit.record(session, ctx=ctx, action="listing.created", entity_type="listing",
                       entity_id=row["id"],
                       changes={"fields": sorted(k for k, v in values.items()
                                                 if v not in (None, {}))},
                       event=outbox.event(tenant_id=ctx.tenant_id, type="listing.created",
                                          entity_type="listing", entity_id=row["id"],
                                          payload=event_payload(row)))
    return row


async def get_listing(session: AsyncSession, *, ctx: Context, listing_id: uuid.UUID,
                      include_deleted: bool = False,
                      for_update: bool = False) -> dict[str, Any]:
    row = await repository.get_listing(session, tenant_id=ctx.tenant_id,
                                       listing_id=listing_id,
                                       include_deleted=include_deleted, for_update=for_update)
    if row is None:
        raise not_found()
    return row


async def get_listings(session: AsyncSession, *, ctx: Context,
                       listing_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    return await repository.get_listings(session, tenant_id=ctx.tenant_id,
                                         listing_ids=listing_ids)


@dataclass(frozen=True)
class ListingList:
    rows: list[dict[str, Any]]
    total: int | None
    next_cursor: str | None


async def list_listings(session: AsyncSession, *, ctx: Context, f: ListingFilter,
                        sort: str | None, params: PageParams,
                        count_cap: int = 1000) -> ListingList:
    """A page of the workspace's listings (``total`` exact up to ``count_cap``, then
    ``count_cap + 1``; none on cursor pages)."""
    sort_key, columns = parse_sort(sort, repository.SORTABLE, default="-created_at",
                                   tiebreak=("id", repository.ID_COLUMN))
    after = decode_cursor(params.cursor, sort_key) if params.cursor else None
    rows = await repository.list_listings(session, tenant_id=ctx.tenant_id, f=f,
                                          sort=columns, after=after, offset=params.offset,
                                          limit=params.per_page + 1)
    next_cursor = None
    if len(rows) > params.per_page:
        rows = rows[: params.per_page]
        next_cursor = encode_cursor(sort_key, [rows[-1][c.name] for c in columns])
    total: int | None = None
    if after is None and params.count != "none":
        if params.offset == 0 and next_cursor is None:
            total = len(rows)
        else:
            total = await repository.count_listings(session, tenant_id=ctx.tenant_id, f=f,
                                                    cap=count_cap)
    return ListingList(rows=rows, total=total, next_cursor=next_cursor)


async def update_listing(session: AsyncSession, *, ctx: Context, listing_id: uuid.UUID,
                         body: ListingUpdate, expected_version: int | None) -> dict[str, Any]:
    _require_writer(ctx)
    current = await get_listing(session, ctx=ctx, listing_id=listing_id, for_update=True)
    check_version(current, expected_version, what="listing")
    patch = body.model_dump(exclude_unset=True)
    require_changes(patch)
    for key in ("kind", "title", "status"):
        if key in patch and patch[key] is None:
            raise ValidationFailed(f"'{key}' cannot be null.", code="NULL_NOT_ALLOWED",
                                   errors=[{"field": key, "message": "cannot be null"}])
    kind = patch.get("kind", current["kind"])
    if "attributes" in patch or kind != current["kind"]:
        merged = dict(current["attributes"])
        for key, value in (patch.get("attributes") or {}).items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        patch["attributes"] = _checked_attributes(kind, merged)
    after = {**current, **patch}
    _price_pair(after["price"], after["currency"])
    changed = {k: v for k, v in patch.items() if current.get(k) != v}
    if not changed:
        return current
    row = await repository.update_listing(session, tenant_id=ctx.tenant_id,
                                          listing_id=listing_id, values=changed)
    fields = sorted(changed)
    await audit.record(session, ctx=ctx, action="listing.updated", entity_type="listing",
                       entity_id=listing_id, changes={"fields": fields},
                       event=outbox.event(tenant_id=ctx.tenant_id, type="listing.updated",
                                          entity_type="listing", entity_id=listing_id,
                                          payload={"listing": event_payload(row),
                                                   "changed": fields}))
    return row


async def delete_listing(session: AsyncSession, *, ctx: Context, listing_id: uuid.UUID,
                         expected_version: int | None, permanent: bool = False) -> None:
    """Soft delete (its links and tasks stay); ``permanent`` erases it, its links with it
    (tasks keep their lead and lose the listing)."""
    _require_writer(ctx)
    current = await get_listing(session, ctx=ctx, listing_id=listing_id,
                                include_deleted=permanent, for_update=True)
    check_version(current, expected_version, what="listing")
    if permanent:
        await repository.purge_listing(session, tenant_id=ctx.tenant_id, listing_id=listing_id)
    else:
        await repository.update_listing(session, tenant_id=ctx.tenant_id,
                                        listing_id=listing_id,
                                        values={"deleted_at": func.now()})
    await audit.record(session, ctx=ctx,
                       action="listing.purged" if permanent else "listing.deleted",
                       entity_type="listing", entity_id=listing_id,
                       event=outbox.event(tenant_id=ctx.tenant_id, type="listing.deleted",
                                          entity_type="listing", entity_id=listing_id,
                                          payload={"id": str(listing_id),
                                                   "permanent": permanent}))


# Links ------------------------------------------------------------------------------

def _link_event(ctx: Context, kind: str, link: dict[str, Any]) -> Any:
    return outbox.event(tenant_id=ctx.tenant_id, type=f"listing.{kind}",
                        entity_type="listing", entity_id=link["listing_id"],
                        payload={"lead_id": str(link["lead_id"]),
                                 "listing_id": str(link["listing_id"]),
                                 "interest": link.get("interest")})


async def link_lead(session: AsyncSession, *, ctx: Context, lead_id: uuid.UUID,
                    body: LeadListingCreate) -> dict[str, Any]:
    """Link a lead the caller may read to a live listing of the workspace."""
    await leads_service.get_lead(session, ctx=ctx, lead_id=lead_id)
    listing = await get_listing(session, ctx=ctx, listing_id=body.listing_id)
    link = await repository.insert_link(session, tenant_id=ctx.tenant_id, lead_id=lead_id,
                                        listing_id=body.listing_id, interest=body.interest,
                                        note=body.note)
    if link is None:
        raise Conflict("This lead is already linked to this listing.",
                       code="LISTING_ALREADY_LINKED")
    await audit.record(session, ctx=ctx, action="listing.lead_linked",
                       entity_type="lead_listing", entity_id=link["id"],
                       changes={"fields": ["interest", "note"]},
                       event=_link_event(ctx, "lead_linked", link))
    return {**link, "listing": listing}


async def _link(session: AsyncSession, ctx: Context, lead_id: uuid.UUID,
                listing_id: uuid.UUID) -> dict[str, Any]:
    await leads_service.get_lead(session, ctx=ctx, lead_id=lead_id)
    link = await repository.get_link(session, tenant_id=ctx.tenant_id, lead_id=lead_id,
                                     listing_id=listing_id, for_update=True)
    if link is None:
        raise _link_not_found()
    return link


async def update_link(session: AsyncSession, *, ctx: Context, lead_id: uuid.UUID,
                      listing_id: uuid.UUID, body: LeadListingUpdate,
                      expected_version: int | None) -> dict[str, Any]:
    link = await _link(session, ctx, lead_id, listing_id)
    check_version(link, expected_version, what="link")
    patch = body.model_dump(exclude_unset=True)
    require_changes(patch)
    changed = {k: v for k, v in patch.items() if link.get(k) != v}
    if changed:
        link = await repository.update_link(session, tenant_id=ctx.tenant_id,
                                            link_id=link["id"], values=changed)
        await audit.record(session, ctx=ctx, action="listing.lead_updated",
                           entity_type="lead_listing", entity_id=link["id"],
                           changes={"fields": sorted(changed)},
                           event=_link_event(ctx, "lead_updated", link))
    listing = await repository.get_listing(session, tenant_id=ctx.tenant_id,
                                           listing_id=listing_id, include_deleted=True)
    return {**link, "listing": listing}


async def unlink_lead(session: AsyncSession, *, ctx: Context, lead_id: uuid.UUID,
                      listing_id: uuid.UUID, expected_version: int | None) -> None:
    link = await _link(session, ctx, lead_id, listing_id)
    check_version(link, expected_version, what="link")
    await repository.delete_link(session, tenant_id=ctx.tenant_id, link_id=link["id"])
    await audit.record(session, ctx=ctx, action="listing.lead_unlinked",
                       entity_type="lead_listing", entity_id=link["id"],
                       event=_link_event(ctx, "lead_unlinked", link))


@dataclass(frozen=True)
class LinkList:
    rows: list[dict[str, Any]]
    next_cursor: str | None


def _link_page(rows: list[dict[str, Any]], per_page: int) -> LinkList:
    if len(rows) <= per_page:
        return LinkList(rows=rows, next_cursor=None)
    rows = rows[:per_page]
    return LinkList(rows=rows, next_cursor=encode_cursor(
        LINK_SORT_KEY, [rows[-1]["created_at"], rows[-1]["id"]]))


async def listings_of_lead(session: AsyncSession, *, ctx: Context, lead_id: uuid.UUID,
                           params: PageParams) -> LinkList:
    """The live listings a lead (readable by ``ctx``) is linked to, newest link first."""
    await leads_service.get_lead(session, ctx=ctx, lead_id=lead_id)
    after = decode_cursor(params.cursor, LINK_SORT_KEY) if params.cursor else None
    rows = await repository.links_of_lead(session, tenant_id=ctx.tenant_id, lead_id=lead_id,
                                          after=after, limit=params.per_page + 1,
                                          offset=params.offset)
    return _link_page(rows, params.per_page)


async def leads_of_listing(session: AsyncSession, *, ctx: Context, listing_id: uuid.UUID,
                           params: PageParams) -> LinkList:
    """The live leads linked to a listing, among those ``ctx`` may read (an agent: their
    own), newest link first."""
    await get_listing(session, ctx=ctx, listing_id=listing_id)
    after = decode_cursor(params.cursor, LINK_SORT_KEY) if params.cursor else None
    rows = await repository.links_of_listing(session, scope=readable(ctx),
                                             listing_id=listing_id, after=after,
                                             limit=params.per_page + 1,
                                             offset=params.offset)
    return _link_page(rows, params.per_page)
