"""``/cars``: the vehicles API the document links to, in the same style."""

from __future__ import annotations

import httpx

from tests.compat.autos.helpers import CIVIC, assert_error, call, make_world, ok, post_lead

CAR_KEYS = {"id", "make", "model", "overviewYear", "location", "trim", "mileage", "vin",
            "condition", "price", "currency", "status", "title", "reference", "description",
            "createdAt", "updatedAt"}


async def test_car_crud(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    assert set(w.car) == CAR_KEYS
    assert {k: w.car[k] for k in CIVIC} == CIVIC
    assert w.car["status"] == "AVAILABLE" and w.car["title"] == "2021 Honda Civic"
    full = await ok(client, "POST", "/cars", w.owner, {
        "make": "Toyota", "model": "Corolla", "overviewYear": 2022, "location": "Rabat",
        "trim": "Hybrid", "mileage": 12000, "vin": "1HGCM82633A004352", "condition": "used",
        "price": 215000, "currency": "MAD", "reference": "STK-1"}, expect=201)
    assert (full["price"], full["currency"], full["vin"]) == (215000, "MAD",
                                                              "1HGCM82633A004352")
    assert await ok(client, "GET", f"/cars/{full['id']}", w.owner) == full
    changed = await ok(client, "PATCH", f"/cars/{full['id']}", w.owner,
                       {"status": "RESERVED", "price": 209999.5})
    assert (changed["status"], changed["price"], changed["make"]) == ("RESERVED", 209999.5,
                                                                      "Toyota")
    listed = await call(client, "GET", "/cars", w.owner)
    assert listed.headers["x-total-count"] == "2"
    assert [c["id"] for c in listed.json()] == [full["id"], w.car["id"]]  # newest first
    assert [c["id"] for c in await ok(client, "GET", "/cars", w.owner, limit=1,
                                      offset=1)] == [w.car["id"]]
    assert [c["id"] for c in await ok(client, "GET", "/cars", w.owner,
                                      search="corolla")] == [full["id"]]
    done = await ok(client, "DELETE", f"/cars/{full['id']}", w.owner)
    assert done == {"success": True, "message": "Car deleted successfully"}
    assert_error(await call(client, "GET", f"/cars/{full['id']}", w.owner), 404,
                 "CAR_NOT_FOUND")


async def test_car_validation(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    for body in ({"model": "Civic", "overviewYear": 2021}, {"make": "Honda"},
                 {**CIVIC, "overviewYear": "new"}, {**CIVIC, "status": "GONE"},
                 {**CIVIC, "vin": "1HGCM82643A004352"},  # wrong check digit
                 {**CIVIC, "price": -1}):
        assert_error(await call(client, "POST", "/cars", w.owner, body), 400,
                     "VALIDATION_ERROR")
    assert_error(await call(client, "PATCH", f"/cars/{w.car['id']}", w.owner,
                            {"make": None}), 400, "VALIDATION_ERROR")


async def test_a_listing_of_another_kind_is_no_car(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    resp = await client.post("/api/v1/listings", headers=w.headers,
                             json={"kind": "property", "title": "Flat in Gauthier"})
    assert resp.status_code == 201, resp.text
    flat = resp.json()["id"]
    assert_error(await call(client, "GET", f"/cars/{flat}", w.owner), 404, "CAR_NOT_FOUND")
    assert_error(await call(client, "POST", f"/leads/car/{flat}", w.owner,
                            {"action": "a", "targetName": "b", "targetInfo": "c@d.com"}),
                 404, "CAR_NOT_FOUND")
    assert [c["id"] for c in await ok(client, "GET", "/cars", w.owner)] == [w.car["id"]]
    await post_lead(client, w.owner, w.car["id"])
