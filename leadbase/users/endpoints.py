"""Users of the workspace (``/api/v1/users``). Reading needs any role; writing, admin."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from leadbase.auth.deps import AdminScope, IfMatch, Scope
from leadbase.kit.http import etag, json_response
from leadbase.kit.pagination import PageParams, page_params
from leadbase.users import service
from leadbase.users.schemas import UserCreate, UserPage, UserRead, UserUpdate

router = APIRouter(prefix="/users", tags=["users"])


@router.get("", response_model=UserPage)
async def list_users(
    scope: Scope,
    params: Annotated[PageParams, Depends(page_params)],
    role: Annotated[str | None, Query(description="Comma-separated roles")] = None,
    is_active: bool | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    rows, total = await service.list_users(scope.session, ctx=scope.ctx, params=params,
                                           role=role, is_active=is_active, q=q)
    return json_response(UserPage(data=[UserRead.model_validate(r) for r in rows], total=total,
                                  page=params.page, per_page=params.per_page, next_cursor=None))


@router.post("", status_code=201, response_model=UserRead)
async def create_user(body: UserCreate, scope: AdminScope) -> Response:
    """Add a user. Nobody grants a role above their own."""
    user = await service.create_user(scope.session, ctx=scope.ctx, body=body)
    return json_response(UserRead.model_validate(user), 201,
                         headers={"ETag": etag(user["version"])})


@router.get("/{user_id}", response_model=UserRead)
async def get_user(user_id: uuid.UUID, scope: Scope) -> Response:
    user = await service.get_user(scope.session, ctx=scope.ctx, user_id=user_id)
    return json_response(UserRead.model_validate(user), headers={"ETag": etag(user["version"])})


@router.patch("/{user_id}", response_model=UserRead)
async def update_user(user_id: uuid.UUID, body: UserUpdate, scope: AdminScope,
                      if_match: IfMatch) -> Response:
    user = await service.update_user(scope.session, ctx=scope.ctx, user_id=user_id, body=body,
                                     expected_version=if_match)
    return json_response(UserRead.model_validate(user), headers={"ETag": etag(user["version"])})


@router.delete("/{user_id}", response_model=UserRead)
async def deactivate_user(user_id: uuid.UUID, scope: AdminScope, if_match: IfMatch) -> Response:
    """Deactivate (users are never erased: their history stays attributable)."""
    user = await service.deactivate_user(scope.session, ctx=scope.ctx, user_id=user_id,
                                         expected_version=if_match)
    return json_response(UserRead.model_validate(user))
