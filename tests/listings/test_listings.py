"""Listings through HTTP: validation per kind (VIN check digit), roles, other workspaces,
If-Match, Idempotency-Key, filters and paging, soft and permanent delete, audit/events."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text

from leadbase.db.session import Database
from leadbase.listings.attributes import check_vin
from tests.factories import Member, add_member, make_workspace

BASE = "/api/v1/listings"
GOOD_VIN = "1M8GDM9AXKP042788"  # North American, check digit X
BAD_VIN = "1M8GDM9A1KP042788"  # same, wrong check digit
EUROPEAN_VIN = "WP0ZZZ99ZTS392124"  # no check digit in position 9 (Z)


async def make_listing(client: httpx.AsyncClient, member: Member, **fields: Any
                       ) -> dict[str, Any]:
    body = {"kind": "vehicle", "title": "Honda Civic 2021", "price": "18500.00",
            "currency": "USD", "attributes": {"make": "Honda", "model": "Civic",
                                              "year": 2021, "location": "Casablanca"},
            **fields}
    resp = await client.post(BASE, headers=member.headers, json=body)
    assert resp.status_code == 201, resp.text
    data: dict[str, Any] = resp.json()
    return data


def test_vin_check_digit() -> None:
    assert check_vin(GOOD_VIN.lower()) == GOOD_VIN
    assert check_vin(EUROPEAN_VIN) == EUROPEAN_VIN
    for bad, why in ((BAD_VIN, "check digit"), ("1M8GDM9AXKP04278", "17"),
                     ("1M8GDM9AXKP04278O", "without I, O and Q")):
        with pytest.raises(ValueError, match=why):
            check_vin(bad)


async def test_create_read_and_money(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Cars")
    car = await make_listing(client, owner, attributes={
        "make": "Ford", "model": "F-150", "year": 2019, "vin": GOOD_VIN.lower(),
        "condition": "used", "mileage": 42000})
    assert car["price"] == "18500.00" and car["currency"] == "USD"
    assert car["attributes"]["vin"] == GOOD_VIN and car["status"] == "available"
    got = await client.get(f"{BASE}/{car['id']}", headers=owner.headers)
    assert got.status_code == 200 and got.headers["etag"] == '"1"'
    assert got.json()["attributes"] == car["attributes"]
    house = await make_listing(client, owner, kind="property", title="Flat", price=None,
                               currency=None, attributes={
                                   "type": "apartment", "operation": "rent", "bedrooms": 2,
                                   "bathrooms": 1.5, "area": 72.5, "city": "Rabat"})
    assert house["attributes"]["bathrooms"] == "1.5"
    thing = await make_listing(client, owner, kind="product", title="Tyres",
                               attributes={"size": "205/55 R16", "count": 4})
    assert thing["attributes"] == {"size": "205/55 R16", "count": 4}


@pytest.mark.parametrize(("body", "field"), [
    ({"attributes": {"vin": BAD_VIN}}, "attributes.vin"),
    ({"attributes": {"vin": "SHORT"}}, "attributes.vin"),
    ({"attributes": {"year": 1500}}, "attributes.year"),
    ({"attributes": {"condition": "broken"}}, "attributes.condition"),
    ({"attributes": {"bedrooms": 3}}, "attributes.bedrooms"),  # not a vehicle's
    ({"kind": "property", "attributes": {"operation": "lease"}}, "attributes.operation"),
    ({"kind": "other", "attributes": {"nested": {"a": 1}}}, "attributes"),
    ({"kind": "boat"}, "kind"),
    ({"currency": "XYZ"}, "currency"),
    ({"price": "12.345"}, "price"),
    ({"price": "-1"}, "price"),
    ({"title": ""}, "title"),
    ({"currency": None}, "currency"),  # a price needs its currency
])
async def test_validation(client: httpx.AsyncClient, body: dict[str, Any], field: str) -> None:
    owner = await make_workspace(client, "Validation")
    full = {"kind": "vehicle", "title": "Car", "price": "10.00", "currency": "EUR", **body}
    resp = await client.post(BASE, headers=owner.headers, json=full)
    assert resp.status_code == 422, resp.text
    assert field in {e["field"] for e in resp.json()["errors"]}, resp.json()


async def test_roles_and_other_workspaces(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Roles")
    agent = await add_member(client, owner, "agent")
    viewer = await add_member(client, owner, "viewer")
    manager = await add_member(client, owner, "manager")
    car = await make_listing(client, manager)
    for member in (agent, viewer):
        assert (await client.get(f"{BASE}/{car['id']}", headers=member.headers)
                ).status_code == 200
        listed = (await client.get(BASE, headers=member.headers)).json()
        assert [r["id"] for r in listed["data"]] == [car["id"]]
        resp = await client.post(BASE, headers=member.headers,
                                 json={"kind": "other", "title": "x"})
        assert resp.status_code == 403
        assert (await client.patch(f"{BASE}/{car['id']}", headers=member.headers,
                                   json={"title": "y"})).status_code == 403
    assert (await client.post(BASE, headers=agent.headers, json={"kind": "other", "title": "x"})
            ).json()["code"] == "ROLE_REQUIRED"
    stranger = await make_workspace(client, "Elsewhere")
    for method, kw in (("GET", {}), ("PATCH", {"json": {"title": "z"}}), ("DELETE", {})):
        resp = await client.request(method, f"{BASE}/{car['id']}", headers=stranger.headers,
                                    **kw)
        assert resp.status_code == 404 and resp.json()["code"] == "LISTING_NOT_FOUND"
    assert (await client.get(BASE, headers=stranger.headers)).json()["data"] == []


async def test_update_if_match_and_attribute_merge(client: httpx.AsyncClient,
                                                   db: Database) -> None:
    owner = await make_workspace(client, "Update")
    car = await make_listing(client, owner)
    url = f"{BASE}/{car['id']}"
    stale = await client.patch(url, headers={**owner.headers, "If-Match": '"7"'},
                               json={"title": "New"})
    assert stale.status_code == 412 and stale.json()["code"] == "VERSION_MISMATCH"
    resp = await client.patch(url, headers={**owner.headers, "If-Match": '"1"'},
                              json={"status": "reserved",
                                    "attributes": {"trim": "EX", "location": None}})
    assert resp.status_code == 200, resp.text
    after = resp.json()
    assert after["version"] == 2 and after["status"] == "reserved"
    assert after["attributes"] == {"make": "Honda", "model": "Civic", "year": 2021,
                                   "trim": "EX"}
    # Changing the kind re-checks the attributes against the new kind.
    resp = await client.patch(url, headers=owner.headers, json={"kind": "property"})
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"].startswith(
        "attributes.")
    assert (await client.patch(url, headers=owner.headers, json={})).status_code == 422
    async with db.transaction(owner.tenant_id) as session:
        actions = (await session.execute(text(
            "SELECT action FROM audit_entries WHERE entity_id = :i ORDER BY created_at"),
            {"i": car["id"]})).scalars().all()
        events = (await session.execute(text(
            "SELECT type FROM events WHERE entity_id = :i ORDER BY created_at"),
            {"i": car["id"]})).scalars().all()
    assert actions == ["listing.created", "listing.updated"]
    assert events == ["listing.created", "listing.updated"]


async def test_idempotent_create(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Idem")
    h = {**owner.headers, "Idempotency-Key": "car-1"}
    body = {"kind": "vehicle", "title": "Same car"}
    first = await client.post(BASE, headers=h, json=body)
    again = await client.post(BASE, headers=h, json=body)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert again.headers.get("idempotency-replayed") == "true"
    other = await client.post(BASE, headers=h, json={**body, "title": "Other"})
    assert other.status_code == 422
    assert (await client.get(BASE, headers=owner.headers)).json()["total"] == 1


async def test_filters_sort_and_cursor(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Filters")
    a = await make_listing(client, owner, title="Honda Civic", price="10000.00")
    b = await make_listing(client, owner, title="Toyota Corolla", price="20000.00",
                           reference="STK-22", attributes={"make": "Toyota",
                                                           "model": "Corolla"})
    c = await make_listing(client, owner, kind="property", title="Casa", price="300000.00",
                           status="sold", attributes={})

    async def ids(query: str) -> list[str]:
        resp = await client.get(f"{BASE}?{query}", headers=owner.headers)
        assert resp.status_code == 200, resp.text
        return [r["id"] for r in resp.json()["data"]]

    assert await ids("kind=vehicle&sort=price") == [a["id"], b["id"]]
    assert await ids("status=sold") == [c["id"]]
    assert await ids("q=corol") == [b["id"]]
    assert await ids("q=stk-2") == [b["id"]]
    assert await ids("q=HONDA") == [a["id"]]
    assert await ids("make=toyota") == [b["id"]]
    assert await ids("price_gte=15000&price_lte=250000") == [b["id"]]
    assert await ids("sort=-price") == [c["id"], b["id"], a["id"]]
    bad = await client.get(f"{BASE}?kind=boat", headers=owner.headers)
    assert bad.status_code == 422
    assert (await client.get(f"{BASE}?sort=colour", headers=owner.headers)).status_code == 422
    first = (await client.get(f"{BASE}?sort=title&per_page=2", headers=owner.headers)).json()
    assert [r["title"] for r in first["data"]] == ["Casa", "Honda Civic"]
    assert first["total"] == 3
    rest = (await client.get(f"{BASE}?sort=title&per_page=2&cursor={first['next_cursor']}",
                             headers=owner.headers)).json()
    assert [r["title"] for r in rest["data"]] == ["Toyota Corolla"]
    assert rest["next_cursor"] is None


async def test_soft_and_permanent_delete(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Delete")
    car = await make_listing(client, owner)
    url = f"{BASE}/{car['id']}"
    assert (await client.delete(url, headers={**owner.headers, "If-Match": '"9"'})
            ).status_code == 412
    assert (await client.delete(url, headers=owner.headers)).status_code == 204
    assert (await client.get(url, headers=owner.headers)).status_code == 404
    gone = await client.get(f"{url}?include_deleted=true", headers=owner.headers)
    assert gone.status_code == 200 and gone.json()["deleted_at"] is not None
    assert (await client.get(BASE, headers=owner.headers)).json()["data"] == []
    assert (await client.delete(f"{url}?permanent=true", headers=owner.headers)
            ).status_code == 204
    assert (await client.get(f"{url}?include_deleted=true", headers=owner.headers)
            ).status_code == 404
