"""Background exports (POST /api/v1/exports) and the streaming of GET /leads/export."""

from __future__ import annotations

import asyncio
import io
import os
import time
import uuid

import httpx
import psycopg
import pytest
from python_calamine import CalamineWorkbook

from leadbase.auth.context import Context, Principal
from leadbase.config import Settings
from leadbase.db.session import Database
from leadbase.exports import service
from leadbase.leads.filters import LeadFilter
from tests.exports.conftest import Shop, read_csv
from tests.factories import add_member, make_lead, make_workspace


async def _run(db: Database, settings: Settings, job: dict[str, object],
               tenant_id: uuid.UUID) -> str:
    return await service.run_job(db, tenant_id=tenant_id, job_id=uuid.UUID(str(job["id"])),
                                 data_dir=settings.resolved_data_dir())


async def test_background_export_runs_and_downloads(client: httpx.AsyncClient, shop: Shop,
                                                    db: Database, settings: Settings,
                                                    libpq: str) -> None:
    h = shop.owner.headers
    resp = await client.post("/api/v1/exports", headers=h, json={
        "format": "csv", "filters": {"status": "new,contacted", "fields.Edad_gte": 10}})
    assert resp.status_code == 202, resp.text
    job = resp.json()
    assert job["status"] == "queued" and job["download_url"] is None
    assert resp.headers["location"] == f"/api/v1/exports/{job['id']}"
    # The request deferred a worker job.
    async with await psycopg.AsyncConnection.connect(libpq) as conn:
        cur = await conn.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'leadbase:run_export' "
            "AND args->>'job_id' = %s", (job["id"],))
        deferred = (await cur.fetchone() or [0])[0]
    assert deferred == 1
    early = await client.get(f"/api/v1/exports/{job['id']}/download", headers=h)
    assert early.status_code == 409 and early.json()["code"] == "EXPORT_NOT_READY"

    assert await _run(db, settings, job, shop.owner.tenant_id) == "completed"
    assert await _run(db, settings, job, shop.owner.tenant_id) == "completed"  # runs once
    done = (await client.get(f"/api/v1/exports/{job['id']}", headers=h)).json()
    assert done["status"] == "completed" and done["total_rows"] == 2
    assert done["processed_rows"] == 2 and done["progress"] == 1.0
    assert done["download_url"] == f"/api/v1/exports/{job['id']}/download"
    assert done["filters"] == {"status": "new,contacted", "fields.Edad_gte": 10}
    assert done["file_size"] > 0 and done["file_name"].endswith(".csv")
    got = await client.get(done["download_url"], headers=h)
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert len(got.content) == done["file_size"]
    assert {r["first_name"] for r in read_csv(got.content)} == {
        "Zoë", "'=HYPERLINK(\"http://x\")"}
    listing = (await client.get("/api/v1/exports", headers=h)).json()
    assert [j["id"] for j in listing["data"]] == [job["id"]] and listing["total"] == 1


async def test_background_xlsx(client: httpx.AsyncClient, shop: Shop, db: Database,
                               settings: Settings) -> None:
    resp = await client.post("/api/v1/exports", headers=shop.owner.headers,
                             json={"format": "xlsx", "headers": "codes"})
    job = resp.json()
    assert await _run(db, settings, job, shop.owner.tenant_id) == "completed"
    got = await client.get(f"/api/v1/exports/{job['id']}/download", headers=shop.owner.headers)
    rows = CalamineWorkbook.from_filelike(io.BytesIO(got.content)).get_sheet_by_index(0)
    data = rows.to_python()
    assert "fields.Edad" in data[0] and len(data) == 4


async def test_bad_filters_are_refused_before_queueing(client: httpx.AsyncClient,
                                                       shop: Shop) -> None:
    h = shop.owner.headers
    for filters, code in (({"status": "nope"}, "INVALID_FILTER"),
                          ({"bogus": "1"}, "INVALID_FILTER"),
                          ({"fields.Nope": "1"}, "UNKNOWN_FIELD")):
        resp = await client.post("/api/v1/exports", headers=h, json={"filters": filters})
        assert resp.status_code == 422 and resp.json()["code"] == code, resp.text
    assert (await client.get("/api/v1/exports", headers=h)).json()["total"] == 0


async def test_idempotency_key(client: httpx.AsyncClient, shop: Shop) -> None:
    h = {**shop.owner.headers, "Idempotency-Key": "export-1"}
    first = await client.post("/api/v1/exports", headers=h, json={"format": "csv"})
    again = await client.post("/api/v1/exports", headers=h, json={"format": "csv"})
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert again.headers.get("idempotency-replayed") == "true"
    other = await client.post("/api/v1/exports", headers=h, json={"format": "xlsx"})
    assert other.status_code == 422 and other.json()["code"] == "IDEMPOTENCY_KEY_REUSED"


async def test_agents_jobs_hold_their_own_leads(client: httpx.AsyncClient, db: Database,
                                               settings: Settings) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    mine = await make_lead(client, agent, first_name="Mine")
    await make_lead(client, owner, first_name="Theirs")
    job = (await client.post("/api/v1/exports", headers=agent.headers, json={})).json()
    owners_job = (await client.post("/api/v1/exports", headers=owner.headers, json={})).json()
    assert await _run(db, settings, job, owner.tenant_id) == "completed"
    got = await client.get(f"/api/v1/exports/{job['id']}/download", headers=agent.headers)
    assert [r["id"] for r in read_csv(got.content)] == [mine["id"]]
    # Agents see their own export jobs; the owner sees all; other workspaces none.
    assert (await client.get(f"/api/v1/exports/{owners_job['id']}",
                             headers=agent.headers)).status_code == 404
    assert (await client.get("/api/v1/exports", headers=owner.headers)).json()["total"] == 2
    stranger = await make_workspace(client)
    resp = await client.get(f"/api/v1/exports/{job['id']}", headers=stranger.headers)
    assert resp.status_code == 404 and resp.json()["code"] == "EXPORT_NOT_FOUND"
    assert (await client.get(f"/api/v1/exports/{job['id']}/download",
                             headers=stranger.headers)).status_code == 404


