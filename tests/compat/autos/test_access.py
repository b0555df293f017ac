"""Who may do what: agents and their own leads (``UNAUTHORIZED_LEAD_ACCESS``), viewers
read only, another workspace's ids are 404, API keys as well as users' tokens."""

from __future__ import annotations

import httpx

from tests.compat.autos.helpers import (
    assert_error,
    call,
    example,
    make_car,
    make_world,
    ok,
    post_lead,
)
from tests.factories import add_member


async def test_an_agent_and_another_agents_lead(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    mine, theirs = (await add_member(client, w.owner, "agent"),
                    await add_member(client, w.owner, "agent"))
    lead = await post_lead(client, mine, w.car["id"], targetInfo="ahmed@example.com")
    assert (await ok(client, "GET", f"/leads/{lead['id']}", mine)) == lead
    for method, path, body in (("GET", f"/leads/{lead['id']}", None),
                               ("PATCH", f"/leads/{lead['id']}", {"note": "mine now"}),
                               ("PATCH", f"/leads/{lead['id']}/order", {"order": 9}),
                               ("DELETE", f"/leads/{lead['id']}", None),
                               ("PATCH", f"/leads/car/{w.car['id']}/reorder",
                                {"leadOrders": [{"id": lead["id"], "order": 3}]})):
        assert_error(await call(client, method, path, theirs, body), 403,
                     "UNAUTHORIZED_LEAD_ACCESS")
    # Filing a lead about a person who is another agent's lead.
    assert_error(await call(client, "POST", f"/leads/car/{w.car['id']}", theirs,
                            {**example("create_request"), "targetInfo": "AHMED@example.com"}),
                 403, "UNAUTHORIZED_LEAD_ACCESS")
    # Lists show an agent their own leads only.
    assert await ok(client, "GET", "/leads", theirs) == []
    assert [r["id"] for r in await ok(client, "GET", "/leads", mine)] == [lead["id"]]
    assert [r["id"] for r in await ok(client, "GET", "/leads", w.owner)] == [lead["id"]]
    # Nothing changed; the owner (and a manager) may change it.
    assert (await ok(client, "GET", f"/leads/{lead['id']}", w.owner)) == lead
    manager = await add_member(client, w.owner, "manager")
    await ok(client, "PATCH", f"/leads/{lead['id']}", manager, {"tag": "Hot Lead"})


async def test_a_viewer_reads_but_cannot_write(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    lead = await post_lead(client, w.owner, w.car["id"])
    viewer = await add_member(client, w.owner, "viewer")
    assert await ok(client, "GET", f"/leads/{lead['id']}", viewer) == lead
    assert len(await ok(client, "GET", "/leads", viewer)) == 1
    assert await ok(client, "GET", f"/cars/{w.car['id']}", viewer) == w.car
    for method, path, body in (
            ("POST", f"/leads/car/{w.car['id']}", example("create_request")),
            ("PATCH", f"/leads/{lead['id']}", example("patch_request")),
            ("PATCH", f"/leads/{lead['id']}/order", example("order_request")),
            ("PATCH", f"/leads/car/{w.car['id']}/reorder",
             {"leadOrders": [{"id": lead["id"], "order": 2}]}),
            ("DELETE", f"/leads/{lead['id']}", None),
            ("POST", "/cars", {"make": "Kia", "model": "Rio", "overviewYear": 2020}),
            ("PATCH", f"/cars/{w.car['id']}", {"location": "Rabat"}),
            ("DELETE", f"/cars/{w.car['id']}", None)):
        resp = await call(client, method, path, viewer, body)
        assert resp.status_code == 403, resp.text
        assert resp.json()["code"] == "ROLE_REQUIRED"
    assert await ok(client, "GET", f"/leads/{lead['id']}", w.owner) == lead


async def test_another_workspaces_ids_are_not_found(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    lead = await post_lead(client, w.owner, w.car["id"])
    them = await make_world(client, "Otra agencia")
    for method, path, body, code in (
            ("GET", f"/leads/{lead['id']}", None, "LEAD_NOT_FOUND"),
            ("PATCH", f"/leads/{lead['id']}", {"note": "x"}, "LEAD_NOT_FOUND"),
            ("PATCH", f"/leads/{lead['id']}/order", {"order": 2}, "LEAD_NOT_FOUND"),
            ("DELETE", f"/leads/{lead['id']}", None, "LEAD_NOT_FOUND"),
            ("GET", f"/leads/car/{w.car['id']}", None, "CAR_NOT_FOUND"),
            ("POST", f"/leads/car/{w.car['id']}", example("create_request"), "CAR_NOT_FOUND"),
            ("PATCH", f"/leads/car/{w.car['id']}/reorder",
             {"leadOrders": [{"id": lead["id"], "order": 2}]}, "CAR_NOT_FOUND"),
            ("PATCH", f"/leads/car/{them.car['id']}/reorder",
             {"leadOrders": [{"id": lead["id"], "order": 2}]}, "LEAD_NOT_FOUND"),
            ("GET", f"/cars/{w.car['id']}", None, "CAR_NOT_FOUND"),
            ("PATCH", f"/cars/{w.car['id']}", {"location": "x"}, "CAR_NOT_FOUND"),
            ("DELETE", f"/cars/{w.car['id']}", None, "CAR_NOT_FOUND")):
        assert_error(await call(client, method, path, them.owner, body), 404, code)
    assert_error(await call(client, "GET", "/leads", them.owner, carId=w.car["id"]), 404,
                 "CAR_NOT_FOUND")
    assert await ok(client, "GET", "/leads", them.owner) == []
    assert [c["id"] for c in await ok(client, "GET", "/cars", them.owner)] == [them.car["id"]]
    assert await ok(client, "GET", f"/leads/{lead['id']}", w.owner) == lead


async def test_api_keys_and_their_scopes(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    keys = {}
    for scopes in (["read", "write"], ["read"]):
        resp = await client.post("/api/v1/api-keys", headers=w.headers,
                                 json={"name": "x", "role": "admin", "scopes": scopes})
        assert resp.status_code == 201, resp.text
        keys[len(scopes)] = {"Authorization": f"Bearer {resp.json()['secret']}"}
    car = await make_car(client, keys[2], make="Renault", model="Clio")
    lead = await post_lead(client, keys[2], car["id"])
    assert await ok(client, "GET", f"/leads/{lead['id']}", keys[1]) == lead
    resp = await call(client, "DELETE", f"/leads/{lead['id']}", keys[1])
    assert resp.status_code == 403 and resp.json()["code"] == "INSUFFICIENT_SCOPE"


async def test_idempotency_key_on_posts(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    path = f"/leads/car/{w.car['id']}"
    headers = {**w.headers, "Idempotency-Key": "lead-1"}
    first = await client.post("/compat/autos/v1" + path, headers=headers,
                              json=example("create_request"))
    again = await client.post("/compat/autos/v1" + path, headers=headers,
                              json=example("create_request"))
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again.headers["idempotency-replayed"] == "true"
    assert len(await ok(client, "GET", "/leads", w.owner)) == 1
    other = await client.post("/compat/autos/v1" + path, headers=headers,
                              json={**example("create_request"), "order": 2})
    assert_error(other, 400, "VALIDATION_ERROR")
    car_headers = {**w.headers, "Idempotency-Key": "car-1"}
    body = {"make": "Kia", "model": "Rio", "overviewYear": 2020}
    one = await client.post("/compat/autos/v1/cars", headers=car_headers, json=body)
    two = await client.post("/compat/autos/v1/cars", headers=car_headers, json=body)
    assert one.status_code == two.status_code == 201 and one.json() == two.json()
