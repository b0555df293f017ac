"""A segment's members and count, ``GET /leads?segment_id=``, static member lists, and the
preview of a draft condition."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from leadbase.db.session import Database
from leadbase.leads import raw_listing
from leadbase.leads.filters import LeadFilter
from leadbase.leads.repository import LeadSet, Readable
from leadbase.segments import endpoints as segment_endpoints
from tests.factories import add_member, make_lead, make_workspace, walk_leads
from tests.segments.conftest import SEGMENTS, make_segment, member_ids, pred


async def test_typical_rules_select_their_leads(client: httpx.AsyncClient,
                                                db: Database) -> None:
    owner = await make_workspace(client)
    await client.post("/api/v1/fields", headers=owner.headers,
                      json={"name": "Plan", "code": "plan", "type": "STRING"})
    web = await make_lead(client, owner, source="website", status="contacted",
                          tags=["vip"], fields={"plan": "gold"}, job_title="Head of Sales")
    ads = await make_lead(client, owner, source="ads", status="new", tags=["smb"],
                          job_title="CEO")
    old = await make_lead(client, owner, source="website", status="lost")
    async with db.transaction(owner.tenant_id) as session:
        await session.execute(text("UPDATE leads SET score = 70 WHERE id = :a"),
                              {"a": web["id"]})
        await session.execute(text("UPDATE leads SET score = 20 WHERE id = :a"),
                              {"a": ads["id"]})
        await session.execute(text("UPDATE leads SET created_at = now() - interval "
                                   "'90 days' WHERE id = :a"), {"a": old["id"]})
    call = await client.post("/api/v1/activities", headers=owner.headers,
                             json={"type": "call", "lead_id": ads["id"]})
    assert call.status_code == 201, call.text
    cases: list[tuple[dict[str, Any], set[str]]] = [
        (pred("status", "in", ["new", "contacted"]), {web["id"], ads["id"]}),
        ({"all": [pred("source", "eq", "website"), pred("score", "gte", 50)]}, {web["id"]}),
        (pred("tags", "contains", "vip"), {web["id"]}),
        (pred("created_at", "newer_than_days", 30), {web["id"], ads["id"]}),
        (pred("fields.plan", "eq", "gold"), {web["id"]}),
        (pred("activities.call", "gte", 1, within_days=7), {ads["id"]}),
        (pred("job_title", "starts_with", "Head"), {web["id"]}),
        ({"not": pred("source", "eq", "website")}, {ads["id"]}),
    ]
    for i, (condition, expected) in enumerate(cases):
        seg = await make_segment(client, owner, f"Rule {i}", condition)
        assert set(await member_ids(client, owner, seg["id"])) == expected, condition
        listed = await walk_leads(client, owner, f"segment_id={seg['id']}", per_page=2)
        assert set(listed) == expected, condition
        count = (await client.get(f"{SEGMENTS}/{seg['id']}/count",
                                  headers=owner.headers)).json()
        assert count["count"] == len(expected) and count["method"] == "capped", count


async def test_members_page_like_the_lead_list(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    leads = [await make_lead(client, owner, source="fair", status="new" if i % 2 else
                             "contacted") for i in range(7)]
    await make_lead(client, owner, source="web")
    seg = await make_segment(client, owner, "Fair", pred("source", "eq", "fair"))
    url = f"{SEGMENTS}/{seg['id']}/members"
    first = (await client.get(f"{url}?per_page=3", headers=owner.headers)).json()
    listed = (await client.get(f"/api/v1/leads?segment_id={seg['id']}&per_page=3",
                               headers=owner.headers)).json()
    assert first["data"] == listed["data"] and first["total"] == 7
    assert [r["id"] for r in first["data"]] == [x["id"] for x in reversed(leads)][:3]
    seen = [r["id"] for r in first["data"]]
    cursor = first["next_cursor"]
    while cursor:
        page = (await client.get(f"{url}?per_page=3&cursor={cursor}",
                                 headers=owner.headers)).json()
        seen += [r["id"] for r in page["data"]]
        cursor = page["next_cursor"]
    assert seen == [x["id"] for x in reversed(leads)]
    by_number = await member_ids(client, owner, seg["id"], "&sort=number")
    assert by_number == [x["id"] for x in leads]
    # With the list's other filters.
    both = await walk_leads(client, owner, f"segment_id={seg['id']}&status=new", per_page=2)
    assert set(both) == {x["id"] for i, x in enumerate(leads) if i % 2}
    bad = await client.get(f"{url}?sort=nope", headers=owner.headers)
    assert bad.status_code == 422 and bad.json()["code"] == "INVALID_SORT"


async def test_agents_see_their_own_members(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    viewer = await add_member(client, owner, "viewer")
    mine = await make_lead(client, agent, source="fair")
    theirs = await make_lead(client, owner, source="fair")
    seg = await make_segment(client, owner, "Fair", pred("source", "eq", "fair"))
    static = await make_segment(client, owner, "Picked", kind="static",
                                lead_ids=[mine["id"], theirs["id"]])
    for s in (seg, static):
        assert await member_ids(client, agent, s["id"]) == [mine["id"]]
        count = (await client.get(f"{SEGMENTS}/{s['id']}/count?exact=true",
                                  headers=agent.headers)).json()
        assert count["count"] == 1
        assert set(await member_ids(client, viewer, s["id"])) == {mine["id"], theirs["id"]}
        listed = await walk_leads(client, agent, f"segment_id={s['id']}", per_page=5)
        assert listed == [mine["id"]]


async def test_static_members_added_and_removed(client: httpx.AsyncClient,
                                                db: Database) -> None:
    owner = await make_workspace(client)
    a, b, c = [await make_lead(client, owner) for _ in range(3)]
    seg = await make_segment(client, owner, "Picked", kind="static", lead_ids=[a["id"]])
    url = f"{SEGMENTS}/{seg['id']}/members"
    added = await client.post(url, headers={**owner.headers, "Idempotency-Key": "m1"},
                              json={"lead_ids": [a["id"], b["id"], c["id"]]})
    assert added.status_code == 200, added.text
    assert added.json() == {"segment_id": seg["id"], "added": 2, "removed": 0,
                            "unchanged": 1}
    replay = await client.post(url, headers={**owner.headers, "Idempotency-Key": "m1"},
                               json={"lead_ids": [a["id"], b["id"], c["id"]]})
    assert replay.json()["added"] == 2 and replay.headers["idempotency-replayed"] == "true"
    assert set(await member_ids(client, owner, seg["id"])) == {a["id"], b["id"], c["id"]}
    unknown = await client.post(url, headers=owner.headers,
                                json={"lead_ids": [str(uuid.uuid4())]})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "lead_ids[0]"
    empty = await client.post(url, headers=owner.headers, json={"lead_ids": []})
    assert empty.status_code == 422
    removed = await client.post(f"{url}/remove", headers=owner.headers,
                                json={"lead_ids": [b["id"], str(uuid.uuid4())]})
    assert removed.json() == {"segment_id": seg["id"], "added": 0, "removed": 1,
                              "unchanged": 1}
    assert (await client.delete(f"{url}/{c['id']}", headers=owner.headers)).status_code == 204
    assert await member_ids(client, owner, seg["id"]) == [a["id"]]
    # A deleted lead is no member to be seen; a purged one leaves the list.
    await client.delete(f"/api/v1/leads/{a['id']}", headers=owner.headers)
    assert await member_ids(client, owner, seg["id"]) == []
    await client.delete(f"/api/v1/leads/{a['id']}?purge=true", headers=owner.headers)
    async with db.transaction(owner.tenant_id) as session:
        left = (await session.execute(text("SELECT count(*) FROM segment_members WHERE "
                                           "segment_id = :s"), {"s": seg["id"]})).scalar_one()
    assert left == 0
    log = (await client.get(f"/api/v1/audit-log?entity_id={seg['id']}",
                            headers=owner.headers)).json()
    assert [e["action"] for e in log["data"]][:3] == [
        "segment.members_removed", "segment.members_removed", "segment.members_added"]
    dynamic = await make_segment(client, owner, "Dyn", pred("source", "eq", "x"))
    refused = await client.post(f"{SEGMENTS}/{dynamic['id']}/members", headers=owner.headers,
                                json={"lead_ids": [b["id"]]})
    assert refused.status_code == 409 and refused.json()["code"] == "SEGMENT_NOT_STATIC"
    # Deleting the segment drops its member list.
    await client.post(url, headers=owner.headers, json={"lead_ids": [b["id"]]})
    assert (await client.delete(f"{SEGMENTS}/{seg['id']}",
                                headers=owner.headers)).status_code == 204
    async with db.transaction(owner.tenant_id) as session:
        left = (await session.execute(text("SELECT count(*) FROM segment_members WHERE "
                                           "segment_id = :s"), {"s": seg["id"]})).scalar_one()
    assert left == 0


async def test_count_exact_capped_or_estimated(client: httpx.AsyncClient,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    owner = await make_workspace(client)
    for _ in range(3):
        await make_lead(client, owner, source="fair")
    seg = await make_segment(client, owner, "Fair", pred("source", "eq", "fair"))
    url = f"{SEGMENTS}/{seg['id']}/count"
    exact = (await client.get(f"{url}?exact=true", headers=owner.headers)).json()
    assert (exact["count"], exact["is_estimate"], exact["method"]) == (3, False, "exact")
    capped = (await client.get(url, headers=owner.headers)).json()
    assert (capped["count"], capped["method"], capped["cap"]) == (3, "capped", 10_000)
    # Beyond the cap: the planner's estimate, and it says so.
    monkeypatch.setattr(segment_endpoints, "COUNT_CAP", 2)
    guess = (await client.get(url, headers=owner.headers)).json()
    assert guess["is_estimate"] and guess["method"] == "planner" and guess["count"] >= 3
    bad = await client.get(f"{url}?exact=maybe", headers=owner.headers)
    assert bad.status_code == 422


async def test_deleted_or_foreign_segment_as_a_filter(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    seg = await make_segment(client, owner, "Gone", pred("source", "eq", "x"))
    await client.delete(f"{SEGMENTS}/{seg['id']}", headers=owner.headers)
    resp = await client.get(f"/api/v1/leads?segment_id={seg['id']}", headers=owner.headers)
    assert resp.status_code == 422 and resp.json()["code"] == "INVALID_FILTER"
    assert resp.json()["errors"] == [{"field": "segment_id", "message": "deleted segment"}]
    assert "Gone" in resp.json()["detail"]
    resp = await client.get(f"/api/v1/leads?segment_id={uuid.uuid4()}", headers=owner.headers)
    assert resp.status_code == 422
    assert resp.json()["errors"] == [{"field": "segment_id", "message": "unknown segment"}]
    resp = await client.get("/api/v1/leads?segment_id=nope", headers=owner.headers)
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "segment_id"
    members = await client.get(f"{SEGMENTS}/{seg['id']}/members", headers=owner.headers)
    assert members.status_code == 404


def test_raw_listing_leaves_segments_to_sqlalchemy() -> None:
    scope = Readable(uuid.uuid4())
    assert raw_listing.where(LeadSet(scope=scope)) is not None
    assert raw_listing.where(LeadSet(scope=scope, f=LeadFilter(segment_id=uuid.uuid4()))) \
        is None
    assert raw_listing.count(LeadSet(scope=scope, f=LeadFilter(segment_id=uuid.uuid4())),
                             None) is None


async def test_preview_counts_and_pages_writing_nothing(client: httpx.AsyncClient,
                                                        db: Database) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    viewer = await add_member(client, owner, "viewer")
    leads = [await make_lead(client, owner, tags=["vip"]) for _ in range(3)]
    mine = await make_lead(client, agent, tags=["vip"])
    await make_lead(client, owner, tags=["smb"])

    async def writes() -> tuple[int, int, int]:
        async with db.transaction(owner.tenant_id) as session:
            row = (await session.execute(text(
                "SELECT (SELECT count(*) FROM segments), (SELECT count(*) FROM audit_entries), "
                "(SELECT count(*) FROM events)"))).one()
        return int(row[0]), int(row[1]), int(row[2])

    before = await writes()
    body = {"condition": pred("tags", "contains", "vip"), "per_page": 2, "sort": "number"}
    resp = await client.post(f"{SEGMENTS}/preview", headers=owner.headers, json=body)
    assert resp.status_code == 200, resp.text
    got = resp.json()
    assert got["count"] == 4 and not got["is_estimate"] and got["has_more"]
    assert [r["id"] for r in got["data"]] == [leads[0]["id"], leads[1]["id"]]
    assert got["summary"] and got["condition"]["field"] == "tags"
    assert await writes() == before
    agent_view = (await client.post(f"{SEGMENTS}/preview", headers=agent.headers,
                                    json=body)).json()
    assert agent_view["count"] == 1 and [r["id"] for r in agent_view["data"]] == [mine["id"]]
    viewed = await client.post(f"{SEGMENTS}/preview", headers=viewer.headers, json=body)
    assert viewed.status_code == 200 and viewed.json()["count"] == 4
    bad = await client.post(f"{SEGMENTS}/preview", headers=owner.headers,
                            json={"condition": {"all": [pred("tags", "gte", 3)]}})
    assert bad.status_code == 422 and bad.json()["code"] == "INVALID_RULE"
    assert bad.json()["errors"][0]["field"].startswith("condition.all[0]")
    big = await client.post(f"{SEGMENTS}/preview", headers=owner.headers,
                            json={**body, "per_page": 500})
    assert big.status_code == 422
