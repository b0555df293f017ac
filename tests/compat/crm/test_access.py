"""Roles, other workspaces' ids, API keys, idempotent repeats and the rate limits'
categories."""

from __future__ import annotations

from pathlib import Path

import httpx

from leadbase.app import create_app
from leadbase.db.session import Database
from tests.compat.crm.helpers import (
    BASE,
    agent_id,
    assert_error,
    call,
    make_lead,
    make_world,
    ok,
)
from tests.conftest import make_settings
from tests.factories import add_member


async def test_an_agent_sees_and_works_only_their_own_leads(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    mine = await make_lead(client, w.agent)
    assert mine["assignedToId"] == agent_id(w.agent)  # an agent's lead is theirs
    theirs = await make_lead(client, w.owner, assignedToId=agent_id(w.agent2))
    listed = await ok(client, "GET", "/leads", w.agent)
    assert [r["id"] for r in listed["data"]] == [mine["id"]] and listed["total"] == 1
    for method, path, body in (("GET", f"/leads/{theirs['id']}", None),
                               ("PUT", f"/leads/{theirs['id']}", {"notes": "x"}),
                               ("DELETE", f"/leads/{theirs['id']}", None),
                               ("POST", "/activities/log-note",
                                {"leadId": theirs["id"], "content": "x"}),
                               ("GET", f"/activities/timeline/lead/{theirs['id']}", None)):
        assert_error(await call(client, method, path, w.agent, body), 404,
                     f"Lead {theirs['id']} not found")
    # Assignment needs a manager; another agent's activities are not theirs to read.
    assert_error(await call(client, "POST", f"/leads/{mine['id']}/assign", w.agent,
                            {"agentId": agent_id(w.agent2)}), 403, code="ROLE_REQUIRED")
    assert_error(await call(client, "GET", f"/activities/agent/{agent_id(w.agent2)}/recent",
                            w.agent), 403, code="ONLY_OWN_ACTIVITIES")
    assert_error(await call(client, "POST", "/leads", w.agent,
                            {"firstName": "X", "assignedToId": agent_id(w.agent2)}), 403,
                 code="OWNER_NOT_ALLOWED")
    bulk = await ok(client, "POST", "/leads/bulk-update", w.agent,
                    {"leadIds": [mine["id"], theirs["id"]], "updates": {"status": "LOST"}})
    assert (bulk["updated"], bulk["failed"]) == (1, 1)
    assert bulk["errors"][0]["message"] == f"Lead {theirs['id']} not found"
    assert (await ok(client, "GET", f"/leads/{theirs['id']}", w.owner))["status"] == "NEW"


async def test_a_viewer_reads_but_cannot_write(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    lead = await make_lead(client, w.owner)
    assert (await ok(client, "GET", f"/leads/{lead['id']}", w.viewer))["id"] == lead["id"]
    assert (await ok(client, "GET", "/leads", w.viewer))["total"] == 1
    for method, path, body in (("POST", "/leads", {"firstName": "V"}),
                               ("PUT", f"/leads/{lead['id']}", {"notes": "v"}),
                               ("DELETE", f"/leads/{lead['id']}", None),
                               ("POST", "/activities/log-note",
                                {"leadId": lead["id"], "content": "v"}),
                               ("POST", "/leads/bulk-update",
                                {"leadIds": [lead["id"]], "updates": {"status": "LOST"}}),
                               ("POST", "/leads/scoring/recalculate-all", None)):
        assert_error(await call(client, method, path, w.viewer, body), 403)
    assert (await ok(client, "GET", f"/leads/{lead['id']}", w.owner))["notes"] is None


async def test_another_workspaces_ids_are_not_found(client: httpx.AsyncClient) -> None:
    w, other = await make_world(client), await make_world(client, "Other Co")
    lead = await make_lead(client, other.owner)
    act = await ok(client, "POST", "/activities/log-note", other.owner,
                   {"leadId": lead["id"], "content": "theirs"}, expect=201)
    for method, path, body in (("GET", f"/leads/{lead['id']}", None),
                               ("PUT", f"/leads/{lead['id']}", {"notes": "x"}),
                               ("DELETE", f"/leads/{lead['id']}", None),
                               ("POST", f"/leads/{lead['id']}/update-score", None),
                               ("POST", f"/leads/{lead['id']}/assign", {"agentId": None}),
                               ("POST", "/activities", {"type": "NOTE", "content": "x",
                                                        "leadId": lead["id"]})):
        assert_error(await call(client, method, path, w.owner, body), 404,
                     f"Lead {lead['id']} not found")
    for method in ("GET", "DELETE"):
        assert_error(await call(client, method, f"/activities/{act['id']}", w.owner), 404,
                     f"Activity {act['id']} not found")
    mine = await make_lead(client, w.owner)
    stranger = agent_id(other.agent)
    assert_error(await call(client, "POST", f"/leads/{mine['id']}/assign", w.owner,
                            {"agentId": stranger}), 404, f"Agent {stranger} not found")
    assert_error(await call(client, "GET", f"/activities/agent/{stranger}/summary", w.owner),
                 404, f"Agent {stranger} not found")
    bulk = await ok(client, "POST", "/leads/bulk-update", w.owner,
                    {"leadIds": [lead["id"], "lead_nope"], "updates": {"status": "LOST"}})
    assert (bulk["updated"], bulk["failed"]) == (0, 2)
    assert (await ok(client, "GET", f"/leads/{lead['id']}", other.owner))["status"] == "NEW"


async def test_api_keys_authenticate(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    resp = await client.post("/api/v1/api-keys", headers=w.owner.headers,
                             json={"name": "crm", "role": "manager", "scopes": ["read"]})
    assert resp.status_code == 201, resp.text
    key = {"Authorization": f"Bearer {resp.json()['secret']}"}
    assert (await ok(client, "GET", "/leads", key))["total"] == 0
    assert_error(await call(client, "POST", "/leads", key, {"firstName": "K"}), 403,
                 code="INSUFFICIENT_SCOPE")


async def test_idempotent_repeats(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    headers = {**w.owner.headers, "Idempotency-Key": "crm-create-1"}
    body = {"firstName": "Idem", "email": "idem@example.com"}
    first = await client.post(f"{BASE}/leads", headers=headers, json=body)
    again = await client.post(f"{BASE}/leads", headers=headers, json=body)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert (await ok(client, "GET", "/leads", w.owner))["total"] == 1
    other = await client.post(f"{BASE}/leads", headers=headers, json={**body, "lastName": "X"})
    assert_error(other, 400)  # the same key with another body
    note = {"leadId": first.json()["id"], "content": "once"}
    key = {**w.owner.headers, "Idempotency-Key": "crm-note-1"}
    a = await client.post(f"{BASE}/activities/log-note", headers=key, json=note)
    b = await client.post(f"{BASE}/activities/log-note", headers=key, json=note)
    assert a.json()["id"] == b.json()["id"]


async def test_rate_limit_categories_per_token(tmp_path: Path, db: Database) -> None:
    settings = make_settings(tmp_path, crm_rate_limit_standard="4/minute",
                             crm_rate_limit_bulk="1/minute", crm_rate_limit_export="1/minute")
    app = create_app(settings, database=db, run_worker=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as c:
        w = await make_world(c)
        lead = await make_lead(c, w.owner)
        bulk = {"leadIds": [lead["id"]], "updates": {"status": "CONTACTED"}}
        assert (await call(c, "POST", "/leads/bulk-update", w.owner, bulk)).status_code == 200
        assert_error(await call(c, "POST", "/leads/bulk-update", w.owner, bulk), 429)
        assert (await call(c, "GET", "/leads/export", w.owner)).status_code == 200
        assert_error(await call(c, "GET", "/activities/export", w.owner), 429)
        resp = await call(c, "GET", "/leads", w.owner)  # standard: 2 of 4 so far
        assert resp.status_code == 200 and resp.headers["ratelimit-limit"] == "4"
        other = await add_member(c, w.owner, "manager")  # another token: its own quota
        assert (await call(c, "POST", "/leads/bulk-update", other, bulk)).status_code == 200
        for _ in range(2):
            assert (await call(c, "GET", "/leads", w.owner)).status_code == 200
        assert_error(await call(c, "GET", "/leads", w.owner), 429)
        # The canonical API is not counted against the profile's limits.
        assert (await c.get("/api/v1/leads", headers=w.owner.headers)).status_code == 200


async def test_rate_limits_can_be_turned_off(tmp_path: Path, db: Database) -> None:
    settings = make_settings(tmp_path, crm_rate_limits=False, crm_rate_limit_standard="1/hour")
    app = create_app(settings, database=db, run_worker=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as c:
        w = await make_world(c)
        for _ in range(3):
            assert (await call(c, "GET", "/leads", w.owner)).status_code == 200


def test_the_documents_limits_are_the_defaults() -> None:
    from leadbase.config import Settings

    s = Settings()
    assert (s.crm_rate_limits, s.crm_rate_limit_standard, s.crm_rate_limit_bulk,
            s.crm_rate_limit_export) == (True, "100/minute", "10/minute", "5/minute")
