"""Placing through a real provider client (VAPI's) against a local server that speaks
its protocol: a 500, a timeout, success and its webhooks; reconciliation of a call no
provider reported back on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from leadbase.calls import providers, reconcile
from leadbase.config import Settings
from leadbase.db.session import Database
from leadbase.providers.voice.http import RetryPolicy
from leadbase.providers.voice.vapi import VapiProvider
from tests.calls.helpers import (
    CALLS,
    TASKS,
    enqueue,
    make_agent,
    phone_lead,
    place_queued,
    run_jobs,
    tick,
)
from tests.factories import make_workspace
from tests.providers.voice.servers import VAPI_KEY, Fault, VapiServer, vapi_signed

FAST = RetryPolicy(retries=1, backoff_base=0.01, backoff_max=0.02, retry_after_max=1.0)
HOOK = "/api/v1/calls/webhooks/voice/vapi"


@pytest.fixture
def vapi(settings: Settings) -> Iterator[VapiServer]:
    with VapiServer() as server:
        client = VapiProvider(settings.model_copy(update={"voice_timeout_seconds": 0.5}),
                              base_url=server.url, policy=FAST)
        with providers.override("vapi", client):
            yield server


async def _vapi_task(client: httpx.AsyncClient, name: str) -> tuple[object, dict[str, object],
                                                                   dict[str, object]]:
    owner = await make_workspace(client, name)
    agent = await make_agent(client, owner, provider="vapi", settings={
        "api_key": VAPI_KEY, "assistant_id": "asst_1", "phone_number_id": "pn_1"},
        retry_delay_minutes=10)
    assert agent["secret_keys"] == ["api_key"] and agent["settings"] == {
        "assistant_id": "asst_1", "phone_number_id": "pn_1"}
    lead = await phone_lead(client, owner)
    task = await enqueue(client, owner, agent, lead)
    return owner, agent, task


async def test_a_500_fails_the_attempt_and_schedules_the_retry(
        client: httpx.AsyncClient, db: Database, settings: Settings, libpq: str,
        vapi: VapiServer) -> None:
    owner, _agent, task = await _vapi_task(client, "Vapi 500")
    vapi.fail(*[Fault(500, {"message": "Internal server error"})] * 8)
    await tick(db, owner.tenant_id)
    assert await place_queued(libpq, db, settings, owner.tenant_id) == ["failed"]
    assert len([r for r in vapi.requests if r.method == "POST"]) == 4  # 2 x (1 + 1 retry)
    await run_jobs(libpq, db, settings, owner.tenant_id)
    call = (await client.get(CALLS, headers=owner.headers)).json()["data"][0]
    assert call["status"] == "failed" and call["outcome"] == "failed"
    assert "500" in call["error"]
    after = (await client.get(f"{TASKS}/{task['id']}", headers=owner.headers)).json()
    assert after["status"] == "in_progress" and after["last_outcome"] == "failed"
    assert after["active_call_id"] is None and after["attempts"] == 1
    due = datetime.fromisoformat(after["next_attempt_at"])
    assert due > datetime.now(UTC) + timedelta(minutes=9)


async def test_a_timeout_is_never_placed_twice_and_is_reconciled(
        client: httpx.AsyncClient, db: Database, settings: Settings, libpq: str,
        vapi: VapiServer) -> None:
    owner, _agent, task = await _vapi_task(client, "Vapi timeout")
    vapi.fail(Fault.hanging(1.5))
    await tick(db, owner.tenant_id)
    assert await place_queued(libpq, db, settings, owner.tenant_id) == ["unknown"]
    assert len([r for r in vapi.requests if r.method == "POST"]) == 1
    running = (await client.get(f"{TASKS}/{task['id']}", headers=owner.headers)).json()
    assert running["active_call_id"] is not None
    # Reconciliation, past the deadline: no external id to ask about, closed as failed.
    later = datetime.now(UTC) + timedelta(seconds=settings.voice_reconcile_after_seconds + 5)
    assert await reconcile.reconcile_workspace(db, settings, tenant_id=owner.tenant_id,
                                               now=later) == 1
    await run_jobs(libpq, db, settings, owner.tenant_id)
    call = (await client.get(CALLS, headers=owner.headers)).json()["data"][0]
    assert call["status"] == "failed" and "no final status" in call["error"]
    after = (await client.get(f"{TASKS}/{task['id']}", headers=owner.headers)).json()
    assert after["active_call_id"] is None and after["status"] == "in_progress"


async def test_placed_then_reported_by_webhook(
        client: httpx.AsyncClient, db: Database, settings: Settings, libpq: str,
        vapi: VapiServer) -> None:
    owner, agent, task = await _vapi_task(client, "Vapi ok")
    await tick(db, owner.tenant_id)
    assert await place_queued(libpq, db, settings, owner.tenant_id) == ["placed"]
    (posted,) = [r for r in vapi.requests if r.method == "POST"]
    secret = posted.json["assistantOverrides"]["server"]["headers"]["X-Vapi-Secret"]
    assert secret == agent["webhook_secret"]
    external = next(iter(vapi.calls))
    report = vapi.end_of_call_report(external)
    headers, body = vapi_signed(report, secret)
    for _ in range(5):
        assert (await client.post(HOOK, headers=headers, content=body)).status_code == 202
    late_h, late_b = vapi_signed(vapi.status_update(external, "ringing"), secret)
    assert (await client.post(HOOK, headers=late_h, content=late_b)).status_code == 202
    wrong_h, _ = vapi_signed(report, "not-the-secret")
    assert (await client.post(HOOK, headers=wrong_h, content=body)).status_code == 401
    await run_jobs(libpq, db, settings, owner.tenant_id)
    call = (await client.get(CALLS, headers=owner.headers)).json()["data"][0]
    assert call["external_id"] == external and call["status"] == "completed"
    assert call["summary"] and call["recording_url"] and call["cost"] is not None
    done = (await client.get(f"{TASKS}/{task['id']}", headers=owner.headers)).json()
    assert done["status"] == "done" and done["attempts"] == 1
