"""Rescoring after events: the outbox drain queues the leads, the worker's job rescores
them together, ``lead.score_changed`` goes out when a temperature changes, and writing a
score emits no ``lead.updated``."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import text

from leadbase.config import Settings
from leadbase.db.session import Database
from leadbase.events import service as events_service
from leadbase.scoring import runs
from leadbase.scoring.handlers import lead_ids_of
from leadbase.worker.app import build_app
from leadbase.worker.runtime import Runtime, set_runtime
from tests.factories import make_lead, make_workspace
from tests.pipelines.conftest import move
from tests.scoring.helpers import log_calls, model_body, put_model, score


async def _events(db: Database, tenant_id: uuid.UUID, kind: str) -> list[dict]:  # type: ignore[type-arg]
    async with db.transaction(tenant_id) as session:
        return [dict(r) for r in (await session.execute(text(
            "SELECT entity_id, payload FROM events WHERE type = :k ORDER BY created_at, id"),
            {"k": kind})).mappings()]


async def test_events_rescore_through_the_drain(client: httpx.AsyncClient, db: Database,
                                                settings: Settings, libpq: str) -> None:
    owner = await make_workspace(client)
    other = await make_workspace(client)
    await put_model(client, owner)
    lead = await make_lead(client, owner, source="website")
    untouched = await make_lead(client, other, source="website")
    await events_service.drain(db)
    assert await runs.rescore_queued(db, tenant_id=owner.tenant_id) == 1
    assert (await score(client, owner, lead["id"]))["score"] == 15
    # Another workspace without a model queues nothing.
    assert await runs.rescore_queued(db, tenant_id=other.tenant_id) == 0
    assert (await score(client, other, untouched["id"]))["score"] == 0
    # Tags (lead.updated), calls (activity.created) and a stage move, one drain: one batch.
    await client.patch(f"/api/v1/leads/{lead['id']}", headers=owner.headers,
                       json={"tags": ["vip"]})
    await log_calls(client, owner, lead["id"], 2)
    assert (await move(client, owner, lead["id"], "contacted")).status_code == 200
    second = await make_lead(client, owner, tags=["vip"])
    await events_service.drain(db)
    async with db.transaction(owner.tenant_id) as session:
        queued = (await session.execute(text(
            "SELECT count(*) FROM score_queue"))).scalar_one()
    assert queued == 2  # one row per lead, however many events
    # The worker runs the queued rescore job (one per workspace at a time).
    set_runtime(Runtime(settings=settings, db=db))
    app = build_app(libpq)
    async with app.open_async():
        await app.run_worker_async(queues=["scoring"], wait=False,
                                   install_signal_handlers=False, delete_jobs="successful")
    got = await score(client, owner, lead["id"])
    assert got["score"] == 85 and got["temperature"] == "hot"
    assert (await score(client, owner, second["id"]))["score"] == 40
    changed = await _events(db, owner.tenant_id, "lead.score_changed")
    assert sorted((str(e["entity_id"]), e["payload"]["previous_temperature"],
                   e["payload"]["temperature"]) for e in changed) == sorted([
        (lead["id"], "cold", "hot"), (second["id"], "cold", "warm")])
    assert changed[0]["payload"]["reason"] == "event"
    # No loop: the rescore emitted no lead.updated, so the next drain queues nothing.
    updates = await _events(db, owner.tenant_id, "lead.updated")
    assert len(updates) == 1
    await events_service.drain(db)
    assert await runs.rescore_queued(db, tenant_id=owner.tenant_id) == 0
    # The same temperature again: no event.
    await client.patch(f"/api/v1/leads/{lead['id']}", headers=owner.headers,
                       json={"source": "referral"})
    await events_service.drain(db)
    await runs.rescore_queued(db, tenant_id=owner.tenant_id)
    assert (await score(client, owner, lead["id"]))["score"] == 70
    assert len(await _events(db, owner.tenant_id, "lead.score_changed")) == 2


async def test_rescore_roles_and_workspaces(client: httpx.AsyncClient) -> None:
    from tests.factories import add_member

    owner = await make_workspace(client)
    other = await make_workspace(client)
    await put_model(client, owner, model_body())
    lead = await make_lead(client, owner, source="website")
    agent = await add_member(client, owner, "agent")
    mine = await make_lead(client, agent, source="website")
    viewer = await add_member(client, owner, "viewer")
    url = f"/api/v1/leads/{lead['id']}/score"
    assert (await client.post(url, headers=other.headers)).status_code == 404
    assert (await client.get(url, headers=other.headers)).status_code == 404
    assert (await client.post(url, headers=agent.headers)).status_code == 404  # not theirs
    assert (await client.post(url, headers=viewer.headers)).status_code == 403
    assert (await client.get(url, headers=viewer.headers)).status_code == 200
    got = await score(client, agent, mine["id"], recompute=True)
    assert got["score"] == 15
    missing = await client.get(f"/api/v1/leads/{uuid.uuid4()}/score", headers=owner.headers)
    assert missing.status_code == 404 and missing.json()["code"] == "LEAD_NOT_FOUND"
    none = await make_workspace(client)
    lone = await make_lead(client, none)
    resp = await client.post(f"/api/v1/leads/{lone['id']}/score", headers=none.headers)
    assert resp.status_code == 409 and resp.json()["code"] == "SCORING_MODEL_MISSING"


def test_lead_ids_of_events() -> None:
    lead = uuid.uuid4()
    assert lead_ids_of({"type": "lead.created", "entity_type": "lead", "entity_id": lead,
                        "payload": {}}) == [lead]
    assert lead_ids_of({"type": "lead.updated", "entity_type": "lead", "entity_id": lead,
                        "payload": {"changed": ["notes"]}}) == []
    assert lead_ids_of({"type": "activity.created", "entity_type": "activity",
                        "entity_id": uuid.uuid4(), "payload": {"lead_id": str(lead)}}) == [lead]
    assert lead_ids_of({"type": "task.updated", "entity_type": "task", "entity_id": None,
                        "payload": {"task": {"lead_id": str(lead)}}}) == [lead]


async def test_a_completed_import_queues_a_recalculation(client: httpx.AsyncClient,
                                                         db: Database) -> None:
    from leadbase.events import outbox

    owner = await make_workspace(client)
    await put_model(client, owner)
    lead = await make_lead(client, owner, source="website")
    await events_service.drain(db)
    await runs.rescore_queued(db, tenant_id=owner.tenant_id)
    async with db.transaction(owner.tenant_id) as session:
        await session.execute(text("UPDATE leads SET source = 'referral' WHERE id = :i"),
                              {"i": lead["id"]})  # as an import writes: no lead event
        for dry in (True, False):
            await outbox.emit(session, tenant_id=owner.tenant_id, type="import.completed",
                              entity_type="import", entity_id=uuid.uuid4(),
                              payload={"created": 0, "updated": 1, "dry_run": dry})
    await events_service.drain(db)
    jobs = (await client.get("/api/v1/scoring/jobs", headers=owner.headers)).json()["data"]
    assert [j["kind"] for j in jobs] == ["recalculate"]
    await runs.run_job(db, tenant_id=owner.tenant_id, job_id=uuid.UUID(jobs[0]["id"]))
    assert (await score(client, owner, lead["id"]))["score"] == 0  # referral: no rule
