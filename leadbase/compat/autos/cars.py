"""``/cars``: the vehicles API the document links to (list, get, create, update, delete),
in the document's style, over the listings service (listings of kind ``vehicle``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from leadbase.auth.deps import IfMatch, Scope
from leadbase.compat.autos import views
from leadbase.compat.autos.errors import car_not_found
from leadbase.compat.autos.paging import Limit, Offset, window
from leadbase.compat.autos.schemas import CarCreate, CarOut, CarUpdate, Done
from leadbase.kit.idempotency import idempotent
from leadbase.listings import service as listings
from leadbase.listings.repository import ListingFilter
from leadbase.listings.schemas import ListingCreate, ListingUpdate

router = APIRouter(prefix="/cars", tags=["cars"])

# The document's car attributes → the vehicle's canonical attributes.
_ATTRIBUTES = {"make": "make", "model": "model", "overview_year": "year",
               "location": "location", "trim": "trim", "mileage": "mileage", "vin": "vin",
               "condition": "condition"}
_PLAIN = ("price", "currency", "title", "reference", "description")


def _canonical(sent: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {k: sent[k] for k in _PLAIN if k in sent}
    if "status" in sent:
        values["status"] = sent["status"].lower() if sent["status"] else None
    attributes = {_ATTRIBUTES[k]: v for k, v in sent.items() if k in _ATTRIBUTES}
    if attributes:
        values["attributes"] = attributes
    return values


async def car_of(scope: Scope, car_id: str, *, for_update: bool = False) -> dict[str, Any]:
    """The live vehicle listing ``car_id`` names, or ``CAR_NOT_FOUND``."""
    listing_id = views.uuid_or_none(car_id)
    if listing_id is None:
        raise car_not_found()
    row = await listings.get_listing(scope.session, ctx=scope.ctx, listing_id=listing_id,
                                     for_update=for_update)
    if row["kind"] != "vehicle":
        raise car_not_found()
    return row


@router.get("", response_model=list[CarOut])
async def list_cars(
    scope: Scope, limit: Limit = 100, offset: Offset = 0,
    search: Annotated[str | None, Query(max_length=200,
                                        description="Over title, reference, make, model")]
    = None,
    status: Annotated[str | None, Query(pattern="^(AVAILABLE|RESERVED|SOLD|ARCHIVED)$")]
    = None,
    make: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """The workspace's cars, newest first: a JSON array of at most ``limit`` (100, at
    most 200) from ``offset``; the total in ``X-Total-Count``."""
    f = ListingFilter(kinds=("vehicle",), statuses=(status.lower(),) if status else (),
                      q=search or None, make=make or None)
    found = await listings.list_listings(scope.session, ctx=scope.ctx, f=f, sort=None,
                                         params=window(limit, offset, count="exact"),
                                         count_cap=10_000_000)
    return views.respond([views.car(r) for r in found.rows],
                         headers={"X-Total-Count": str(found.total or 0)})


@router.get("/{id}", response_model=CarOut)
async def get_car(id: str, scope: Scope) -> Response:
    row = await car_of(scope, id)
    return views.respond(views.car(row), headers=views.etag_of(row))


@router.post("", status_code=201, response_model=CarOut)
async def create_car(request: Request, body: CarCreate, scope: Scope) -> Response:
    """Add a car (managers and above). ``title`` defaults to "<year> <make> <model>";
    ``vin`` is checked (its check digit where the VIN's region has one); ``price`` needs
    its ``currency``. Accepts ``Idempotency-Key``."""

    async def work() -> Response:
        values = _canonical(body.model_dump(exclude_none=True))
        values.setdefault("title", f"{body.overview_year} {body.make} {body.model}")
        created = await listings.create_listing(
            scope.session, ctx=scope.ctx,
            body=views.canonical(ListingCreate, {**values, "kind": "vehicle"}))
        return views.respond(views.car(created), 201, headers=views.etag_of(created))

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


@router.patch("/{id}", response_model=CarOut)
async def update_car(id: str, body: CarUpdate, scope: Scope, if_match: IfMatch) -> Response:
    """Change some of a car's attributes (managers and above); only those sent change."""
    row = await car_of(scope, id)
    sent = body.model_dump(exclude_unset=True)
    for key in ("make", "model", "overview_year", "status"):
        if key in sent and sent[key] is None:
            views.null_not_allowed(key)
    updated = await listings.update_listing(
        scope.session, ctx=scope.ctx, listing_id=row["id"],
        body=views.canonical(ListingUpdate, _canonical(sent)), expected_version=if_match)
    return views.respond(views.car(updated), headers=views.etag_of(updated))


@router.delete("/{id}", response_model=Done)
async def delete_car(id: str, scope: Scope, if_match: IfMatch) -> Response:
    """Remove a car from the inventory (managers and above). Its leads stay: their
    ``carId`` keeps naming it and their ``car`` is null."""
    row = await car_of(scope, id)
    await listings.delete_listing(scope.session, ctx=scope.ctx, listing_id=row["id"],
                                  expected_version=if_match)
    return views.respond(Done(message="Car deleted successfully"))
