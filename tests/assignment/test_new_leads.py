"""The workspace setting that assigns every new lead however it arrives (API, profiles
through leads.contacts, imports), and reassigning a user's open leads as a job."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import httpx

from leadbase.assignment import jobs
from leadbase.auth.context import Context, Principal
from leadbase.config import Settings
from leadbase.db.session import Database
from leadbase.leads import contacts
from tests.assignment.helpers import SETTINGS, agents, make_rule, members, patch_user, turn_on
from tests.auth.helpers import assert_problem, scalar
from tests.factories import Member, add_member, make_lead, make_workspace
from tests.imports.conftest import import_file


def _ctx(member: Member) -> Context:
    return Context(tenant_id=member.tenant_id, principal=Principal(
        role=member.role, tenant_id=member.tenant_id, user_id=member.user_id))


async def _jobs(client: httpx.AsyncClient, owner: Member) -> list[dict[str, Any]]:
    resp = await client.get("/api/v1/assignment/jobs", headers=owner.headers)
    assert resp.status_code == 200, resp.text
    data: list[dict[str, Any]] = resp.json()["data"]
    return data


async def _run(client: httpx.AsyncClient, db: Database, owner: Member,
               job: dict[str, Any]) -> dict[str, Any]:
    status = await jobs.run_job(db, tenant_id=owner.tenant_id, job_id=uuid.UUID(job["id"]),
                                batch=2)
    assert status == "completed", status
    resp = await client.get(f"/api/v1/assignment/jobs/{job['id']}", headers=owner.headers)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def test_api_creates_are_assigned(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    a, b = await agents(client, owner, 2)
    await make_rule(client, owner, strategy="round_robin", members=members(a, b))
    off = await make_lead(client, owner)
    assert off["owner_id"] is None  # the setting is off by default
    assert (await client.get(SETTINGS, headers=owner.headers)).json() == {
        "auto_assign_new_leads": False, "reassign_on_deactivation": True}
    await turn_on(client, owner)
    made = [await make_lead(client, owner) for _ in range(4)]
    assert [m["owner_id"] for m in made] == [str(a.user_id), str(b.user_id)] * 2
    entry = await scalar(db, owner.tenant_id, "SELECT attributes FROM activities WHERE "
                         "lead_id = :l AND type = 'assignment'", l=made[0]["id"])
    assert entry["method"] == "auto" and entry["to_owner_id"] == str(a.user_id)
    # One timeline entry and one lead.assigned event per new lead (one statement), the
    # entry at the lead's last activity, the event carrying the entry's attributes.
    for lead in made:
        row = await scalar(db, owner.tenant_id, "SELECT jsonb_build_object('n', count(*), "
                           "'words', min(a.description), 'author', min(a.author_user_id::text), "
                           "'same_moment', bool_and(a.occurred_at = l.last_activity_at "
                           "AND a.completed_at = a.occurred_at)) FROM activities a JOIN leads l "
                           "ON l.id = a.lead_id WHERE a.lead_id = :l AND a.type = 'assignment'",
                           l=lead["id"])
        assert row == {"n": 1, "words": "Assigned by rule 'Rule' (round_robin)",
                       "author": str(owner.user_id), "same_moment": True}, row
        events = await scalar(db, owner.tenant_id, "SELECT jsonb_agg(payload) FROM events "
                              "WHERE entity_id = :l AND type = 'lead.assigned'", l=lead["id"])
        attributes = await scalar(db, owner.tenant_id, "SELECT attributes FROM activities "
                                  "WHERE lead_id = :l AND type = 'assignment'", l=lead["id"])
        assert events == [{"lead_id": lead["id"], **attributes}]
        assert await scalar(db, owner.tenant_id, "SELECT count(*) FROM audit_entries WHERE "
                            "entity_id = :l AND action = 'lead.assigned'", l=lead["id"]) == 0
    payload = await scalar(db, owner.tenant_id, "SELECT payload FROM events WHERE "
                           "entity_id = :l AND type = 'lead.created'", l=made[0]["id"])
    assert payload["owner_id"] == str(a.user_id)
    # An owner given, or an agent's own lead, is kept.
    given = await make_lead(client, owner, owner_id=str(b.user_id))
    assert given["owner_id"] == str(b.user_id)
    mine = await make_lead(client, a)
    assert mine["owner_id"] == str(a.user_id)
    # Profiles: a lead made from contact data (leads.contacts) is assigned too.
    async with db.transaction(owner.tenant_id) as session:
        found = await contacts.lead_for_contact(session, ctx=_ctx(owner),
                                                contact="+1 202 555 0147", name="Pat Lee")
    assert found.created and found.lead["owner_id"] == a.user_id


async def test_imports_are_assigned_after_commit(client: httpx.AsyncClient, db: Database,
                                                 settings: Settings) -> None:
    owner = await make_workspace(client)
    a, b = await agents(client, owner, 2)
    await make_rule(client, owner, strategy="round_robin", members=members(a, b))
    await turn_on(client, owner)
    csv = ("first_name,email,owner\n" + "\n".join(
        f"Lead{i},lead{i}.{uuid.uuid4().hex[:6]}@example.com," for i in range(7))
        + f"\nOwned,owned.{uuid.uuid4().hex[:6]}@example.com,{b.email}\n").encode()
    imported = await import_file(client, owner, db, settings, csv)
    assert imported["status"] == "completed" and imported["created"] == 8
    (job,) = await _jobs(client, owner)
    assert job["kind"] == "new_leads" and job["import_job_id"] == imported["id"]
    assert job["status"] == "queued"
    done = await _run(client, db, owner, job)
    assert done["total"] == 7 and done["processed"] == 7 and done["assigned"] == 7
    owners = Counter(await scalar(db, owner.tenant_id,
                                   "SELECT array_agg(owner_id::text) FROM leads"))
    assert owners == {str(a.user_id): 4, str(b.user_id): 4}  # 3 + 4, and the owned one
    assert await scalar(db, owner.tenant_id, "SELECT count(*) FROM activities WHERE "
                        "type = 'assignment'") == 7
    assert await scalar(db, owner.tenant_id, "SELECT count(*) FROM events WHERE "
                        "type = 'lead.assigned'") == 7


async def test_reassign_leads_of_a_user(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    other = await make_workspace(client)
    a, b, c = await agents(client, owner, 3)
    await make_rule(client, owner, strategy="round_robin", members=members(a, b, c))
    for _ in range(4):
        await make_lead(client, owner, owner_id=str(a.user_id))
    closed = await make_lead(client, owner, owner_id=str(a.user_id), status="converted")
    url = f"/api/v1/users/{a.user_id}/reassign-leads"
    assert_problem(await client.post(url, headers=a.headers), 403, "ROLE_REQUIRED")
    assert_problem(await client.post(url, headers=other.headers), 404, "USER_NOT_FOUND")
    resp = await client.post(url, headers=owner.headers, json={"reason": "holiday"})
    assert resp.status_code == 202, resp.text
    job = resp.json()
    assert job["total"] == 4 and job["status"] == "queued" and job["kind"] == "reassign_user"
    done = await _run(client, db, owner, job)
    assert (done["status"], done["processed"], done["assigned"]) == ("completed", 4, 4)
    owners = Counter(await scalar(db, owner.tenant_id, "SELECT array_agg(owner_id::text) "
                                  "FROM leads WHERE status <> 'converted'"))
    assert owners == {str(b.user_id): 2, str(c.user_id): 2}
    kept = await scalar(db, owner.tenant_id, "SELECT owner_id::text FROM leads WHERE id = :i",
                        i=closed["id"])
    assert kept == str(a.user_id)
    reasons = await scalar(db, owner.tenant_id, "SELECT array_agg(DISTINCT attributes->>"
                           "'reason') FROM activities WHERE type = 'assignment'")
    assert reasons == ["holiday"]


async def test_deactivation_reassigns(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    a, b = await agents(client, owner, 2)
    await make_rule(client, owner, strategy="round_robin", members=members(a, b))
    for _ in range(3):
        await make_lead(client, owner, owner_id=str(a.user_id))
    resp = await client.delete(f"/api/v1/users/{a.user_id}", headers=owner.headers)
    assert resp.status_code == 200, resp.text
    (job,) = await _jobs(client, owner)
    assert job["user_id"] == str(a.user_id) and job["reason"] == "deactivated"
    done = await _run(client, db, owner, job)
    assert done["assigned"] == 3
    assert await scalar(db, owner.tenant_id, "SELECT count(*) FROM leads WHERE owner_id = :u",
                        u=str(b.user_id)) == 3
    # Off: no job.
    resp = await client.put(SETTINGS, headers=owner.headers,
                            json={"reassign_on_deactivation": False})
    assert resp.json()["reassign_on_deactivation"] is False
    await make_lead(client, owner, owner_id=str(b.user_id))
    manager = await add_member(client, owner, "manager")
    await client.patch(f"/api/v1/users/{b.user_id}", headers=owner.headers,
                       json={"is_active": False})
    assert len(await _jobs(client, owner)) == 1
    _ = manager


async def test_batch_respects_capacity_and_territory(client: httpx.AsyncClient,
                                                     db: Database) -> None:
    owner = await make_workspace(client)
    other = await make_workspace(client)
    leaving, a, b = await agents(client, owner, 3)
    await patch_user(client, owner, a, capacity=2)
    await make_rule(client, owner, name="Spain", strategy="territory",
                    condition={"field": "country", "op": "eq", "value": "ES"},
                    territory={"field": "country", "entries": [
                        {"values": ["ES"], "user_ids": [str(b.user_id)]}]})
    await make_rule(client, owner, strategy="least_loaded", members=members(a, b, leaving))
    for i in range(2):
        await make_lead(client, owner, owner_id=str(leaving.user_id),
                        phone=f"+3461234567{i}")
    for _ in range(5):
        await make_lead(client, owner, owner_id=str(leaving.user_id))
    resp = await client.post(f"/api/v1/users/{leaving.user_id}/reassign-leads",
                             headers=owner.headers)
    job = resp.json()
    assert_problem(await client.get(f"/api/v1/assignment/jobs/{job['id']}",
                                    headers=other.headers), 404, "ASSIGNMENT_JOB_NOT_FOUND")
    done = await _run(client, db, owner, job)
    assert (done["processed"], done["assigned"]) == (7, 7)
    rows = await scalar(db, owner.tenant_id, "SELECT array_agg(owner_id::text || ':' || "
                        "coalesce(country, '-')) FROM leads")
    spain = [r for r in rows if r.endswith(":ES")]
    assert spain == [f"{b.user_id}:ES"] * 2
    owners = Counter(r.split(":")[0] for r in rows)
    # a takes 2 (its capacity), b the rest; the leaving user is excluded.
    assert owners == {str(a.user_id): 2, str(b.user_id): 5}
