"""``/leads``: CRUD and the paged list, over the leads, activities and users services."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from leadbase.activities import service as activities
from leadbase.auth.deps import IfMatch, RequestScope, Scope
from leadbase.compat.crm import ids, views
from leadbase.compat.crm.schemas import LeadCreate, LeadDetail, LeadOut, LeadPage, LeadStatus
from leadbase.compat.crm.schemas import LeadUpdate as LeadUpdateIn
from leadbase.kit.idempotency import idempotent
from leadbase.kit.pagination import MAX_PER_PAGE, PageParams
from leadbase.leads import schemas as canonical
from leadbase.leads import service as leads
from leadbase.leads.filters import LeadFilter
from leadbase.users import service as users

router = APIRouter(prefix="/leads", tags=["leads"])

DEFAULT_LIMIT = 20
MAX_PAGE = 1_000_000
DETAIL_ACTIVITIES = 20  # the latest activities GET /leads/{id} embeds

Page = Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based page")]
Limit = Annotated[int, Query(ge=1, le=MAX_PER_PAGE,
                             description=f"Rows per page (default {DEFAULT_LIMIT}, "
                                         f"at most {MAX_PER_PAGE})")]
Status = Annotated[LeadStatus | None, Query(description="NEW, CONTACTED, QUALIFIED, "
                                                        "UNQUALIFIED, CONVERTED, LOST")]
Score = Annotated[int | None, Query(ge=0, le=100)]
Source = Annotated[str | None, Query(max_length=100, description="WEBSITE, ...")]
Search = Annotated[str | None, Query(max_length=200, description="Names, email, phone, "
                                                                 "company")]


def lead_id(request: Request, raw: str) -> uuid.UUID:
    return ids.resolve(request, "lead", raw)


def agent_id(request: Request, raw: str | None) -> uuid.UUID | None:
    return None if raw is None else ids.resolve(request, "agent", raw)


def lead_values(request: Request, sent: dict[str, Any]) -> dict[str, Any]:
    """The document's lead attributes (those sent) → the canonical lead's."""
    names = {"first_name": "first_name", "last_name": "last_name", "email": "email",
             "phone": "phone", "company": "company", "job_title": "job_title",
             "notes": "notes", "tags": "tags"}
    values = {names[k]: v for k, v in sent.items() if k in names}
    if "source" in sent:
        values["source"] = sent["source"].lower() if sent["source"] else None
    if "status" in sent:
        values["status"] = sent["status"].lower() if sent["status"] else None
    if "assigned_to_id" in sent:
        values["owner_id"] = agent_id(request, sent["assigned_to_id"])
    return values


async def page_of(request: Request, scope: RequestScope, f: LeadFilter, page: int,
                  limit: int, sort: str | None = None) -> Response:
    """A page of the leads ``f`` selects, as ``{data, total, page, limit, totalPages}``.
    ``total`` is the canonical list's: exact up to ``LEADBASE_COUNT_EXACT_LIMIT`` rows,
    beyond that the planner's estimate (``X-Total-Count-Estimated: true``), never a count
    of the whole workspace per request."""
    params = PageParams(page=page, per_page=limit, cursor=None, count="auto")
    found = await leads.list_leads(scope.session, ctx=scope.ctx, f=f, sort=sort,
                                   params=params,
                                   count_cap=request.app.state.settings.count_exact_limit)
    total = found.total if found.total is not None else len(found.rows)
    return views.page([views.lead(r) for r in found.rows], total=total, page=page,
                      limit=limit, estimated=found.total_is_estimate)


@router.get("", response_model=LeadPage)
async def list_leads(request: Request, scope: Scope, page: Page = 1,
                     limit: Limit = DEFAULT_LIMIT, status: Status = None,
                     min_score: Annotated[Score, Query(alias="minScore")] = None,
                     max_score: Annotated[Score, Query(alias="maxScore")] = None,
                     source: Source = None,
                     assigned_to_id: Annotated[str | None, Query(
                         alias="assignedToId", max_length=64)] = None,
                     search: Search = None) -> Response:
    """The leads, newest first: ``{data, total, page, limit, totalPages}``. Filters:
    ``status``, ``minScore``, ``maxScore``, ``source``, ``assignedToId``, ``search``.
    Agents see their own leads."""
    owner = str(agent_id(request, assigned_to_id)) if assigned_to_id else None
    f = LeadFilter(status=status.lower() if status else None, score_gte=min_score,
                   score_lte=max_score, source=source.lower() if source else None,
                   owner_id=owner, q=search or None)
    return await page_of(request, scope, f, page, limit)


@router.post("", status_code=201, response_model=LeadOut)
async def create_lead(request: Request, body: LeadCreate, scope: Scope) -> Response:
    """Create a lead (a name, an email or a phone needed). The email is checked and
    lowercased, the phone made E.164. A lead with the same email or phone already: 409.
    Accepts ``Idempotency-Key``."""

    async def work() -> Response:
        values = lead_values(request, body.model_dump(exclude_unset=True))
        values.setdefault("status", body.status.lower())
        result = await leads.create_lead(scope.session, ctx=scope.ctx,
                                         body=views.canonical(canonical.LeadCreate, values))
        return views.respond(views.lead(result.lead), 201, headers=views.etag_of(result.lead))

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


async def detail(scope: RequestScope, lead: dict[str, Any]) -> dict[str, Any]:
    rows, _ = await activities.list_activities(scope.session, ctx=scope.ctx,
                                               f={"lead_id": lead["id"]}, cursor=None,
                                               limit=DETAIL_ACTIVITIES)
    owner = None
    if lead["owner_id"] is not None:
        owner = views.agent(await users.get_user(scope.session, ctx=scope.ctx,
                                                 user_id=lead["owner_id"]))
    return {**views.lead(lead), "activities": [views.activity(r) for r in rows],
            "assignedTo": owner}


@router.get("/{id}", response_model=LeadDetail)
async def get_lead(request: Request, id: str, scope: Scope) -> Response:
    """The lead with its latest activities (newest first, at most 20; the whole timeline:
    ``GET /activities/timeline/lead/{id}``) and ``assignedTo`` (the agent, or null)."""
    lead = await leads.get_lead(scope.session, ctx=scope.ctx, lead_id=lead_id(request, id))
    return views.respond(await detail(scope, lead), headers=views.etag_of(lead))


@router.put("/{id}", response_model=LeadOut)
async def update_lead(request: Request, id: str, body: LeadUpdateIn, scope: Scope,
                      if_match: IfMatch) -> Response:
    """Change the attributes sent (the others stay). ``If-Match`` (the ETag) refuses a
    change over someone else's with 412."""
    values = lead_values(request, body.model_dump(exclude_unset=True))
    lead = await leads.update_lead(scope.session, ctx=scope.ctx, lead_id=lead_id(request, id),
                                   body=views.canonical(canonical.LeadUpdate, values),
                                   expected_version=if_match)
    return views.respond(views.lead(lead), headers=views.etag_of(lead))


@router.delete("/{id}", status_code=204)
async def delete_lead(request: Request, id: str, scope: Scope, if_match: IfMatch) -> Response:
    """Delete the lead (a soft delete: `POST /api/v1/leads/{id}/restore` brings it back)."""
    await leads.delete_lead(scope.session, ctx=scope.ctx, lead_id=lead_id(request, id),
                            expected_version=if_match)
    return Response(status_code=204)
