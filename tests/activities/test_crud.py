"""Activities through HTTP: create, read, list, change, delete; concurrency, idempotency,
roles, other workspaces, system entries, audit and events."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import text

from leadbase.activities import service
from leadbase.auth.context import Context, Principal
from leadbase.db.session import Database
from tests.activities.helpers import ACTIVITIES, log
from tests.factories import add_member, make_lead, make_workspace


async def test_create_get_list_patch_delete(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    lead = await make_lead(client, owner)
    resp = await client.post(ACTIVITIES, headers=owner.headers, json={
        "type": "call", "lead_id": lead["id"], "description": "First call",
        "attributes": {"duration_seconds": 120, "outcome": "Interested"}})
    assert resp.status_code == 201, resp.text
    call = resp.json()
    assert resp.headers["etag"] == '"1"'
    assert resp.headers["location"] == f"/api/v1/activities/{call['id']}"
    assert call["status"] == "completed" and call["author_id"] == str(owner.user_id)
    assert call["attributes"] == {"duration_seconds": 120, "outcome": "Interested",
                                  "direction": "outbound"}
    assert call["occurred_at"] == call["completed_at"] and not call["is_system"]

    got = await client.get(f"{ACTIVITIES}/{call['id']}", headers=owner.headers)
    assert got.status_code == 200 and got.json() == call and got.headers["etag"] == '"1"'

    meeting = await log(client, owner, lead, "meeting", attributes={"title": "Visit"},
                        scheduled_for="2030-01-01T10:00:00Z")
    assert meeting["status"] == "scheduled" and meeting["completed_at"] is None
    assert meeting["occurred_at"] == "2030-01-01T10:00:00Z"

    listed = (await client.get(f"{ACTIVITIES}?lead_id={lead['id']}",
                               headers=owner.headers)).json()
    assert [a["id"] for a in listed["data"]] == [meeting["id"], call["id"]]
    only = (await client.get(f"{ACTIVITIES}?type=call,note&lead_id={lead['id']}",
                             headers=owner.headers)).json()
    assert [a["id"] for a in only["data"]] == [call["id"]]
    scheduled = (await client.get(f"{ACTIVITIES}?status=scheduled&lead_id={lead['id']}",
                                  headers=owner.headers)).json()
    assert [a["id"] for a in scheduled["data"]] == [meeting["id"]]
    ranged = (await client.get(f"{ACTIVITIES}?from=2029-01-01T00:00:00Z&lead_id={lead['id']}",
                               headers=owner.headers)).json()
    assert [a["id"] for a in ranged["data"]] == [meeting["id"]]
    mine = (await client.get(f"{ACTIVITIES}?author_id={owner.user_id}&per_page=1",
                             headers=owner.headers)).json()
    assert len(mine["data"]) == 1 and mine["next_cursor"]
    rest = (await client.get(f"{ACTIVITIES}?author_id={owner.user_id}&per_page=1"
                             f"&cursor={mine['next_cursor']}", headers=owner.headers)).json()
    assert [a["id"] for a in rest["data"]] == [call["id"]] and rest["next_cursor"] is None
    bad = await client.get(f"{ACTIVITIES}?type=fax", headers=owner.headers)
    assert bad.status_code == 422

    # Complete the meeting: it moves to when it was done.
    url = f"{ACTIVITIES}/{meeting['id']}"
    stale = await client.patch(url, headers={**owner.headers, "If-Match": '"7"'},
                               json={"completed_at": "2026-01-02T10:00:00Z"})
    assert stale.status_code == 412 and stale.json()["code"] == "VERSION_MISMATCH"
    done = await client.patch(url, headers={**owner.headers, "If-Match": '"1"'},
                              json={"completed_at": "2026-01-02T10:00:00Z",
                                    "attributes": {"location": "Office"}})
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["status"] == "completed" and body["occurred_at"] == "2026-01-02T10:00:00Z"
    assert body["attributes"] == {"title": "Visit", "location": "Office"}
    assert body["version"] == 2 and done.headers["etag"] == '"2"'
    bad = await client.patch(url, headers=owner.headers,
                             json={"attributes": {"duration_minutes": 0}})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "attributes.duration_minutes"
    empty = await client.patch(url, headers=owner.headers, json={})
    assert empty.status_code == 422 and empty.json()["code"] == "EMPTY_UPDATE"
    typed = await client.patch(url, headers=owner.headers, json={"type": "note"})
    assert typed.status_code == 422
    future = await client.patch(url, headers=owner.headers,
                                json={"completed_at": "2099-01-01T00:00:00Z"})
    assert future.status_code == 422 and future.json()["errors"][0]["field"] == "completed_at"

    assert (await client.delete(url, headers={**owner.headers, "If-Match": '"1"'})
            ).status_code == 412
    assert (await client.delete(url, headers={**owner.headers, "If-Match": '"2"'})
            ).status_code == 204
    assert (await client.get(url, headers=owner.headers)).status_code == 404
    listed = (await client.get(f"{ACTIVITIES}?lead_id={lead['id']}",
                               headers=owner.headers)).json()
    assert [a["id"] for a in listed["data"]] == [call["id"]]

    async with db.transaction(owner.tenant_id) as session:
        audited = (await session.execute(text(
            "SELECT action FROM audit_entries WHERE entity_id = :i ORDER BY created_at, id"),
            {"i": meeting["id"]})).scalars().all()
        events = (await session.execute(text(
            "SELECT type FROM events WHERE entity_id = :i ORDER BY created_at, id"),
            {"i": meeting["id"]})).scalars().all()
    assert audited == ["activity.created", "activity.updated", "activity.deleted"]
    assert events == ["activity.created", "activity.updated", "activity.deleted"]


async def test_create_checks(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    lead = await make_lead(client, owner)
    for kind in ("stage_change", "status_change", "assignment", "task_event", "system"):
        body = await log(client, owner, lead, kind, expect=422)
        assert body["errors"][0]["field"] == "type", body
    body = await log(client, owner, lead, "note", expect=422)  # content is required
    assert body["errors"][0]["field"] == "attributes.content"
    resp = await client.post(ACTIVITIES, headers=owner.headers, json={
        "type": "note", "lead_id": str(uuid.uuid4()), "attributes": {"content": "x"}})
    assert resp.status_code == 404 and resp.json()["code"] == "LEAD_NOT_FOUND"
    body = await log(client, owner, lead, "call", expect=422,
                     completed_at="2099-01-01T00:00:00Z")
    assert body["errors"][0]["field"] == "completed_at"
    for ref, code in (("task_id", "TASK_NOT_FOUND"), ("listing_id", "LISTING_NOT_FOUND")):
        body = await log(client, owner, lead, "call", expect=422, **{ref: str(uuid.uuid4())})
        assert body["code"] == code and body["errors"][0]["field"] == ref
    body = await log(client, owner, lead, "call", expect=422, tenant_id=str(uuid.uuid4()))
    assert body["errors"][0]["field"] == "tenant_id"


async def test_idempotent_create(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    lead = await make_lead(client, owner)
    body = {"type": "note", "lead_id": lead["id"], "attributes": {"content": "once"}}
    h = {**owner.headers, "Idempotency-Key": "note-1"}
    first = await client.post(ACTIVITIES, headers=h, json=body)
    again = await client.post(ACTIVITIES, headers=h, json=body)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again.headers["idempotency-replayed"] == "true"
    other = await client.post(ACTIVITIES, headers=h, json={**body, "description": "x"})
    assert other.status_code == 422 and other.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    listed = (await client.get(f"{ACTIVITIES}?lead_id={lead['id']}",
                               headers=owner.headers)).json()
    assert len(listed["data"]) == 1


async def test_system_entries_are_read_only(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    lead = await make_lead(client, owner)
    ctx = Context(tenant_id=owner.tenant_id, principal=Principal(
        role="owner", tenant_id=owner.tenant_id, user_id=owner.user_id))
    async with db.transaction(owner.tenant_id) as session:
        entry = await service.log_system(session, ctx, lead_id=uuid.UUID(lead["id"]),
                                         type="stage_change",
                                         attributes={"from": "new", "to": "contacted"})
    url = f"{ACTIVITIES}/{entry}"
    got = (await client.get(url, headers=owner.headers)).json()
    assert got["is_system"] and got["type"] == "stage_change"
    for method, kw in (("PATCH", {"json": {"description": "x"}}), ("DELETE", {})):
        resp = await client.request(method, url, headers=owner.headers, **kw)
        assert resp.status_code == 403 and resp.json()["code"] == "SYSTEM_ACTIVITY_READ_ONLY"


async def test_roles_and_workspaces(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    viewer = await add_member(client, owner, "viewer")
    agent = await add_member(client, owner, "agent")
    other = await add_member(client, owner, "agent")
    mine = await make_lead(client, agent)
    theirs = await make_lead(client, other)
    note = {"attributes": {"content": "hello"}}
    on_mine = await log(client, agent, mine, "note", **note)
    on_theirs = await log(client, other, theirs, "note", **note)

    # Viewers read everything and write nothing.
    assert (await client.get(f"{ACTIVITIES}/{on_theirs['id']}", headers=viewer.headers)
            ).status_code == 200
    assert len((await client.get(ACTIVITIES, headers=viewer.headers)).json()["data"]) == 2
    assert (await log(client, viewer, mine, "note", expect=403, **note))["code"] == \
        "ROLE_REQUIRED"
    assert (await client.patch(f"{ACTIVITIES}/{on_mine['id']}", headers=viewer.headers,
                               json={"description": "x"})).status_code == 403

    # Agents: their own leads' activities only.
    listed = (await client.get(ACTIVITIES, headers=agent.headers)).json()
    assert [a["id"] for a in listed["data"]] == [on_mine["id"]]
    assert (await client.get(f"{ACTIVITIES}?lead_id={theirs['id']}",
                             headers=agent.headers)).json()["data"] == []
    assert (await log(client, agent, theirs, "note", expect=404, **note))["code"] == \
        "LEAD_NOT_FOUND"
    url = f"{ACTIVITIES}/{on_theirs['id']}"
    for method, kw in (("GET", {}), ("PATCH", {"json": {"description": "x"}}),
                       ("DELETE", {})):
        resp = await client.request(method, url, headers=agent.headers, **kw)
        assert resp.status_code == 404 and resp.json()["code"] == "ACTIVITY_NOT_FOUND"
    ok = await client.patch(f"{ACTIVITIES}/{on_mine['id']}", headers=agent.headers,
                            json={"description": "mine"})
    assert ok.status_code == 200

    # Another workspace: 404 everywhere.
    stranger = await make_workspace(client)
    for method, kw in (("GET", {}), ("PATCH", {"json": {"description": "x"}}),
                       ("DELETE", {})):
        resp = await client.request(method, url, headers=stranger.headers, **kw)
        assert resp.status_code == 404, method
    assert (await log(client, stranger, mine, "note", expect=404, **note))["code"] == \
        "LEAD_NOT_FOUND"
    assert (await client.get(ACTIVITIES, headers=stranger.headers)).json()["data"] == []
    assert (await client.get(f"/api/v1/leads/{mine['id']}/timeline",
                             headers=stranger.headers)).status_code == 404


async def test_deleted_lead_hides_its_activities(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    lead = await make_lead(client, owner)
    note = await log(client, owner, lead, "note", attributes={"content": "x"})
    assert (await client.delete(f"/api/v1/leads/{lead['id']}", headers=owner.headers)
            ).status_code == 204
    assert (await client.get(f"{ACTIVITIES}/{note['id']}", headers=owner.headers)
            ).status_code == 404
    assert (await client.get(f"/api/v1/leads/{lead['id']}/timeline", headers=owner.headers)
            ).status_code == 404
