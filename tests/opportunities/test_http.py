"""Opportunities through HTTP: create (defaults, Idempotency-Key, bad input), read, list
(filters, sorts, cursor), PATCH with If-Match, soft delete; roles and other workspaces."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import add_member, make_lead, make_workspace
from tests.opportunities.helpers import BASE, deal_pipeline, lead_pipeline, make_opportunity


async def test_create_read_update_delete(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Opp http")
    lead = await make_lead(client, owner, company="Globex")
    created = await make_opportunity(client, owner, lead_id=lead["id"], value=1234.5,
                                     expected_close_date="2030-03-31", source="website",
                                     metadata={"k": 1})
    assert created["value"] == "1234.50" and created["weighted_value"] == "246.90"
    assert created["probability"] == 20 and created["probability_is_default"] is True
    assert created["stage"] == "qualified" and created["stage_name"] == "Qualified"
    assert created["stage_category"] == "open" and created["status"] == "open"
    assert created["lead"]["company"] == "Globex" and created["currency"] == "USD"
    assert lead["owner_id"] is None and created["owner_id"] == str(owner.user_id)
    url = f"{BASE}/{created['id']}"
    got = await client.get(url, headers=owner.headers)
    assert got.status_code == 200 and got.headers["etag"] == '"1"'
    assert got.json() == created

    stale = await client.patch(url, headers={**owner.headers, "If-Match": '"7"'},
                               json={"name": "Renamed"})
    assert stale.status_code == 412 and stale.json()["code"] == "VERSION_MISMATCH"
    patched = await client.patch(url, headers={**owner.headers, "If-Match": '"1"'},
                                 json={"name": "Renamed", "probability": 65, "value": "2000"})
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["name"] == "Renamed" and body["probability"] == 65
    assert body["probability_is_default"] is False and body["weighted_value"] == "1300.00"
    assert body["version"] == 2 and patched.headers["etag"] == '"2"'
    back = (await client.patch(url, headers=owner.headers,
                               json={"probability": None})).json()
    assert back["probability"] == 20 and back["probability_is_default"] is True
    for bad in ({"name": None}, {"value": "-3"}, {"currency": "ABC"}, {"probability": 101},
                {"status": "won"}, {}):
        resp = await client.patch(url, headers=owner.headers, json=bad)
        assert resp.status_code == 422, (bad, resp.text)

    deleted = await client.delete(url, headers={**owner.headers, "If-Match": '"1"'})
    assert deleted.status_code == 412
    assert (await client.delete(url, headers=owner.headers)).status_code == 204
    assert (await client.get(url, headers=owner.headers)).status_code == 404
    kept = await client.get(f"{url}?include_deleted=true", headers=owner.headers)
    assert kept.status_code == 200 and kept.json()["deleted_at"] is not None
    timeline = (await client.get(f"/api/v1/leads/{lead['id']}/timeline?types=opportunity_event",
                                 headers=owner.headers)).json()
    events = [e["attributes"]["event"] for e in timeline["data"]]
    assert "created" in events and "deleted" in events


async def test_idempotent_create(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Opp idem")
    headers = {**owner.headers, "Idempotency-Key": "opp-1"}
    body = {"name": "Once", "value": "10"}
    first = await client.post(BASE, headers=headers, json=body)
    again = await client.post(BASE, headers=headers, json=body)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again.headers["idempotency-replayed"] == "true"
    other = await client.post(BASE, headers=headers, json={**body, "value": "11"})
    assert other.status_code == 422 and other.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    listed = (await client.get(f"{BASE}?q=Once", headers=owner.headers)).json()
    assert listed["total"] == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"value": "-1"}, "value"), ({"value": -0.01}, "value"), ({"value": "abc"}, "value"),
    ({"value": "1.234"}, "value"), ({"currency": "XXQ"}, "currency"),
    ({"currency": "US"}, "currency"), ({"probability": 101}, "probability"),
    ({"probability": -5}, "probability"), ({"name": ""}, "name"),
    ({"expected_close_date": "31/03/2030"}, "expected_close_date"),
    ({"tenant_id": "00000000-0000-0000-0000-000000000000"}, "tenant_id"),
])
async def test_bad_input(client: httpx.AsyncClient, body: dict[str, Any], field: str) -> None:
    owner = await make_workspace(client, "Opp bad input")
    resp = await client.post(BASE, headers=owner.headers,
                             json={"name": "N", "value": "1", **body})
    assert resp.status_code == 422, resp.text
    assert field in {e["field"] for e in resp.json()["errors"]}


async def test_other_workspaces_and_kinds(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Opp refs http")
    stranger = await make_workspace(client, "Opp refs http other")
    their_lead = await make_lead(client, stranger)
    theirs = await deal_pipeline(client, stranger)
    leads = await lead_pipeline(client, owner)
    cases = [({"pipeline_id": leads["id"]}, "PIPELINE_NOT_FOUND"),
             ({"pipeline_id": theirs["id"]}, "PIPELINE_NOT_FOUND"),
             ({"stage": theirs["stages"][1]["id"]}, "STAGE_NOT_FOUND"),
             ({"lead_id": their_lead["id"]}, "OPPORTUNITY_LEAD_NOT_FOUND"),
             ({"owner_id": str(stranger.user_id)}, "OWNER_NOT_FOUND"),
             ({"stage": "closed_lost"}, "STAGE_NOT_OPEN")]
    for extra, code in cases:
        resp = await client.post(BASE, headers=owner.headers,
                                 json={"name": "N", "value": "1", **extra})
        assert resp.status_code == 422 and resp.json()["code"] == code, (extra, resp.text)
    mine = await make_opportunity(client, owner)
    for method in ("GET", "PATCH", "DELETE"):
        resp = await client.request(method, f"{BASE}/{mine['id']}", headers=stranger.headers,
                                    **({"json": {"name": "x"}} if method == "PATCH" else {}))
        assert resp.status_code == 404, (method, resp.text)
    assert (await client.get(BASE, headers=stranger.headers)).json()["total"] == 0


async def test_roles(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Opp roles")
    viewer = await add_member(client, owner, "viewer")
    agent = await add_member(client, owner, "agent")
    other = await add_member(client, owner, "agent")
    manager = await add_member(client, owner, "manager")
    resp = await client.post(BASE, headers=viewer.headers, json={"name": "V", "value": "1"})
    assert resp.status_code == 403
    own = await make_opportunity(client, agent, name="Agent's")
    assert own["owner_id"] == str(agent.user_id)
    their_lead = await make_lead(client, owner, owner_id=str(other.user_id))
    theirs = await make_opportunity(client, owner, name="Theirs", lead_id=their_lead["id"])
    assert theirs["owner_id"] == str(other.user_id)
    my_lead = await make_lead(client, owner, owner_id=str(agent.user_id))
    via_lead = await make_opportunity(client, manager, name="Via lead", lead_id=my_lead["id"],
                                      owner_id=str(manager.user_id))
    seen = {o["name"] for o in (await client.get(BASE, headers=agent.headers)).json()["data"]}
    assert seen == {"Agent's", "Via lead"}
    assert (await client.get(f"{BASE}/{theirs['id']}", headers=agent.headers)).status_code == 404
    resp = await client.patch(f"{BASE}/{theirs['id']}", headers=agent.headers,
                              json={"name": "x"})
    assert resp.status_code == 404
    resp = await client.patch(f"{BASE}/{own['id']}", headers=agent.headers,
                              json={"owner_id": str(other.user_id)})
    assert resp.status_code == 403 and resp.json()["code"] == "OWNER_NOT_ALLOWED"
    resp = await client.post(BASE, headers=agent.headers,
                             json={"name": "N", "value": "1", "owner_id": str(other.user_id)})
    assert resp.status_code == 403
    assert (await client.get(f"{BASE}/{via_lead['id']}", headers=agent.headers)).status_code \
        == 200
    for path in ("", "/stage", "/close-won"):
        method = "PATCH" if path == "" else "POST"
        body = {"name": "x"} if path == "" else ({"stage": "proposal"} if path else {})
        resp = await client.request(method, f"{BASE}/{own['id']}{path}",
                                    headers=viewer.headers, json=body)
        assert resp.status_code == 403, (path, resp.text)
    assert (await client.get(f"{BASE}/{own['id']}", headers=viewer.headers)).status_code == 200
    all_seen = (await client.get(BASE, headers=viewer.headers)).json()["total"]
    assert all_seen == 3


async def test_list_filters_sorts_cursor(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Opp list")
    agent = await add_member(client, owner, "agent")
    lead = await make_lead(client, owner)
    a = await make_opportunity(client, owner, name="Alpha deal", value="100",
                               expected_close_date="2030-01-10", stage="proposal")
    b = await make_opportunity(client, owner, name="Beta deal", value="300",
                               expected_close_date="2030-02-10", lead_id=lead["id"])
    c = await make_opportunity(client, agent, name="Gamma", value="200")

    async def names(query: str) -> list[str]:
        resp = await client.get(f"{BASE}?{query}", headers=owner.headers)
        assert resp.status_code == 200, resp.text
        return [o["name"] for o in resp.json()["data"]]

    assert await names("") == ["Gamma", "Beta deal", "Alpha deal"]
    assert await names("sort=value") == ["Alpha deal", "Gamma", "Beta deal"]
    assert await names("sort=-weighted_value") == ["Beta deal", "Alpha deal", "Gamma"]
    assert await names("sort=expected_close_date") == ["Alpha deal", "Beta deal", "Gamma"]
    assert await names("stage=PROPOSAL") == ["Alpha deal"]
    assert await names(f"stage={a['stage_id']},qualified&sort=name") == \
        ["Alpha deal", "Beta deal", "Gamma"]
    assert await names(f"owner_id={agent.user_id}") == ["Gamma"]
    assert await names(f"lead_id={lead['id']}") == ["Beta deal"]
    assert await names("q=DEAL&sort=name") == ["Alpha deal", "Beta deal"]
    assert await names("value_min=150&value_max=300&sort=value") == ["Gamma", "Beta deal"]
    assert await names("close_from=2030-02-01&close_to=2030-12-31") == ["Beta deal"]
    assert await names("status=open&sort=name") == ["Alpha deal", "Beta deal", "Gamma"]
    assert await names("status=won") == []
    pipeline = await deal_pipeline(client, owner)
    assert len(await names(f"pipeline_id={pipeline['id']}")) == 3
    for bad in ("stage=nope", "status=closed", "sort=bogus", "owner_id=x", "value_min=-1"):
        resp = await client.get(f"{BASE}?{bad}", headers=owner.headers)
        assert resp.status_code == 422, (bad, resp.text)

    seen: list[str] = []
    url = f"{BASE}?per_page=1&sort=expected_close_date"
    for _ in range(5):
        page = (await client.get(url, headers=owner.headers)).json()
        seen += [o["id"] for o in page["data"]]
        if not page["next_cursor"]:
            break
        url = f"{BASE}?per_page=1&sort=expected_close_date&cursor={page['next_cursor']}"
    assert seen == [a["id"], b["id"], c["id"]]
    first = (await client.get(f"{BASE}?per_page=2", headers=owner.headers)).json()
    assert first["total"] == 3 and first["next_cursor"]


async def test_only_uuids_are_ids(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Opp ids")
    resp = await client.get(f"{BASE}/not-an-id", headers=owner.headers)
    assert resp.status_code == 404  # not a 422 of /{id}: other routes stay free
    resp = await client.get(f"{BASE}/00000000-0000-0000-0000-000000000000",
                            headers=owner.headers)
    assert resp.status_code == 404 and resp.json()["code"] == "OPPORTUNITY_NOT_FOUND"
