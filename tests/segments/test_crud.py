"""Segments: create (dynamic, static), rules checked when saved, names, If-Match, audit,
Idempotency-Key, roles and other workspaces."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import text

from leadbase.db.session import Database
from leadbase.segments import resolve
from tests.factories import add_member, make_lead, make_workspace
from tests.segments.conftest import SEGMENTS, make_segment, member_ids, pred


async def test_create_dynamic_normalises_and_describes(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    seg = await make_segment(client, owner, "Hot web", {
        "all": [pred("source", "eq", "website"), pred("score", "gte", 50)]},
        description="For the Monday call list")
    assert seg["kind"] == "dynamic" and seg["number"] == 1 and seg["version"] == 1
    assert seg["problems"] is None and seg["created_by"] == str(owner.user_id)
    assert "website" in seg["summary"] and "50" in seg["summary"]
    got = await client.get(f"{SEGMENTS}/{seg['id']}", headers=owner.headers)
    assert got.status_code == 200 and got.headers["etag"] == '"1"'
    assert got.json()["condition"] == seg["condition"]
    listing = (await client.get(f"{SEGMENTS}?kind=dynamic&q=hot", headers=owner.headers)).json()
    assert [s["id"] for s in listing["data"]] == [seg["id"]] and listing["total"] == 1


async def test_bad_rules_are_422_naming_the_path(client: httpx.AsyncClient,
                                                 db: Database) -> None:
    owner = await make_workspace(client)
    cases = [
        ({"all": [pred("source", "eq", "x"), pred("nope", "eq", 1)]}, "condition.all[1]"),
        ({"all": [pred("score", "gte", "high")]}, "condition.all[0].value"),
        ({"any": [pred("tags", "starts_with", "v")]}, "condition.any[0].op"),
        ({"bogus": []}, "condition"),
    ]
    for condition, path in cases:
        resp = await client.post(SEGMENTS, headers=owner.headers,
                                 json={"name": "Bad", "condition": condition})
        assert resp.status_code == 422, resp.text
        body = resp.json()
        assert body["code"] == "INVALID_RULE", body
        assert any(e["field"].startswith(path) for e in body["errors"]), (path, body)
    missing = await client.post(SEGMENTS, headers=owner.headers, json={"name": "No rule"})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "condition"
    static = await client.post(SEGMENTS, headers=owner.headers, json={
        "name": "S", "kind": "static", "condition": pred("source", "eq", "x")})
    assert static.status_code == 422 and static.json()["errors"][0]["field"] == "condition"
    ids = await client.post(SEGMENTS, headers=owner.headers, json={
        "name": "D", "condition": pred("source", "eq", "x"), "lead_ids": [str(uuid.uuid4())]})
    assert ids.status_code == 422 and ids.json()["errors"][0]["field"] == "lead_ids"
    kind = await client.post(SEGMENTS, headers=owner.headers, json={
        "name": "K", "kind": "smart", "condition": pred("source", "eq", "x")})
    assert kind.status_code == 422
    async with db.transaction(owner.tenant_id) as session:
        count = (await session.execute(text("SELECT count(*) FROM segments"))).scalar_one()
    assert count == 0


async def test_static_segment_with_first_members(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    a, b = await make_lead(client, owner), await make_lead(client, owner)
    stranger = await make_workspace(client)
    theirs = await make_lead(client, stranger)
    bad = await client.post(SEGMENTS, headers=owner.headers, json={
        "name": "Picked", "kind": "static", "lead_ids": [a["id"], theirs["id"]]})
    assert bad.status_code == 422 and bad.json()["code"] == "LEAD_NOT_FOUND"
    assert bad.json()["errors"] == [{"field": "lead_ids[1]",
                                     "message": "not a live lead of this workspace"}]
    seg = await make_segment(client, owner, "Picked", kind="static",
                             lead_ids=[a["id"], b["id"], a["id"]])
    assert seg["kind"] == "static" and seg["condition"] is None and seg["summary"]
    count = (await client.get(f"{SEGMENTS}/{seg['id']}/count?exact=true",
                              headers=owner.headers)).json()
    assert count["count"] == 2 and count["method"] == "exact" and not count["is_estimate"]


async def test_names_are_unique_per_workspace(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    first = await make_segment(client, owner, "Leads in Spain", pred("country", "eq", "ES"))
    again = await client.post(SEGMENTS, headers=owner.headers, json={
        "name": "leads IN spain", "condition": pred("country", "eq", "ES")})
    assert again.status_code == 409 and again.json()["code"] == "SEGMENT_NAME_TAKEN"
    other = await make_segment(client, owner, "Other", pred("country", "eq", "FR"))
    rename = await client.patch(f"{SEGMENTS}/{other['id']}", headers=owner.headers,
                                json={"name": "LEADS in Spain"})
    assert rename.status_code == 409
    # Another workspace may use the name; a deleted segment frees it.
    stranger = await make_workspace(client)
    await make_segment(client, stranger, "Leads in Spain", pred("country", "eq", "ES"))
    assert (await client.delete(f"{SEGMENTS}/{first['id']}",
                                headers=owner.headers)).status_code == 204
    await make_segment(client, owner, "Leads in Spain", pred("country", "eq", "ES"))


async def test_update_with_if_match_and_audit(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    seg = await make_segment(client, owner, "Web", pred("source", "eq", "website"))
    url = f"{SEGMENTS}/{seg['id']}"
    stale = await client.patch(url, headers={**owner.headers, "If-Match": '"7"'},
                               json={"name": "Web 2"})
    assert stale.status_code == 412 and stale.json()["current_version"] == 1
    resp = await client.patch(url, headers={**owner.headers, "If-Match": '"1"'},
                              json={"condition": {"any": [pred("source", "eq", "website"),
                                                          pred("source", "eq", "ads")]},
                                    "description": "both"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["version"] == 2 and resp.headers["etag"] == '"2"'
    assert body["description"] == "both" and "ads" in body["summary"]
    bad = await client.patch(url, headers=owner.headers,
                             json={"condition": {"all": [pred("score", "between", [1])]}})
    assert bad.status_code == 422 and bad.json()["code"] == "INVALID_RULE"
    assert bad.json()["errors"][0]["field"].startswith("condition.all[0]")
    for body_ in ({"kind": "static"}, {"name": None}, {"condition": None}, {}):
        refused = await client.patch(url, headers=owner.headers, json=body_)
        assert refused.status_code == 422, (body_, refused.text)
    same = await client.patch(url, headers=owner.headers, json={"name": "Web"})
    assert same.json()["version"] == 2  # nothing changed
    deleted = await client.delete(url, headers={**owner.headers, "If-Match": '"1"'})
    assert deleted.status_code == 412
    assert (await client.delete(url, headers=owner.headers)).status_code == 204
    for method in ("GET", "PATCH", "DELETE"):
        gone = await client.request(method, url, headers=owner.headers,
                                    json={"name": "x"} if method == "PATCH" else None)
        assert gone.status_code == 404 and gone.json()["code"] == "SEGMENT_NOT_FOUND"
    log = (await client.get(f"/api/v1/audit-log?entity_id={seg['id']}",
                            headers=owner.headers)).json()
    assert [e["action"] for e in log["data"]] == ["segment.deleted", "segment.updated",
                                                 "segment.created"]
    assert log["data"][1]["changes"] == {"fields": ["condition", "description"]}


async def test_idempotency_key_replays_the_create(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    headers = {**owner.headers, "Idempotency-Key": "seg-1"}
    body = {"name": "Once", "condition": pred("status", "in", ["new"])}
    first = await client.post(SEGMENTS, headers=headers, json=body)
    again = await client.post(SEGMENTS, headers=headers, json=body)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("idempotency-replayed") == "true"
    assert first.json()["id"] == again.json()["id"]
    other = await client.post(SEGMENTS, headers=headers, json={**body, "name": "Twice"})
    assert other.status_code == 422 and other.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    listing = (await client.get(SEGMENTS, headers=owner.headers)).json()
    assert listing["total"] == 1


async def test_roles_read_for_all_write_for_managers(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    manager = await add_member(client, owner, "manager")
    agent = await add_member(client, owner, "agent")
    viewer = await add_member(client, owner, "viewer")
    seg = await make_segment(client, manager, "By manager", pred("source", "eq", "x"))
    static = await make_segment(client, manager, "Static", kind="static")
    lead = await make_lead(client, agent)
    for member in (agent, viewer):
        assert (await client.get(f"{SEGMENTS}/{seg['id']}",
                                 headers=member.headers)).status_code == 200
        assert (await client.get(SEGMENTS, headers=member.headers)).json()["total"] == 2
        writes = [
            await client.post(SEGMENTS, headers=member.headers,
                              json={"name": "No", "condition": pred("source", "eq", "x")}),
            await client.patch(f"{SEGMENTS}/{seg['id']}", headers=member.headers,
                               json={"name": "No"}),
            await client.delete(f"{SEGMENTS}/{seg['id']}", headers=member.headers),
            await client.post(f"{SEGMENTS}/{static['id']}/members", headers=member.headers,
                              json={"lead_ids": [lead["id"]]}),
        ]
        assert [w.status_code for w in writes] == [403] * 4
        assert all(w.json()["code"] == "ROLE_REQUIRED" for w in writes)


async def test_other_workspaces_segments_are_404(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    stranger = await make_workspace(client)
    seg = await make_segment(client, owner, "Mine", pred("source", "eq", "x"))
    static = await make_segment(client, owner, "Mine static", kind="static")
    theirs = await make_lead(client, stranger)
    h = stranger.headers
    for resp in (
        await client.get(f"{SEGMENTS}/{seg['id']}", headers=h),
        await client.patch(f"{SEGMENTS}/{seg['id']}", headers=h, json={"name": "x"}),
        await client.delete(f"{SEGMENTS}/{seg['id']}", headers=h),
        await client.get(f"{SEGMENTS}/{seg['id']}/count", headers=h),
        await client.get(f"{SEGMENTS}/{seg['id']}/members", headers=h),
        await client.post(f"{SEGMENTS}/{static['id']}/members", headers=h,
                          json={"lead_ids": [theirs["id"]]}),
        await client.post(f"{SEGMENTS}/{static['id']}/members/remove", headers=h,
                          json={"lead_ids": [theirs["id"]]}),
    ):
        assert resp.status_code == 404 and resp.json()["code"] == "SEGMENT_NOT_FOUND", resp.text
    assert (await client.get(SEGMENTS, headers=h)).json()["total"] == 0
    # As a lead filter: refused, naming the parameter.
    resp = await client.get(f"/api/v1/leads?segment_id={seg['id']}", headers=h)
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "segment_id"


async def test_a_rule_naming_something_removed_is_reported(client: httpx.AsyncClient,
                                                          db: Database) -> None:
    owner = await make_workspace(client)
    field = (await client.post("/api/v1/fields", headers=owner.headers,
                               json={"name": "Edad", "type": "INT"})).json()
    lead = await make_lead(client, owner, fields={"Edad": 40})
    seg = await make_segment(client, owner, "Adults", pred("fields.Edad", "gte", 18))
    assert await member_ids(client, owner, seg["id"]) == [lead["id"]]
    async with db.transaction(owner.tenant_id) as session:  # the field gone for good
        await session.execute(text("DELETE FROM field_definitions WHERE id = :i"),
                              {"i": field["id"]})
    # Using a segment reuses the catalog for a few seconds (a removal shows within
    # CATALOG_SECONDS); not waiting here.
    resolve._catalogs.clear()
    got = (await client.get(f"{SEGMENTS}/{seg['id']}", headers=owner.headers)).json()
    assert got["summary"] is None and got["problems"][0]["field"].startswith("condition")
    for url in (f"{SEGMENTS}/{seg['id']}/count", f"{SEGMENTS}/{seg['id']}/members",
                f"/api/v1/leads?segment_id={seg['id']}"):
        resp = await client.get(url, headers=owner.headers)
        assert resp.status_code == 422 and resp.json()["code"] == "SEGMENT_RULE_INVALID", url
    # Fixing the condition makes it usable again.
    fixed = await client.patch(f"{SEGMENTS}/{seg['id']}", headers=owner.headers,
                               json={"condition": pred("score", "gte", 0)})
    assert fixed.status_code == 200 and fixed.json()["problems"] is None



async def test_a_field_added_since_the_catalog_was_reused(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    first = await make_segment(client, owner, "Any", pred("score", "gte", 0))
    await member_ids(client, owner, first["id"])  # the workspace's catalog is reused now
    await client.post("/api/v1/fields", headers=owner.headers,
                      json={"name": "Plan", "code": "plan", "type": "STRING"})
    lead = await make_lead(client, owner, fields={"plan": "gold"})
    seg = await make_segment(client, owner, "Gold", pred("fields.plan", "eq", "gold"))
    assert await member_ids(client, owner, seg["id"]) == [lead["id"]]
