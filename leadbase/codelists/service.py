"""Rules for code lists ("nomenclators") and their items.

- Code-list names are unique per workspace among live code lists (case-insensitive);
  item codes are unique within their code list (case-sensitive, inactive items
  included): a code is what a lead's field stores.
- Any change to the items (add, change, (de)activate, delete) bumps the code list's
  ``version`` and the ``schema_version`` of every list with a field using the code list,
  in the same transaction (compiled schemas hold the allowed codes).
- Deleting an item erases it when no field uses the code list; otherwise the item is
  deactivated instead (``active=false``), so values already stored keep their meaning.
- The code of an item cannot change while a field uses its code list
  (``ITEM_CODE_IN_USE``): add a new item and deactivate the old one.
- A code list used by a field cannot be deleted (``CODE_LIST_IN_USE``); otherwise
  deletion is soft. "Used" means by a field (active or not) of a live list.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.audit import service as audit
from leadbase.auth.context import Context
from leadbase.codelists import repository
from leadbase.codelists.schemas import CodeListCreate, CodeListUpdate, ItemCreate, ItemUpdate
from leadbase.kit.checks import check_version, found, require_changes
from leadbase.kit.errors import Conflict, NotFound, ValidationFailed
from leadbase.kit.pagination import PageParams
from leadbase.kit.sorting import order_by, parse_sort


def _not_found() -> NotFound:
    return NotFound("Code list not found.", code="CODE_LIST_NOT_FOUND")


def _item_not_found() -> NotFound:
    return NotFound("Code list item not found.", code="ITEM_NOT_FOUND")


def _code_taken(codes: list[str], field: str = "code") -> Conflict:
    return Conflict(f"The code list already has an item with the code '{codes[0]}'.",
                    code="ITEM_CODE_TAKEN",
                    errors=[{"field": field, "message": f"'{c}' already used"} for c in codes])


async def _check_name(session: AsyncSession, ctx: Context, name: str,
                      exclude_id: uuid.UUID | None = None) -> None:
    await repository.lock_name(session, tenant_id=ctx.tenant_id, name=name)
    if await repository.name_taken(session, tenant_id=ctx.tenant_id, name=name,
                                   exclude_id=exclude_id):
        raise Conflict("A code list with this name already exists.",
                       code="CODE_LIST_NAME_TAKEN",
                       errors=[{"field": "name", "message": "already used by another code "
                                "list"}])


async def _with_items(session: AsyncSession, ctx: Context,
                      rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    items = await repository.items_for(session, tenant_id=ctx.tenant_id,
                                       code_list_ids=[r["id"] for r in rows])
    by_list: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        by_list[item["code_list_id"]].append(item)
    for row in rows:
        row["items"] = by_list.get(row["id"], [])
    return rows


# --- code lists -------------------------------------------------------------------------

async def create_code_list(session: AsyncSession, *, ctx: Context,
                           body: CodeListCreate) -> dict[str, Any]:
    """A code list, optionally with its items (codes unique within the request: 422
    ``DUPLICATE_ITEM_CODE``)."""
    seen: dict[str, int] = {}
    duplicates = []
    for i, item in enumerate(body.items):
        if item.code in seen:
            duplicates.append({"field": f"items.{i}.code",
                               "message": f"'{item.code}' repeats items.{seen[item.code]}"})
        seen.setdefault(item.code, i)
    if duplicates:
        raise ValidationFailed("Item codes repeat within the request.",
                               code="DUPLICATE_ITEM_CODE", errors=duplicates)
    await _check_name(session, ctx, body.name)
    row = await repository.insert_code_list(session, tenant_id=ctx.tenant_id, values={
        "name": body.name, "description": body.description or None})
    values, position = [], 0
    for item in body.items:
        at = item.position if item.position is not None else position
        position = max(position, at + 1)
        values.append({"code": item.code, "label": item.label, "position": at,
                       "active": item.active})
    row["items"] = await repository.insert_items(session, tenant_id=ctx.tenant_id,
                                                 code_list_id=row["id"], items=values)
    await audit.record(session, ctx=ctx, action="code_list.created", entity_type="code_list",
                       entity_id=row["id"], changes={"fields": ["description", "name"],
                                                     "items": len(values)})
    return row


async def get_code_list(session: AsyncSession, *, ctx: Context,
                        code_list_id: uuid.UUID) -> dict[str, Any]:
    """A live code list of the workspace with all its ``items`` (by position); 404
    ``CODE_LIST_NOT_FOUND``."""
    row = found(await repository.get(session, tenant_id=ctx.tenant_id, code_list_id=code_list_id),
                _not_found)
    return (await _with_items(session, ctx, [row]))[0]


async def get_by_number(session: AsyncSession, *, ctx: Context, number: int) -> dict[str, Any]:
    """The same as ``get_code_list``, by the code list's integer ``number``."""
    row = found(await repository.get_by_number(session, tenant_id=ctx.tenant_id, number=number),
                _not_found)
    return (await _with_items(session, ctx, [row]))[0]


