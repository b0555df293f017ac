"""Field sections (``/api/v1/field-sections``): the workspace's ordered groups of fields;
a field of any list may sit in any section. Reading needs any role; writing, admin."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from leadbase.auth.deps import AdminScope, IfMatch, Scope
from leadbase.kit.http import etag, json_response
from leadbase.kit.idempotency import idempotent
from leadbase.kit.pagination import PageParams, page_params
from leadbase.lists.sections import service
from leadbase.lists.sections.schemas import SectionCreate, SectionPage, SectionRead, SectionUpdate

router = APIRouter(prefix="/field-sections", tags=["field sections"])


def _read(row: dict[str, Any]) -> SectionRead:
    return SectionRead.model_validate(row)


@router.get("", response_model=SectionPage)
async def list_sections(scope: Scope, params: Annotated[PageParams, Depends(page_params)],
                        list_id: uuid.UUID | None = None) -> Response:
    """Sections by position; ``list_id`` keeps those holding a field of that list."""
    rows, total = await service.list_sections(scope.session, ctx=scope.ctx, params=params,
                                              list_id=list_id)
    return json_response(SectionPage(data=[_read(r) for r in rows], total=total,
                                     page=params.page, per_page=params.per_page,
                                     next_cursor=None))


@router.post("", status_code=201, response_model=SectionRead,
             responses={422: {"description": "VALIDATION_ERROR"}})
async def create_section(request: Request, body: SectionCreate, scope: AdminScope) -> Response:
    """Add a section to the workspace (after the last one when ``position`` is absent).
    Accepts ``Idempotency-Key``."""

    async def work() -> Response:
        row = await service.create_section(scope.session, ctx=scope.ctx, body=body)
        return json_response(_read(row), 201, headers={
            "ETag": etag(row["version"]), "Location": f"/api/v1/field-sections/{row['id']}"})

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


@router.get("/{section_id}", response_model=SectionRead)
async def get_section(section_id: uuid.UUID, scope: Scope) -> Response:
    row = await service.get_section(scope.session, ctx=scope.ctx, section_id=section_id)
    return json_response(_read(row), headers={"ETag": etag(row["version"])})


@router.patch("/{section_id}", response_model=SectionRead,
              responses={412: {"description": "If-Match names an older version"}})
async def update_section(section_id: uuid.UUID, body: SectionUpdate, scope: AdminScope,
                         if_match: IfMatch) -> Response:
    """Rename or move a section (``position`` is its sort key among the workspace's)."""
    row = await service.update_section(scope.session, ctx=scope.ctx, section_id=section_id,
                                       body=body, expected_version=if_match)
    return json_response(_read(row), headers={"ETag": etag(row["version"])})


@router.delete("/{section_id}", status_code=204,
               responses={412: {"description": "If-Match names an older version"}})
async def delete_section(section_id: uuid.UUID, scope: AdminScope,
                         if_match: IfMatch) -> Response:
    """Soft-delete a section. Its fields stay, with no section, and keep their data."""
    await service.delete_section(scope.session, ctx=scope.ctx, section_id=section_id,
                                 expected_version=if_match)
    return Response(status_code=204)
