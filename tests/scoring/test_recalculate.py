"""The set-based recalculation: a job with progress whose scores and breakdowns equal the
one-by-one recompute; the preview of a draft model writes nothing."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import text

from leadbase.db.session import Database
from leadbase.scoring import runs
from tests.factories import add_member, make_lead, make_workspace
from tests.scoring.helpers import log_calls, model_body, put_model, score

SOURCES = ["website", "referral", None]


async def _leads(client: httpx.AsyncClient, db: Database, owner, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    ids = []
    for i in range(n):
        tags = [t for t, on in (("vip", i % 3 == 0), ("competitor", i % 4 == 0)) if on]
        lead = await make_lead(client, owner, source=SOURCES[i % 3], tags=tags)
        if i % 5 == 0:
            await log_calls(client, owner, lead["id"], 2)
        ids.append(lead["id"])
    async with db.transaction(owner.tenant_id) as session:
        # Idle for whole days (and an hour): no day boundary between the two computations.
        await session.execute(text(
            "UPDATE leads SET created_at = now() - make_interval(days => number::int * 3, "
            "hours => 1), last_activity_at = CASE WHEN number % 2 = 0 THEN NULL ELSE "
            "now() - make_interval(days => number::int, hours => 1) END "
            "WHERE tenant_id = :t"), {"t": owner.tenant_id})
    return ids


def _essence(b: dict) -> tuple:  # type: ignore[type-arg]
    return (b["score"], b["temperature"], b["points"], b["model_version"],
            [(i["kind"], i["rule"], i["points"], i["why"]) for i in b["items"]])


async def test_recalculation_equals_one_by_one(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    other = await make_workspace(client)
    ids = await _leads(client, db, owner, 24)
    foreign = await make_lead(client, other, source="website", tags=["vip"])
    body = model_body(decay={"mode": "half_life", "half_life_days": 10})
    assert (await put_model(client, owner, body)).status_code == 200
    resp = await client.post("/api/v1/scoring/recalculate", headers=owner.headers)
    assert resp.status_code == 202, resp.text
    job = resp.json()
    assert job["status"] == "queued" and job["total"] == 24 and job["model_version"] == 1
    assert await runs.run_job(db, tenant_id=owner.tenant_id, job_id=uuid.UUID(job["id"]),
                              batch=7) == "completed"
    done = (await client.get(f"/api/v1/scoring/jobs/{job['id']}", headers=owner.headers)).json()
    assert done["status"] == "completed" and done["processed"] == 24
    assert done["changed"] > 0 and done["temperature_changed"] > 0
    by_job = {i: await score(client, owner, i) for i in ids}
    assert any(b["breakdown"]["items"] and b["breakdown"]["items"][-1]["kind"] == "decay"
               for b in by_job.values())
    for lead_id in ids:
        one = await score(client, owner, lead_id, recompute=True)
        assert _essence(one["breakdown"]) == _essence(by_job[lead_id]["breakdown"]), lead_id
        assert (one["score"], one["temperature"]) == (by_job[lead_id]["score"],
                                                     by_job[lead_id]["temperature"])
    # Events: one lead.score_changed per temperature change; never lead.updated.
    async with db.transaction(owner.tenant_id) as session:
        events = (await session.execute(text(
            "SELECT count(*) FROM events WHERE type = 'lead.score_changed' AND "
            "payload->>'reason' = 'recalculate'"))).scalar_one()
        updated = (await session.execute(text(
            "SELECT count(*) FROM events WHERE type = 'lead.updated'"))).scalar_one()
    assert events == done["temperature_changed"] and updated == 0
    # A second run changes nothing; the other workspace was never touched.
    again = (await client.post("/api/v1/scoring/recalculate", headers=owner.headers)).json()
    await runs.run_job(db, tenant_id=owner.tenant_id, job_id=uuid.UUID(again["id"]))
    again = (await client.get(f"/api/v1/scoring/jobs/{again['id']}",
                              headers=owner.headers)).json()
    assert again["processed"] == 24 and again["changed"] == 0
    assert (await score(client, other, foreign["id"]))["score"] == 0
    # Other workspaces' jobs are not found; agents and viewers may not recalculate.
    assert (await client.get(f"/api/v1/scoring/jobs/{job['id']}",
                             headers=other.headers)).status_code == 404
    for role in ("agent", "viewer"):
        member = await add_member(client, owner, role)
        resp = await client.post("/api/v1/scoring/recalculate", headers=member.headers)
        assert resp.status_code == 403, role


async def test_recalculate_without_model_and_cancel(client: httpx.AsyncClient,
                                                    db: Database) -> None:
    owner = await make_workspace(client)
    resp = await client.post("/api/v1/scoring/recalculate", headers=owner.headers)
    assert resp.status_code == 409 and resp.json()["code"] == "SCORING_MODEL_MISSING"
    await put_model(client, owner)
    job = (await client.post("/api/v1/scoring/recalculate", headers=owner.headers)).json()
    url = f"/api/v1/scoring/jobs/{job['id']}"
    assert (await client.post(f"{url}/cancel", headers=owner.headers)).json()["status"] == \
        "cancelled"
    assert await runs.run_job(db, tenant_id=owner.tenant_id,
                              job_id=uuid.UUID(job["id"])) == "cancelled"
    resp = await client.post(f"{url}/cancel", headers=owner.headers)
    assert resp.status_code == 409
    listed = (await client.get("/api/v1/scoring/jobs", headers=owner.headers)).json()
    assert [j["id"] for j in listed["data"]] == [job["id"]]


async def test_preview_writes_nothing(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    ids = await _leads(client, db, owner, 12)
    await put_model(client, owner)
    for lead_id in ids:
        await score(client, owner, lead_id, recompute=True)

    async def snapshot() -> tuple:  # type: ignore[type-arg]
        async with db.transaction(owner.tenant_id) as session:
            leads = (await session.execute(text(
                "SELECT id, score, temperature, score_breakdown, version, updated_at "
                "FROM leads ORDER BY id"))).all()
            events = (await session.execute(text("SELECT count(*) FROM events"))).scalar_one()
            audits = (await session.execute(text(
                "SELECT count(*) FROM audit_entries"))).scalar_one()
            models = (await session.execute(text(
                "SELECT count(*) FROM scoring_models"))).scalar_one()
        return leads, events, audits, models

    before = await snapshot()
    draft = model_body([{"name": "Referral", "points": 70, "condition": {
        "field": "source", "op": "eq", "value": "referral"}}])
    resp = await client.post("/api/v1/scoring/preview", headers=owner.headers, json=draft)
    assert resp.status_code == 200, resp.text
    got = resp.json()
    assert await snapshot() == before
    assert got["leads"] == 12 and sum(h["leads"] for h in got["histogram"]) == 12
    assert [h["from"] for h in got["histogram"]] == list(range(0, 100, 10))
    assert got["temperatures"]["hot"] == 4  # the four referrals, 70 each
    assert sum(got["current_temperatures"].values()) == 12
    assert got["temperature_changes"] >= 4 and len(got["sample"]) == got["temperature_changes"]
    assert {s["temperature"] for s in got["sample"]} <= {"hot", "cold", "warm"}
    bad = await client.post("/api/v1/scoring/preview", headers=owner.headers, json=model_body(
        [{"name": "x", "points": 5, "condition": {"field": "nope", "op": "eq", "value": 1}}]))
    assert bad.status_code == 422 and bad.json()["code"] == "INVALID_RULE"
    agent = await add_member(client, owner, "agent")
    assert (await client.post("/api/v1/scoring/preview", headers=agent.headers,
                              json=draft)).status_code == 403


async def test_daily_decay(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    plain = await make_workspace(client)  # a model without decay: left alone
    rules = [{"name": "Website", "points": 80,
              "condition": {"field": "source", "op": "eq", "value": "website"}}]
    await put_model(client, owner, model_body(rules, decay={"mode": "per_day",
                                                            "points_per_day": 3}))
    await put_model(client, plain, model_body(rules))
    lead = await make_lead(client, owner, source="website")
    other = await make_lead(client, plain, source="website")
    for member, lead_id in ((owner, lead["id"]), (plain, other["id"])):
        assert (await score(client, member, lead_id, recompute=True))["score"] == 80
    async with db.transaction(owner.tenant_id) as session:
        await session.execute(text("UPDATE leads SET last_activity_at = now() - interval "
                                   "'10 days 2 hours' WHERE id = :i"), {"i": lead["id"]})
    assert await runs.decay_all(db) >= 1
    got = await score(client, owner, lead["id"])
    assert got["score"] == 50 and got["breakdown"]["items"][-1]["why"] == \
        "no activity for 10 days: -30"
    jobs = (await client.get("/api/v1/scoring/jobs", headers=owner.headers)).json()["data"]
    assert [(j["kind"], j["status"], j["changed"]) for j in jobs] == [("decay", "completed", 1)]
    assert (await client.get("/api/v1/scoring/jobs", headers=plain.headers)).json()[
        "data"] == []
