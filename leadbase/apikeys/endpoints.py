"""API keys (``/api/v1/api-keys``): admins create, list and revoke them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from leadbase.apikeys import service
from leadbase.apikeys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyPage, ApiKeyRead
from leadbase.auth.deps import AdminScope
from leadbase.kit.http import json_response
from leadbase.kit.pagination import PageParams, page_params

router = APIRouter(prefix="/api-keys", tags=["api keys"])


@router.post("", status_code=201, response_model=ApiKeyCreated)
async def create_key(body: ApiKeyCreate, scope: AdminScope) -> Response:
    """Create a key. The ``secret`` is in this response only; use it as
    ``Authorization: Bearer <secret>``."""
    row = await service.create_key(scope.session, ctx=scope.ctx, body=body)
    return json_response(ApiKeyCreated.model_validate(row), 201,
                         headers={"Cache-Control": "no-store"})


@router.get("", response_model=ApiKeyPage)
async def list_keys(scope: AdminScope,
                    params: Annotated[PageParams, Depends(page_params)]) -> Response:
    rows, total = await service.list_keys(scope.session, ctx=scope.ctx, params=params)
    return json_response(ApiKeyPage(data=[ApiKeyRead.model_validate(r) for r in rows],
                                    total=total, page=params.page, per_page=params.per_page,
                                    next_cursor=None))


@router.delete("/{key_id}", status_code=204)
async def revoke_key(key_id: uuid.UUID, scope: AdminScope) -> Response:
    await service.revoke_key(scope.session, ctx=scope.ctx, key_id=key_id)
    return Response(status_code=204)