async def list_code_lists(session: AsyncSession, *, ctx: Context, params: PageParams,
                          q: str | None = None,
                          sort: str | None = None) -> tuple[list[dict[str, Any]], int]:
    """A page of live code lists with their items (one query for all the page's items)."""
    _, columns = parse_sort(sort, repository.SORTABLE, default="number",
                            tiebreak=("id", repository.ID_COLUMN))
    rows, total = await repository.list_code_lists(
        session, tenant_id=ctx.tenant_id, q=q, order=order_by(columns), offset=params.offset,
        limit=params.per_page)
    return await _with_items(session, ctx, rows), total


async def update_code_list(
    session: AsyncSession, *, ctx: Context, code_list_id: uuid.UUID, body: CodeListUpdate,
    expected_version: int | None,
) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    require_changes(changes)
    row = found(await repository.get(session, tenant_id=ctx.tenant_id, code_list_id=code_list_id,
                                     for_update=True), _not_found)
    check_version(row, expected_version, what="code list")
    values: dict[str, Any] = {}
    if "name" in changes and changes["name"] != row["name"]:
        await _check_name(session, ctx, changes["name"], exclude_id=code_list_id)
        values["name"] = changes["name"]
    if "description" in changes and (changes["description"] or None) != row["description"]:
        values["description"] = changes["description"] or None
    if values:
        row = await repository.update_code_list(session, tenant_id=ctx.tenant_id,
                                                code_list_id=code_list_id, values=values)
        await audit.record(session, ctx=ctx, action="code_list.updated",
                           entity_type="code_list", entity_id=code_list_id,
                           changes={"fields": sorted(values)})
    return (await _with_items(session, ctx, [row]))[0]


async def delete_code_list(session: AsyncSession, *, ctx: Context, code_list_id: uuid.UUID,
                           expected_version: int | None) -> None:
    """Soft-delete a code list no field uses (409 ``CODE_LIST_IN_USE`` otherwise)."""
    row = found(await repository.get(session, tenant_id=ctx.tenant_id, code_list_id=code_list_id,
                                     for_update=True), _not_found)
    check_version(row, expected_version, what="code list")
    if await repository.in_use(session, tenant_id=ctx.tenant_id, code_list_id=code_list_id):
        raise Conflict("A field uses this code list; change or remove that field first.",
                       code="CODE_LIST_IN_USE")
    await repository.soft_delete(session, tenant_id=ctx.tenant_id, code_list_id=code_list_id)
    await audit.record(session, ctx=ctx, action="code_list.deleted", entity_type="code_list",
                       entity_id=code_list_id, changes={"fields": ["deleted_at"]})


async def active_item_codes(session: AsyncSession, *, tenant_id: uuid.UUID,
                            code_list_id: uuid.UUID) -> frozenset[str]:
    """The codes a field drawing on the code list accepts (its active items)."""
    return await repository.active_codes(session, tenant_id=tenant_id,
                                         code_list_id=code_list_id)


# --- items ------------------------------------------------------------------------------

async def _lock_code_list(session: AsyncSession, ctx: Context,
                          code_list_id: uuid.UUID) -> dict[str, Any]:
    """The live code list, locked: item writes of one code list run one at a time."""
    row = found(await repository.get(session, tenant_id=ctx.tenant_id, code_list_id=code_list_id,
                                     for_update=True), _not_found)
    return row


async def _items_changed(session: AsyncSession, ctx: Context, code_list_id: uuid.UUID) -> None:
    await repository.update_code_list(session, tenant_id=ctx.tenant_id,
                                      code_list_id=code_list_id, values={})
    await repository.bump_list_schema_versions(session, tenant_id=ctx.tenant_id,
                                               code_list_id=code_list_id)


async def _item_audit(session: AsyncSession, ctx: Context, action: str, item_id: uuid.UUID,
                      code_list_id: uuid.UUID, fields: list[str]) -> None:
    await audit.record(session, ctx=ctx, action=f"code_list_item.{action}",
                       entity_type="code_list_item", entity_id=item_id,
                       changes={"fields": fields, "code_list_id": str(code_list_id)})


async def list_items(session: AsyncSession, *, ctx: Context, code_list_id: uuid.UUID,
                     params: PageParams,
                     active: bool | None = None) -> tuple[list[dict[str, Any]], int]:
    if await repository.get(session, tenant_id=ctx.tenant_id,
                            code_list_id=code_list_id) is None:
        raise _not_found()
    return await repository.list_items(session, tenant_id=ctx.tenant_id,
                                       code_list_id=code_list_id, active=active,
                                       offset=params.offset, limit=params.per_page)


