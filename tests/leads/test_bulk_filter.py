"""Bulk operations by filter: queued as a job (202), run by the worker in batches."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import psycopg
import pytest

from leadbase.bulk import service
from leadbase.db.session import Database
from tests.factories import Member, add_member, make_lead, make_workspace


async def _queue(client: httpx.AsyncClient, member: Member, body: dict[str, Any]) -> dict[str, Any]:
    resp = await client.post("/api/v1/leads/bulk", headers=member.headers, json=body)
    assert resp.status_code == 202, resp.text
    assert resp.headers["location"] == f"/api/v1/leads/bulk/{resp.json()['id']}"
    data: dict[str, Any] = resp.json()
    return data


async def _status(client: httpx.AsyncClient, member: Member, job: dict[str, Any]
                  ) -> dict[str, Any]:
    resp = await client.get(f"/api/v1/leads/bulk/{job['id']}", headers=member.headers)
    assert resp.status_code == 200, resp.text
    data: dict[str, Any] = resp.json()
    return data


async def test_update_by_filter_in_batches(client: httpx.AsyncClient, db: Database,
                                           libpq: str) -> None:
    owner = await make_workspace(client)
    await client.post("/api/v1/fields", headers=owner.headers,
                      json={"name": "Edad", "type": "INT", "required": False})
    vip = [await make_lead(client, owner, tags=["vip"]) for _ in range(5)]
    other = await make_lead(client, owner, tags=["cold"])
    stranger = await make_workspace(client)
    theirs = await make_lead(client, stranger, tags=["vip"])
    job = await _queue(client, owner, {"action": "update", "filter": {"tags": "vip"},
                                       "changes": {"status": "qualified",
                                                   "tags_add": ["bulk"]}})
    assert job["status"] == "queued" and job["mode"] == "filter" and job["matched"] is None
    async with await psycopg.AsyncConnection.connect(libpq) as conn:
        cur = await conn.execute("SELECT count(*) FROM procrastinate_jobs WHERE task_name = "
                                 "'leadbase:run_bulk' AND args->>'job_id' = %s", (job["id"],))
        assert (await cur.fetchone() or [0])[0] == 1
    status = await service.run_job(db, tenant_id=owner.tenant_id,
                                   job_id=uuid.UUID(job["id"]), batch=2)
    assert status == "completed"
    assert await service.run_job(db, tenant_id=owner.tenant_id,
                                 job_id=uuid.UUID(job["id"])) == "completed"  # once only
    done = await _status(client, owner, job)
    assert (done["matched"], done["processed"], done["updated"], done["failed_count"]) == (
        5, 5, 5, 0)
    assert done["started_at"] and done["finished_at"]
    for lead in vip:
        got = (await client.get(f"/api/v1/leads/{lead['id']}", headers=owner.headers)).json()
        assert got["status"] == "qualified" and got["tags"] == ["vip", "bulk"]
    untouched = (await client.get(f"/api/v1/leads/{other['id']}", headers=owner.headers)).json()
    assert untouched["version"] == other["version"]
    far = (await client.get(f"/api/v1/leads/{theirs['id']}", headers=stranger.headers)).json()
    assert far["version"] == theirs["version"] and far["status"] == "new"
    log = (await client.get("/api/v1/audit-log?action=leads.bulk_update",
                            headers=owner.headers)).json()
    assert [e["entity_id"] for e in log["data"]] == [job["id"]]


async def test_failures_are_counted_and_kept(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    await client.post("/api/v1/fields", headers=owner.headers,
                      json={"name": "Edad", "type": "INT"})
    leads = [await make_lead(client, owner, source="fair") for _ in range(3)]
    # A field value that fails validation fails for every lead, each reported.
    job = await _queue(client, owner, {"action": "update", "filter": {"source": "fair"},
                                       "changes": {"fields": {"Edad": "x"}}})
    assert await service.run_job(db, tenant_id=owner.tenant_id,
                                 job_id=uuid.UUID(job["id"]), batch=2) == "completed"
    done = await _status(client, owner, job)
    assert done["failed_count"] == 3 and done["updated"] == 0
    assert {f["id"] for f in done["failed"]} == {lead["id"] for lead in leads}
    assert {f["code"] for f in done["failed"]} == {"INVALID_FIELD_VALUE"}


async def test_delete_then_restore_by_filter(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    leads = [await make_lead(client, owner, source="expo") for _ in range(3)]
    keep = await make_lead(client, owner, source="web")
    job = await _queue(client, owner, {"action": "delete", "filter": {"source": "expo"}})
    await service.run_job(db, tenant_id=owner.tenant_id, job_id=uuid.UUID(job["id"]), batch=2)
    assert (await _status(client, owner, job))["updated"] == 3
    listing = (await client.get("/api/v1/leads", headers=owner.headers)).json()
    assert [r["id"] for r in listing["data"]] == [keep["id"]]
    job = await _queue(client, owner, {"action": "restore",
                                       "filter": {"source": "expo", "only_deleted": True}})
    await service.run_job(db, tenant_id=owner.tenant_id, job_id=uuid.UUID(job["id"]))
    assert (await _status(client, owner, job))["updated"] == 3
    listing = (await client.get("/api/v1/leads", headers=owner.headers)).json()
    assert {r["id"] for r in listing["data"]} == {keep["id"], *(x["id"] for x in leads)}


async def test_agent_filter_reaches_only_their_leads(client: httpx.AsyncClient,
                                                     db: Database) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    mine = await make_lead(client, agent, source="x")
    others = await make_lead(client, owner, source="x")
    job = await _queue(client, agent, {"action": "update", "filter": {"source": "x"},
                                       "changes": {"status": "lost"}})
    await service.run_job(db, tenant_id=owner.tenant_id, job_id=uuid.UUID(job["id"]))
    done = await _status(client, agent, job)
    assert done["matched"] == 1 and done["updated"] == 1
    assert (await client.get(f"/api/v1/leads/{mine['id']}", headers=owner.headers)
            ).json()["status"] == "lost"
    assert (await client.get(f"/api/v1/leads/{others['id']}", headers=owner.headers)
            ).json()["status"] == "new"
    viewer = await add_member(client, owner, "viewer")
    resp = await client.post("/api/v1/leads/bulk", headers=viewer.headers,
                             json={"action": "delete", "filter": {}})
    assert resp.status_code == 403


async def test_unknown_custom_field_filter_is_refused(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    resp = await client.post("/api/v1/leads/bulk", headers=owner.headers,
                             json={"action": "delete", "filter": {"fields.Nope": "1"}})
    assert resp.status_code == 422 and resp.json()["code"] == "UNKNOWN_FIELD"


async def test_cancel_stops_before_the_next_batch(client: httpx.AsyncClient, db: Database,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    owner = await make_workspace(client)
    for _ in range(5):
        await make_lead(client, owner, source="c")
    job = await _queue(client, owner, {"action": "update", "filter": {"source": "c"},
                                       "changes": {"status": "lost"}})
    apply_many = service.apply_many
    calls = [0]

    async def apply_then_cancel(*args: Any, **kwargs: Any) -> None:
        await apply_many(*args, **kwargs)
        calls[0] += 1
        if calls[0] == 1:  # after the first batch, someone cancels
            resp = await client.post(f"/api/v1/leads/bulk/{job['id']}/cancel",
                                     headers=owner.headers)
            assert resp.status_code == 200, resp.text

    monkeypatch.setattr(service, "apply_many", apply_then_cancel)
    assert await service.run_job(db, tenant_id=owner.tenant_id, job_id=uuid.UUID(job["id"]),
                                 batch=2) == "cancelled"
    done = await _status(client, owner, job)
    assert done["status"] == "cancelled" and done["processed"] == 2 and done["updated"] == 2
    lost = (await client.get("/api/v1/leads?status=lost", headers=owner.headers)).json()
    assert lost["total"] == 2
    resp = await client.post(f"/api/v1/leads/bulk/{job['id']}/cancel", headers=owner.headers)
    assert resp.status_code == 409 and resp.json()["code"] == "BULK_JOB_NOT_CANCELLABLE"


async def test_ids_in_the_background(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    stranger = await make_workspace(client)
    mine = [await make_lead(client, owner) for _ in range(3)]
    theirs = await make_lead(client, stranger)
    ids = [m["id"] for m in mine] + [theirs["id"], mine[0]["id"]]
    job = await _queue(client, owner, {"action": "delete", "ids": ids, "background": True})
    assert job["mode"] == "ids" and job["matched"] == 4 and job["status"] == "queued"
    assert await service.run_job(db, tenant_id=owner.tenant_id, job_id=uuid.UUID(job["id"]),
                                 batch=2) == "completed"
    done = await _status(client, owner, job)
    assert (done["matched"], done["processed"], done["updated"], done["failed_count"]) == (
        4, 4, 3, 1)
    assert done["failed"] == [{"id": theirs["id"], "code": "LEAD_NOT_FOUND",
                               "message": "Lead not found."}]
    still = await client.get(f"/api/v1/leads/{theirs['id']}", headers=stranger.headers)
    assert still.status_code == 200 and still.json()["version"] == theirs["version"]
