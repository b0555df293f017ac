"""A lead's timeline: activities, system entries and the lead's audited changes, newest
first, cursor by cursor, filtered by type; the lead's clocks; status and assignment
entries from a PATCH and from a bulk update."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx

from leadbase.activities import service
from leadbase.auth.context import Context, Principal
from leadbase.bulk import service as bulk_service
from leadbase.db.session import Database
from tests.activities.helpers import ACTIVITIES, clocks, log, timeline
from tests.factories import add_member, make_lead, make_workspace


def _ctx(member: object) -> Context:
    tenant, user = member.tenant_id, member.user_id  # type: ignore[attr-defined]
    return Context(tenant_id=tenant, principal=Principal(role="owner", tenant_id=tenant,
                                                         user_id=user))


async def test_timeline_merges_activities_system_entries_and_changes(
        client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    lead = await make_lead(client, owner)
    call = await log(client, owner, lead, "call", completed_at="2026-01-05T10:00:00Z")
    note = await log(client, owner, lead, "note", attributes={"content": "x"},
                     occurred_at="2026-01-06T10:00:00Z")
    patched = await client.patch(f"/api/v1/leads/{lead['id']}", headers=owner.headers,
                                 json={"status": "contacted", "owner_id": str(agent.user_id)})
    assert patched.status_code == 200, patched.text
    async with db.transaction(owner.tenant_id) as session:
        await service.log_system(session, _ctx(owner), lead_id=uuid.UUID(lead["id"]),
                                 type="stage_change",
                                 attributes={"from": "new", "to": "qualified"},
                                 occurred_at=datetime(2026, 1, 7, tzinfo=UTC))
        await service.log_system(session, _ctx(owner), lead_id=uuid.UUID(lead["id"]),
                                 type="task_event", attributes={"event": "completed"})
    planned = await log(client, owner, lead, "meeting", scheduled_for="2031-01-01T09:00:00Z")

    entries = await timeline(client, owner, lead["id"])
    keys = [(e["at"], e["id"]) for e in entries]
    assert keys == sorted(keys, reverse=True), "newest first"
    assert len({e["id"] for e in entries}) == len(entries)
    kinds = [e["type"] for e in entries]
    assert kinds[0] == "meeting" and entries[0]["id"] == planned["id"]
    assert kinds.count("change") == 2  # lead.created, lead.updated
    assert {"status_change", "assignment", "stage_change", "task_event", "call",
            "note"} <= set(kinds)
    created = next(e for e in entries if e["attributes"].get("action") == "lead.created")
    assert created["entry"] == "change" and created["actor_user_id"] == str(owner.user_id)
    updated = next(e for e in entries if e["attributes"].get("action") == "lead.updated")
    assert updated["attributes"]["fields"] == ["owner_id", "status"]
    status = next(e for e in entries if e["type"] == "status_change")
    assert status["attributes"] == {"from": "new", "to": "contacted"}
    assigned = next(e for e in entries if e["type"] == "assignment")
    assert assigned["attributes"] == {"from_owner_id": None,
                                      "to_owner_id": str(agent.user_id)}
    assert [e["type"] for e in entries[-3:]] == ["stage_change", "note", "call"]
    assert [e["id"] for e in entries[-2:]] == [note["id"], call["id"]]
    assert entries[0]["at"].endswith("Z")

    # types=: activity types and 'change'.
    calls = await timeline(client, owner, lead["id"], "types=call,note")
    assert [e["id"] for e in calls] == [note["id"], call["id"]]
    changes = await timeline(client, owner, lead["id"], "types=change")
    assert [e["attributes"]["action"] for e in changes] == ["lead.updated", "lead.created"]
    system = await timeline(client, owner, lead["id"], "types=status_change,change")
    assert [e["type"] for e in system][-1] == "change" and len(system) == 3
    bad = await client.get(f"/api/v1/leads/{lead['id']}/timeline?types=fax",
                           headers=owner.headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "types"
    forged = await client.get(f"/api/v1/leads/{lead['id']}/timeline?cursor=abc.def",
                              headers=owner.headers)
    assert forged.status_code == 422 and forged.json()["code"] == "INVALID_CURSOR"

    # The agent now owns the lead and reads its timeline; the owner's agent-free view too.
    assert len(await timeline(client, agent, lead["id"])) == len(entries)
    other = await add_member(client, owner, "agent")
    resp = await client.get(f"/api/v1/leads/{lead['id']}/timeline", headers=other.headers)
    assert resp.status_code == 404 and resp.json()["code"] == "LEAD_NOT_FOUND"

    # Deleting an activity takes it off the timeline.
    assert (await client.delete(f"{ACTIVITIES}/{note['id']}", headers=owner.headers)
            ).status_code == 204
    assert note["id"] not in {e["id"] for e in await timeline(client, owner, lead["id"])}


async def test_clocks_move_forward_only(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    lead = await make_lead(client, owner)
    assert await clocks(db, owner.tenant_id, lead["id"]) == (None, None)
    await log(client, owner, lead, "note", attributes={"content": "x"},
              occurred_at="2026-01-03T00:00:00Z")
    activity, contacted = await clocks(db, owner.tenant_id, lead["id"])
    assert activity == datetime(2026, 1, 3, tzinfo=UTC) and contacted is None
    await log(client, owner, lead, "email", attributes={"status": "draft"},
              completed_at="2026-01-04T00:00:00Z")
    assert (await clocks(db, owner.tenant_id, lead["id"]))[1] is None  # a draft: no contact
    await log(client, owner, lead, "call", completed_at="2026-01-05T00:00:00Z")
    activity, contacted = await clocks(db, owner.tenant_id, lead["id"])
    assert activity == contacted == datetime(2026, 1, 5, tzinfo=UTC)
    await log(client, owner, lead, "call", completed_at="2026-01-01T00:00:00Z")  # older
    assert await clocks(db, owner.tenant_id, lead["id"]) == (activity, contacted)
    # A planned meeting is activity now, not a contact; completing it is one.
    meeting = await log(client, owner, lead, "meeting", scheduled_for="2031-01-01T00:00:00Z")
    moved, still = await clocks(db, owner.tenant_id, lead["id"])
    assert moved > activity and moved < datetime(2031, 1, 1, tzinfo=UTC) and still == contacted
    done = await client.patch(f"{ACTIVITIES}/{meeting['id']}", headers=owner.headers,
                              json={"completed_at": datetime.now(UTC).isoformat()})
    assert done.status_code == 200
    _, contacted = await clocks(db, owner.tenant_id, lead["id"])
    assert contacted > datetime(2026, 1, 5, tzinfo=UTC)
    # The lead's version is not a clock: logging does not change its ETag.
    now = (await client.get(f"/api/v1/leads/{lead['id']}", headers=owner.headers)).json()
    assert now["version"] == lead["version"]


async def test_bulk_update_writes_status_and_assignment_entries(
        client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    leads = [await make_lead(client, owner, source="bulk-tl") for _ in range(3)]
    resp = await client.post("/api/v1/leads/bulk", headers=owner.headers, json={
        "action": "update", "ids": [x["id"] for x in leads[:2]],
        "changes": {"status": "qualified", "owner_id": str(agent.user_id)}})
    assert resp.status_code == 200, resp.text
    resp = await client.post("/api/v1/leads/bulk", headers=owner.headers, json={
        "action": "update", "filter": {"source": "bulk-tl"},
        "changes": {"status": "lost"}})
    assert resp.status_code == 202, resp.text
    assert await bulk_service.run_job(db, tenant_id=owner.tenant_id,
                                      job_id=uuid.UUID(resp.json()["id"])) == "completed"
    for i, lead in enumerate(leads):
        entries = await timeline(client, owner, lead["id"], "types=status_change,assignment")
        got = [(e["type"], e["attributes"]) for e in entries]
        if i < 2:
            assert got == [
                ("status_change", {"from": "qualified", "to": "lost"}),
                ("status_change", {"from": "new", "to": "qualified"}),
                ("assignment", {"from_owner_id": None, "to_owner_id": str(agent.user_id)}),
            ] or got == [
                ("status_change", {"from": "qualified", "to": "lost"}),
                ("assignment", {"from_owner_id": None, "to_owner_id": str(agent.user_id)}),
                ("status_change", {"from": "new", "to": "qualified"}),
            ], got
        else:
            assert got == [("status_change", {"from": "new", "to": "lost"})]
    # An unchanged status writes nothing.
    again = await client.patch(f"/api/v1/leads/{leads[2]['id']}", headers=owner.headers,
                               json={"status": "lost", "company": "Same status"})
    assert again.status_code == 200
    assert len(await timeline(client, owner, leads[2]["id"], "types=status_change")) == 1
