"""Predictive scoring: refusals, a deterministic fit with its AUC and factors, acceptance,
every lead predicted by a job, one lead on its rescore, roles and workspaces."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import text

from leadbase.db.session import Database
from leadbase.scoring import runs
from leadbase.scoring.predictive import service as predictive
from tests.factories import add_member, make_workspace
from tests.scoring.helpers import put_model, score

_LEADS_SQL = """
INSERT INTO leads (id, tenant_id, list_id, first_name, email, phone, source, status, tags,
                   fields)
SELECT lb_uuid7(), :t, (SELECT id FROM lead_lists WHERE tenant_id = :t AND is_default),
       'L' || g,
       CASE WHEN g % 3 = 0 THEN NULL ELSE 'p' || g || '-' || :salt || '@example.com' END,
       NULL,
       CASE WHEN :status = 'converted'
            THEN (CASE WHEN g % 5 = 0 THEN 'facebook' ELSE 'referral' END)
            ELSE (CASE WHEN g % 5 = 0 THEN 'referral' ELSE 'facebook' END) END,
       :status,
       CASE WHEN :status = 'converted' AND g % 2 = 0 THEN ARRAY['hot-lead'] ELSE '{}' END,
       jsonb_build_object('budget', (g * 7) % 100)
FROM generate_series(1, :n) AS g
"""


async def _history(db: Database, tenant_id: uuid.UUID, converted: int, lost: int,
                   open_leads: int = 5) -> None:
    async with db.transaction(tenant_id) as session:
        for status, n in (("converted", converted), ("lost", lost), ("new", open_leads)):
            if n:
                await session.execute(text(_LEADS_SQL), {"t": tenant_id, "n": n,
                                                         "status": status,
                                                         "salt": uuid.uuid4().hex[:6]})
        # Calls for the converted ones (every other one).
        await session.execute(text(
            "INSERT INTO activities (id, tenant_id, lead_id, type) SELECT lb_uuid7(), "
            "tenant_id, id, 'call' FROM leads WHERE tenant_id = :t AND status = 'converted' "
            "AND number % 2 = 1"), {"t": tenant_id})


async def test_training_refuses_thin_history(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    await _history(db, owner.tenant_id, converted=49, lost=80)
    resp = await client.post("/api/v1/scoring/train", headers=owner.headers, json={})
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert body["code"] == "NOT_ENOUGH_LABELLED_LEADS"
    assert (body["converted"], body["lost_or_unqualified"], body["needed_per_class"]) == (
        49, 80, 50)
    listed = (await client.get("/api/v1/scoring/predictors", headers=owner.headers)).json()
    assert listed["data"] == []


async def test_train_accept_predict(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    other = await make_workspace(client)
    await _history(db, owner.tenant_id, converted=80, lost=90)
    first = await client.post("/api/v1/scoring/train", headers=owner.headers, json={})
    assert first.status_code == 201, first.text
    trained = first.json()["predictor"]
    assert trained["version"] == 1 and trained["status"] == "trained"
    assert trained["auc"] > 0.8 and trained["metrics"]["converted"] == 80
    assert trained["metrics"]["not_converted"] == 90 and trained["features"] > 3
    names = [f["feature"] for f in trained["factors"]]
    assert "source is referral" in names[:3] or "source is facebook" in names[:3]
    # Deterministic: the same data gives the same model.
    second = (await client.post("/api/v1/scoring/train", headers=owner.headers,
                                json={})).json()["predictor"]
    assert second["version"] == 2
    assert (second["auc"], second["factors"]) == (trained["auc"], trained["factors"])
    async with db.transaction(owner.tenant_id) as session:
        stored = (await session.execute(text(
            "SELECT features, intercept FROM scoring_predictors ORDER BY version"))).all()
    assert stored[0] == stored[1]
    # Not predicting until accepted.
    lead_id = await _a_lead(db, owner.tenant_id, "new")
    assert (await score(client, owner, lead_id))["predicted_conversion"] is None
    resp = await client.post("/api/v1/scoring/predictors/1/accept", headers=owner.headers)
    assert resp.status_code == 200, resp.text
    job = resp.json()["job"]
    assert job["kind"] == "predict" and job["predictor_version"] == 1
    assert await runs.run_job(db, tenant_id=owner.tenant_id, job_id=uuid.UUID(job["id"]),
                              batch=50) == "completed"
    done = (await client.get(f"/api/v1/scoring/jobs/{job['id']}", headers=owner.headers)).json()
    assert done["processed"] == 175 and done["status"] == "completed"
    got = await score(client, owner, lead_id)
    assert 0 < got["predicted_conversion"] < 1
    assert got["prediction"]["predictor_version"] == 1
    factors = got["prediction"]["factors"]
    assert 1 <= len(factors) <= 3 and all("odds" in f["why"] for f in factors)
    converted = await _a_lead(db, owner.tenant_id, "converted", source="referral")
    lost = await _a_lead(db, owner.tenant_id, "lost", source="facebook")
    assert (await score(client, owner, converted))["predicted_conversion"] > \
        (await score(client, owner, lost))["predicted_conversion"]
    # One lead on its rescore (with a scoring model in force).
    await put_model(client, owner)
    async with db.transaction(owner.tenant_id) as session:
        await session.execute(text("UPDATE lead_predictions SET probability = 0.5 "
                                   "WHERE lead_id = :i"), {"i": lead_id})
    again = await score(client, owner, lead_id, recompute=True)
    assert again["predicted_conversion"] == got["predicted_conversion"]
    # Accepting version 2 retires 1, which cannot come back.
    assert (await client.post("/api/v1/scoring/predictors/2/accept",
                              headers=owner.headers)).status_code == 200
    assert (await client.get("/api/v1/scoring/predictors/1",
                             headers=owner.headers)).json()["status"] == "retired"
    resp = await client.post("/api/v1/scoring/predictors/1/accept", headers=owner.headers)
    assert resp.status_code == 409 and resp.json()["code"] == "PREDICTOR_RETIRED"
    page = (await client.get("/api/v1/scoring/predictors?per_page=1",
                             headers=owner.headers)).json()
    assert [p["version"] for p in page["data"]] == [2] and page["next_cursor"]
    # Other workspaces and roles.
    assert (await client.get("/api/v1/scoring/predictors/1",
                             headers=other.headers)).status_code == 404
    assert (await client.post("/api/v1/scoring/predictors/1/accept",
                              headers=other.headers)).status_code == 404
    agent = await add_member(client, owner, "agent")
    assert (await client.post("/api/v1/scoring/train", headers=agent.headers,
                              json={})).status_code == 403


async def test_large_history_trains_as_a_job(client: httpx.AsyncClient, db: Database,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    owner = await make_workspace(client)
    await _history(db, owner.tenant_id, converted=60, lost=60)
    monkeypatch.setattr(predictive, "TRAIN_INLINE_MAX", 100)
    resp = await client.post("/api/v1/scoring/train", headers=owner.headers,
                             json={"accept": True})
    assert resp.status_code == 202, resp.text
    job = resp.json()["job"]
    assert job["kind"] == "train" and resp.json()["predictor"] is None
    assert await runs.run_job(db, tenant_id=owner.tenant_id,
                              job_id=uuid.UUID(job["id"])) == "completed"
    done = (await client.get(f"/api/v1/scoring/jobs/{job['id']}", headers=owner.headers)).json()
    assert done["result"]["predictor_version"] == 1 and done["result"]["predict_job_id"]
    assert (await client.get("/api/v1/scoring/predictors/1",
                             headers=owner.headers)).json()["status"] == "accepted"


async def _a_lead(db: Database, tenant_id: uuid.UUID, status: str,
                  source: str | None = None) -> str:
    async with db.transaction(tenant_id) as session:
        row = (await session.execute(text(
            "SELECT id FROM leads WHERE status = :s AND (CAST(:src AS text) IS NULL OR "
            "source = :src) ORDER BY number LIMIT 1"), {"s": status, "src": source})).one()
    return str(row[0])
