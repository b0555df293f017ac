"""Evaluating auto-advance: ``POST /leads/{id}/auto-advance`` (and ``?dry_run=true``), the
move as a stage change, the worker after events, and the loop guard."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import psycopg
from sqlalchemy import text

from leadbase.config import Settings
from leadbase.db.session import Database
from leadbase.events import service as events_service
from leadbase.pipelines.advance import jobs as advance_jobs
from leadbase.worker.app import build_app
from leadbase.worker.runtime import Runtime, set_runtime
from tests.factories import Member, add_member, make_lead, make_workspace
from tests.pipelines.conftest import PIPELINES, default_pipeline, move, stage_id
from tests.pipelines.test_advance_rules import ALWAYS, add_rule

CALLED = {"field": "activities.call", "op": "gte", "value": 1, "within_days": 7}
HOT = {"all": [{"field": "score", "op": "gte", "value": 80}, ALWAYS]}


async def _advance(client: httpx.AsyncClient, member: Member, lead_id: str,
                   dry_run: bool = False) -> httpx.Response:
    return await client.post(f"/api/v1/leads/{lead_id}/auto-advance"
                             + ("?dry_run=true" if dry_run else ""), headers=member.headers)


async def _call(client: httpx.AsyncClient, member: Member, lead_id: str) -> None:
    resp = await client.post("/api/v1/activities", headers=member.headers,
                             json={"type": "call", "lead_id": lead_id})
    assert resp.status_code == 201, resp.text


async def _moves(db: Database, tenant_id: uuid.UUID, lead_id: str) -> list[tuple[str, str]]:
    async with db.transaction(tenant_id) as session:
        rows = (await session.execute(text(
            "SELECT t.code, c.reason FROM stage_changes c JOIN pipeline_stages t "
            "ON t.id = c.to_stage_id WHERE c.lead_id = :l AND c.from_stage_id IS NOT NULL "
            "ORDER BY c.changed_at, c.number"), {"l": lead_id})).all()
    return [(r[0], r[1]) for r in rows]


async def test_dry_run_explains_and_the_move_is_a_stage_change(
        client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    p = await default_pipeline(client, owner)
    await add_rule(client, owner, p, "new", "qualified", "Off", ALWAYS, enabled=False)
    await add_rule(client, owner, p, "new", "qualified", "Hot", HOT)
    await add_rule(client, owner, p, "new", "contacted", "Called", CALLED)
    await add_rule(client, owner, p, "new", "proposal", "Anything", ALWAYS)
    await add_rule(client, owner, p, "contacted", "qualified", "Onward", ALWAYS)
    lead = await make_lead(client, owner)
    await _call(client, owner, lead["id"])
    before = (await client.get(f"/api/v1/leads/{lead['id']}", headers=owner.headers)).json()

    dry = await _advance(client, owner, lead["id"], dry_run=True)
    assert dry.status_code == 200, dry.text
    body = dry.json()
    assert body["dry_run"] and not body["moved"] and body["change"] is None
    assert body["stage"] == "new" and body["fired"]["name"] == "Called"
    outcomes = [(v["name"], v["outcome"]) for v in body["rules"]]
    assert outcomes == [("Off", "disabled"), ("Hot", "not_matched"), ("Called", "would_fire"),
                        ("Anything", "shadowed")]
    hot = body["rules"][1]
    assert len(hot["unmet"]) == 1 and "80" in hot["unmet"][0] and "80" in hot["reason"]
    assert "Called" in body["rules"][3]["reason"]
    after = (await client.get(f"/api/v1/leads/{lead['id']}", headers=owner.headers)).json()
    assert after["version"] == before["version"] and after["stage"] == "new"
    assert await _moves(db, owner.tenant_id, lead["id"]) == []

    resp = await _advance(client, owner, lead["id"])
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["moved"] and body["fired"]["outcome"] == "fired"
    assert body["lead"]["stage"] == "contacted" and resp.headers["etag"] == \
        f'"{body["lead"]["version"]}"'
    assert body["change"]["reason"] == "auto-advance: Called"
    assert body["change"]["actor_user_id"] == str(owner.user_id)
    # One move per evaluation: "Onward" of the target stage waits for the next one.
    assert await _moves(db, owner.tenant_id, lead["id"]) == [("contacted",
                                                              "auto-advance: Called")]
    history = (await client.get(f"/api/v1/leads/{lead['id']}/stage-history",
                                headers=owner.headers)).json()
    assert history["data"][0]["reason"] == "auto-advance: Called"
    timeline = (await client.get(f"/api/v1/leads/{lead['id']}/timeline",
                                 headers=owner.headers)).json()
    entry = next(a for a in timeline["data"] if a["type"] == "stage_change")
    assert entry["attributes"]["reason"] == "auto-advance: Called"
    async with db.transaction(owner.tenant_id) as session:
        payload = (await session.execute(text(
            "SELECT payload FROM events WHERE entity_id = :l AND type = 'lead.stage_changed'"),
            {"l": lead["id"]})).scalar_one()
    assert payload["auto_advance"]["rule"] == "Called"
    # Asked again: the next stage's rule.
    again = (await _advance(client, owner, lead["id"])).json()
    assert again["moved"] and again["lead"]["stage"] == "qualified"
    # No rule in the stage: nothing happens.
    idle = (await _advance(client, owner, lead["id"])).json()
    assert not idle["moved"] and idle["rules"] == [] and idle["fired"] is None


async def test_roles_and_other_workspaces(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    p = await default_pipeline(client, owner)
    await add_rule(client, owner, p, "new", "contacted", "Go", ALWAYS)
    agent = await add_member(client, owner, "agent")
    viewer = await add_member(client, owner, "viewer")
    theirs = await make_lead(client, owner)
    mine = await make_lead(client, agent)
    refused = await _advance(client, viewer, theirs["id"])
    assert refused.status_code == 403 and refused.json()["code"] == "ROLE_REQUIRED"
    assert (await _advance(client, viewer, theirs["id"], dry_run=True)).json()["fired"]
    hidden = await _advance(client, agent, theirs["id"], dry_run=True)
    assert hidden.status_code == 404 and hidden.json()["code"] == "LEAD_NOT_FOUND"
    moved = await _advance(client, agent, mine["id"])
    assert moved.status_code == 200 and moved.json()["lead"]["stage"] == "contacted"
    stranger = await make_workspace(client)
    far = await _advance(client, stranger, theirs["id"], dry_run=True)
    assert far.status_code == 404
    # Idempotency-Key: the second request replays the first move.
    lead = await make_lead(client, owner)
    headers = {**owner.headers, "Idempotency-Key": "adv-1"}
    first = await client.post(f"/api/v1/leads/{lead['id']}/auto-advance", headers=headers)
    second = await client.post(f"/api/v1/leads/{lead['id']}/auto-advance", headers=headers)
    assert first.json() == second.json() and second.headers["idempotency-replayed"] == "true"


async def test_broken_rules_never_fire(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    p = await default_pipeline(client, owner)
    broken = await add_rule(client, owner, p, "new", "contacted", "Broken", ALWAYS)
    await add_rule(client, owner, p, "new", "proposal", "To a deleted stage", ALWAYS)
    await add_rule(client, owner, p, "new", "qualified", "Fine", ALWAYS)
    async with db.transaction(owner.tenant_id) as session:
        await session.execute(text("UPDATE stage_advance_rules SET condition = :c WHERE "
                                   "id = :i"), {"c": '{"field": "gone", "op": "eq", '
                                                     '"value": 1}', "i": broken["id"]})
    deleted = await client.delete(f"{PIPELINES}/{p['id']}/stages/{stage_id(p, 'proposal')}",
                                  headers=owner.headers)
    assert deleted.status_code == 200, deleted.text
    lead = await make_lead(client, owner)
    body = (await _advance(client, owner, lead["id"], dry_run=True)).json()
    assert [(v["name"], v["outcome"]) for v in body["rules"]] == [
        ("Broken", "invalid"), ("To a deleted stage", "target_missing"),
        ("Fine", "would_fire")]
    assert "gone" in body["rules"][0]["reason"]
    listed = (await client.get(
        f"{PIPELINES}/{p['id']}/stages/{stage_id(p, 'new')}/advance-rules",
        headers=owner.headers)).json()
    assert listed["data"][0]["problems"] and listed["data"][0]["summary"] is None


async def _run_worker(db: Database, settings: Settings, libpq: str) -> None:
    """The outbox drained, then the real worker on the advance queue until it is empty."""
    await events_service.drain(db)
    app = build_app(libpq)
    set_runtime(Runtime(settings=settings, db=db))
    async with app.open_async():
        await app.run_worker_async(queues=[advance_jobs.QUEUE], wait=False,
                                   install_signal_handlers=False, delete_jobs="successful")


async def _queued(libpq: str, lead_id: str) -> int:
    async with await psycopg.AsyncConnection.connect(libpq) as conn:
        cur = await conn.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = %s "
            "AND args->>'lead_id' = %s", (f"leadbase:{advance_jobs.TASK}", lead_id))
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def test_events_advance_leads_and_the_chain_ends_with_the_move(
        client: httpx.AsyncClient, db: Database, settings: Settings, libpq: str) -> None:
    owner = await make_workspace(client)
    p = await default_pipeline(client, owner)
    # A pair of rules that would move a lead back and forth for ever.
    await add_rule(client, owner, p, "new", "contacted", "Ping", ALWAYS)
    await add_rule(client, owner, p, "contacted", "new", "Pong", ALWAYS)
    lead = await make_lead(client, owner)
    await _run_worker(db, settings, libpq)
    got = (await client.get(f"/api/v1/leads/{lead['id']}", headers=owner.headers)).json()
    assert got["stage"] == "contacted"
    # The move's own event queued nothing: the chain ended with it.
    await _run_worker(db, settings, libpq)
    assert await _moves(db, owner.tenant_id, lead["id"]) == [("contacted", "auto-advance: Ping")]
    assert await _queued(libpq, lead["id"]) == 0
    # The next outside change is a new chain: one more move.
    await client.patch(f"/api/v1/leads/{lead['id']}", headers=owner.headers,
                       json={"company": "Acme"})
    await _run_worker(db, settings, libpq)
    await _run_worker(db, settings, libpq)
    assert await _moves(db, owner.tenant_id, lead["id"]) == [
        ("contacted", "auto-advance: Ping"), ("new", "auto-advance: Pong")]
    async with db.transaction(owner.tenant_id) as session:
        actor = (await session.execute(text(
            "SELECT actor_user_id FROM stage_changes WHERE lead_id = :l AND reason LIKE "
            "'auto-advance%' LIMIT 1"), {"l": lead["id"]})).scalar_one()
    assert actor is None  # the platform moved it, naming the rule


async def test_logged_activities_and_manual_moves_are_events(
        client: httpx.AsyncClient, db: Database, settings: Settings, libpq: str) -> None:
    owner = await make_workspace(client)
    p = await default_pipeline(client, owner)
    await add_rule(client, owner, p, "contacted", "qualified", "Called", CALLED)
    quiet = await make_lead(client, owner)  # in "new": no rules there
    lead = await make_lead(client, owner)
    await _run_worker(db, settings, libpq)
    assert await _queued(libpq, quiet["id"]) == 0
    await move(client, owner, lead["id"], "contacted")
    await _run_worker(db, settings, libpq)  # the manual move: evaluated, no call yet
    assert (await client.get(f"/api/v1/leads/{lead['id']}",
                             headers=owner.headers)).json()["stage"] == "contacted"
    await _call(client, owner, lead["id"])
    await _run_worker(db, settings, libpq)
    assert (await client.get(f"/api/v1/leads/{lead['id']}",
                             headers=owner.headers)).json()["stage"] == "qualified"


def test_which_events_start_an_evaluation() -> None:
    lead_id = uuid.uuid4()

    def event(kind: str, payload: dict[str, Any], entity: uuid.UUID | None = None
              ) -> dict[str, Any]:
        return {"type": kind, "payload": payload, "entity_id": entity or uuid.uuid4(),
                "tenant_id": uuid.uuid4()}

    assert advance_jobs.lead_of(event("lead.created", {}, lead_id)) == lead_id
    assert advance_jobs.lead_of(event("lead.stage_changed", {"change": {}}, lead_id)) == lead_id
    assert advance_jobs.lead_of(event("lead.stage_changed",
                                      {"auto_advance": {"rule": "x"}}, lead_id)) is None
    assert advance_jobs.lead_of(event("activity.created", {"lead_id": str(lead_id)})) == lead_id
    assert advance_jobs.lead_of(event("task.updated", {"task": {"lead_id": str(lead_id)}})) \
        == lead_id
    assert advance_jobs.lead_of(event("task.created", {"lead_id": None})) is None
