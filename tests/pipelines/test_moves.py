"""Moving leads between stages: by id and code, history with seconds in stage, the
timeline entry, audit and event, no-op moves, If-Match, roles, filters."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import text

from leadbase.db.session import Database
from tests.factories import add_member, make_lead, make_workspace
from tests.pipelines.conftest import PIPELINES, default_pipeline, move, stage_id


async def test_move_by_code_and_id_with_history(client: httpx.AsyncClient,
                                                db: Database) -> None:
    owner = await make_workspace(client)
    p = await default_pipeline(client, owner)
    lead = await make_lead(client, owner)
    # An hour in "new" (moved back in time).
    async with db.transaction(owner.tenant_id) as session:
        await session.execute(text("UPDATE leads SET stage_entered_at = now() - interval "
                                   "'1 hour' WHERE id = :i"), {"i": lead["id"]})
    resp = await move(client, owner, lead["id"], "contacted", reason="called back")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["lead"]["stage"] == "contacted" and body["lead"]["version"] == 2
    assert resp.headers["etag"] == '"2"'
    change = body["change"]
    assert change["from_stage"] == "new" and change["to_stage"] == "contacted"
    assert 3600 <= change["seconds_in_previous"] < 3700
    assert change["actor_user_id"] == str(owner.user_id)
    resp = await move(client, owner, lead["id"], stage_id(p, "qualified"))
    assert resp.status_code == 200 and resp.json()["lead"]["stage"] == "qualified"
    # Moving to the stage it is in changes nothing.
    same = await move(client, owner, lead["id"], "qualified")
    assert same.status_code == 200 and same.json()["change"] is None
    assert same.json()["lead"]["version"] == resp.json()["lead"]["version"]
    url = f"/api/v1/leads/{lead['id']}/stage-history"
    history = (await client.get(url, headers=owner.headers)).json()
    assert [(h["from_stage"], h["to_stage"]) for h in history["data"]] == [
        ("contacted", "qualified"), ("new", "contacted"), (None, "new")]
    assert history["data"][1]["reason"] == "called back"
    # Cursor pages, newest first.
    first = (await client.get(f"{url}?per_page=2", headers=owner.headers)).json()
    assert len(first["data"]) == 2 and first["next_cursor"]
    rest = (await client.get(f"{url}?per_page=2&cursor={first['next_cursor']}",
                             headers=owner.headers)).json()
    assert [h["to_stage"] for h in rest["data"]] == ["new"] and rest["next_cursor"] is None
    bad = await client.get(f"{url}?cursor=abc", headers=owner.headers)
    assert bad.status_code == 422
    # Timeline, audit, event, in the same transaction.
    async with db.transaction(owner.tenant_id) as session:
        acts = (await session.execute(text(
            "SELECT attributes FROM activities WHERE lead_id = :i AND type = 'stage_change' "
            "ORDER BY occurred_at"), {"i": lead["id"]})).scalars().all()
        events = (await session.execute(text(
            "SELECT count(*) FROM events WHERE entity_id = :i AND type = "
            "'lead.stage_changed'"), {"i": lead["id"]})).scalar_one()
        audits = (await session.execute(text(
            "SELECT count(*) FROM audit_entries WHERE entity_id = :i AND action = "
            "'lead.stage_changed'"), {"i": lead["id"]})).scalar_one()
    assert [a["to_stage"] for a in acts] == ["contacted", "qualified"]
    assert acts[0]["from_stage"] == "new" and acts[0]["reason"] == "called back"
    assert events == 2 and audits == 2
    got = (await client.get(f"/api/v1/leads/{lead['id']}", headers=owner.headers)).json()
    assert got["last_activity_at"] is not None and got["stage"] == "qualified"


async def test_move_errors(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    deal = await default_pipeline(client, owner, "deal")
    lead = await make_lead(client, owner)
    for stage in ("nope", stage_id(deal, "negotiation"), str(uuid.uuid4())):
        resp = await move(client, owner, lead["id"], stage)
        assert resp.status_code == 422 and resp.json()["code"] == "STAGE_NOT_FOUND", stage
    resp = await move(client, owner, lead["id"], "qualified", pipeline_id=deal["id"])
    assert resp.status_code == 422
    resp = await client.post(f"/api/v1/leads/{lead['id']}/stage", headers=owner.headers,
                             json={"stage": ""})
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "stage"
    resp = await client.post(f"/api/v1/leads/{lead['id']}/stage",
                             headers={**owner.headers, "If-Match": '"9"'},
                             json={"stage": "won"})
    assert resp.status_code == 412
    stranger = await make_workspace(client)
    resp = await move(client, stranger, lead["id"], "won")
    assert resp.status_code == 404 and resp.json()["code"] == "LEAD_NOT_FOUND"
    resp = await client.get(f"/api/v1/leads/{lead['id']}/stage-history",
                            headers=stranger.headers)
    assert resp.status_code == 404
    viewer = await add_member(client, owner, "viewer")
    assert (await move(client, viewer, lead["id"], "won")).status_code == 403
    history = await client.get(f"/api/v1/leads/{lead['id']}/stage-history",
                               headers=viewer.headers)
    assert history.status_code == 200


async def test_move_to_another_lead_pipeline(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    other = (await client.post(PIPELINES, headers=owner.headers, json={
        "name": "Partners", "stages": [{"name": "Intro"}, {"name": "Qualified"}]})).json()
    lead = await make_lead(client, owner)
    resp = await move(client, owner, lead["id"], "qualified", pipeline_id=other["id"])
    assert resp.status_code == 200, resp.text
    moved = resp.json()["lead"]
    assert moved["pipeline_id"] == other["id"] and moved["stage_id"] == stage_id(other,
                                                                                 "qualified")
    # A code now looks in the lead's (new) pipeline.
    resp = await move(client, owner, lead["id"], "intro")
    assert resp.status_code == 200 and resp.json()["lead"]["stage"] == "intro"
    # Create in a named stage.
    made = await make_lead(client, owner, stage="contacted")
    assert made["stage"] == "contacted"
    resp = await client.post("/api/v1/leads", headers=owner.headers,
                             json={"first_name": "X", "stage": "nope"})
    assert resp.status_code == 422 and resp.json()["code"] == "STAGE_NOT_FOUND"
    resp = await client.post("/api/v1/leads", headers=owner.headers,
                             json={"first_name": "X", "stage": "qualified"})
    assert resp.status_code == 422 and resp.json()["code"] == "STAGE_AMBIGUOUS"


async def test_agents_move_only_their_own(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    mine = await make_lead(client, agent)
    theirs = await make_lead(client, owner)
    assert (await move(client, agent, mine["id"], "won")).status_code == 200
    resp = await move(client, agent, theirs["id"], "won")
    assert resp.status_code == 404 and resp.json()["code"] == "LEAD_NOT_FOUND"


async def test_list_filters(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    p = await default_pipeline(client, owner)
    other = (await client.post(PIPELINES, headers=owner.headers, json={
        "name": "Partners", "stages": [{"name": "Intro"}]})).json()
    a = await make_lead(client, owner, source="f")
    b = await make_lead(client, owner, source="f")
    c = await make_lead(client, owner, source="f", pipeline_id=other["id"])
    await move(client, owner, b["id"], "won")

    async def ids(query: str) -> set[str]:
        resp = await client.get(f"/api/v1/leads?source=f&{query}", headers=owner.headers)
        assert resp.status_code == 200, resp.text
        return {r["id"] for r in resp.json()["data"]}

    assert await ids("stage=new") == {a["id"]}
    assert await ids("stage=new,won") == {a["id"], b["id"]}
    assert await ids(f"stage={stage_id(p, 'won')}") == {b["id"]}
    assert await ids(f"pipeline_id={other['id']}") == {c["id"]}
    assert await ids(f"pipeline_id={p['id']}") == {a["id"], b["id"]}
    assert await ids(f"pipeline_id={other['id']}&stage=intro") == {c["id"]}
    assert await ids(f"stage={uuid.uuid4()}") == set()
    resp = await client.get("/api/v1/leads?stage=nope", headers=owner.headers)
    assert resp.status_code == 422 and resp.json()["code"] == "INVALID_FILTER"
    resp = await client.get("/api/v1/leads?pipeline_id=x", headers=owner.headers)
    assert resp.status_code == 422
    resp = await client.get("/api/v1/leads?stale_days=0", headers=owner.headers)
    assert resp.status_code == 422
    # stale_days: nothing logged and no move for N days.
    async with db.transaction(owner.tenant_id) as session:
        await session.execute(text(
            "UPDATE leads SET created_at = now() - interval '40 days', "
            "stage_entered_at = now() - interval '40 days' WHERE id = ANY(:i)"),
            {"i": [uuid.UUID(a["id"]), uuid.UUID(c["id"])]})
        await session.execute(text(
            "UPDATE leads SET last_activity_at = now() - interval '2 days' WHERE id = :i"),
            {"i": uuid.UUID(c["id"])})
    assert await ids("stale_days=30") == {a["id"]}
    assert await ids("stale_days=1") == {a["id"], c["id"]}
    assert await ids("stale_days=30&stage=new") == {a["id"]}
