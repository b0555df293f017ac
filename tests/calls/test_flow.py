"""The whole dialer flow against the simulator: an agent, a queued lead, the scheduler's
tick, the placing job, the simulator's signed callbacks through the webhook ingestion,
the call record, the lead's timeline, the task's end and the metrics."""

from __future__ import annotations

import httpx

from leadbase.config import Settings
from leadbase.db.session import Database
from tests.calls.helpers import CALLS, TASKS, enqueue, make_agent, phone_lead, run_jobs, tick
from tests.factories import make_workspace


async def test_enqueue_tick_place_webhooks_record_activity_metrics(
        client: httpx.AsyncClient, db: Database, settings: Settings, libpq: str) -> None:
    owner = await make_workspace(client, "Dialer flow")
    agent = await make_agent(client, owner)
    assert "webhook_secret" in agent and agent["secret_keys"] == []
    lead = await phone_lead(client, owner, first_name="John")
    task = await enqueue(client, owner, agent, lead)
    assert task["status"] == "new" and task["attempts"] == 0

    result = await tick(db, owner.tenant_id)
    assert len(result.placed) == 1
    done = await run_jobs(libpq, db, settings, owner.tenant_id)
    assert "placed" in done and "completed" in done, done

    calls = (await client.get(f"{CALLS}?q=John", headers=owner.headers)).json()["data"]
    assert len(calls) == 1, calls
    call = calls[0]
    assert call["status"] == "completed" and call["outcome"] == "completed"
    assert call["external_id"].startswith("sim_") and call["transcript"]
    assert call["duration_seconds"] and call["agent_name"] == agent["name"]

    task = (await client.get(f"{TASKS}/{task['id']}", headers=owner.headers)).json()
    assert task["status"] == "done" and task["disposition"] == "completed"
    assert task["attempts"] == 1 and task["active_call_id"] is None

    timeline = (await client.get(f"/api/v1/leads/{lead['id']}/timeline",
                                 headers=owner.headers)).json()["data"]
    assert [e["type"] for e in timeline if e["type"] == "call"] == ["call"]
    now = (await client.get(f"/api/v1/leads/{lead['id']}", headers=owner.headers)).json()
    assert now["last_contacted_at"] is not None

    metrics = (await client.get(f"{CALLS}/metrics", headers=owner.headers)).json()
    assert metrics["total_calls"] == 1 and metrics["answered_calls"] == 1
    assert metrics["pickup_rate"] == 100.0 and metrics["active_agents"] == 1
    assert metrics["average_attempts_per_lead"] == 1.0
    assert metrics["by_agent"][0]["agent_id"] == agent["id"]
    assert sum(h["total"] for h in metrics["by_hour"]) == 1
