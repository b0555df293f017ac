"""The document's error section: each error body as published, and the 400s of bad
input (which change nothing)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from leadbase.app import create_app
from leadbase.compat.crm import leads as crm_leads
from leadbase.db.session import Database
from tests.compat.crm.helpers import (
    BASE,
    ERRORS,
    assert_error,
    call,
    make_lead,
    make_world,
    ok,
)
from tests.conftest import make_settings

NOWHERE = "lead_" + "0" * 32


async def test_400_invalid_email_as_documented(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    body = assert_error(await call(client, "POST", "/leads", w.owner,
                                   {"firstName": "Juan", "email": "juan-at-example"}), 400)
    shown = ERRORS[400]
    assert {k: body[k] for k in shown} == shown  # field email, "Invalid email format"
    assert (await ok(client, "GET", "/leads", w.owner))["total"] == 0  # nothing made


@pytest.mark.parametrize(("body", "field"), [
    ({"firstName": "A", "status": "OPEN"}, "status"),
    ({"firstName": "A", "firstNameX": 1, "lastName": "x" * 201}, "lastName"),
    ({"firstName": "A", "tags": ["x" * 51]}, "tags.0"),
    ({"firstName": "A", "assignedToId": 7}, "assignedToId"),
    ({"firstName": "A", "phone": "12"}, "phone"),
    ({}, "firstName"),
])
async def test_400_names_the_documents_field(client: httpx.AsyncClient, body: dict[str, object],
                                             field: str) -> None:
    w = await make_world(client)
    err = assert_error(await call(client, "POST", "/leads", w.owner, body), 400,
                       "Invalid input data")
    assert field in [e["field"] for e in err["errors"]], err
    assert (await ok(client, "GET", "/leads", w.owner))["total"] == 0


@pytest.mark.parametrize("query", ["page=0", "limit=0", "limit=201", "minScore=101",
                                   "status=new", "page=x"])
async def test_400_on_bad_query(client: httpx.AsyncClient, query: str) -> None:
    w = await make_world(client)
    resp = await client.get(f"{BASE}/leads?{query}", headers=w.owner.headers)
    err = assert_error(resp, 400, "Invalid input data")
    assert err["errors"][0]["field"] == query.split("=")[0]


async def test_400_on_a_body_that_is_not_json(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    resp = await client.post(f"{BASE}/leads", content=b"{nope",
                             headers={**w.owner.headers, "Content-Type": "application/json"})
    assert_error(resp, 400, "Invalid input data")


async def test_401_as_documented(client: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic x"}):
        resp = await client.get(f"{BASE}/leads", headers=headers)
        body = assert_error(resp, 401)
        assert {k: body[k] for k in ERRORS[401]} == ERRORS[401]
        assert resp.headers["www-authenticate"] == "Bearer"


async def test_404_as_documented(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    body = assert_error(await call(client, "GET", "/leads/lead_xxx", w.owner), 404)
    assert {k: body[k] for k in ERRORS[404]} == ERRORS[404]  # "Lead lead_xxx not found"
    for path, message in ((f"/leads/{NOWHERE}", f"Lead {NOWHERE} not found"),
                          ("/leads/12", "Lead 12 not found"),
                          (f"/activities/act_{'1' * 32}", f"Activity act_{'1' * 32} not found"),
                          ("/activities/lead_1", "Activity lead_1 not found"),
                          (f"/activities/timeline/lead/{NOWHERE}", f"Lead {NOWHERE} not found"),
                          ("/leads/assignment/by-agent/agent_9", "Agent agent_9 not found"),
                          (f"/leads/assignment/by-agent/agent_{'3' * 32}",
                           f"Agent agent_{'3' * 32} not found")):
        assert_error(await call(client, "GET", path, w.owner), 404, message)
    assert_error(await call(client, "PUT", f"/leads/{NOWHERE}", w.owner, {"notes": "x"}),
                 404, f"Lead {NOWHERE} not found")
    assert_error(await call(client, "POST", "/activities/log-note", w.owner,
                            {"leadId": NOWHERE, "content": "x"}), 404,
                 f"Lead {NOWHERE} not found")
    lead = await make_lead(client, w.owner)
    ghost = "agent_" + "2" * 32
    assert_error(await call(client, "POST", f"/leads/{lead['id']}/assign", w.owner,
                            {"agentId": ghost}), 404, f"Agent {ghost} not found")
    assert_error(await call(client, "GET", "/nowhere", w.owner), 404,
                 "Cannot GET /compat/crm/v1/nowhere")


async def test_500_as_documented(app: object, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        w = await make_world(c)
        monkeypatch.setattr(crm_leads.leads, "get_lead", broken)
        resp = await c.get(f"{BASE}/leads/{NOWHERE}", headers=w.owner.headers)
    body = assert_error(resp, 500)
    assert {k: body[k] for k in ERRORS[500]} == ERRORS[500]


async def test_other_statuses_keep_the_shape(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    lead = await make_lead(client, w.owner, email="same@example.com")
    err = assert_error(await call(client, "POST", "/leads", w.owner,
                                  {"firstName": "B", "email": "same@example.com"}), 409,
                       code="DUPLICATE_LEAD")
    assert "errors" not in err
    resp = await client.put(f"{BASE}/leads/{lead['id']}", json={"notes": "x"},
                            headers={**w.owner.headers, "If-Match": '"99"'})
    assert_error(resp, 412)
    assert_error(await call(client, "POST", f"/leads/{lead['id']}/calculate-score", w.owner),
                 409, code="SCORING_MODEL_MISSING")
    assert_error(await call(client, "PATCH", "/leads", w.owner, {}), 405)
    # The canonical API keeps its own format.
    canonical = await client.get(f"/api/v1/leads/{lead['id'][5:]}", headers=w.owner.headers)
    assert canonical.status_code == 200 and canonical.json()["email"] == "same@example.com"


async def test_429_as_documented(tmp_path: Path, db: Database) -> None:
    app = create_app(make_settings(tmp_path, crm_rate_limit_standard="3/minute"), database=db,
                     run_worker=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        w = await make_world(c)
        for _ in range(3):
            assert (await c.get(f"{BASE}/leads", headers=w.owner.headers)).status_code == 200
        resp = await c.get(f"{BASE}/leads", headers=w.owner.headers)
    body = assert_error(resp, 429, code="RATE_LIMITED")
    retry = int(resp.headers["retry-after"])
    assert 1 <= retry <= 60
    assert body["message"] == f"Rate limit exceeded. Try again in {retry} seconds"
    assert set(body) == set(ERRORS[429]) | {"code"}


async def test_served_at_the_root_when_asked(tmp_path: Path, db: Database) -> None:
    app = create_app(make_settings(tmp_path, root_profile="crm"), database=db,
                     run_worker=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as c:
        w = await make_world(c)
        lead = await ok(c, "POST", "/leads", w.owner, {"firstName": "Root"}, expect=201)
        got = await c.get(f"/leads/{lead['id']}", headers=w.owner.headers)
        assert got.status_code == 200 and got.json()["firstName"] == "Root"
        assert_error(await c.get("/leads"), 401, "Invalid or expired token")
        assert (await c.get("/api/v1/leads", headers=w.owner.headers)).status_code == 200
