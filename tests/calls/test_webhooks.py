"""Provider webhooks through HTTP: signatures, idempotency (five times is once), order
(a late event never moves a call back), unknown calls, other workspaces."""

from __future__ import annotations

import httpx
import psycopg

from leadbase.config import Settings
from leadbase.db.session import Database
from tests.calls.helpers import (
    CALLS,
    TASKS,
    enqueue,
    make_agent,
    phone_lead,
    place_queued,
    run_jobs,
    take_deliveries,
    tick,
)
from tests.factories import make_workspace

HOOK = "/api/v1/calls/webhooks/voice/simulator"


async def _placed(client: httpx.AsyncClient, db: Database, settings: Settings, libpq: str,
                  name: str, **agent: object) -> tuple[object, dict[str, object], list[
                      tuple[dict[str, str], bytes]]]:
    owner = await make_workspace(client, name)
    made = await make_agent(client, owner, **agent)
    lead = await phone_lead(client, owner)
    await enqueue(client, owner, made, lead)
    await tick(db, owner.tenant_id)
    assert await place_queued(libpq, db, settings, owner.tenant_id) == ["placed"]
    return owner, made, await take_deliveries(libpq, owner.tenant_id)


async def _events(libpq: str, tenant_id: object) -> int:
    async with await psycopg.AsyncConnection.connect(libpq) as conn:
        row = await (await conn.execute("SELECT count(*) FROM call_events WHERE tenant_id = %s",
                                        (tenant_id,))).fetchone()
    assert row is not None
    return int(row[0])


async def test_five_times_is_once_and_late_events_never_move_back(
        client: httpx.AsyncClient, db: Database, settings: Settings, libpq: str) -> None:
    owner, _agent, deliveries = await _placed(client, db, settings, libpq, "Hooks order")
    assert len(deliveries) >= 3  # ringing, in progress, completed
    before = await _events(libpq, owner.tenant_id)  # the placing job's own
    final_headers, final_body = deliveries[-1]
    for _ in range(5):
        resp = await client.post(HOOK, headers=final_headers, content=final_body)
        assert resp.status_code == 202, resp.text
    assert resp.json() == {"received": 1, "new": 0}
    assert await _events(libpq, owner.tenant_id) == before + 1
    await run_jobs(libpq, db, settings, owner.tenant_id)
    call = (await client.get(CALLS, headers=owner.headers)).json()["data"][0]
    assert call["status"] == "completed"
    # The earlier ones arrive late (out of order, twice each).
    for headers, body in deliveries[:-1] * 2:
        assert (await client.post(HOOK, headers=headers, content=body)).status_code == 202
    await run_jobs(libpq, db, settings, owner.tenant_id)
    after = (await client.get(f"{CALLS}/{call['id']}", headers=owner.headers)).json()
    assert after["status"] == "completed" and after["outcome"] == call["outcome"]
    assert after["duration_seconds"] == call["duration_seconds"]
    timeline = (await client.get(f"/api/v1/leads/{call['lead_id']}/timeline",
                                 headers=owner.headers)).json()["data"]
    assert len([e for e in timeline if e["type"] == "call"]) == 1
    task = (await client.get(f"{TASKS}/{call['dial_task_id']}", headers=owner.headers)).json()
    assert task["attempts"] == 1 and task["status"] == "done"


async def test_bad_signature_unknown_call_and_bad_body(
        client: httpx.AsyncClient, db: Database, settings: Settings, libpq: str) -> None:
    owner, _agent, deliveries = await _placed(client, db, settings, libpq, "Hooks auth")
    headers, body = deliveries[-1]
    before = await _events(libpq, owner.tenant_id)
    forged = {**headers, "x-simulator-signature": "sha256=" + "0" * 64}
    resp = await client.post(HOOK, headers=forged, content=body)
    assert resp.status_code == 401 and resp.json()["code"] == "WEBHOOK_SIGNATURE_INVALID"
    unsigned = {k: v for k, v in headers.items() if k.lower() != "x-simulator-signature"}
    assert (await client.post(HOOK, headers=unsigned, content=body)).status_code == 401
    tampered = body.replace(b'"completed"', b'"failed"')
    assert (await client.post(HOOK, headers=headers, content=tampered)).status_code == 401
    assert await _events(libpq, owner.tenant_id) == before
    ghost = body.replace(b'"call_id":"sim_', b'"call_id":"sim_0').replace(
        b'"leadbase_call_id":"', b'"leadbase_call_id":"0')
    resp = await client.post(HOOK, headers=headers, content=ghost)
    assert resp.status_code in (400, 404), resp.text
    resp = await client.post(HOOK, headers=headers, content=b"not json")
    assert resp.status_code == 400 and resp.json()["code"] == "INVALID_WEBHOOK"
    resp = await client.post("/api/v1/calls/webhooks/voice/skype", headers=headers,
                             content=body)
    assert resp.status_code == 404 and resp.json()["code"] == "VOICE_PROVIDER_NOT_FOUND"


async def test_another_workspaces_secret_does_not_sign(
        client: httpx.AsyncClient, db: Database, settings: Settings, libpq: str) -> None:
    """A webhook signed with workspace B's agent secret for workspace A's call is refused
    (the secret is the call's agent's)."""
    owner_a, _a, deliveries_a = await _placed(client, db, settings, libpq, "Hooks A")
    _owner_b, _b, deliveries_b = await _placed(client, db, settings, libpq, "Hooks B")
    headers_b, _body_b = deliveries_b[-1]
    _headers_a, body_a = deliveries_a[-1]
    resp = await client.post(HOOK, headers=headers_b, content=body_a)
    assert resp.status_code == 401
    assert (await client.get(CALLS, headers=owner_a.headers)).json()["data"][0][
        "status"] != "completed"
