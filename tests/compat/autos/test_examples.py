"""Conformance: every example of the vehicle-leads document, sent as published (the
document's placeholder ids replaced by the ids of rows the test made first), answered
field for field."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from tests.compat.autos.helpers import (
    CAR_SUMMARY_KEYS,
    CIVIC,
    LEAD_KEYS,
    assert_error,
    call,
    curl,
    example,
    make_world,
    ok,
    post_lead,
)

# What the server makes up: not compared with the document's values.
MADE = {"id", "carId", "createdAt", "updatedAt"}


def moment(value: str) -> datetime:
    assert value.endswith("Z"), value  # UTC, as the document's "2024-01-15T10:30:00Z"
    return datetime.fromisoformat(value)


def same_as_document(found: dict[str, Any], shown: dict[str, Any]) -> None:
    assert set(found) == set(shown), (set(found) ^ set(shown))
    for key, value in shown.items():
        if key not in MADE and key != "car":
            assert found[key] == value, (key, found[key], value)
    moment(found["createdAt"]), moment(found["updatedAt"])


async def test_list_all_leads(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    shown = example("list_response")[0]
    body = {k: shown[k] for k in ("status", "action", "targetName", "targetInfo", "tag",
                                  "note", "order")}
    lead = await post_lead(client, w.owner, w.car["id"], **body)
    found = await ok(client, "GET", "/leads", w.owner)
    assert isinstance(found, list) and len(found) == 1
    same_as_document(found[0], shown)
    assert found[0]["id"] == lead["id"] and found[0]["carId"] == w.car["id"]
    car = found[0]["car"]
    assert set(car) == CAR_SUMMARY_KEYS == set(shown["car"])
    assert car == {**shown["car"], "id": w.car["id"]} == {**CIVIC, "id": w.car["id"]}


async def test_get_lead_by_id(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    shown = example("get_response")
    body = {k: shown[k] for k in ("status", "action", "targetName", "targetInfo", "tag",
                                  "note", "order")}
    lead = await post_lead(client, w.owner, w.car["id"], **body)
    found = await ok(client, "GET", f"/leads/{lead['id']}", w.owner)
    same_as_document(found, shown)
    assert found == lead


async def test_create_lead_for_a_car(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    resp = await call(client, "POST", f"/leads/car/{w.car['id']}", w.owner,
                      example("create_request"))
    assert resp.status_code == 201, resp.text
    created = resp.json()
    same_as_document(created, example("create_response"))
    assert created["carId"] == w.car["id"]
    assert created["targetInfo"] == "jane.doe@email.com"
    assert created["createdAt"] == created["updatedAt"]


async def test_update_lead(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    lead = await ok(client, "POST", f"/leads/car/{w.car['id']}", w.owner,
                    example("create_request"), expect=201)
    updated = await ok(client, "PATCH", f"/leads/{lead['id']}", w.owner,
                       example("patch_request"))
    shown = example("patch_response")
    assert set(shown) <= set(updated)
    assert (updated["id"], updated["status"], updated["note"]) == (
        lead["id"], shown["status"], shown["note"])
    assert moment(updated["updatedAt"]) >= moment(lead["updatedAt"])
    # Only what was sent changed.
    assert {k: v for k, v in updated.items() if k not in ("status", "note", "updatedAt")} == \
        {k: v for k, v in lead.items() if k not in ("status", "note", "updatedAt")}
    assert await ok(client, "GET", f"/leads/{lead['id']}", w.owner) == updated


async def test_leads_of_a_car_in_order(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    other = await ok(client, "POST", "/cars", w.owner,
                     {"make": "Dacia", "model": "Logan", "overviewYear": 2019,
                      "location": "Rabat"}, expect=201)
    third = await post_lead(client, w.owner, w.car["id"], action="C", order=3)
    first = await post_lead(client, w.owner, w.car["id"], action="A", order=1)
    second = await post_lead(client, w.owner, w.car["id"], action="B", order=2)
    await post_lead(client, w.owner, other["id"], action="Other car", order=0)
    found = await ok(client, "GET", f"/leads/car/{w.car['id']}", w.owner)
    assert [r["id"] for r in found] == [first["id"], second["id"], third["id"]]
    assert all(r["car"]["id"] == w.car["id"] and set(r) == LEAD_KEYS | {"car"}
               for r in found)
    # The same filters and sorts as /leads.
    found = await ok(client, "GET", f"/leads/car/{w.car['id']}", w.owner, sortOrder="desc")
    assert [r["action"] for r in found] == ["C", "B", "A"]
    found = await ok(client, "GET", f"/leads/car/{w.car['id']}", w.owner, search="b")
    assert [r["action"] for r in found] == ["B"]


async def test_leads_by_status(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    new = await post_lead(client, w.owner, w.car["id"], action="New one")
    done = await post_lead(client, w.owner, w.car["id"], action="Done", status="COMPLETED")
    dropped = await post_lead(client, w.owner, w.car["id"], action="Dropped",
                              status="NOT_NEEDED")
    for status, lead in (("NEW", new), ("COMPLETED", done), ("NOT_NEEDED", dropped)):
        found = await ok(client, "GET", f"/leads/status/{status}", w.owner)
        assert [r["id"] for r in found] == [lead["id"]]
        assert found[0]["status"] == status and "car" in found[0]
    assert_error(await call(client, "GET", "/leads/status/OPEN", w.owner), 400,
                 "INVALID_LEAD_STATUS")


async def test_reorder_leads_of_a_car(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    leads = [await post_lead(client, w.owner, w.car["id"], action=a, order=i)
             for i, a in enumerate(("x", "y", "z"))]
    body = example("reorder_request")
    # lead_id_1 → z, lead_id_2 → x, lead_id_3 → y
    ids = {"lead_id_1": leads[2]["id"], "lead_id_2": leads[0]["id"],
           "lead_id_3": leads[1]["id"]}
    body["leadOrders"] = [{**o, "id": ids[o["id"]]} for o in body["leadOrders"]]
    done = await ok(client, "PATCH", f"/leads/car/{w.car['id']}/reorder", w.owner, body)
    assert done == example("reorder_response")
    found = await ok(client, "GET", f"/leads/car/{w.car['id']}", w.owner)
    assert [(r["action"], r["order"]) for r in found] == [("z", 1), ("x", 2), ("y", 3)]


async def test_update_the_order_of_one_lead(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    lead = await post_lead(client, w.owner, w.car["id"], order=1)
    later = await post_lead(client, w.owner, w.car["id"], order=3)
    moved = await ok(client, "PATCH", f"/leads/{lead['id']}/order", w.owner,
                     example("order_request"))
    assert moved["order"] == 5 and set(moved) == LEAD_KEYS
    found = await ok(client, "GET", "/leads", w.owner)
    assert [r["id"] for r in found] == [later["id"], lead["id"]]


async def test_delete_lead(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    lead = await post_lead(client, w.owner, w.car["id"])
    done = await ok(client, "DELETE", f"/leads/{lead['id']}", w.owner)
    assert done == example("delete_response")
    assert_error(await call(client, "GET", f"/leads/{lead['id']}", w.owner), 404,
                 "LEAD_NOT_FOUND")
    assert_error(await call(client, "DELETE", f"/leads/{lead['id']}", w.owner), 404,
                 "LEAD_NOT_FOUND")
    assert await ok(client, "GET", "/leads", w.owner) == []


async def test_use_cases_with_an_api_key(client: httpx.AsyncClient) -> None:
    """Ejemplos 1-3, sent as published with ``Authorization: Bearer YOUR_API_KEY``."""
    w = await make_world(client)
    resp = await client.post("/api/v1/api-keys", headers=w.headers,
                             json={"name": "dealer site", "role": "manager",
                                   "scopes": ["read", "write"]})
    assert resp.status_code == 201, resp.text
    key = {"Authorization": f"Bearer {resp.json()['secret']}"}
    made = []
    for name in ("example1_curl", "example2_curl", "example3_curl"):
        method, path, body = curl(name)
        resp = await call(client, method, path.replace("{carId}", w.car["id"]), key, body)
        assert resp.status_code == 201, resp.text
        lead = resp.json()
        assert set(lead) == LEAD_KEYS
        assert {k: lead[k] for k in body} == body
        assert (lead["status"], lead["order"], lead["carId"]) == ("NEW", 0, w.car["id"])
        assert lead.get("note", body.get("note")) == body.get("note")
        made.append(lead)
    assert made[2]["note"] is None  # Ejemplo 3 sends no note
    found = await ok(client, "GET", "/leads", key, sortBy="createdAt")
    assert [r["id"] for r in found] == [m["id"] for m in made]
    assert await ok(client, "GET", "/leads", key, tag="Hot Lead") == [
        {**made[1], "car": found[1]["car"]}]
