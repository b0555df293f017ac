"""Merge and unmerge through HTTP: what moves, chosen values, 301 on merged reads, the
stage counters, bad input, roles, other workspaces, idempotent repeats."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from sqlalchemy import text

from leadbase.db.session import Database
from tests.duplicates.helpers import LEADS, attach, listings, snapshot, stage_counts_exact
from tests.factories import add_member, make_lead, make_workspace


async def _merge(client: httpx.AsyncClient, member, lead_id: str, others: list[str],  # type: ignore[no-untyped-def]
                 **extra: object) -> httpx.Response:
    headers = dict(member.headers)
    key = extra.pop("key", None)
    if key:
        headers["Idempotency-Key"] = str(key)
    return await client.post(f"{LEADS}/{lead_id}/merge", headers=headers,
                             json={"other_ids": others, **extra})


async def test_merge_moves_everything_and_unmerge_restores(client: httpx.AsyncClient,
                                                           db: Database) -> None:
    owner = await make_workspace(client)
    shared, only_b, only_c = await listings(db, owner, 3)
    a = await make_lead(client, owner, first_name="Ana", last_name="López", phone=None,
                        tags=["vip"], company=None, metadata={"a": 1})
    b = await make_lead(client, owner, first_name="Anna", last_name="Lopez",
                        company="Acme", tags=["vip", "web"], metadata={"a": 2, "b": 2},
                        job_title="CTO")
    c = await make_lead(client, owner, first_name="A.", last_name="Lopez", tags=["x"],
                        notes="from c")
    await attach(client, db, owner, a["id"], [shared])
    await attach(client, db, owner, b["id"], [shared, only_b])
    await attach(client, db, owner, c["id"], [only_c])
    await stage_counts_exact(db, owner.tenant_id)
    before = await snapshot(db, owner.tenant_id)

    resp = await _merge(client, owner, a["id"], [b["id"], c["id"]],
                        keep={"first_name": b["id"], "email": c["id"]})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    lead = body["lead"]
    assert lead["first_name"] == "Anna" and lead["email"] == c["email"]
    assert lead["last_name"] == "López"  # the survivor's
    assert lead["company"] == "Acme" and lead["job_title"] == "CTO" and lead["notes"] == "from c"
    assert lead["tags"] == ["vip", "web", "x"]
    assert lead["metadata"] == {"a": 1, "b": 2}
    assert body["merge"]["moved"] == {"activities": 6, "tasks": 2, "stage_changes": 2,
                                      "opportunities": 2, "lead_listings": 2}
    after = await snapshot(db, owner.tenant_id)
    for table in ("activities", "tasks", "stage_changes", "opportunities"):
        assert all(v == a["id"] for k, v in after[table].items()
                   if before[table].get(k) in (b["id"], c["id"]))
    # b's interest in the shared listing stays with b (a has one already).
    assert sum(1 for v in after["lead_listings"].values() if v == a["id"]) == 3
    await stage_counts_exact(db, owner.tenant_id)

    # Merged leads: 301 on reads, 409 on writes, gone from lists.
    resp = await client.get(f"{LEADS}/{b['id']}", headers=owner.headers)
    assert resp.status_code == 301
    assert resp.headers["location"] == f"/api/v1/leads/{a['id']}"
    assert resp.json()["merged_into"] == a["id"] and resp.json()["code"] == "LEAD_MERGED"
    resp = await client.patch(f"{LEADS}/{b['id']}", headers=owner.headers,
                              json={"notes": "x"})
    assert resp.status_code == 409 and resp.json()["code"] == "LEAD_MERGED"
    resp = await client.post(f"{LEADS}/{b['id']}/restore", headers=owner.headers)
    assert resp.status_code == 409 and resp.json()["code"] == "LEAD_MERGED"
    listed = (await client.get(f"{LEADS}?count=exact", headers=owner.headers)).json()
    assert [r["id"] for r in listed["data"]] == [a["id"]] and listed["total"] == 1
    timeline = (await client.get(f"/api/v1/activities?lead_id={a['id']}&type=system",
                                 headers=owner.headers)).json()
    assert any(e["attributes"].get("event") == "lead_merged" for e in timeline["data"])

    # Already merged: refused.
    resp = await _merge(client, owner, a["id"], [b["id"]])
    assert resp.status_code == 409 and resp.json()["code"] == "LEAD_ALREADY_MERGED"

    resp = await client.post(f"{LEADS}/{a['id']}/unmerge", headers=owner.headers, json={})
    assert resp.status_code == 200, resp.text
    restored = await snapshot(db, owner.tenant_id)
    for table in ("activities", "tasks", "stage_changes", "opportunities", "lead_listings"):
        assert {k: v for k, v in restored[table].items() if k in before[table]} == \
            before[table], table
    assert restored["leads"] == before["leads"]
    await stage_counts_exact(db, owner.tenant_id)
    assert (await client.get(f"{LEADS}/{b['id']}", headers=owner.headers)).status_code == 200
    resp = await client.post(f"{LEADS}/{a['id']}/unmerge", headers=owner.headers, json={})
    assert resp.status_code == 409 and resp.json()["code"] == "NOTHING_TO_UNMERGE"


async def test_partial_unmerge_and_window(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    a, b, c = [await make_lead(client, owner) for _ in range(3)]
    assert (await _merge(client, owner, a["id"], [b["id"], c["id"]])).status_code == 200
    resp = await client.post(f"{LEADS}/{a['id']}/unmerge", headers=owner.headers,
                             json={"lead_ids": [b["id"]]})
    assert resp.status_code == 200, resp.text
    assert (await client.get(f"{LEADS}/{b['id']}", headers=owner.headers)).status_code == 200
    assert (await client.get(f"{LEADS}/{c['id']}", headers=owner.headers)).status_code == 301
    resp = await client.post(f"{LEADS}/{a['id']}/unmerge", headers=owner.headers,
                             json={"lead_ids": [b["id"]]})
    assert resp.status_code == 422 and resp.json()["code"] == "NOT_MERGED_INTO_LEAD"
    async with db.transaction(owner.tenant_id) as session:
        await session.execute(text("UPDATE lead_merges SET expires_at = now() - :d"),
                              {"d": timedelta(seconds=1)})
    resp = await client.post(f"{LEADS}/{a['id']}/unmerge", headers=owner.headers, json={})
    assert resp.status_code == 409 and resp.json()["code"] == "MERGE_WINDOW_CLOSED"


async def test_bad_input_changes_nothing(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    other = await make_workspace(client)
    a, b, d = [await make_lead(client, owner) for _ in range(3)]
    foreign = await make_lead(client, other)
    before = await snapshot(db, owner.tenant_id)
    cases = [
        ([a["id"]], {}, 422, "MERGE_WITH_ITSELF"),
        ([foreign["id"]], {}, 404, "LEAD_NOT_FOUND"),
        ([str(uuid.uuid4())], {}, 404, "LEAD_NOT_FOUND"),
        ([b["id"]], {"keep": {"email": d["id"]}}, 422, "MERGE_KEEP_NOT_IN_MERGE"),
        ([b["id"]], {"keep": {"score": b["id"]}}, 422, "MERGE_FIELD_UNKNOWN"),
        ([str(uuid.uuid4()) for _ in range(11)], {}, 422, None),
        ([b["id"], b["id"]], {}, 422, None),
        ([], {}, 422, None),
    ]
    for others, extra, status, code in cases:
        resp = await _merge(client, owner, a["id"], others, **extra)
        assert resp.status_code == status, (others, resp.text)
        if code:
            assert resp.json()["code"] == code
    resp = await client.delete(f"{LEADS}/{d['id']}", headers=owner.headers)
    assert resp.status_code == 204
    resp = await _merge(client, owner, a["id"], [d["id"]])
    assert resp.status_code == 409 and resp.json()["code"] == "LEAD_DELETED"
    resp = await _merge(client, other, foreign["id"], [a["id"]])
    assert resp.status_code == 404
    after = await snapshot(db, owner.tenant_id)
    after["leads"].pop(d["id"])
    before["leads"].pop(d["id"])
    assert after == before


async def test_roles_and_idempotent_repeat(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    viewer = await add_member(client, owner, "viewer")
    mine1, mine2 = [await make_lead(client, agent) for _ in range(2)]
    theirs = await make_lead(client, owner)
    resp = await _merge(client, viewer, mine1["id"], [mine2["id"]])
    assert resp.status_code == 403
    resp = await _merge(client, agent, mine1["id"], [theirs["id"]])
    assert resp.status_code == 404  # not the agent's: it cannot see it
    key = uuid.uuid4()
    first = await _merge(client, agent, mine1["id"], [mine2["id"]], key=key)
    assert first.status_code == 200, first.text
    again = await _merge(client, agent, mine1["id"], [mine2["id"]], key=key)
    assert again.status_code == 200 and again.json() == first.json()
    async with db.transaction(owner.tenant_id) as session:
        count = (await session.execute(text("SELECT count(*) FROM lead_merges"))).scalar_one()
    assert count == 1
    resp = await client.post(f"{LEADS}/{mine1['id']}/unmerge", headers=viewer.headers, json={})
    assert resp.status_code == 403
    resp = await client.post(f"{LEADS}/{mine1['id']}/unmerge", headers=agent.headers)
    assert resp.status_code == 200, resp.text


async def test_merge_of_a_thousand_activities(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    a, b = [await make_lead(client, owner) for _ in range(2)]
    async with db.transaction(owner.tenant_id) as session:
        await session.execute(text(
            "INSERT INTO activities (id, tenant_id, lead_id, type, occurred_at, completed_at) "
            "SELECT gen_random_uuid(), :t, :l, 'note', now(), now() "
            "FROM generate_series(1, 1000)"), {"t": owner.tenant_id, "l": b["id"]})
    resp = await _merge(client, owner, a["id"], [b["id"]])
    assert resp.status_code == 200, resp.text
    assert resp.json()["merge"]["moved"]["activities"] == 1000


async def test_owners_stages_and_later_edits(client: httpx.AsyncClient, db: Database) -> None:
    """Leads of different owners and stages: the counters stay exact through merge and
    unmerge; a value changed on the survivor after the merge is not undone."""
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    a = await make_lead(client, owner, company="Old")
    b = await make_lead(client, agent, company="New", job_title="VP")
    resp = await client.post(f"{LEADS}/{b['id']}/stage", headers=owner.headers,
                             json={"stage": "contacted"})
    assert resp.status_code == 200, resp.text
    await stage_counts_exact(db, owner.tenant_id)
    resp = await _merge(client, owner, a["id"], [b["id"]],
                        keep={"owner_id": b["id"], "company": b["id"]})
    assert resp.status_code == 200, resp.text
    merged = resp.json()["lead"]
    assert merged["owner_id"] == str(agent.user_id) and merged["company"] == "New"
    assert merged["stage"] == a["stage"] and merged["job_title"] == "VP"
    await stage_counts_exact(db, owner.tenant_id)
    resp = await client.patch(f"{LEADS}/{a['id']}", headers=owner.headers,
                              json={"job_title": "Chief"})
    assert resp.status_code == 200, resp.text
    resp = await client.post(f"{LEADS}/{a['id']}/unmerge", headers=owner.headers)
    assert resp.status_code == 200, resp.text
    back = resp.json()
    assert back["owner_id"] is None and back["company"] == "Old"
    assert back["job_title"] == "Chief"  # changed since the merge: kept
    restored = (await client.get(f"{LEADS}/{b['id']}", headers=owner.headers)).json()
    assert restored["stage"] == "contacted" and restored["owner_id"] == str(agent.user_id)
    await stage_counts_exact(db, owner.tenant_id)
