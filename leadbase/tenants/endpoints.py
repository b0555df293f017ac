"""Platform administration of workspaces (``/api/v1/workspaces``, superadmins only)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from leadbase.auth.deps import SuperAdmin, get_db, request_id
from leadbase.kit.http import json_response
from leadbase.kit.pagination import PageParams, page_params
from leadbase.tenants import service
from leadbase.tenants.schemas import WorkspaceCreate, WorkspacePage, WorkspaceRead, WorkspaceUpdate

router = APIRouter(prefix="/workspaces", tags=["workspaces"])


@router.get("", response_model=WorkspacePage)
async def list_workspaces(request: Request, admin: SuperAdmin,
                          params: Annotated[PageParams, Depends(page_params)],
                          q: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    async with get_db(request).transaction(None, system=True) as session:
        rows, total = await service.list_workspaces(session, offset=params.offset,
                                                    limit=params.per_page, q=q)
    return json_response(WorkspacePage(data=[WorkspaceRead.model_validate(r) for r in rows],
                                       total=total, page=params.page, per_page=params.per_page,
                                       next_cursor=None))


@router.post("", status_code=201, response_model=WorkspaceRead)
async def create_workspace(request: Request, admin: SuperAdmin,
                           body: WorkspaceCreate) -> Response:
    """Create a workspace with its first owner."""
    async with get_db(request).transaction(None, system=True) as session:
        tenant, _owner = await service.create_with_owner(
            session, name=body.name, owner_email=str(body.owner_email),
            owner_name=body.owner_name, owner_password=body.owner_password, actor=admin,
            request_id=request_id(request), default_region=body.default_region
            or request.app.state.settings.default_region,
            timezone=body.timezone, currency=body.currency, locale=body.locale)
    return json_response(WorkspaceRead.model_validate({**tenant, "user_count": 1}), 201)


@router.get("/{workspace_id}", response_model=WorkspaceRead)
async def get_workspace(request: Request, workspace_id: uuid.UUID, admin: SuperAdmin) -> Response:
    async with get_db(request).transaction(None, system=True) as session:
        tenant = await service.get_workspace(session, tenant_id=workspace_id)
    return json_response(WorkspaceRead.model_validate(tenant))


@router.patch("/{workspace_id}", response_model=WorkspaceRead)
async def update_workspace(request: Request, workspace_id: uuid.UUID, admin: SuperAdmin,
                           body: WorkspaceUpdate) -> Response:
    values = body.model_dump(exclude_unset=True, exclude_none=True)
    async with get_db(request).transaction(None, system=True) as session:
        tenant = await service.update_workspace(session, tenant_id=workspace_id, values=values)
    return json_response(WorkspaceRead.model_validate(tenant))
