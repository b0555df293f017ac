"""``/lead_field_sections``: the workspace's sections of the fields' forms, in the style of
``/lead_fields``. A section is not a campaign's: a field of any campaign may sit in any
section (the document's PUT example puts a field of campaign 2 in section 1, the section
its POST examples use for campaign 1)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from leadbase.auth.deps import AdminScope, Scope
from leadbase.compat.fields import views
from leadbase.compat.fields.errors import SECTION_NAMES, canonical, names
from leadbase.compat.fields.paging import Id, Paging
from leadbase.compat.fields.refs import Refs
from leadbase.compat.fields.schemas import (
    BIGINT_MAX,
    DeleteOut,
    SectionCreate,
    SectionOut,
    SectionReplace,
)
from leadbase.lists.sections import schemas as canonical_schemas
from leadbase.lists.sections import service

router = APIRouter(tags=["lead_field_sections"], dependencies=[names(SECTION_NAMES)])


def _values(body: SectionCreate) -> dict[str, object]:
    values: dict[str, object] = {"name": body.name}
    if body.order is not None:
        values["position"] = body.order
    return values


@router.get("/lead_field_sections", response_model=list[SectionOut])
async def list_sections(scope: Scope, paging: Paging,
                        campaign_id: Annotated[int | None, Query(ge=1, le=BIGINT_MAX)] = None
                        ) -> Response:
    """Sections by order; ``campaign_id`` keeps those holding a field of that campaign."""
    refs = Refs(scope)
    list_id = (await refs.campaign(campaign_id))["id"] if campaign_id is not None else None
    rows, _ = await service.list_sections(scope.session, ctx=scope.ctx, params=paging,
                                          list_id=list_id)
    return views.respond([views.section(refs, r) for r in rows])


@router.post("/lead_field_sections", response_model=SectionOut)
async def create_section(body: SectionCreate, scope: AdminScope) -> Response:
    """Add a section to the workspace (``order``: after the last one when absent)."""
    refs = Refs(scope)
    created = await service.create_section(
        scope.session, ctx=scope.ctx,
        body=canonical(canonical_schemas.SectionCreate, SECTION_NAMES, _values(body)))
    return views.respond(views.section(refs, created))


@router.get("/lead_field_sections/{id}", response_model=SectionOut)
async def get_section(id: Id, scope: Scope) -> Response:
    refs = Refs(scope)
    return views.respond(views.section(refs, await refs.section(id)))


@router.put("/lead_field_sections/{id}", response_model=SectionOut)
async def replace_section(id: Id, body: SectionReplace, scope: AdminScope) -> Response:
    """Rename or reorder a section (``name`` required; ``order`` keeps its value when not
    sent)."""
    refs = Refs(scope)
    section = await refs.section(id)
    updated = await service.update_section(
        scope.session, ctx=scope.ctx, section_id=section["id"],
        body=canonical(canonical_schemas.SectionUpdate, SECTION_NAMES, _values(body)),
        expected_version=None)
    return views.respond(views.section(refs, updated))


@router.delete("/lead_field_sections/{id}", response_model=DeleteOut)
async def delete_section(id: Id, scope: AdminScope) -> Response:
    """Delete a section; its fields stay, without a section (``lead_field_section_id``
    null)."""
    refs = Refs(scope)
    section = await refs.section(id)
    await service.delete_section(scope.session, ctx=scope.ctx, section_id=section["id"],
                                 expected_version=None)
    return views.respond(DeleteOut(id=id, result="deleted"))
