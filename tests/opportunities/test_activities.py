"""Activities on an opportunity: logged on it (and its lead's timeline), follow-ups, the
upcoming list, last_activity_at; an opportunity without a lead; roles and workspaces."""

from __future__ import annotations

import httpx

from tests.factories import add_member, make_lead, make_workspace
from tests.opportunities.helpers import BASE, make_opportunity

ACTIVITIES = "/api/v1/activities"


async def test_activities_on_an_opportunity(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Opp activities")
    lead = await make_lead(client, owner)
    opp = await make_opportunity(client, owner, lead_id=lead["id"])
    assert opp["last_activity_at"] is None
    url = f"{BASE}/{opp['id']}"
    call = await client.post(f"{url}/activities", headers=owner.headers, json={
        "type": "call", "description": "Pricing call",
        "attributes": {"duration_seconds": 300}})
    assert call.status_code == 201, call.text
    logged = call.json()
    assert logged["opportunity_id"] == opp["id"] and logged["lead_id"] == lead["id"]
    assert logged["status"] == "completed"
    touched = (await client.get(url, headers=owner.headers)).json()
    assert touched["last_activity_at"] is not None and touched["version"] == 1
    timeline = (await client.get(f"/api/v1/leads/{lead['id']}/timeline?types=call",
                                 headers=owner.headers)).json()
    assert [e["id"] for e in timeline["data"]] == [logged["id"]]
    bad = await client.post(f"{url}/activities", headers=owner.headers,
                            json={"type": "call", "attributes": {"nope": 1}})
    assert bad.status_code == 422
    via_generic = await client.post(ACTIVITIES, headers=owner.headers, json={
        "type": "note", "opportunity_id": opp["id"], "attributes": {"content": "hi"}})
    assert via_generic.status_code == 201 and via_generic.json()["lead_id"] == lead["id"]
    other_lead = await make_lead(client, owner)
    mismatch = await client.post(ACTIVITIES, headers=owner.headers, json={
        "type": "note", "opportunity_id": opp["id"], "lead_id": other_lead["id"],
        "attributes": {"content": "hi"}})
    assert mismatch.status_code == 422
    neither = await client.post(ACTIVITIES, headers=owner.headers, json={
        "type": "note", "attributes": {"content": "hi"}})
    assert neither.status_code == 422

    follow = await client.post(f"{url}/follow-ups", headers={
        **owner.headers, "Idempotency-Key": "fu-1"}, json={
        "scheduled_for": "2031-01-05T09:00:00Z", "type": "meeting",
        "description": "Contract review"})
    assert follow.status_code == 201, follow.text
    again = await client.post(f"{url}/follow-ups", headers={
        **owner.headers, "Idempotency-Key": "fu-1"}, json={
        "scheduled_for": "2031-01-05T09:00:00Z", "type": "meeting",
        "description": "Contract review"})
    assert again.json()["id"] == follow.json()["id"]
    early = await client.post(f"{url}/follow-ups", headers=owner.headers, json={
        "scheduled_for": "2030-06-01T09:00:00Z", "type": "call", "description": "Check in"})
    assert early.json()["status"] == "scheduled"
    missing = await client.post(f"{url}/follow-ups", headers=owner.headers,
                                json={"type": "call"})
    assert missing.status_code == 422

    listed = (await client.get(f"{url}/activities", headers=owner.headers)).json()
    types = [a["type"] for a in listed["data"]]
    assert types.count("call") == 2 and "meeting" in types and "opportunity_event" in types
    calls = (await client.get(f"{url}/activities?type=call", headers=owner.headers)).json()
    assert len(calls["data"]) == 2
    upcoming = (await client.get(f"{BASE}/activities/upcoming?owner_id={owner.user_id}",
                                 headers=owner.headers)).json()
    assert [a["description"] for a in upcoming["data"]] == ["Check in", "Contract review"]
    paged = (await client.get(f"{BASE}/activities/upcoming?per_page=1",
                              headers=owner.headers)).json()
    assert len(paged["data"]) == 1 and paged["next_cursor"]
    rest = (await client.get(f"{BASE}/activities/upcoming?per_page=5&cursor="
                             f"{paged['next_cursor']}", headers=owner.headers)).json()
    assert [a["description"] for a in rest["data"]] == ["Contract review"]
    done = await client.patch(f"{ACTIVITIES}/{early.json()['id']}", headers=owner.headers,
                              json={"completed_at": "2026-12-01T10:00:00Z"})
    assert done.status_code == 200, done.text
    left = (await client.get(f"{BASE}/activities/upcoming", headers=owner.headers)).json()
    assert [a["description"] for a in left["data"]] == ["Contract review"]


async def test_an_opportunity_without_a_lead(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Opp no lead")
    agent = await add_member(client, owner, "agent")
    other = await add_member(client, owner, "agent")
    opp = await make_opportunity(client, agent, name="Walk-in")
    note = await client.post(f"{BASE}/{opp['id']}/activities", headers=agent.headers,
                             json={"type": "note", "attributes": {"content": "met"}})
    assert note.status_code == 201, note.text
    entry = note.json()
    assert entry["lead_id"] is None and entry["opportunity_id"] == opp["id"]
    got = await client.get(f"{ACTIVITIES}/{entry['id']}", headers=agent.headers)
    assert got.status_code == 200, got.text
    assert (await client.get(f"{ACTIVITIES}/{entry['id']}",
                             headers=other.headers)).status_code == 404
    assert (await client.get(f"{ACTIVITIES}/{entry['id']}",
                             headers=owner.headers)).status_code == 200
    for path in ("activities", "follow-ups"):
        resp = await client.post(f"{BASE}/{opp['id']}/{path}", headers=other.headers, json={
            "type": "call", "scheduled_for": "2031-01-01T00:00:00Z"})
        assert resp.status_code == 404, resp.text
    assert (await client.get(f"{BASE}/{opp['id']}/activities",
                             headers=other.headers)).status_code == 404
    await client.post(f"{BASE}/{opp['id']}/follow-ups", headers=agent.headers, json={
        "type": "call", "scheduled_for": "2031-01-01T00:00:00Z", "description": "ring"})
    mine = (await client.get(f"{BASE}/activities/upcoming", headers=agent.headers)).json()
    assert [a["description"] for a in mine["data"]] == ["ring"]
    theirs = (await client.get(f"{BASE}/activities/upcoming", headers=other.headers)).json()
    assert theirs["data"] == []
    stranger = await make_workspace(client, "Opp no lead other")
    resp = await client.post(ACTIVITIES, headers=stranger.headers, json={
        "type": "note", "opportunity_id": opp["id"], "attributes": {"content": "x"}})
    assert resp.status_code == 404 and resp.json()["code"] == "OPPORTUNITY_NOT_FOUND"
    viewer = await add_member(client, owner, "viewer")
    resp = await client.post(f"{BASE}/{opp['id']}/activities", headers=viewer.headers,
                             json={"type": "note", "attributes": {"content": "x"}})
    assert resp.status_code == 403
    listed = (await client.get(f"{ACTIVITIES}?per_page=50", headers=owner.headers)).json()
    assert entry["id"] in {a["id"] for a in listed["data"]}


async def test_an_agents_deal_on_a_colleagues_lead(client: httpx.AsyncClient) -> None:
    """A manager gave the agent a deal of a colleague's lead: the agent works the deal,
    and never sees the lead (lead_id null on the deal and on its activities)."""
    owner = await make_workspace(client, "Opp colleague lead")
    agent = await add_member(client, owner, "agent")
    colleague = await add_member(client, owner, "agent")
    lead = await make_lead(client, owner, owner_id=str(colleague.user_id))
    opp = await make_opportunity(client, owner, lead_id=lead["id"],
                                 owner_id=str(agent.user_id))
    got = await client.get(f"{BASE}/{opp['id']}", headers=agent.headers)
    assert got.status_code == 200 and got.json()["lead_id"] is None
    assert got.json()["lead"] is None and lead["id"] not in got.text
    listed = await client.get(BASE, headers=agent.headers)
    assert opp["id"] in listed.text and lead["id"] not in listed.text
    moved = await client.post(f"{BASE}/{opp['id']}/stage", headers=agent.headers,
                              json={"stage": "proposal"})
    assert moved.status_code == 200 and lead["id"] not in moved.text
    follow = await client.post(f"{BASE}/{opp['id']}/follow-ups", headers=agent.headers, json={
        "scheduled_for": "2031-02-01T09:00:00Z", "type": "call", "description": "ring"})
    assert follow.status_code == 201 and follow.json()["lead_id"] is None
    for url in (f"{BASE}/{opp['id']}/activities", f"{BASE}/activities/upcoming"):
        resp = await client.get(url, headers=agent.headers)
        assert follow.json()["id"] in resp.text and lead["id"] not in resp.text, url
    assert (await client.get(f"{ACTIVITIES}/{follow.json()['id']}",
                             headers=agent.headers)).status_code == 404
    seen = await client.get(f"{ACTIVITIES}/{follow.json()['id']}", headers=colleague.headers)
    assert seen.status_code == 200 and seen.json()["lead_id"] == lead["id"]
    full = (await client.get(f"{BASE}/{opp['id']}", headers=owner.headers)).json()
    assert full["lead_id"] == lead["id"]
