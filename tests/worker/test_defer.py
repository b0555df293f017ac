"""Jobs are deferred in the transaction that writes their row (leadbase/worker/defer.py):
a rollback takes the job with it, and the worker never sees a job before its row."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import psycopg
import pytest

from leadbase.auth.context import system_context
from leadbase.bulk import jobs as bulk_jobs
from leadbase.config import Settings
from leadbase.db.session import Database
from leadbase.exports import jobs as exports_jobs
from leadbase.exports import service as exports
from leadbase.imports import jobs as imports_jobs
from leadbase.worker.defer import defer
from leadbase.worker.runtime import Runtime, set_runtime
from tests.factories import make_workspace


async def _queued(libpq: str, job_id: object) -> list[dict[str, Any]]:
    """The procrastinate jobs of ``job_id``, seen from another connection."""
    async with await psycopg.AsyncConnection.connect(libpq) as conn:
        cur = await conn.execute(
            "SELECT task_name, queue_name, status::text, args FROM procrastinate_jobs "
            "WHERE args->>'job_id' = %s", (str(job_id),))
        cols = [c.name for c in cur.description or []]
        return [dict(zip(cols, r, strict=True)) for r in await cur.fetchall()]


async def _export_rows(libpq: str, job_id: object) -> int:
    async with await psycopg.AsyncConnection.connect(libpq) as conn:
        cur = await conn.execute("SELECT count(*) FROM export_jobs WHERE id = %s",
                                 (str(job_id),))
        row = await cur.fetchone()
        return int(row[0]) if row else 0


async def test_a_job_deferred_in_a_rolled_back_transaction_does_not_exist(
        client: httpx.AsyncClient, db: Database, libpq: str) -> None:
    owner = await make_workspace(client, "Rollback")
    job_id = uuid.uuid4()
    with pytest.raises(RuntimeError):
        async with db.transaction(owner.tenant_id) as session:
            await defer(session, "run_export", queue="exports",
                        tenant_id=str(owner.tenant_id), job_id=str(job_id))
            assert len(await _queued(libpq, job_id)) == 0  # not committed yet
            raise RuntimeError("the request fails after deferring")
    assert await _queued(libpq, job_id) == []


async def test_a_queued_export_and_its_job_appear_together(
        client: httpx.AsyncClient, db: Database, libpq: str) -> None:
    owner = await make_workspace(client, "Together")
    ctx = system_context(owner.tenant_id)
    async with db.transaction(owner.tenant_id) as session:
        job = await exports.create_job(session, ctx=ctx, fmt="csv", headers="labels",
                                       params={})
        assert await _queued(libpq, job["id"]) == [] and await _export_rows(
            libpq, job["id"]) == 0
    assert await _export_rows(libpq, job["id"]) == 1
    assert [(j["task_name"], j["queue_name"], j["status"]) for j in
            await _queued(libpq, job["id"])] == [("leadbase:run_export", "exports", "todo")]

    with pytest.raises(RuntimeError):
        async with db.transaction(owner.tenant_id) as session:
            gone = await exports.create_job(session, ctx=ctx, fmt="csv", headers="labels",
                                            params={})
            raise RuntimeError("rolled back")
    assert await _export_rows(libpq, gone["id"]) == 0 and await _queued(libpq, gone["id"]) == []


async def test_each_queued_job_of_the_api_is_committed_with_its_row(
        client: httpx.AsyncClient, libpq: str) -> None:
    owner = await make_workspace(client, "Api jobs")
    h = owner.headers
    export = (await client.post("/api/v1/exports", headers=h, json={"filters": {}})).json()
    bulk = (await client.post("/api/v1/leads/bulk", headers=h, json={
        "action": "update", "filter": {"status": "lost"}, "changes": {"tags_add": ["w"]}})
    ).json()
    upload = await client.post("/api/v1/imports", headers=h,
                               files={"file": ("a.csv", b"email\na@example.com\n")})
    assert upload.status_code == 202, upload.text
    for job_id, task in ((export["id"], "run_export"), (bulk["id"], "run_bulk"),
                         (upload.json()["id"], "run_import")):
        assert [j["task_name"] for j in await _queued(libpq, job_id)] == [f"leadbase:{task}"]
        assert (await _queued(libpq, job_id))[0]["args"] == {
            "tenant_id": str(owner.tenant_id), "job_id": job_id}


async def test_a_rejected_request_queues_no_job(client: httpx.AsyncClient,
                                                libpq: str) -> None:
    owner = await make_workspace(client, "Rejected")
    before = await _all_jobs(libpq)
    bad = await client.post("/api/v1/imports", headers=owner.headers,
                            files={"file": ("a.csv", b"\x00\x01\x02" * 50)})
    assert bad.status_code == 422
    bad = await client.post("/api/v1/exports", headers=owner.headers,
                            json={"filters": {"status": "nope"}})
    assert bad.status_code == 422
    assert await _all_jobs(libpq) == before


async def _all_jobs(libpq: str) -> int:
    async with await psycopg.AsyncConnection.connect(libpq) as conn:
        row = await (await conn.execute("SELECT max(id) FROM procrastinate_jobs")).fetchone()
        return int(row[0] or 0) if row else 0


async def test_a_queueing_lock_already_taken_leaves_the_transaction_usable(
        client: httpx.AsyncClient, db: Database, libpq: str) -> None:
    owner = await make_workspace(client, "Lock")
    job_id = str(uuid.uuid4())
    async with db.transaction(owner.tenant_id) as session:
        first = await defer(session, "sync_field_indexes", queue="indexes",
                            queueing_lock=f"test:{job_id}", job_id=job_id)
        second = await defer(session, "sync_field_indexes", queue="indexes",
                             queueing_lock=f"test:{job_id}", job_id=job_id)
        assert first is not None and second is None
        job = await exports.create_job(session, ctx=system_context(owner.tenant_id),
                                       fmt="csv", headers="labels", params={})
    assert await _export_rows(libpq, job["id"]) == 1
    assert len(await _queued(libpq, job_id)) == 1
    async with await psycopg.AsyncConnection.connect(libpq) as conn:  # not left for a worker
        await conn.execute("DELETE FROM procrastinate_jobs WHERE args->>'job_id' = %s",
                           (job_id,))


async def test_a_job_whose_row_is_gone_ends_without_a_retry(
        db: Database, settings: Settings) -> None:
    """No "not visible yet" retry: a job is committed with its row, so a missing row was
    deleted since and there is nothing to do."""
    set_runtime(Runtime(settings=settings, db=db))
    ids = {"tenant_id": str(uuid.uuid4()), "job_id": str(uuid.uuid4())}
    assert await exports_jobs.run_export(**ids) == "missing"
    assert await bulk_jobs.run_bulk(**ids) == "missing"
    assert await imports_jobs.run_import(**ids) == "missing"
