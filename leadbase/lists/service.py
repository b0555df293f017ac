"""Rules for lead lists: names unique per workspace, exactly one default list, and a list
is deleted (softly) only when nothing depends on it."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.audit import service as audit
from leadbase.auth.context import Context
from leadbase.kit.checks import check_version, found, require_changes
from leadbase.kit.errors import Conflict, NotFound, ValidationFailed
from leadbase.kit.pagination import PageParams
from leadbase.kit.sorting import order_by, parse_sort
from leadbase.leads.repository import readable
from leadbase.lists import repository
from leadbase.lists.schemas import ListCreate, ListUpdate

DEFAULT_LIST_NAME = "Leads"


async def create_default(session: AsyncSession, *, tenant_id: uuid.UUID) -> uuid.UUID:
    return await repository.create(session, tenant_id=tenant_id, name=DEFAULT_LIST_NAME,
                                   is_default=True)


async def resolve(session: AsyncSession, *, tenant_id: uuid.UUID,
                  list_id: uuid.UUID | None) -> uuid.UUID:
    """The list a lead goes to: the given one (which must exist here) or the default."""
    if list_id is None:
        default = await repository.default_list_id(session, tenant_id=tenant_id)
        if default is None:
            default = await create_default(session, tenant_id=tenant_id)
        return default
    if not await repository.exists(session, tenant_id=tenant_id, list_id=list_id):
        raise ValidationFailed(
            "The list does not exist in this workspace.",
            code="LIST_NOT_FOUND",
            errors=[{"field": "list_id", "message": "unknown list"}],
        )
    return list_id


def _not_found() -> NotFound:
    return NotFound("List not found.", code="LIST_NOT_FOUND")


def _name_taken() -> Conflict:
    return Conflict("A list with this name already exists.", code="LIST_NAME_TAKEN",
                    errors=[{"field": "name", "message": "already used by another list"}])


async def _with_counts(session: AsyncSession, ctx: Context,
                       rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    counts = await repository.lead_counts(session, scope=readable(ctx),
                                          list_ids=[r["id"] for r in rows])
    for row in rows:
        row["lead_count"] = counts.get(row["id"], 0)
    return rows


async def create_list(session: AsyncSession, *, ctx: Context, body: ListCreate) -> dict[str, Any]:
    await repository.lock_name(session, tenant_id=ctx.tenant_id, name=body.name)
    if await repository.name_taken(session, tenant_id=ctx.tenant_id, name=body.name):
        raise _name_taken()
    row = await repository.insert_list(session, tenant_id=ctx.tenant_id,
                                       values={"name": body.name,
                                               "description": body.description or None})
    await audit.record(session, ctx=ctx, action="list.created", entity_type="list",
                       entity_id=row["id"], changes={"fields": ["description", "name"]})
    return {**row, "lead_count": 0}


async def get_list(session: AsyncSession, *, ctx: Context, list_id: uuid.UUID) -> dict[str, Any]:
    """A live list of the workspace with its ``lead_count``; 404 ``LIST_NOT_FOUND``."""
    row = found(await repository.get(session, tenant_id=ctx.tenant_id, list_id=list_id), _not_found)
    return (await _with_counts(session, ctx, [row]))[0]


async def get_by_number(session: AsyncSession, *, ctx: Context, number: int) -> dict[str, Any]:
    """The same as ``get_list``, by the list's integer ``number`` (profiles' ids)."""
    row = found(await repository.get_by_number(session, tenant_id=ctx.tenant_id, number=number),
                _not_found)
    return (await _with_counts(session, ctx, [row]))[0]


async def list_lists(session: AsyncSession, *, ctx: Context, params: PageParams,
                     q: str | None = None,
                     sort: str | None = None) -> tuple[list[dict[str, Any]], int]:
    """A page of live lists (``sort`` over number, name, created_at, updated_at), each with
    its ``lead_count`` (one grouped query for the page)."""
    _, columns = parse_sort(sort, repository.SORTABLE, default="number",
                            tiebreak=("id", repository.ID_COLUMN))
    rows, total = await repository.list_lists(
        session, tenant_id=ctx.tenant_id, q=q, order=order_by(columns),
        offset=params.offset, limit=params.per_page)
    return await _with_counts(session, ctx, rows), total


async def update_list(
    session: AsyncSession, *, ctx: Context, list_id: uuid.UUID, body: ListUpdate,
    expected_version: int | None,
) -> dict[str, Any]:
    """Rename, describe, or make the default list. Making a list the default un-defaults
    the previous one in the same transaction; the default list cannot be un-defaulted
    directly (409 ``DEFAULT_LIST_REQUIRED``): make another list the default instead."""
    changes = body.model_dump(exclude_unset=True)
    require_changes(changes)
    row = found(await repository.get(session, tenant_id=ctx.tenant_id, list_id=list_id,
                                     lock="no_key_update"), _not_found)
    check_version(row, expected_version, what="list")
    values: dict[str, Any] = {}
    if "name" in changes and changes["name"] != row["name"]:
        name = changes["name"]
        await repository.lock_name(session, tenant_id=ctx.tenant_id, name=name)
        if await repository.name_taken(session, tenant_id=ctx.tenant_id, name=name,
                                       exclude_id=list_id):
            raise _name_taken()
        values["name"] = name
    if "description" in changes and (changes["description"] or None) != row["description"]:
        values["description"] = changes["description"] or None
    switched_from: list[uuid.UUID] = []
    if "is_default" in changes and changes["is_default"] != row["is_default"]:
        if not changes["is_default"]:
            raise Conflict("A workspace always has a default list; make another list the "
                           "default instead.", code="DEFAULT_LIST_REQUIRED",
                           errors=[{"field": "is_default", "message": "the default list "
                                    "cannot be un-defaulted directly"}])
        await repository.lock_default(session, tenant_id=ctx.tenant_id)
        switched_from = await repository.unset_default(session, tenant_id=ctx.tenant_id)
        values["is_default"] = True
    if not values:
        return (await _with_counts(session, ctx, [row]))[0]
    updated = await repository.update_list(session, tenant_id=ctx.tenant_id, list_id=list_id,
                                           values=values)
    for previous in switched_from:
        await audit.record(session, ctx=ctx, action="list.updated", entity_type="list",
                           entity_id=previous, changes={"fields": ["is_default"]})
    await audit.record(session, ctx=ctx, action="list.updated", entity_type="list",
                       entity_id=list_id, changes={"fields": sorted(values)})
    if "is_default" in values:
        _forget_cached_defaults(ctx.tenant_id)
    return (await _with_counts(session, ctx, [updated]))[0]


def _forget_cached_defaults(tenant_id: uuid.UUID) -> None:
    # Imported here: the workspaces service imports this module (to create default lists).
    from leadbase.tenants import service as tenants_service

    tenants_service.forget_defaults(tenant_id)


async def delete_list(session: AsyncSession, *, ctx: Context, list_id: uuid.UUID,
                      expected_version: int | None) -> None:
    """Soft-delete a list. Refused (409) for the default list (``DEFAULT_LIST``), a list
    with live leads (``LIST_NOT_EMPTY``) and a list that a field of another list relates
    to (``LIST_IN_USE``). Its fields stay, out of sight with it (sections are the
    workspace's and stay in sight)."""
    # A full row lock: leads being written into the list (which hold a key-share lock on
    # it) finish first, and are then counted; later ones find the list gone.
    row = found(await repository.get(session, tenant_id=ctx.tenant_id, list_id=list_id,
                                     lock="update"), _not_found)
    check_version(row, expected_version, what="list")
    if row["is_default"]:
        raise Conflict("The default list cannot be deleted; make another list the default "
                       "first.", code="DEFAULT_LIST")
    if await repository.has_live_leads(session, tenant_id=ctx.tenant_id, list_id=list_id):
        raise Conflict("The list still has leads; move or delete them first.",
                       code="LIST_NOT_EMPTY")
    if await repository.related_from_other_lists(session, tenant_id=ctx.tenant_id,
                                                 list_id=list_id):
        raise Conflict("A field of another list relates to this list; change or remove "
                       "that field first.", code="LIST_IN_USE")
    await repository.soft_delete(session, tenant_id=ctx.tenant_id, list_id=list_id)
    await audit.record(session, ctx=ctx, action="list.deleted", entity_type="list",
                       entity_id=list_id, changes={"fields": ["deleted_at"]})
