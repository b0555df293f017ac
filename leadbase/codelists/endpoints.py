"""Code lists ("nomenclators", ``/api/v1/code-lists``) and their items. Reading needs any
role; writing, admin."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from leadbase.auth.deps import AdminScope, IfMatch, Scope
from leadbase.codelists import service
from leadbase.codelists.schemas import (
    CodeListCreate,
    CodeListPage,
    CodeListRead,
    CodeListUpdate,
    ItemCreate,
    ItemPage,
    ItemRead,
    ItemUpdate,
)
from leadbase.kit.http import etag, json_response
from leadbase.kit.idempotency import idempotent
from leadbase.kit.pagination import NamedSort, NameQuery, PageParams, page_params

router = APIRouter(prefix="/code-lists", tags=["code lists"])

PRECONDITION: dict[int | str, dict[str, Any]] = {
    412: {"description": "If-Match names an older version"}}


def _read(row: dict[str, Any]) -> CodeListRead:
    return CodeListRead.model_validate(row)


def _item(row: dict[str, Any]) -> ItemRead:
    return ItemRead.model_validate(row)


@router.get("", response_model=CodeListPage)
async def list_code_lists(
    scope: Scope,
    params: Annotated[PageParams, Depends(page_params)],
    q: NameQuery = None,
    sort: NamedSort = None,
) -> Response:
    """The workspace's code lists, each with all its items."""
    rows, total = await service.list_code_lists(scope.session, ctx=scope.ctx, params=params,
                                                q=q, sort=sort)
    return json_response(CodeListPage(data=[_read(r) for r in rows], total=total,
                                      page=params.page, per_page=params.per_page,
                                      next_cursor=None))


@router.post("", status_code=201, response_model=CodeListRead,
             responses={409: {"description": "CODE_LIST_NAME_TAKEN"},
                        422: {"description": "DUPLICATE_ITEM_CODE, VALIDATION_ERROR"}})
async def create_code_list(request: Request, body: CodeListCreate,
                           scope: AdminScope) -> Response:
    """Create a code list, optionally with its items (up to 1,000; codes unique within
    the list). Accepts ``Idempotency-Key``."""

    async def work() -> Response:
        row = await service.create_code_list(scope.session, ctx=scope.ctx, body=body)
        return json_response(_read(row), 201, headers={
            "ETag": etag(row["version"]), "Location": f"/api/v1/code-lists/{row['id']}"})

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


@router.get("/{code_list_id}", response_model=CodeListRead)
async def get_code_list(code_list_id: uuid.UUID, scope: Scope) -> Response:
    row = await service.get_code_list(scope.session, ctx=scope.ctx, code_list_id=code_list_id)
    return json_response(_read(row), headers={"ETag": etag(row["version"])})


@router.patch("/{code_list_id}", response_model=CodeListRead,
              responses={409: {"description": "CODE_LIST_NAME_TAKEN"}, **PRECONDITION})
async def update_code_list(code_list_id: uuid.UUID, body: CodeListUpdate, scope: AdminScope,
                           if_match: IfMatch) -> Response:
    """Rename or describe a code list. Its version (the ETag) also moves when its items
    change."""
    row = await service.update_code_list(scope.session, ctx=scope.ctx,
                                         code_list_id=code_list_id, body=body,
                                         expected_version=if_match)
    return json_response(_read(row), headers={"ETag": etag(row["version"])})


@router.delete("/{code_list_id}", status_code=204,
               responses={409: {"description": "CODE_LIST_IN_USE"}, **PRECONDITION})
async def delete_code_list(code_list_id: uuid.UUID, scope: AdminScope,
                           if_match: IfMatch) -> Response:
    """Soft-delete a code list. Refused while a field uses it."""
    await service.delete_code_list(scope.session, ctx=scope.ctx, code_list_id=code_list_id,
                                   expected_version=if_match)
    return Response(status_code=204)


@router.get("/{code_list_id}/items", response_model=ItemPage)
async def list_items(code_list_id: uuid.UUID, scope: Scope,
                     params: Annotated[PageParams, Depends(page_params)],
                     active: bool | None = None) -> Response:
    """The code list's items by position (``active`` filters)."""
    rows, total = await service.list_items(scope.session, ctx=scope.ctx,
                                           code_list_id=code_list_id, params=params,
                                           active=active)
    return json_response(ItemPage(data=[_item(r) for r in rows], total=total, page=params.page,
                                  per_page=params.per_page, next_cursor=None))


@router.post("/{code_list_id}/items", status_code=201, response_model=ItemRead,
             responses={409: {"description": "ITEM_CODE_TAKEN"}})
async def add_item(request: Request, code_list_id: uuid.UUID, body: ItemCreate,
                   scope: AdminScope) -> Response:
    """Add an item (after the last one unless ``position`` is given). Lists whose fields
    use the code list get a new ``schema_version``. Accepts ``Idempotency-Key``."""

    async def work() -> Response:
        row = await service.add_item(scope.session, ctx=scope.ctx, code_list_id=code_list_id,
                                     body=body)
        return json_response(_item(row), 201, headers={
            "ETag": etag(row["version"]),
            "Location": f"/api/v1/code-lists/{code_list_id}/items/{row['id']}"})

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


@router.get("/{code_list_id}/items/{item_id}", response_model=ItemRead)
async def get_item(code_list_id: uuid.UUID, item_id: uuid.UUID, scope: Scope) -> Response:
    row = await service.get_item(scope.session, ctx=scope.ctx, code_list_id=code_list_id,
                                 item_id=item_id)
    return json_response(_item(row), headers={"ETag": etag(row["version"])})


@router.patch("/{code_list_id}/items/{item_id}", response_model=ItemRead,
              responses={409: {"description": "ITEM_CODE_TAKEN, ITEM_CODE_IN_USE"},
                         **PRECONDITION})
async def update_item(code_list_id: uuid.UUID, item_id: uuid.UUID, body: ItemUpdate,
                      scope: AdminScope, if_match: IfMatch) -> Response:
    """Change label, position or ``active`` (``true`` reactivates), or the code while no
    field uses the code list."""
    row = await service.update_item(scope.session, ctx=scope.ctx, code_list_id=code_list_id,
                                    item_id=item_id, body=body, expected_version=if_match)
    return json_response(_item(row), headers={"ETag": etag(row["version"])})


@router.delete("/{code_list_id}/items/{item_id}", status_code=204, response_model=None,
               responses={200: {"model": ItemRead,
                                "description": "A field uses the code list: the item was "
                                               "deactivated instead of erased"},
                          204: {"description": "Erased"}, **PRECONDITION})
async def delete_item(code_list_id: uuid.UUID, item_id: uuid.UUID, scope: AdminScope,
                      if_match: IfMatch) -> Response:
    """Erase an item (204) when no field uses the code list. When one does, the item is
    deactivated instead (``active: false``; 200 with the item): values already stored
    keep their meaning and the item can be reactivated with PATCH."""
    row = await service.delete_item(scope.session, ctx=scope.ctx, code_list_id=code_list_id,
                                    item_id=item_id, expected_version=if_match)
    if row is None:
        return Response(status_code=204)
    return json_response(_item(row), headers={"ETag": etag(row["version"])})
