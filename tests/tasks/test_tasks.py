"""Tasks through HTTP: create and validation, roles and other workspaces, If-Match,
Idempotency-Key, status and completed_at with the task_event entries, filters and sorts,
a listing's tasks, hard delete."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text

from leadbase.db.session import Database
from tests.factories import Member, add_member, make_lead, make_workspace
from tests.listings.test_listings import make_listing

BASE = "/api/v1/tasks"


async def make_task(client: httpx.AsyncClient, member: Member, lead: dict[str, Any],
                    **fields: Any) -> dict[str, Any]:
    body = {"lead_id": lead["id"], "title": "Follow up call", **fields}
    resp = await client.post(BASE, headers=member.headers, json=body)
    assert resp.status_code == 201, resp.text
    data: dict[str, Any] = resp.json()
    return data


async def test_create_and_read(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Tasks")
    lead = await make_lead(client, owner, first_name="John", last_name="Smith")
    car = await make_listing(client, owner)
    task = await make_task(client, owner, lead, listing_id=car["id"], tag="Hot Lead",
                           note="Financing", due_at="2030-01-02T10:00:00Z", priority="high",
                           metadata={"targetInfo": "+212-600-123456"})
    assert task["status"] == "open" and task["position"] == 1 and task["completed_at"] is None
    assert task["lead"]["full_name"] == "John Smith" and task["listing_id"] == car["id"]
    assert task["metadata"] == {"targetInfo": "+212-600-123456"}
    second = await make_task(client, owner, lead, listing_id=car["id"])
    assert second["position"] == 2  # last in its listing
    got = await client.get(f"{BASE}/{task['id']}", headers=owner.headers)
    assert got.status_code == 200 and got.headers["etag"] == '"1"'
    assert got.json()["lead"]["email"] == lead["email"]
    fixed = await make_task(client, owner, lead, position=7)
    assert fixed["position"] == 7


@pytest.mark.parametrize(("body", "field"), [
    ({"title": ""}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"tag": "x" * 101}, "tag"),
    ({"note": "x" * 1001}, "note"),
    ({"status": "NEW"}, "status"),
    ({"priority": "asap"}, "priority"),
    ({"lead_id": "not-a-uuid"}, "lead_id"),
    ({"position": "1e20"}, "position"),
    ({"tenant_id": "00000000-0000-0000-0000-000000000000"}, "tenant_id"),
])
async def test_validation(client: httpx.AsyncClient, body: dict[str, Any], field: str) -> None:
    owner = await make_workspace(client, "Task validation")
    lead = await make_lead(client, owner)
    resp = await client.post(BASE, headers=owner.headers,
                             json={"lead_id": lead["id"], "title": "T", **body})
    assert resp.status_code == 422, resp.text
    assert field in {e["field"] for e in resp.json()["errors"]}


async def test_references_of_other_workspaces(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Refs")
    lead = await make_lead(client, owner)
    stranger = await make_workspace(client, "Refs elsewhere")
    their_lead = await make_lead(client, stranger)
    their_car = await make_listing(client, stranger)
    cases = [({"lead_id": their_lead["id"]}, "TASK_LEAD_NOT_FOUND"),
             ({"listing_id": their_car["id"]}, "TASK_LISTING_NOT_FOUND"),
             ({"assignee_id": str(stranger.user_id)}, "ASSIGNEE_NOT_FOUND")]
    for extra, code in cases:
        resp = await client.post(BASE, headers=owner.headers,
                                 json={"lead_id": lead["id"], "title": "T", **extra})
        assert resp.status_code == 422 and resp.json()["code"] == code, resp.text
    task = await make_task(client, owner, lead)
    for method, path, kw in (("GET", "", {}), ("PATCH", "", {"json": {"title": "x"}}),
                             ("DELETE", "", {}), ("DELETE", "?permanent=true", {}),
                             ("POST", "/move", {"json": {"after_id": task["id"]}})):
        resp = await client.request(method, f"{BASE}/{task['id']}{path}",
                                    headers=stranger.headers, **kw)
        assert resp.status_code in (404, 422), (method, path, resp.text)
        if method != "POST":
            assert resp.json()["code"] == "TASK_NOT_FOUND"
    assert (await client.get(BASE, headers=stranger.headers)).json()["data"] == []
    resp = await client.post(f"{BASE}/reorder", headers=stranger.headers,
                             json={"ids": [task["id"]]})
    assert resp.status_code == 422 and resp.json()["code"] == "INVALID_REORDER"


async def test_roles(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Task roles")
    agent = await add_member(client, owner, "agent")
    other = await add_member(client, owner, "agent")
    viewer = await add_member(client, owner, "viewer")
    mine = await make_lead(client, agent)
    theirs = await make_lead(client, other)
    my_task = await make_task(client, agent, mine)
    assert my_task["assignee_id"] == str(agent.user_id)  # the lead's owner by default
    their_task = await make_task(client, other, theirs)
    listed = (await client.get(BASE, headers=agent.headers)).json()
    assert [t["id"] for t in listed["data"]] == [my_task["id"]]
    resp = await client.get(f"{BASE}/{their_task['id']}", headers=agent.headers)
    assert resp.status_code == 404 and resp.json()["code"] == "TASK_NOT_FOUND"
    resp = await client.post(BASE, headers=agent.headers,
                             json={"lead_id": theirs["id"], "title": "Steal"})
    assert resp.status_code == 422 and resp.json()["code"] == "TASK_LEAD_NOT_FOUND"
    assert (await client.get(f"{BASE}/{my_task['id']}", headers=viewer.headers)
            ).status_code == 200
    assert (await client.patch(f"{BASE}/{my_task['id']}", headers=viewer.headers,
                               json={"title": "No"})).status_code == 403
    assert (await client.post(BASE, headers=viewer.headers,
                              json={"lead_id": mine["id"], "title": "No"})).status_code == 403


async def test_if_match_and_idempotency(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Task concurrency")
    lead = await make_lead(client, owner)
    h = {**owner.headers, "Idempotency-Key": "task-1"}
    body = {"lead_id": lead["id"], "title": "Once"}
    first = await client.post(BASE, headers=h, json=body)
    again = await client.post(BASE, headers=h, json=body)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    url = f"{BASE}/{first.json()['id']}"
    stale = await client.patch(url, headers={**owner.headers, "If-Match": '"3"'},
                               json={"title": "Late"})
    assert stale.status_code == 412 and stale.json()["code"] == "VERSION_MISMATCH"
    ok = await client.patch(url, headers={**owner.headers, "If-Match": '"1"'},
                            json={"title": "On time"})
    assert ok.status_code == 200 and ok.headers["etag"] == '"2"'
    assert (await client.delete(url, headers={**owner.headers, "If-Match": '"1"'})
            ).status_code == 412


async def test_status_completed_at_and_timeline(client: httpx.AsyncClient,
                                                db: Database) -> None:
    owner = await make_workspace(client, "Task status")
    lead = await make_lead(client, owner)
    task = await make_task(client, owner, lead, title="Test drive")
    url = f"{BASE}/{task['id']}"
    done = (await client.patch(url, headers=owner.headers, json={"status": "completed"})).json()
    assert done["status"] == "completed" and done["completed_at"] is not None
    reopened = (await client.patch(url, headers=owner.headers, json={"status": "open"})).json()
    assert reopened["completed_at"] is None
    skipped = (await client.patch(url, headers=owner.headers,
                                  json={"status": "not_needed"})).json()
    assert skipped["completed_at"] is None
    assert (await client.patch(url, headers=owner.headers, json={"status": None})
            ).status_code == 422
    async with db.transaction(owner.tenant_id) as session:
        entries = (await session.execute(text(
            "SELECT attributes FROM activities WHERE task_id = :t AND type = 'task_event' "
            "ORDER BY occurred_at, id"), {"t": task["id"]})).scalars().all()
        events = (await session.execute(text(
            "SELECT type FROM events WHERE entity_id = :t ORDER BY created_at, id"),
            {"t": task["id"]})).scalars().all()
        last_activity = (await session.execute(text(
            "SELECT last_activity_at FROM leads WHERE id = :l"), {"l": lead["id"]})).scalar()
    assert [(e["event"], e["from"], e["to"]) for e in entries] == [
        ("created", None, "open"), ("completed", "open", "completed"),
        ("reopened", "completed", "open"), ("not_needed", "open", "not_needed")]
    assert all(e["title"] == "Test drive" for e in entries)
    assert events == ["task.created", "task.completed", "task.updated", "task.updated"]
    assert last_activity is not None


async def test_filters_and_sorts(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Task filters")
    agent = await add_member(client, owner, "agent")
    john = await make_lead(client, owner, first_name="John", last_name="Smith")
    sara = await make_lead(client, owner, first_name="Sara", last_name="Alami")
    car = await make_listing(client, owner)
    a = await make_task(client, owner, john, title="Schedule test drive", tag="Test Drive",
                        listing_id=car["id"], due_at="2020-01-01T00:00:00Z")
    b = await make_task(client, owner, sara, title="Follow-up call", tag="Hot Lead",
                        listing_id=car["id"], due_at="2031-01-01T00:00:00Z",
                        assignee_id=str(agent.user_id))
    c = await make_task(client, owner, sara, title="Prepare documents", status="completed")

    async def ids(query: str) -> list[str]:
        resp = await client.get(f"{BASE}?{query}", headers=owner.headers)
        assert resp.status_code == 200, resp.text
        return [t["id"] for t in resp.json()["data"]]

    assert await ids("listing_id=" + car["id"]) == [a["id"], b["id"]]
    assert await ids("status=completed") == [c["id"]]
    assert await ids(f"lead_id={sara['id']}&sort=title") == [b["id"], c["id"]]
    assert await ids(f"assignee_id={agent.user_id}") == [b["id"]]
    assert await ids("tag=Hot Lead") == [b["id"]]
    assert await ids("overdue=true") == [a["id"]]
    assert await ids("due_before=2025-01-01T00:00:00Z") == [a["id"]]
    assert await ids("due_after=2025-01-01T00:00:00Z") == [b["id"]]
    assert await ids("q=drive&sort=created_at") == [a["id"]]  # title
    assert await ids("q=hot lead") == [b["id"]]  # tag
    assert await ids("q=alami&sort=created_at") == [b["id"], c["id"]]  # the lead's name
    assert await ids("q=smith") == [a["id"]]
    assert await ids("sort=-due_at") == [b["id"], a["id"], c["id"]]  # nulls last
    assert await ids("sort=lead_name,created_at") == [a["id"], b["id"], c["id"]]
    assert await ids("sort=-status,created_at") == [a["id"], b["id"], c["id"]]
    for bad in ("status=NEW", "lead_id=x", "sort=colour", "priority=asap"):
        assert (await client.get(f"{BASE}?{bad}", headers=owner.headers)).status_code == 422
    first = (await client.get(f"{BASE}?per_page=2", headers=owner.headers)).json()
    assert first["total"] == 3 and first["next_cursor"]
    rest = (await client.get(f"{BASE}?per_page=2&cursor={first['next_cursor']}",
                             headers=owner.headers)).json()
    assert len(first["data"]) + len(rest["data"]) == 3 and rest["next_cursor"] is None
    of_car = (await client.get(f"/api/v1/listings/{car['id']}/tasks?status=open",
                               headers=owner.headers)).json()
    assert [t["id"] for t in of_car["data"]] == [a["id"], b["id"]]
    stranger = await make_workspace(client, "Task filters elsewhere")
    assert (await client.get(f"/api/v1/listings/{car['id']}/tasks", headers=stranger.headers)
            ).status_code == 404


async def test_soft_and_permanent_delete(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client, "Task delete")
    lead = await make_lead(client, owner)
    task = await make_task(client, owner, lead)
    url = f"{BASE}/{task['id']}"
    assert (await client.delete(url, headers=owner.headers)).status_code == 204
    assert (await client.get(url, headers=owner.headers)).status_code == 404
    assert (await client.get(f"{url}?include_deleted=true", headers=owner.headers)
            ).status_code == 200
    assert (await client.delete(f"{url}?permanent=true", headers=owner.headers)
            ).status_code == 204
    async with db.transaction(owner.tenant_id) as session:
        left = (await session.execute(text("SELECT count(*) FROM tasks WHERE id = :t"),
                                      {"t": task["id"]})).scalar()
        kept = (await session.execute(text(
            "SELECT count(*) FROM activities WHERE lead_id = :l AND type = 'task_event'"),
            {"l": lead["id"]})).scalar()
    assert left == 0 and kept == 1  # the timeline keeps its entry


async def test_a_deleted_leads_tasks_are_hidden_with_it(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Task lead gone")
    lead = await make_lead(client, owner)
    task = await make_task(client, owner, lead)
    assert (await client.delete(f"/api/v1/leads/{lead['id']}", headers=owner.headers)
            ).status_code == 204
    assert (await client.get(f"{BASE}/{task['id']}", headers=owner.headers)).status_code == 404
    assert (await client.get(BASE, headers=owner.headers)).json()["data"] == []
    assert (await client.post(f"/api/v1/leads/{lead['id']}/restore", headers=owner.headers)
            ).status_code == 200
    assert (await client.get(f"{BASE}/{task['id']}", headers=owner.headers)).status_code == 200