async def get_item(session: AsyncSession, *, ctx: Context, code_list_id: uuid.UUID,
                   item_id: uuid.UUID) -> dict[str, Any]:
    if await repository.get(session, tenant_id=ctx.tenant_id,
                            code_list_id=code_list_id) is None:
        raise _not_found()
    item = found(await repository.get_item(session, tenant_id=ctx.tenant_id,
                                           code_list_id=code_list_id, item_id=item_id),
                 _item_not_found)
    return item


async def get_item_by_number(session: AsyncSession, *, ctx: Context,
                             number: int) -> dict[str, Any]:
    return found(await repository.get_item_by_number(session, tenant_id=ctx.tenant_id,
                                                      number=number), _item_not_found)


async def add_item(session: AsyncSession, *, ctx: Context, code_list_id: uuid.UUID,
                   body: ItemCreate) -> dict[str, Any]:
    await _lock_code_list(session, ctx, code_list_id)
    taken = await repository.codes_taken(session, tenant_id=ctx.tenant_id,
                                         code_list_id=code_list_id, codes=[body.code])
    if taken:
        raise _code_taken(taken)
    position = body.position
    if position is None:
        position = await repository.next_position(session, tenant_id=ctx.tenant_id,
                                                  code_list_id=code_list_id)
    (item,) = await repository.insert_items(
        session, tenant_id=ctx.tenant_id, code_list_id=code_list_id,
        items=[{"code": body.code, "label": body.label, "position": position,
                "active": body.active}])
    await _items_changed(session, ctx, code_list_id)
    await _item_audit(session, ctx, "created", item["id"], code_list_id,
                      ["active", "code", "label", "position"])
    return item


async def update_item(
    session: AsyncSession, *, ctx: Context, code_list_id: uuid.UUID, item_id: uuid.UUID,
    body: ItemUpdate, expected_version: int | None,
) -> dict[str, Any]:
    """Change an item's label, position, active flag, or (while no field uses the code
    list) its code."""
    changes = body.model_dump(exclude_unset=True)
    require_changes(changes)
    await _lock_code_list(session, ctx, code_list_id)
    item = found(await repository.get_item(session, tenant_id=ctx.tenant_id,
                                           code_list_id=code_list_id, item_id=item_id),
                 _item_not_found)
    check_version(item, expected_version, what="item")
    values = {k: v for k, v in changes.items() if v != item[k]}
    if "code" in values:
        if await repository.in_use(session, tenant_id=ctx.tenant_id,
                                   code_list_id=code_list_id):
            raise Conflict("Fields use this code list, so its codes are fixed: add an item "
                           "with the new code and deactivate this one.",
                           code="ITEM_CODE_IN_USE",
                           errors=[{"field": "code", "message": "cannot change while in use"}])
        taken = await repository.codes_taken(session, tenant_id=ctx.tenant_id,
                                             code_list_id=code_list_id, codes=[values["code"]],
                                             exclude_id=item_id)
        if taken:
            raise _code_taken(taken)
    if not values:
        return item
    updated = await repository.update_item(session, tenant_id=ctx.tenant_id, item_id=item_id,
                                           values=values)
    await _items_changed(session, ctx, code_list_id)
    await _item_audit(session, ctx, "updated", item_id, code_list_id, sorted(values))
    return updated


async def delete_item(
    session: AsyncSession, *, ctx: Context, code_list_id: uuid.UUID, item_id: uuid.UUID,
    expected_version: int | None,
) -> dict[str, Any] | None:
    """Erase the item when no field uses the code list (returns None); otherwise
    deactivate it and return it, so values already stored keep their meaning."""
    await _lock_code_list(session, ctx, code_list_id)
    item = found(await repository.get_item(session, tenant_id=ctx.tenant_id,
                                           code_list_id=code_list_id, item_id=item_id),
                 _item_not_found)
    check_version(item, expected_version, what="item")
    if await repository.in_use(session, tenant_id=ctx.tenant_id, code_list_id=code_list_id):
        if item["active"]:
            item = await repository.update_item(session, tenant_id=ctx.tenant_id,
                                                item_id=item_id, values={"active": False})
            await _items_changed(session, ctx, code_list_id)
            await _item_audit(session, ctx, "deactivated", item_id, code_list_id, ["active"])
        return item
    await repository.delete_item(session, tenant_id=ctx.tenant_id, item_id=item_id)
    await _items_changed(session, ctx, code_list_id)
    await _item_audit(session, ctx, "deleted", item_id, code_list_id, [])
    return None
