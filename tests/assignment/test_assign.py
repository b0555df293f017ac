"""Assigning leads through HTTP: by hand, by the rules (each strategy), eligibility and
its reasons, fallbacks, the dry run (writes nothing), the timeline and events, roles and
other workspaces' ids."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import httpx

from leadbase.db.session import Database
from tests.assignment.helpers import ALWAYS, agents, auto_assign, make_rule, members, patch_user
from tests.auth.helpers import assert_problem, scalar
from tests.factories import add_member, make_lead, make_workspace


async def test_manual_assign(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    other = await make_workspace(client)
    a, b = await agents(client, owner, 2)
    manager = await add_member(client, owner, "manager")
    viewer = await add_member(client, owner, "viewer")
    lead = await make_lead(client, owner)
    url = f"/api/v1/leads/{lead['id']}/assign"
    resp = await client.post(url, headers=manager.headers,
                             json={"user_id": str(a.user_id), "reason": "speaks Spanish"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["owner_id"] == str(a.user_id) and body["changed"] and body["outcome"] == "manual"
    assert body["previous_owner_id"] is None and resp.headers["etag"] == '"2"'
    timeline = (await client.get(f"/api/v1/leads/{lead['id']}/timeline",
                                 headers=owner.headers)).json()["data"]
    entry = next(e for e in timeline if e["type"] == "assignment")
    assert entry["attributes"]["to_owner_id"] == str(a.user_id)
    assert entry["attributes"]["method"] == "manual"
    assert entry["attributes"]["reason"] == "speaks Spanish"
    events = await scalar(db, owner.tenant_id, "SELECT count(*) FROM events WHERE "
                          "entity_id = :e AND type = 'lead.assigned'", e=lead["id"])
    assert events == 1
    # Stale If-Match; agents and viewers may not; a user of another workspace is refused.
    assert_problem(await client.post(url, headers={**owner.headers, "If-Match": '"1"'},
                                     json={"user_id": str(b.user_id)}), 412)
    for who in (a, viewer):
        assert_problem(await client.post(url, headers=who.headers,
                                         json={"user_id": str(b.user_id)}), 403,
                       "ROLE_REQUIRED")
        assert_problem(await auto_assign(client, who, lead["id"]), 403, "ROLE_REQUIRED")
    stranger = await add_member(client, other, "agent")
    assert_problem(await client.post(url, headers=owner.headers,
                                     json={"user_id": str(stranger.user_id)}), 422,
                   "OWNER_NOT_FOUND")
    assert_problem(await client.post(url, headers=other.headers,
                                     json={"user_id": str(stranger.user_id)}), 404,
                   "LEAD_NOT_FOUND")
    assert_problem(await auto_assign(client, other, lead["id"]), 404, "LEAD_NOT_FOUND")
    assert_problem(await client.post(f"/api/v1/leads/{uuid.uuid4()}/assign",
                                     headers=owner.headers, json={"user_id": None}), 404)
    # Unassign.
    resp = await client.post(url, headers=owner.headers, json={"user_id": None})
    assert resp.json()["owner_id"] is None


async def test_round_robin_and_weighted(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    a, b, c = await agents(client, owner, 3)
    rule = await make_rule(client, owner, strategy="round_robin", members=members(a, b, c))
    picks = []
    for _ in range(6):
        lead = await make_lead(client, owner)
        picks.append((await auto_assign(client, owner, lead["id"])).json()["owner_id"])
    ids = [str(a.user_id), str(b.user_id), str(c.user_id)]
    assert picks == ids + ids
    await client.patch(f"/api/v1/assignment/rules/{rule['id']}", headers=owner.headers,
                       json={"strategy": "weighted", "members": members(a, b, weights=[3, 1])})
    picks = []
    for _ in range(8):
        lead = await make_lead(client, owner)
        picks.append((await auto_assign(client, owner, lead["id"])).json()["owner_id"])
    assert Counter(picks) == {str(a.user_id): 6, str(b.user_id): 2}
    assert picks[:4].count(str(b.user_id)) == 1  # spread, not bunched


async def test_least_loaded_and_capacity(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    a, b = await agents(client, owner, 2)
    await patch_user(client, owner, a, capacity=2)
    for _ in range(1):
        await make_lead(client, owner, owner_id=str(b.user_id))
    await make_lead(client, owner, owner_id=str(b.user_id), status="lost")  # not open
    await make_rule(client, owner, strategy="least_loaded", members=members(a, b),
                    respect_working_hours=False)
    got = []
    for _ in range(4):
        lead = await make_lead(client, owner)
        got.append((await auto_assign(client, owner, lead["id"])).json())
    owners = [g["owner_id"] for g in got]
    # a: 0 -> 1, then tie 1:1 -> a (member order) -> 2 = capacity; then b, b.
    assert owners == [str(a.user_id), str(a.user_id), str(b.user_id), str(b.user_id)]
    last = {c["user_id"]: c for c in got[-1]["candidates"]}
    assert last[str(a.user_id)]["reasons"] == ["at_capacity"]
    assert last[str(a.user_id)]["open_leads"] == 2 and last[str(a.user_id)]["capacity"] == 2


async def test_eligibility_reasons_and_fallback(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    a, b, c, d, e = await agents(client, owner, 5)
    manager = await add_member(client, owner, "manager")
    today = datetime.now(UTC).date()
    await patch_user(client, owner, a, out_of_office_until=str(today + timedelta(days=2)))
    await patch_user(client, owner, b, working_hours={"mon": ["00:00", "00:01"]},
                     timezone="Pacific/Kiritimati")
    await patch_user(client, owner, c, capacity=0)
    await patch_user(client, owner, d, is_active=False)
    await patch_user(client, owner, e, working_hours=ALWAYS,
                     out_of_office_until=str(date(2020, 1, 1)))
    rule = await make_rule(client, owner, strategy="round_robin",
                           members=members(a, b, c, d, e), fallback="user",
                           fallback_user_id=str(manager.user_id))
    lead = await make_lead(client, owner)
    dry = (await auto_assign(client, owner, lead["id"], dry_run=True)).json()
    reasons = {x["user_id"]: x["reasons"] for x in dry["candidates"]}
    assert reasons[str(a.user_id)] == ["out_of_office"]
    assert reasons[str(b.user_id)] == ["outside_working_hours"]
    assert reasons[str(c.user_id)] == ["at_capacity"]
    assert reasons[str(d.user_id)] == ["inactive"]
    assert reasons[str(e.user_id)] == []
    assert dry["owner_id"] == str(e.user_id) and dry["outcome"] == "assigned"
    assert dry["rule"]["id"] == rule["id"] and dry["dry_run"] and dry["changed"]
    await patch_user(client, owner, e, is_active=False)
    dry = (await auto_assign(client, owner, lead["id"], dry_run=True)).json()
    assert dry["outcome"] == "fallback_user" and dry["owner_id"] == str(manager.user_id)
    await client.patch(f"/api/v1/assignment/rules/{rule['id']}", headers=owner.headers,
                       json={"fallback": "unassigned"})
    done = (await auto_assign(client, owner, lead["id"])).json()
    assert done["outcome"] == "unassigned" and done["owner_id"] is None
    assert not done["changed"]
    # Working hours ignored when the rule says so.
    await client.patch(f"/api/v1/assignment/rules/{rule['id']}", headers=owner.headers,
                       json={"respect_working_hours": False, "respect_capacity": False})
    dry = (await auto_assign(client, owner, lead["id"], dry_run=True)).json()
    reasons = {x["user_id"]: x["reasons"] for x in dry["candidates"]}
    assert reasons[str(b.user_id)] == [] and reasons[str(c.user_id)] == []


async def test_dry_run_writes_nothing(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    a, b = await agents(client, owner, 2)
    await make_rule(client, owner, name="Others", strategy="specific_user",
                    members=members(b), condition={"field": "source", "op": "eq",
                                                   "value": "fair"})
    await make_rule(client, owner, name="All", strategy="round_robin", members=members(a, b))
    lead = await make_lead(client, owner)

    async def snapshot() -> tuple[object, ...]:
        return (
            await scalar(db, owner.tenant_id, "SELECT count(*) FROM audit_entries"),
            await scalar(db, owner.tenant_id, "SELECT count(*) FROM events"),
            await scalar(db, owner.tenant_id, "SELECT count(*) FROM activities"),
            await scalar(db, owner.tenant_id, "SELECT count(*) FROM assignment_state"),
            await scalar(db, owner.tenant_id, "SELECT version FROM leads WHERE id = :i",
                         i=lead["id"]))

    before = await snapshot()
    for _ in range(3):
        dry = (await auto_assign(client, owner, lead["id"], dry_run=True)).json()
        assert dry["owner_id"] == str(a.user_id)  # the rotation does not move
    assert await snapshot() == before
    assert [(r["name"], r["matched"]) for r in dry["rules_checked"]] == [
        ("Others", False), ("All", True)]
    got = (await client.get(f"/api/v1/leads/{lead['id']}", headers=owner.headers)).json()
    assert got["owner_id"] is None
    done = (await auto_assign(client, owner, lead["id"])).json()
    assert done["owner_id"] == str(a.user_id) and not done["dry_run"]
    dry = (await auto_assign(client, owner, lead["id"], dry_run=True)).json()
    assert dry["owner_id"] == str(b.user_id)


async def test_territory_and_specific_user(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    a, b, c = await agents(client, owner, 3)
    resp = await client.post("/api/v1/fields", headers=owner.headers,
                             json={"code": "region", "name": "Region", "type": "STRING"})
    assert resp.status_code == 201, resp.text
    await make_rule(client, owner, name="By region", strategy="territory", territory={
        "field": "fields.region", "entries": [
            {"values": ["north"], "user_ids": [str(a.user_id)]},
            {"values": ["south", "west"], "user_ids": [str(b.user_id), str(c.user_id)]}]},
        condition={"field": "fields.region", "op": "exists"})
    await make_rule(client, owner, name="Rest", strategy="specific_user", members=members(c))
    north = await make_lead(client, owner, fields={"region": "north"})
    assert (await auto_assign(client, owner, north["id"])).json()["owner_id"] == str(a.user_id)
    south = [await make_lead(client, owner, fields={"region": r})
             for r in ("south", "west", "south")]
    got = [(await auto_assign(client, owner, x["id"])).json()["owner_id"] for x in south]
    assert got == [str(b.user_id), str(c.user_id), str(b.user_id)]
    east = await make_lead(client, owner, fields={"region": "east"})
    dry = (await auto_assign(client, owner, east["id"], dry_run=True)).json()
    assert dry["outcome"] == "unassigned"
    assert all(x["reasons"] == ["not_in_territory"] for x in dry["candidates"])
    plain = await make_lead(client, owner)
    done = (await auto_assign(client, owner, plain["id"])).json()
    assert done["rule"]["name"] == "Rest" and done["owner_id"] == str(c.user_id)
    # A lead of country ES through a builtin field.
    await make_rule(client, owner, name="Spain", position=0, strategy="territory",
                    territory={"field": "country", "entries": [
                        {"values": ["ES"], "user_ids": [str(b.user_id)]}]},
                    condition={"field": "country", "op": "eq", "value": "ES"})
    es = await make_lead(client, owner, phone="+34612345678")
    assert (await auto_assign(client, owner, es["id"])).json()["owner_id"] == str(b.user_id)


async def test_no_rule(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    (a,) = await agents(client, owner, 1)
    lead = await make_lead(client, owner, owner_id=str(a.user_id))
    done = (await auto_assign(client, owner, lead["id"])).json()
    assert done["outcome"] == "no_rule" and done["owner_id"] == str(a.user_id)
    assert done["rule"] is None and not done["changed"]


async def test_nobody_eligible_keeps_the_owner(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    a, b = await agents(client, owner, 2)
    await patch_user(client, owner, b, is_active=False)
    await make_rule(client, owner, strategy="specific_user", members=members(b))
    lead = await make_lead(client, owner, owner_id=str(a.user_id))
    for dry_run in (True, False):
        got = (await auto_assign(client, owner, lead["id"], dry_run=dry_run)).json()
        assert got["outcome"] == "unassigned" and got["owner_id"] == str(a.user_id)
        assert not got["changed"]
        assert got["candidates"][0]["reasons"] == ["inactive"]
