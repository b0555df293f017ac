"""``/campaigns``: lead lists (each with its own field schema), in the style of
``/lead_fields``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from leadbase.auth.deps import AdminScope, Scope
from leadbase.compat.fields import views
from leadbase.compat.fields.errors import CAMPAIGN_NAMES, canonical, names
from leadbase.compat.fields.paging import Id, Paging
from leadbase.compat.fields.refs import Refs
from leadbase.compat.fields.schemas import (
    CampaignCreate,
    CampaignOut,
    CampaignReplace,
    DeleteOut,
)
from leadbase.lists import schemas as canonical_schemas
from leadbase.lists import service

router = APIRouter(tags=["campaigns"], dependencies=[names(CAMPAIGN_NAMES)])


@router.get("/campaigns", response_model=list[CampaignOut])
async def list_campaigns(scope: Scope, paging: Paging) -> Response:
    """Campaigns by id, each with its ``lead_count``."""
    refs = Refs(scope)
    rows, _ = await service.list_lists(scope.session, ctx=scope.ctx, params=paging)
    return views.respond([views.campaign(refs, r) for r in rows])


@router.post("/campaigns", response_model=CampaignOut)
async def create_campaign(body: CampaignCreate, scope: AdminScope) -> Response:
    """A campaign (names are unique in the workspace: 409 otherwise)."""
    values: dict[str, Any] = {"name": body.name}
    if body.description is not None:
        values["description"] = body.description
    created = await service.create_list(
        scope.session, ctx=scope.ctx,
        body=canonical(canonical_schemas.ListCreate, CAMPAIGN_NAMES, values))
    return views.respond(views.campaign(Refs(scope), created))


@router.get("/campaigns/{id}", response_model=CampaignOut)
async def get_campaign(id: Id, scope: Scope) -> Response:
    refs = Refs(scope)
    return views.respond(views.campaign(refs, await refs.campaign(id)))


@router.put("/campaigns/{id}", response_model=CampaignOut)
async def replace_campaign(id: Id, body: CampaignReplace, scope: AdminScope) -> Response:
    """Rename or describe a campaign, or make it the default one (``name`` required;
    ``description`` and ``is_default`` keep their value when not sent)."""
    refs = Refs(scope)
    found = await refs.campaign(id)
    values = {k: v for k, v in body.model_dump().items() if v is not None}
    updated = await service.update_list(
        scope.session, ctx=scope.ctx, list_id=found["id"],
        body=canonical(canonical_schemas.ListUpdate, CAMPAIGN_NAMES, values),
        expected_version=None)
    return views.respond(views.campaign(refs, updated))


@router.delete("/campaigns/{id}", response_model=DeleteOut)
async def delete_campaign(id: Id, scope: AdminScope) -> Response:
    """Delete a campaign with no leads (409 for the default campaign, one with leads, or
    one a LEAD field of another campaign relates to). Its fields go out of sight with it;
    sections are the workspace's and stay."""
    refs = Refs(scope)
    found = await refs.campaign(id)
    await service.delete_list(scope.session, ctx=scope.ctx, list_id=found["id"],
                              expected_version=None)
    return views.respond(DeleteOut(id=id, result="deleted"))
