"""Lead lists (``/api/v1/lists``). Reading needs any role; writing, admin."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from leadbase.auth.deps import AdminScope, IfMatch, Scope
from leadbase.kit.http import etag, json_response
from leadbase.kit.idempotency import idempotent
from leadbase.kit.pagination import NamedSort, NameQuery, PageParams, page_params
from leadbase.lists import service
from leadbase.lists.schemas import ListCreate, ListPage, ListRead, ListUpdate

router = APIRouter(prefix="/lists", tags=["lists"])


def _read(row: dict[str, Any]) -> ListRead:
    return ListRead.model_validate(row)


@router.get("", response_model=ListPage)
async def list_lists(
    scope: Scope,
    params: Annotated[PageParams, Depends(page_params)],
    q: NameQuery = None,
    sort: NamedSort = None,
) -> Response:
    """The workspace's lists, each with its count of live leads."""
    rows, total = await service.list_lists(scope.session, ctx=scope.ctx, params=params, q=q,
                                           sort=sort)
    return json_response(ListPage(data=[_read(r) for r in rows], total=total,
                                  page=params.page, per_page=params.per_page, next_cursor=None))


@router.post("", status_code=201, response_model=ListRead,
             responses={409: {"description": "LIST_NAME_TAKEN"}})
async def create_list(request: Request, body: ListCreate, scope: AdminScope) -> Response:
    """Create a list. Names are unique per workspace (case-insensitive) among live lists.
    Accepts ``Idempotency-Key``."""

    async def work() -> Response:
        row = await service.create_list(scope.session, ctx=scope.ctx, body=body)
        return json_response(_read(row), 201, headers={"ETag": etag(row["version"]),
                                                       "Location": f"/api/v1/lists/{row['id']}"})

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


@router.get("/{list_id}", response_model=ListRead)
async def get_list(list_id: uuid.UUID, scope: Scope) -> Response:
    row = await service.get_list(scope.session, ctx=scope.ctx, list_id=list_id)
    return json_response(_read(row), headers={"ETag": etag(row["version"])})


@router.patch("/{list_id}", response_model=ListRead,
              responses={409: {"description": "LIST_NAME_TAKEN, DEFAULT_LIST_REQUIRED"},
                         412: {"description": "If-Match names an older version"}})
async def update_list(list_id: uuid.UUID, body: ListUpdate, scope: AdminScope,
                      if_match: IfMatch) -> Response:
    """Change name, description, or make the list the default (``is_default: true``; the
    previous default stops being one). Send ``If-Match: "<version>"`` to refuse the
    change with 412 when someone else changed the list first."""
    row = await service.update_list(scope.session, ctx=scope.ctx, list_id=list_id, body=body,
                                    expected_version=if_match)
    return json_response(_read(row), headers={"ETag": etag(row["version"])})


@router.delete("/{list_id}", status_code=204,
               responses={409: {"description": "DEFAULT_LIST, LIST_NOT_EMPTY, LIST_IN_USE"},
                          412: {"description": "If-Match names an older version"}})
async def delete_list(list_id: uuid.UUID, scope: AdminScope, if_match: IfMatch) -> Response:
    """Soft-delete a list. Refused for the default list, a list with live leads, and a
    list that a field of another list relates to."""
    await service.delete_list(scope.session, ctx=scope.ctx, list_id=list_id,
                              expected_version=if_match)
    return Response(status_code=204)
