"""Rules for field sections. Every change bumps the list's ``schema_version`` (the key of
compiled-schema caches); deleting a section is soft and leaves its fields without one."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.audit import service as audit
from leadbase.auth.context import Context
from leadbase.kit.checks import check_version, found, require_changes
from leadbase.kit.errors import NotFound, ValidationFailed
from leadbase.kit.pagination import PageParams
from leadbase.lists import repository as lists_repository
from leadbase.lists import service as lists_service
from leadbase.lists.sections import repository
from leadbase.lists.sections.schemas import SectionCreate, SectionUpdate


def _not_found() -> NotFound:
    return NotFound("Field section not found.", code="SECTION_NOT_FOUND")


async def create_section(session: AsyncSession, *, ctx: Context,
                         body: SectionCreate) -> dict[str, Any]:
    """Add a section to a list of this workspace (422 ``LIST_NOT_FOUND`` otherwise)."""
    list_id = await lists_service.resolve(session, tenant_id=ctx.tenant_id, list_id=body.list_id)
    position = body.position
    if position is None:
        position = await repository.next_position(session, tenant_id=ctx.tenant_id,
                                                  list_id=list_id)
    row = await repository.insert_section(session, tenant_id=ctx.tenant_id, values={
        "list_id": list_id, "name": body.name, "position": position})
    await lists_repository.bump_schema_versions(session, tenant_id=ctx.tenant_id,
                                                list_ids=[list_id])
    await audit.record(session, ctx=ctx, action="field_section.created",
                       entity_type="field_section", entity_id=row["id"],
                       changes={"fields": ["list_id", "name", "position"]})
    return row


async def get_section(session: AsyncSession, *, ctx: Context,
                      section_id: uuid.UUID) -> dict[str, Any]:
    row = found(await repository.get(session, tenant_id=ctx.tenant_id, section_id=section_id),
                _not_found)
    return row


async def get_by_number(session: AsyncSession, *, ctx: Context, number: int) -> dict[str, Any]:
    row = found(await repository.get_by_number(session, tenant_id=ctx.tenant_id, number=number),
                _not_found)
    return row


async def list_sections(session: AsyncSession, *, ctx: Context, params: PageParams,
                        list_id: uuid.UUID | None = None) -> tuple[list[dict[str, Any]], int]:
    """Live sections ordered by list, then position. A ``list_id`` that names no list of
    this workspace is refused (422 ``LIST_NOT_FOUND``) rather than answered empty."""
    if list_id is not None and await lists_repository.get(
            session, tenant_id=ctx.tenant_id, list_id=list_id) is None:
        raise ValidationFailed("The list does not exist in this workspace.",
                               code="LIST_NOT_FOUND",
                               errors=[{"field": "list_id", "message": "unknown list"}])
    return await repository.list_sections(session, tenant_id=ctx.tenant_id, list_id=list_id,
                                          offset=params.offset, limit=params.per_page)


async def update_section(
    session: AsyncSession, *, ctx: Context, section_id: uuid.UUID, body: SectionUpdate,
    expected_version: int | None,
) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    require_changes(changes)
    row = found(await repository.get(session, tenant_id=ctx.tenant_id, section_id=section_id,
                                     for_update=True), _not_found)
    check_version(row, expected_version, what="section")
    values = {k: v for k, v in changes.items() if v != row[k]}
    if not values:
        return row
    updated = await repository.update_section(session, tenant_id=ctx.tenant_id,
                                              section_id=section_id, values=values)
    await lists_repository.bump_schema_versions(session, tenant_id=ctx.tenant_id,
                                                list_ids=[row["list_id"]])
    await audit.record(session, ctx=ctx, action="field_section.updated",
                       entity_type="field_section", entity_id=section_id,
                       changes={"fields": sorted(values)})
    return updated


async def delete_section(session: AsyncSession, *, ctx: Context, section_id: uuid.UUID,
                         expected_version: int | None) -> int:
    """Soft-delete a section; its fields stay (with no section) and keep their data.
    Returns how many fields were detached."""
    row = found(await repository.get(session, tenant_id=ctx.tenant_id, section_id=section_id,
                                     for_update=True), _not_found)
    check_version(row, expected_version, what="section")
    await repository.soft_delete(session, tenant_id=ctx.tenant_id, section_id=section_id)
    detached = await repository.detach_fields(session, tenant_id=ctx.tenant_id,
                                              section_id=section_id)
    await lists_repository.bump_schema_versions(session, tenant_id=ctx.tenant_id,
                                                list_ids=[row["list_id"]])
    await audit.record(session, ctx=ctx, action="field_section.deleted",
                       entity_type="field_section", entity_id=section_id,
                       changes={"fields": ["deleted_at"], "detached_fields": detached})
    return detached
