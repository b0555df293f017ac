"""The document's error table, row by row, its limits at the boundary, and the shape of
every other error (``{"code": ..., "message": ...}``)."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from leadbase.app import create_app
from leadbase.db.session import Database
from tests.compat.autos.helpers import (
    BASE,
    assert_error,
    call,
    example,
    make_world,
    ok,
    post_lead,
)
from tests.conftest import make_settings

NOWHERE = str(uuid.uuid4())


async def test_lead_not_found(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    for method, path, body in (("GET", f"/leads/{NOWHERE}", None),
                               ("PATCH", f"/leads/{NOWHERE}", {"note": "x"}),
                               ("PATCH", f"/leads/{NOWHERE}/order", {"order": 1}),
                               ("DELETE", f"/leads/{NOWHERE}", None),
                               ("GET", "/leads/lead_id_1", None),  # not even a UUID
                               ("PATCH", "/leads/550e8400/order", {"order": 1})):
        assert_error(await call(client, method, path, w.owner, body), 404, "LEAD_NOT_FOUND")
    # A lead of the reorder list that does not exist (or is another car's).
    other = await ok(client, "POST", "/cars", w.owner, {"make": "Kia", "model": "Rio",
                                                        "overviewYear": 2020}, expect=201)
    theirs = await post_lead(client, w.owner, other["id"])
    for missing in (NOWHERE, theirs["id"]):
        body = {"leadOrders": [{"id": missing, "order": 1}]}
        assert_error(await call(client, "PATCH", f"/leads/car/{w.car['id']}/reorder",
                                w.owner, body), 404, "LEAD_NOT_FOUND")


async def test_car_not_found(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    for method, path, body in (
            ("POST", f"/leads/car/{NOWHERE}", example("create_request")),
            ("POST", "/leads/car/car_uuid", example("create_request")),
            ("GET", f"/leads/car/{NOWHERE}", None),
            ("PATCH", f"/leads/car/{NOWHERE}/reorder", example("reorder_request")),
            ("GET", f"/cars/{NOWHERE}", None),
            ("PATCH", f"/cars/{NOWHERE}", {"location": "Rabat"}),
            ("DELETE", f"/cars/{NOWHERE}", None)):
        assert_error(await call(client, method, path, w.owner, body), 404, "CAR_NOT_FOUND")
    assert_error(await call(client, "GET", "/leads", w.owner, carId=NOWHERE), 404,
                 "CAR_NOT_FOUND")
    lead = await post_lead(client, w.owner, w.car["id"])
    await ok(client, "DELETE", f"/cars/{w.car['id']}", w.owner)
    assert_error(await call(client, "POST", f"/leads/car/{w.car['id']}", w.owner,
                            example("create_request")), 404, "CAR_NOT_FOUND")
    # Its leads stay: their carId names the car that was, their car is null.
    kept = await ok(client, "GET", f"/leads/{lead['id']}", w.owner)
    assert kept["carId"] == w.car["id"]
    assert [(r["id"], r["car"]) for r in await ok(client, "GET", "/leads", w.owner)] == [
        (lead["id"], None)]


async def test_invalid_lead_status(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    lead = await post_lead(client, w.owner, w.car["id"])
    for method, path, body, params in (
            ("GET", "/leads/status/DONE", None, {}),
            ("GET", "/leads/status/new", None, {}),  # the document's values are upper case
            ("GET", "/leads", None, {"status": "OPEN"}),
            ("POST", f"/leads/car/{w.car['id']}", {**example("create_request"),
                                                    "status": "CANCELLED"}, {}),
            ("PATCH", f"/leads/{lead['id']}", {"status": "open"}, {}),
            ("PATCH", f"/leads/{lead['id']}", {"status": None}, {})):
        assert_error(await call(client, method, path, w.owner, body, **params), 400,
                     "INVALID_LEAD_STATUS")


async def test_validation_error(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    path = f"/leads/car/{w.car['id']}"
    good = example("create_request")
    lead = await post_lead(client, w.owner, w.car["id"])
    for body in ({k: v for k, v in good.items() if k != "action"},
                 {k: v for k, v in good.items() if k != "targetName"},
                 {k: v for k, v in good.items() if k != "targetInfo"},
                 {**good, "action": ""}, {**good, "targetName": "   "},
                 {**good, "order": "first"}, {**good, "order": 1.5},
                 {**good, "tag": 7}, [good], "text"):
        err = assert_error(await call(client, "POST", path, w.owner, body), 400,
                           "VALIDATION_ERROR")
        assert err["errors"] and all({"field", "message"} == set(e) for e in err["errors"])
    # A contact that is neither a phone nor an email.
    err = assert_error(await call(client, "POST", path, w.owner,
                                  {**good, "targetInfo": "Legal Department"}), 400,
                       "VALIDATION_ERROR")
    assert err["errors"][0]["field"] == "targetInfo"
    # Malformed JSON.
    resp = await client.post(BASE + path, headers={**w.headers,
                             "content-type": "application/json"}, content=b"{nope")
    assert_error(resp, 400, "VALIDATION_ERROR")
    for body in ({"action": None}, {"targetName": ""}, {"targetInfo": "12"},
                 {"order": "x"}, {"note": "n" * 1001}):
        assert_error(await call(client, "PATCH", f"/leads/{lead['id']}", w.owner, body),
                     400, "VALIDATION_ERROR")
    for body in ({}, {"order": None}, {"order": "5"}):
        assert_error(await call(client, "PATCH", f"/leads/{lead['id']}/order", w.owner, body),
                     400, "VALIDATION_ERROR")
    for body in ({}, {"leadOrders": "x"}, {"leadOrders": [{"id": lead["id"]}]}):
        assert_error(await call(client, "PATCH", f"/leads/car/{w.car['id']}/reorder",
                                w.owner, body), 400, "VALIDATION_ERROR")
    for params in ({"sortBy": "note"}, {"sortOrder": "up"}, {"limit": 0}, {"limit": 201},
                   {"offset": -1}):
        assert_error(await call(client, "GET", "/leads", w.owner, **params), 400,
                     "VALIDATION_ERROR")


@pytest.mark.parametrize(("field", "limit"), [("action", 200), ("targetName", 200),
                                              ("tag", 100), ("note", 1000)])
async def test_limits_at_the_boundary(client: httpx.AsyncClient, field: str,
                                      limit: int) -> None:
    w = await make_world(client)
    path = f"/leads/car/{w.car['id']}"
    at = await ok(client, "POST", path, w.owner,
                  {**example("create_request"), field: "a b" * (limit // 3) +
                   "x" * (limit % 3)}, expect=201)
    assert len(at[field]) == limit
    err = assert_error(await call(client, "POST", path, w.owner,
                                  {**example("create_request"), field: "x" * (limit + 1)}),
                       400, "VALIDATION_ERROR")
    assert err["errors"][0]["field"] == field
    assert_error(await call(client, "PATCH", f"/leads/{at['id']}", w.owner,
                            {field: "x" * (limit + 1)}), 400, "VALIDATION_ERROR")
    same = await ok(client, "PATCH", f"/leads/{at['id']}", w.owner, {field: at[field]})
    assert same[field] == at[field]


async def test_target_info_limit_and_raw_text(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    path = f"/leads/car/{w.car['id']}"
    padded = "+212 600-123456" + " " * 485  # 500 characters: a phone, as sent
    lead = await ok(client, "POST", path, w.owner,
                    {**example("create_request"), "targetInfo": padded}, expect=201)
    assert lead["targetInfo"] == padded and len(padded) == 500
    err = assert_error(await call(client, "POST", path, w.owner,
                                  {**example("create_request"), "targetInfo": padded + " "}),
                       400, "VALIDATION_ERROR")
    assert err["errors"][0]["field"] == "targetInfo"


async def test_other_errors_keep_the_shape(client: httpx.AsyncClient) -> None:
    resp = await call(client, "GET", "/leads", None)
    assert_error(resp, 401, "AUTH_REQUIRED")
    assert resp.headers["www-authenticate"] == "Bearer"
    assert_error(await call(client, "GET", "/leads", {"Authorization": "Bearer nope"}), 401,
                 "INVALID_TOKEN")
    w = await make_world(client)
    assert_error(await call(client, "GET", "/nope", w.owner), 404, "NOT_FOUND")
    assert_error(await call(client, "PUT", "/leads", w.owner, {}), 405,
                 "METHOD_NOT_ALLOWED")
    # The canonical API keeps its own format.
    canonical = await client.get(f"/api/v1/leads/{NOWHERE}", headers=w.headers)
    assert canonical.headers["content-type"] == "application/problem+json"


async def test_root_profile(db: Database, tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, root_profile="autos"), database=db,
                     run_worker=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        w = await make_world(client)
        created = await client.post(f"/leads/car/{w.car['id']}", headers=w.headers,
                                    json=example("create_request"))
        assert created.status_code == 201, created.text
        listed = await client.get("/leads", headers=w.headers)
        assert [r["id"] for r in listed.json()] == [created.json()["id"]]
        assert (await client.get(f"/cars/{w.car['id']}", headers=w.headers)).json() == w.car
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/openapi.json")).json()["info"]["title"] == "Leadbase"


async def test_profile_docs(client: httpx.AsyncClient) -> None:
    spec = (await client.get(BASE + "/openapi.json")).json()
    assert {"/leads", "/leads/{id}", "/leads/car/{carId}", "/leads/status/{status}",
            "/leads/car/{carId}/reorder", "/leads/{id}/order", "/cars",
            "/cars/{id}"} <= set(spec["paths"])
    assert (await client.get(BASE + "/docs")).status_code == 200


async def test_etag_and_if_match(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    lead = await post_lead(client, w.owner, w.car["id"])
    resp = await call(client, "GET", f"/leads/{lead['id']}", w.owner)
    tag = resp.headers["etag"]
    stale = {**w.headers, "If-Match": '"999"'}
    for method, path, body in (("PATCH", f"/leads/{lead['id']}", {"note": "x"}),
                               ("PATCH", f"/leads/{lead['id']}", {"targetName": "J S"}),
                               ("PATCH", f"/leads/{lead['id']}/order", {"order": 4}),
                               ("DELETE", f"/leads/{lead['id']}", None),
                               ("PATCH", f"/cars/{w.car['id']}", {"location": "Rabat"})):
        resp = await client.request(method, BASE + path, headers=stale, json=body)
        assert resp.status_code == 412, resp.text
        assert set(resp.json()) <= {"code", "message", "errors"}
    resp = await client.patch(f"{BASE}/leads/{lead['id']}", json={"note": "fresh"},
                              headers={**w.headers, "If-Match": tag})
    assert resp.status_code == 200 and resp.headers["etag"] != tag
