"""Rules for field sections: the workspace's groups of fields, which fields of any list
may sit in. A change to a section bumps the ``schema_version`` (the key of compiled-schema
caches) of every list with a field in it; deleting a section is soft and leaves its fields
without one."""

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
from leadbase.lists.sections import repository
from leadbase.lists.sections.schemas import SectionCreate, SectionUpdate


def _not_found() -> NotFound:
    return NotFound("Field section not found.", code="SECTION_NOT_FOUND")


async def _bump_lists_using(session: AsyncSession, ctx: Context, section_id: uuid.UUID) -> None:
    await lists_repository.bump_schema_versions(
        session, tenant_id=ctx.tenant_id,
        list_ids=repository.lists_using(ctx.tenant_id, section_id))


async def create_section(session: AsyncSession, *, ctx: Context,
                         body: SectionCreate) -> dict[str, Any]:
    """A new section of the workspace, after the last one unless ``position`` is given."""
    position = body.position
    if position is None:
        position = await repository.next_position(session, tenant_id=ctx.tenant_id)
    row = await repository.ROWS.insert(session, tenant_id=ctx.tenant_id,
                                       values={"name": body.name, "position": position})
    await audit.record(session, ctx=ctx, action="field_section.created",
                       entity_type="field_section", entity_id=row["id"],
                       changes={"fields": ["name", "position"]})
    return row


async def get_section(session: AsyncSession, *, ctx: Context,
                      section_id: uuid.UUID) -> dict[str, Any]:
    return found(await repository.get(session, tenant_id=ctx.tenant_id, section_id=section_id),
                 _not_found)


async def get_by_number(session: AsyncSession, *, ctx: Context, number: int) -> dict[str, Any]:
    """The same as ``get_section``, by the section's integer ``number`` (profiles' ids)."""
    return found(await repository.get_by_number(session, tenant_id=ctx.tenant_id,
                                                number=number), _not_found)


async def list_sections(session: AsyncSession, *, ctx: Context, params: PageParams,
                        list_id: uuid.UUID | None = None) -> tuple[list[dict[str, Any]], int]:
    """Live sections by position; with ``list_id``, those holding a field of that list. A
    ``list_id`` that names no list of this workspace is refused (422 ``LIST_NOT_FOUND``)
    rather than answered empty."""
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
    updated = await repository.ROWS.update(session, tenant_id=ctx.tenant_id, row_id=section_id,
                                           values=values)
    await _bump_lists_using(session, ctx, section_id)
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
    await _bump_lists_using(session, ctx, section_id)
    await repository.soft_delete(session, tenant_id=ctx.tenant_id, section_id=section_id)
    detached = await repository.detach_fields(session, tenant_id=ctx.tenant_id,
                                              section_id=section_id)
    await audit.record(session, ctx=ctx, action="field_section.deleted",
                       entity_type="field_section", entity_id=section_id,
                       changes={"fields": ["deleted_at"], "detached_fields": detached})
    return detached