async def test_failed_job_records_why(client: httpx.AsyncClient, shop: Shop, db: Database,
                                      settings: Settings,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    job = (await client.post("/api/v1/exports", headers=shop.owner.headers, json={})).json()

    async def broken(*args: object, **kwargs: object) -> int:
        raise OSError("disk full")

    monkeypatch.setattr(service, "write_file", broken)
    assert await _run(db, settings, job, shop.owner.tenant_id) == "failed"
    got = (await client.get(f"/api/v1/exports/{job['id']}", headers=shop.owner.headers)).json()
    assert got["status"] == "failed" and "disk full" in got["error"]


async def test_csv_is_streamed_in_batches(client: httpx.AsyncClient, db: Database,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The body is produced as it is read: the header first (before any lead is read),
    then a chunk whenever CHUNK_BYTES are buffered; memory holds one chunk at a time."""
    owner = await make_workspace(client)
    for i in range(7):
        await make_lead(client, owner, first_name=f"L{i}")
    monkeypatch.setattr(service, "CHUNK_BYTES", 1)
    ctx = Context(tenant_id=owner.tenant_id,
                  principal=Principal(role="owner", tenant_id=owner.tenant_id,
                                      user_id=owner.user_id))
    async with db.transaction(owner.tenant_id) as session:
        plan = await service.prepare(session, ctx=ctx, f=LeadFilter())
    stream = service.stream_csv(db, plan)
    header = await anext(stream)
    assert header.startswith(b"\xef\xbb\xbfid,number,") and header.count(b"\n") == 1
    chunks = [chunk async for chunk in stream]
    assert [c.count(b"\n") for c in chunks] == [1] * 7
    rows = read_csv(header + b"".join(chunks))
    assert [r["first_name"] for r in rows] == [f"L{i}" for i in reversed(range(7))]


async def test_cancel_a_queued_or_running_export(client: httpx.AsyncClient, shop: Shop,
                                                 db: Database, settings: Settings,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    h = shop.owner.headers
    queued = (await client.post("/api/v1/exports", headers=h, json={})).json()
    resp = await client.post(f"/api/v1/exports/{queued['id']}/cancel", headers=h)
    assert resp.status_code == 200 and resp.json()["status"] == "cancelled"
    assert await _run(db, settings, queued, shop.owner.tenant_id) == "cancelled"
    again = await client.post(f"/api/v1/exports/{queued['id']}/cancel", headers=h)
    assert again.status_code == 409 and again.json()["code"] == "EXPORT_NOT_CANCELLABLE"
    assert (await client.get(f"/api/v1/exports/{queued['id']}/download",
                             headers=h)).status_code == 409

    running = (await client.post("/api/v1/exports", headers=h, json={})).json()
    count_leads = service.repository.count_leads

    async def count_then_cancel(session: object, **kwargs: object) -> int:
        total = await count_leads(session, **kwargs)  # type: ignore[arg-type]
        resp = await client.post(f"/api/v1/exports/{running['id']}/cancel", headers=h)
        assert resp.status_code == 200, resp.text  # while the job is running
        return total

    monkeypatch.setattr(service.repository, "count_leads", count_then_cancel)
    monkeypatch.setattr(service, "CHUNK_BYTES", 1)
    status = await service.run_job(db, tenant_id=shop.owner.tenant_id,
                                   job_id=uuid.UUID(running["id"]),
                                   data_dir=settings.resolved_data_dir(), progress_seconds=0)
    assert status == "cancelled"
    got = (await client.get(f"/api/v1/exports/{running['id']}", headers=h)).json()
    assert got["status"] == "cancelled" and got["download_url"] is None
    folder = service.exports_dir(settings.resolved_data_dir(), shop.owner.tenant_id)
    assert not await asyncio.to_thread(lambda: list(folder.glob(f"{running['id']}*")))


async def test_old_files_expire(client: httpx.AsyncClient, shop: Shop, db: Database,
                                settings: Settings) -> None:
    h = shop.owner.headers
    job = (await client.post("/api/v1/exports", headers=h, json={})).json()
    fresh = (await client.post("/api/v1/exports", headers=h, json={})).json()
    for j in (job, fresh):
        assert await _run(db, settings, j, shop.owner.tenant_id) == "completed"
    folder = service.exports_dir(settings.resolved_data_dir(), shop.owner.tenant_id)
    scratch = folder / "tmp" / "left-over.xlsx"
    week_ago = time.time() - 8 * 24 * 3600

    def age() -> None:
        scratch.parent.mkdir(parents=True, exist_ok=True)
        scratch.write_bytes(b"x")
        os.utime(scratch, (week_ago, week_ago))
        os.utime(folder / f"{job['id']}.csv", (week_ago, week_ago))

    await asyncio.to_thread(age)
    deleted = await service.expire_files(db, data_dir=settings.resolved_data_dir())
    assert deleted >= 2
    gone = (await client.get(f"/api/v1/exports/{job['id']}", headers=h)).json()
    assert gone["status"] == "expired" and gone["download_url"] is None
    resp = await client.get(f"/api/v1/exports/{job['id']}/download", headers=h)
    assert resp.status_code == 410 and resp.json()["code"] == "EXPORT_EXPIRED"
    kept = await client.get(f"/api/v1/exports/{fresh['id']}/download", headers=h)
    assert kept.status_code == 200
