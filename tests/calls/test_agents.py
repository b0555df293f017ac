"""Call agents and the do-not-call list through HTTP: secrets at rest, validation, roles,
other workspaces."""

from __future__ import annotations

import uuid

import httpx
import psycopg

from leadbase.calls import crypto
from leadbase.config import Settings
from tests.calls.helpers import AGENTS, make_agent
from tests.factories import add_member, make_workspace


async def test_secrets_are_encrypted_and_never_answered(client: httpx.AsyncClient,
                                                        libpq: str, settings: Settings) -> None:
    owner = await make_workspace(client, "Agents")
    agent = await make_agent(client, owner, secrets={"api_key": "sk-very-secret"},
                             settings={"time_scale": 0, "webhook_secret": "mine"})
    assert agent["secret_keys"] == ["api_key"]
    assert agent["webhook_secret"].startswith("whsec_")
    assert agent["webhook_url"].endswith("/api/v1/calls/webhooks/voice/simulator")
    got = await client.get(f"{AGENTS}/{agent['id']}", headers=owner.headers)
    assert got.status_code == 200 and "sk-very-secret" not in got.text
    assert "webhook_secret" not in got.json() and "secrets" not in got.json()
    listed = await client.get(AGENTS, headers=owner.headers)
    assert "sk-very-secret" not in listed.text and "whsec_" not in listed.text
    async with await psycopg.AsyncConnection.connect(libpq) as conn:
        row = await (await conn.execute(
            "SELECT secrets, webhook_secret, settings::text FROM call_agents WHERE id = %s",
            (agent["id"],))).fetchone()
    assert row is not None and "sk-very-secret" not in row[0] and "whsec_" not in row[1]
    assert crypto.decrypt(settings, row[0]) == {"api_key": "sk-very-secret"}
    assert crypto.decrypt(settings, row[1]) == agent["webhook_secret"]
    assert "mine" not in row[2]  # a webhook secret in settings is not taken

    rotated = await client.post(f"{AGENTS}/{agent['id']}/webhook-secret", headers=owner.headers)
    assert rotated.status_code == 200
    assert rotated.json()["webhook_secret"] != agent["webhook_secret"]


async def test_bad_input_changes_nothing(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Agents bad")
    for body, field in [
        ({"name": "A", "provider": "nope"}, "provider"),
        ({"name": "A", "provider": "simulator", "timezone": "Mars/Olympus"}, "timezone"),
        ({"name": "A", "provider": "simulator",
          "business_hours": {"mon": [{"start": "17:00", "end": "09:00"}]}}, "business_hours"),
        ({"name": "A", "provider": "simulator", "business_hours": {"funday": []}},
         "business_hours"),
        ({"name": "A", "provider": "simulator", "max_attempts": 0}, "max_attempts"),
        ({"name": "A", "provider": "simulator", "retry_delays": {"answered": 5}},
         "retry_delays"),
        ({"name": "A", "provider": "simulator", "tenant_id": str(uuid.uuid4())}, "tenant_id"),
    ]:
        resp = await client.post(AGENTS, headers=owner.headers, json=body)
        assert resp.status_code == 422, (body, resp.text)
        assert resp.headers["content-type"].startswith("application/problem+json")
        assert any(e["field"].startswith(field) for e in resp.json()["errors"]), resp.text
    bad = await client.post(AGENTS, headers=owner.headers, json={
        "name": "A", "provider": "simulator", "settings": {"outcome": "maybe"}})
    assert bad.status_code == 422 and bad.json()["code"] == "INVALID_PROVIDER_SETTINGS"
    assert (await client.get(AGENTS, headers=owner.headers)).json()["data"] == []
    await make_agent(client, owner, name="Twice")
    again = await client.post(AGENTS, headers=owner.headers,
                              json={"name": "twice", "provider": "simulator"})
    assert again.status_code == 409 and again.json()["code"] == "CALL_AGENT_NAME_TAKEN"


async def test_update_and_delete(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Agents edit")
    agent = await make_agent(client, owner)
    url = f"{AGENTS}/{agent['id']}"
    stale = await client.patch(url, headers={**owner.headers, "If-Match": '"99"'},
                               json={"max_attempts": 5})
    assert stale.status_code == 412
    done = await client.patch(url, headers=owner.headers, json={
        "max_attempts": 5, "retry_delays": {"no_answer": 30}, "active": False})
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["max_attempts"] == 5 and body["retry_delays"] == {"no_answer": 30}
    assert body["active"] is False and body["version"] == agent["version"] + 1
    assert (await client.patch(url, headers=owner.headers, json={})).status_code == 422
    assert (await client.delete(url, headers=owner.headers)).status_code == 204
    assert (await client.get(url, headers=owner.headers)).status_code == 404


async def test_roles_and_other_workspaces(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Agents roles")
    agent = await make_agent(client, owner)
    url = f"{AGENTS}/{agent['id']}"
    for role in ("agent", "viewer"):
        member = await add_member(client, owner, role)
        assert (await client.get(url, headers=member.headers)).status_code == 200
        resp = await client.post(AGENTS, headers=member.headers,
                                 json={"name": "X", "provider": "simulator"})
        assert resp.status_code == 403 and resp.json()["code"] == "ROLE_REQUIRED"
        assert (await client.patch(url, headers=member.headers,
                                   json={"active": False})).status_code == 403
        assert (await client.delete(url, headers=member.headers)).status_code == 403
    manager = await add_member(client, owner, "manager")
    assert (await client.patch(url, headers=manager.headers,
                               json={"max_attempts": 2})).status_code == 200
    stranger = await make_workspace(client, "Elsewhere")
    for method in ("GET", "PATCH", "DELETE"):
        resp = await client.request(method, url, headers=stranger.headers,
                                    json={"active": False} if method == "PATCH" else None)
        assert resp.status_code == 404 and resp.json()["code"] == "CALL_AGENT_NOT_FOUND"
    assert (await client.post(f"{url}/webhook-secret",
                              headers=stranger.headers)).status_code == 404
    assert (await client.get(AGENTS, headers=stranger.headers)).json()["data"] == []


async def test_do_not_call_list(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "DNC")
    agent_member = await add_member(client, owner, "agent")
    viewer = await add_member(client, owner, "viewer")
    first = await client.post("/api/v1/dnc", headers=agent_member.headers,
                              json={"phone": "(415) 555-2671", "reason": "asked"})
    assert first.status_code == 201, first.text
    assert first.json()["phone"] == "+14155552671"
    again = await client.post("/api/v1/dnc", headers=owner.headers,
                              json={"phone": "+1 415 555 2671"})
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    bad = await client.post("/api/v1/dnc", headers=owner.headers, json={"phone": "12345"})
    assert bad.status_code == 422 and bad.json()["code"] == "INVALID_PHONE"
    assert (await client.post("/api/v1/dnc", headers=viewer.headers,
                              json={"phone": "+14155550000"})).status_code == 403
    found = (await client.get("/api/v1/dnc?phone=4155552671", headers=viewer.headers)).json()
    assert [r["phone"] for r in found["data"]] == ["+14155552671"]
    stranger = await make_workspace(client, "DNC other")
    assert (await client.get("/api/v1/dnc", headers=stranger.headers)).json()["data"] == []
    dnc_url = f"/api/v1/dnc/{first.json()['id']}"
    assert (await client.delete(dnc_url, headers=stranger.headers)).status_code == 404
    assert (await client.delete(dnc_url, headers=agent_member.headers)).status_code == 403
    assert (await client.delete(dnc_url, headers=owner.headers)).status_code == 204
    assert (await client.delete(dnc_url, headers=owner.headers)).status_code == 404
