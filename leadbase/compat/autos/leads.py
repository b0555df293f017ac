"""``/leads``: the document's endpoints, over the tasks, leads and listings services (a
lead of the document is a task and the person it is about)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from leadbase.auth.deps import IfMatch, RequestScope, Scope
from leadbase.compat.autos import people, views
from leadbase.compat.autos.cars import car_of
from leadbase.compat.autos.errors import invalid_status, lead_not_found
from leadbase.compat.autos.paging import DEFAULT_LIMIT, Limit, Offset, window
from leadbase.compat.autos.schemas import (
    Done,
    LeadCreate,
    LeadListed,
    LeadOut,
    LeadStatus,
    LeadUpdate,
    OrderUpdate,
    Reorder,
)
from leadbase.kit.checks import check_version
from leadbase.kit.idempotency import idempotent
from leadbase.listings import service as listings
from leadbase.tasks import service as tasks
from leadbase.tasks.repository import TaskFilter
from leadbase.tasks.schemas import TaskCreate, TaskUpdate

router = APIRouter(prefix="/leads", tags=["leads"])

SORTS = {"order": "position", "status": "status", "action": "title",
         "targetName": "lead_name", "createdAt": "created_at"}


@dataclass(frozen=True)
class ListQuery:
    search: str | None
    status: LeadStatus | None
    action: str | None
    target_name: str | None
    tag: str | None
    car_id: str | None
    sort_by: str
    sort_order: str
    limit: int
    offset: int


def list_query(
    search: Annotated[str | None, Query(max_length=200, description=(
        "Any part of action, targetName or tag (also the person's email, phone or "
        "company); case and accents ignored"))] = None,
    status_: Annotated[LeadStatus | None, Query(alias="status",
                                                description="NEW, COMPLETED, NOT_NEEDED")]
    = None,
    action: Annotated[str | None, Query(max_length=200,
                                        description="Part of the action")] = None,
    target_name: Annotated[str | None, Query(alias="targetName", max_length=200,
                                             description="Part of the person's name")]
    = None,
    tag: Annotated[str | None, Query(max_length=100, description="The tag")] = None,
    car_id: Annotated[str | None, Query(alias="carId", max_length=100)] = None,
    sort_by: Annotated[Literal["order", "status", "action", "targetName", "createdAt"],
                       Query(alias="sortBy")] = "order",
    sort_order: Annotated[Literal["asc", "desc"], Query(alias="sortOrder")] = "asc",
    limit: Limit = DEFAULT_LIMIT, offset: Offset = 0,
) -> ListQuery:
    return ListQuery(search or None, status_, action or None, target_name or None,
                     tag or None, car_id, sort_by, sort_order, limit, offset)


Listing = Annotated[ListQuery, Depends(list_query)]


async def _task_of(scope: RequestScope, lead_id: str, *,
                   for_update: bool = False) -> dict[str, Any]:
    task_id = views.uuid_or_none(lead_id)
    if task_id is None:
        raise lead_not_found()
    return await tasks.get_task(scope.session, ctx=scope.ctx, task_id=task_id,
                                for_update=for_update)


async def _answer(request: Request, scope: RequestScope, q: ListQuery, *,
                  car: uuid.UUID | None = None, status: str | None = None) -> Response:
    """A bounded list in the document's shape, its total in ``X-Total-Count``: exact up
    to ``LEADBASE_COUNT_EXACT_LIMIT`` (1,000) rows, beyond that a lower bound or the
    estimate of the tasks service, said so by ``X-Total-Count-Estimated: true``."""
    cap: int = request.app.state.settings.count_exact_limit
    if q.car_id is not None and car is None:
        car = (await car_of(scope, q.car_id))["id"]
    status = status or q.status
    f = TaskFilter(statuses=views.STATUS_READS[status] if status else (),
                   listing_ids=(car,) if car else (), tags=(q.tag,) if q.tag else (),
                   q=q.search, title=q.action, lead_name=q.target_name)
    sort = ("-" if q.sort_order == "desc" else "") + SORTS[q.sort_by]
    found = await tasks.list_tasks(scope.session, ctx=scope.ctx, f=f, sort=sort,
                                   params=window(q.limit, q.offset, count="exact"),
                                   count_cap=cap)
    cars = await listings.get_listings(
        scope.session, ctx=scope.ctx,
        listing_ids=sorted({r["listing_id"] for r in found.rows if r["listing_id"]}))
    items = [views.listed(people.view(r), cars.get(r["listing_id"])) for r in found.rows]
    headers = {"X-Total-Count": str(found.total or 0)}
    if found.total_is_estimate or (found.total or 0) > cap:
        headers["X-Total-Count-Estimated"] = "true"
    return views.respond(items, headers=headers)


@router.get("", response_model=list[LeadListed])
async def list_leads(request: Request, scope: Scope, q: Listing) -> Response:
    """Every lead (filters, search, sort; by ``order`` ascending by default), each with its
    ``car``. A JSON array of at most ``limit`` (default 100, at most 200) from ``offset``;
    the total in ``X-Total-Count``."""
    return await _answer(request, scope, q)


@router.get("/status/{status}", response_model=list[LeadListed])
async def leads_by_status(request: Request, status: str, scope: Scope,
                          q: Listing) -> Response:
    """The leads in ``status`` (``NEW``, ``COMPLETED``, ``NOT_NEEDED``), with the same
    filters, sorts and bounds as ``/leads``."""
    if status not in views.STATUS_READS:
        raise invalid_status(status)
    return await _answer(request, scope, q, status=status)


@router.get("/car/{carId}", response_model=list[LeadListed])
async def leads_of_car(request: Request, carId: str, scope: Scope, q: Listing) -> Response:
    """The car's leads, by ``order`` ascending unless sorted otherwise; the same filters
    and bounds as ``/leads``."""
    car = await car_of(scope, carId)
    return await _answer(request, scope, q, car=car["id"])


@router.post("/car/{carId}", status_code=201, response_model=LeadOut)
async def create_lead(request: Request, carId: str, body: LeadCreate,
                      scope: Scope) -> Response:
    """File a lead about a car: the person is found by ``targetInfo`` (a phone or an
    email, normalised) or created with ``targetName``. Accepts ``Idempotency-Key``."""

    async def work() -> Response:
        car = await car_of(scope, carId)
        person = await people.person(scope, body.target_info, body.target_name)
        task = await tasks.create_task(scope.session, ctx=scope.ctx, body=views.canonical(
            TaskCreate, {"lead_id": person["id"], "listing_id": car["id"],
                         "title": body.action, "tag": body.tag, "note": body.note,
                         "status": views.STATUS_WRITES[body.status],
                         "position": body.order,
                         "metadata": people.metadata({}, body.target_info)}))
        return views.respond(people.view({**task, "lead": person}), 201,
                             headers=views.etag_of(task))

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


@router.patch("/car/{carId}/reorder", response_model=Done)
async def reorder_leads(carId: str, body: Reorder, scope: Scope) -> Response:
    """Set the ``order`` of several leads of the car at once; leads not listed keep
    theirs. Every id must be a lead of this car."""
    car = await car_of(scope, carId)
    orders: dict[uuid.UUID, Decimal] = {}
    for item in body.lead_orders:
        # Each id read first: another agent's lead is a 403, an unknown one (or one of
        # another car) a 404, as the single-lead routes answer.
        task = await _task_of(scope, item.id)
        if task["listing_id"] != car["id"]:
            raise lead_not_found()
        orders[task["id"]] = Decimal(item.order)
    if orders:
        await tasks.set_positions(scope.session, ctx=scope.ctx, listing_id=car["id"],
                                  positions=list(orders.items()))
    return views.respond(Done(message="Leads reordered successfully"))


@router.get("/{id}", response_model=LeadOut)
async def get_lead(id: str, scope: Scope) -> Response:
    task = await _task_of(scope, id)
    return views.respond(people.view(task), headers=views.etag_of(task))


@router.patch("/{id}", response_model=LeadOut)
async def update_lead(id: str, body: LeadUpdate, scope: Scope, if_match: IfMatch) -> Response:
    """Change what is sent. ``targetName`` renames the person; ``targetInfo`` is the
    person's contact (a new contact of the same person is kept as sent; one that no lead
    has becomes the person's; one of another person is refused)."""
    sent = body.model_dump(exclude_unset=True)
    if "status" in sent and sent["status"] is None:
        raise invalid_status(None)
    for key in ("action", "target_name", "target_info", "order"):
        if key in sent and sent[key] is None:
            views.null_not_allowed(key)
    task = await _task_of(scope, id, for_update=True)
    check_version(task, if_match, what="lead")  # also when only the person changes
    values: dict[str, Any] = {}
    if "target_info" in sent or "target_name" in sent:
        task = {**task, "lead": await people.change(scope, task, sent.get("target_name"),
                                                    sent.get("target_info"))}
        if "target_info" in sent:
            values["metadata"] = people.metadata(task["metadata"], sent["target_info"])
    for ours, theirs in (("action", "title"), ("tag", "tag"), ("note", "note"),
                         ("order", "position")):
        if ours in sent:
            values[theirs] = sent[ours]
    if "status" in sent:
        values["status"] = views.STATUS_WRITES[sent["status"]]
    if values:
        updated = await tasks.update_task(scope.session, ctx=scope.ctx, task_id=task["id"],
                                          body=views.canonical(TaskUpdate, values),
                                          expected_version=if_match)
        task = {**updated, "lead": task["lead"]}
    return views.respond(people.view(task), headers=views.etag_of(task))


@router.patch("/{id}/order", response_model=LeadOut)
async def update_order(id: str, body: OrderUpdate, scope: Scope, if_match: IfMatch) -> Response:
    """Set one lead's ``order`` (smaller first)."""
    task = await _task_of(scope, id, for_update=True)
    updated = await tasks.update_task(scope.session, ctx=scope.ctx, task_id=task["id"],
                                      body=TaskUpdate(position=body.order),
                                      expected_version=if_match)
    return views.respond(people.view({**updated, "lead": task["lead"]}),
                         headers=views.etag_of(updated))


@router.delete("/{id}", response_model=Done)
async def delete_lead(id: str, scope: Scope, if_match: IfMatch) -> Response:
    """Delete the lead for good (the person and their other leads stay)."""
    task = await _task_of(scope, id)
    await tasks.delete_task(scope.session, ctx=scope.ctx, task_id=task["id"],
                            expected_version=if_match, permanent=True)
    return views.respond(Done(message="Lead deleted successfully"))
