"""``/nomenclators``: code lists whose items a SELECTOR or CHECKBOX field offers, in the
style of ``/lead_fields``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.responses import Response

from leadbase.auth.deps import AdminScope, Scope
from leadbase.codelists import schemas as canonical_schemas
from leadbase.codelists import service
from leadbase.compat.fields import views
from leadbase.compat.fields.errors import NOMENCLATOR_NAMES, canonical, names
from leadbase.compat.fields.paging import Id, Paging
from leadbase.compat.fields.refs import Refs
from leadbase.compat.fields.schemas import (
    DeleteOut,
    ItemCreate,
    ItemOut,
    ItemReplace,
    NomenclatorCreate,
    NomenclatorOut,
    NomenclatorReplace,
)

router = APIRouter(tags=["nomenclators"], dependencies=[names(NOMENCLATOR_NAMES)])

_ITEM = {"code": "code", "name": "label", "order": "position", "active": "active"}


def _item(body: ItemCreate) -> dict[str, Any]:
    return {_ITEM[k]: v for k, v in body.model_dump(exclude_unset=True).items()
            if k in _ITEM and v is not None}


@router.get("/nomenclators", response_model=list[NomenclatorOut])
async def list_nomenclators(scope: Scope, paging: Paging) -> Response:
    """Nomenclators with their items (inactive ones included), by id."""
    refs = Refs(scope)
    rows, _ = await service.list_code_lists(scope.session, ctx=scope.ctx, params=paging)
    return views.respond([views.nomenclator(refs, r) for r in rows])


@router.post("/nomenclators", response_model=NomenclatorOut)
async def create_nomenclator(body: NomenclatorCreate, scope: AdminScope) -> Response:
    """A nomenclator, optionally with its items (``code`` is what a lead's field stores,
    ``name`` the label shown)."""
    values: dict[str, Any] = {"name": body.name, "items": [_item(i) for i in body.items]}
    if body.description is not None:
        values["description"] = body.description
    created = await service.create_code_list(
        scope.session, ctx=scope.ctx,
        body=canonical(canonical_schemas.CodeListCreate, NOMENCLATOR_NAMES, values))
    return views.respond(views.nomenclator(Refs(scope), created))


@router.get("/nomenclators/{id}", response_model=NomenclatorOut)
async def get_nomenclator(id: Id, scope: Scope) -> Response:
    refs = Refs(scope)
    return views.respond(views.nomenclator(refs, await refs.nomenclator(id)))


@router.put("/nomenclators/{id}", response_model=NomenclatorOut)
async def replace_nomenclator(id: Id, body: NomenclatorReplace, scope: AdminScope) -> Response:
    """Rename or describe a nomenclator (``name`` required; ``description`` keeps its value
    when not sent). Items have their own routes."""
    refs = Refs(scope)
    found = await refs.nomenclator(id)
    values: dict[str, Any] = {"name": body.name}
    if body.description is not None:
        values["description"] = body.description
    updated = await service.update_code_list(
        scope.session, ctx=scope.ctx, code_list_id=found["id"],
        body=canonical(canonical_schemas.CodeListUpdate, NOMENCLATOR_NAMES, values),
        expected_version=None)
    return views.respond(views.nomenclator(refs, updated))


@router.delete("/nomenclators/{id}", response_model=DeleteOut)
async def delete_nomenclator(id: Id, scope: AdminScope) -> Response:
    """Delete a nomenclator no field uses (409 otherwise)."""
    refs = Refs(scope)
    found = await refs.nomenclator(id)
    await service.delete_code_list(scope.session, ctx=scope.ctx, code_list_id=found["id"],
                                   expected_version=None)
    return views.respond(DeleteOut(id=id, result="deleted"))


@router.get("/nomenclators/{id}/items", response_model=list[ItemOut])
async def list_items(id: Id, scope: Scope, paging: Paging,
                     only_active: Annotated[bool, Query()] = False) -> Response:
    """A nomenclator's items by order (``only_active=true`` leaves out inactive ones)."""
    refs = Refs(scope)
    found = await refs.nomenclator(id)
    rows, _ = await service.list_items(scope.session, ctx=scope.ctx, code_list_id=found["id"],
                                       params=paging, active=True if only_active else None)
    return views.respond([views.item(id, r) for r in rows])


@router.post("/nomenclators/{id}/items", response_model=ItemOut)
async def create_item(id: Id, body: ItemCreate, scope: AdminScope) -> Response:
    refs = Refs(scope)
    found = await refs.nomenclator(id)
    created = await service.add_item(
        scope.session, ctx=scope.ctx, code_list_id=found["id"],
        body=canonical(canonical_schemas.ItemCreate, NOMENCLATOR_NAMES, _item(body)))
    return views.respond(views.item(id, created))


@router.get("/nomenclators/{id}/items/{item_id}", response_model=ItemOut)
async def get_item(id: Id, item_id: Id, scope: Scope) -> Response:
    refs = Refs(scope)
    found = await refs.item(await refs.nomenclator(id), item_id)
    return views.respond(views.item(id, found))


@router.put("/nomenclators/{id}/items/{item_id}", response_model=ItemOut)
async def replace_item(id: Id, item_id: Id, body: ItemReplace, scope: AdminScope) -> Response:
    """Change an item (``code`` and ``name`` required; ``order`` and ``active`` keep their
    value when not sent). The code is fixed once a field uses the nomenclator (409)."""
    refs = Refs(scope)
    nomenclator = await refs.nomenclator(id)
    found = await refs.item(nomenclator, item_id)
    updated = await service.update_item(
        scope.session, ctx=scope.ctx, code_list_id=nomenclator["id"], item_id=found["id"],
        body=canonical(canonical_schemas.ItemUpdate, NOMENCLATOR_NAMES, _item(body)),
        expected_version=None)
    return views.respond(views.item(id, updated))


@router.delete("/nomenclators/{id}/items/{item_id}", response_model=DeleteOut)
async def delete_item(id: Id, item_id: Id, scope: AdminScope) -> Response:
    """Erase the item (``deleted``); when a field uses the nomenclator, deactivate it
    instead (``deactivated``), so values already stored keep their meaning."""
    refs = Refs(scope)
    nomenclator = await refs.nomenclator(id)
    found = await refs.item(nomenclator, item_id)
    kept = await service.delete_item(scope.session, ctx=scope.ctx,
                                     code_list_id=nomenclator["id"], item_id=found["id"],
                                     expected_version=None)
    return views.respond(DeleteOut(id=item_id, result="deleted" if kept is None
                                   else "deactivated"))
