"""The dial queue through HTTP: enqueue one, many, a segment, on lead create; filters;
roles; other workspaces; call now within the law."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx

from leadbase.calls import handlers  # noqa: F401  (registers the lead.created handler)
from leadbase.db.session import Database
from leadbase.events import service as events_service
from tests.calls.helpers import TASKS, enqueue, make_agent, phone_lead
from tests.factories import add_member, make_lead, make_workspace


async def test_enqueue_one_and_its_errors(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Queue")
    agent = await make_agent(client, owner)
    lead = await phone_lead(client, owner, phone="+14155552671")
    due = "2030-01-02T15:00:00Z"
    task = await enqueue(client, owner, agent, lead, due_at=due)
    assert task["next_attempt_at"].startswith("2030-01-02T15:00")
    assert task["lead_phone"] == "+14155552671" and task["max_attempts"] == 3
    again = await client.post(TASKS, headers=owner.headers,
                              json={"agent_id": agent["id"], "lead_id": lead["id"]})
    assert again.status_code == 409 and again.json()["code"] == "DIAL_TASK_EXISTS"
    no_phone = await make_lead(client, owner)
    for body, code in [
        ({"agent_id": agent["id"], "lead_id": no_phone["id"]}, "LEAD_HAS_NO_PHONE"),
        ({"agent_id": agent["id"], "lead_id": str(uuid.uuid4())}, "DIAL_TASK_LEAD_NOT_FOUND"),
        ({"agent_id": str(uuid.uuid4()), "lead_id": lead["id"]}, "CALL_AGENT_NOT_FOUND"),
        ({"agent_id": agent["id"], "lead_id": "nope"}, "VALIDATION_ERROR"),
    ]:
        resp = await client.post(TASKS, headers=owner.headers, json=body)
        assert resp.status_code == 422 and resp.json()["code"] == code, resp.text
    listed = (await client.get(f"{TASKS}?status=new&agent_id={agent['id']}",
                               headers=owner.headers)).json()
    assert [t["id"] for t in listed["data"]] == [task["id"]]
    bad = await client.get(f"{TASKS}?status=later", headers=owner.headers)
    assert bad.status_code == 422 and bad.json()["code"] == "INVALID_FILTER"
    patched = await client.patch(f"{TASKS}/{task['id']}", headers=owner.headers,
                                 json={"status": "done", "disposition": "not_interested"})
    assert patched.status_code == 200 and patched.json()["disposition"] == "not_interested"
    assert (await client.delete(f"{TASKS}/{task['id']}",
                                headers=owner.headers)).status_code == 204
    assert (await client.get(f"{TASKS}/{task['id']}",
                             headers=owner.headers)).status_code == 404


async def test_enqueue_many_and_a_segment(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Queue bulk")
    agent = await make_agent(client, owner)
    leads = [await phone_lead(client, owner, phone=f"+1415555{2600 + i}", source="fair")
             for i in range(3)]
    other = await phone_lead(client, owner, phone="+14155552699", source="web")
    no_phone = await make_lead(client, owner, source="fair")
    resp = await client.post(f"{TASKS}/bulk", headers=owner.headers, json={
        "agent_id": agent["id"], "lead_ids": [leads[0]["id"], no_phone["id"]]})
    assert resp.status_code == 200 and resp.json()["enqueued"] == 1, resp.text
    assert resp.json()["skipped"] == 1
    segment = await client.post("/api/v1/segments", headers=owner.headers, json={
        "name": "Fair", "condition": {"all": [{"field": "source", "op": "eq",
                                               "value": "fair"}]}})
    assert segment.status_code == 201, segment.text
    resp = await client.post(f"{TASKS}/bulk", headers=owner.headers, json={
        "agent_id": agent["id"], "segment_id": segment.json()["id"]})
    assert resp.status_code == 200 and resp.json()["enqueued"] == 2, resp.text
    queued = {t["lead_id"] for t in (await client.get(
        f"{TASKS}?agent_id={agent['id']}&per_page=50", headers=owner.headers)).json()["data"]}
    assert queued == {lead["id"] for lead in leads} and other["id"] not in queued
    both = await client.post(f"{TASKS}/bulk", headers=owner.headers, json={
        "agent_id": agent["id"], "lead_ids": [other["id"]], "segment_id": str(uuid.uuid4())})
    assert both.status_code == 422


async def test_on_lead_create(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client, "Queue on create")
    agent = await make_agent(client, owner, enqueue_on_lead_create=True)
    await make_agent(client, owner)  # does not take new leads
    lead = await phone_lead(client, owner)
    await make_lead(client, owner)  # no phone: not queued
    await events_service.drain(db)
    tasks = (await client.get(TASKS, headers=owner.headers)).json()["data"]
    assert [(t["lead_id"], t["agent_id"], t["source"]) for t in tasks] == [
        (lead["id"], agent["id"], "lead_create")]


async def test_agents_reach_their_own_leads_only(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Queue roles")
    agent = await make_agent(client, owner)
    mine_member = await add_member(client, owner, "agent")
    other_member = await add_member(client, owner, "agent")
    viewer = await add_member(client, owner, "viewer")
    mine = await phone_lead(client, mine_member, phone="+14155552601")
    theirs = await phone_lead(client, other_member, phone="+14155552602")
    their_task = await enqueue(client, owner, agent, theirs)
    resp = await client.post(TASKS, headers=mine_member.headers,
                             json={"agent_id": agent["id"], "lead_id": theirs["id"]})
    assert resp.status_code == 422 and resp.json()["code"] == "DIAL_TASK_LEAD_NOT_FOUND"
    bulk = await client.post(f"{TASKS}/bulk", headers=mine_member.headers, json={
        "agent_id": agent["id"], "lead_ids": [mine["id"], theirs["id"]]})
    assert bulk.json()["enqueued"] == 1
    listed = (await client.get(TASKS, headers=mine_member.headers)).json()["data"]
    assert [t["lead_id"] for t in listed] == [mine["id"]]
    for method, suffix in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/call-now")):
        resp = await client.request(method, f"{TASKS}/{their_task['id']}{suffix}",
                                    headers=mine_member.headers,
                                    json={"due_at": None} if method == "PATCH" else None)
        assert resp.status_code == 404, (method, resp.text)
    assert (await client.post(TASKS, headers=viewer.headers, json={
        "agent_id": agent["id"], "lead_id": mine["id"]})).status_code == 403
    stranger = await make_workspace(client, "Queue elsewhere")
    assert (await client.get(f"{TASKS}/{their_task['id']}",
                             headers=stranger.headers)).status_code == 404
    resp = await client.post(TASKS, headers=stranger.headers,
                             json={"agent_id": agent["id"], "lead_id": theirs["id"]})
    assert resp.status_code == 422 and resp.json()["code"] == "CALL_AGENT_NOT_FOUND"


async def test_call_now_places_within_the_law(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Call now")
    agent = await make_agent(client, owner)
    lead = await phone_lead(client, owner, phone="+442071838750")  # London
    task = await enqueue(client, owner, agent, lead, due_at="2031-01-01T00:00:00Z")
    resp = await client.post(f"{TASKS}/{task['id']}/call-now", headers=owner.headers)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    hour = datetime.now(ZoneInfo("Europe/London")).hour
    if 8 <= hour < 21:
        assert body["placed"] and body["call"]["status"] == "queued"
        assert body["task"]["status"] == "in_progress" and body["task"]["attempts"] == 1
        again = (await client.post(f"{TASKS}/{task['id']}/call-now",
                                   headers=owner.headers)).json()
        assert again["reason"] == "already_calling"
    else:
        assert not body["placed"] and body["reason"] == "outside_calling_hours"
        assert body["task"]["next_attempt_at"] > datetime.now(UTC).isoformat()
    blocked_lead = await phone_lead(client, owner, phone="+14155552672")
    blocked = await enqueue(client, owner, agent, blocked_lead)
    await client.post("/api/v1/dnc", headers=owner.headers, json={"phone": "+14155552672"})
    resp = await client.post(f"{TASKS}/{blocked['id']}/call-now", headers=owner.headers)
    assert resp.status_code == 409 and resp.json()["code"] == "DO_NOT_CALL"
