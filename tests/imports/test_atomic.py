"""An import is all or nothing: cancelled or failed half-way, it leaves no lead behind;
run twice, it imports once. The real worker runs a deferred import."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from leadbase.config import Settings
from leadbase.db.session import Database
from leadbase.imports import flows
from leadbase.worker.app import build_app
from leadbase.worker.runtime import Runtime, set_runtime
from tests.factories import make_workspace
from tests.imports.conftest import errors, leads, upload


def _rows(n: int, bad_every: int = 0) -> bytes:
    lines = ["email,first_name"]
    for i in range(n):
        email = f"row{i}@example.com" if not bad_every or i % bad_every else f"bad{i}"
        lines.append(f"{email},Row {i}")
    return ("\n".join(lines) + "\n").encode()


async def _queued(client: httpx.AsyncClient, owner: Any, content: bytes,
                  **form: Any) -> dict[str, Any]:
    resp = await upload(client, owner, content, **form)
    assert resp.status_code == 202, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def _job(client: httpx.AsyncClient, owner: Any, job_id: str) -> dict[str, Any]:
    body: dict[str, Any] = (await client.get(f"/api/v1/imports/{job_id}",
                                             headers=owner.headers)).json()
    return body


async def test_cancelled_half_way_leaves_nothing(client: httpx.AsyncClient, db: Database,
                                                 settings: Settings) -> None:
    owner = await make_workspace(client, "Cancel")
    job = await _queued(client, owner, _rows(60, bad_every=7))
    seen: list[int] = []

    async def cancel_after_first_chunk(done: int, total: int | None, _t: Any) -> None:
        seen.append(done)
        if len(seen) == 2:  # two chunks are in the database, uncommitted
            resp = await client.post(f"/api/v1/imports/{job['id']}/cancel",
                                     headers=owner.headers)
            assert resp.status_code == 200 and resp.json()["status"] == "cancelled"

    status = await flows.run_job(db, tenant_id=owner.tenant_id, job_id=uuid.UUID(job["id"]),
                                 data_dir=settings.resolved_data_dir(), chunk_rows=10,
                                 progress_seconds=0, on_progress=cancel_after_first_chunk)
    assert status == "cancelled" and seen[:2] == [10, 20]
    assert await leads(client, owner) == []
    after = await _job(client, owner, job["id"])
    assert after["status"] == "cancelled" and after["total_rows"] == 60
    assert await errors(client, owner, after) == []
    again = await client.post(f"/api/v1/imports/{job['id']}/cancel", headers=owner.headers)
    assert again.status_code == 409 and again.json()["code"] == "IMPORT_NOT_CANCELLABLE"
    # Its files are gone.
    folder = settings.resolved_data_dir() / "imports" / str(owner.tenant_id) / job["id"]
    assert not folder.exists()


async def test_cancelled_while_queued_never_runs(client: httpx.AsyncClient, db: Database,
                                                 settings: Settings) -> None:
    owner = await make_workspace(client, "Cancel queued")
    job = await _queued(client, owner, _rows(3))
    assert (await client.post(f"/api/v1/imports/{job['id']}/cancel",
                              headers=owner.headers)).status_code == 200
    status = await flows.run_job(db, tenant_id=owner.tenant_id, job_id=uuid.UUID(job["id"]),
                                 data_dir=settings.resolved_data_dir())
    assert status == "cancelled" and await leads(client, owner) == []


async def test_a_failure_half_way_leaves_nothing(client: httpx.AsyncClient, db: Database,
                                                 settings: Settings,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    owner = await make_workspace(client, "Fail")
    job = await _queued(client, owner, _rows(50))
    real = flows._apply_chunk
    calls = [0]

    async def breaks_on_the_third(*args: Any, **kwargs: Any) -> None:
        calls[0] += 1
        if calls[0] == 3:
            raise RuntimeError("disk on fire")
        await real(*args, **kwargs)

    monkeypatch.setattr(flows, "_apply_chunk", breaks_on_the_third)
    status = await flows.run_job(db, tenant_id=owner.tenant_id, job_id=uuid.UUID(job["id"]),
                                 data_dir=settings.resolved_data_dir(), chunk_rows=10)
    assert status == "failed"
    after = await _job(client, owner, job["id"])
    assert after["status"] == "failed" and after["error_code"] == "IMPORT_FAILED"
    assert "disk on fire" in after["error"]
    assert await leads(client, owner) == []
    audit = (await client.get("/api/v1/audit-log", headers=owner.headers)).json()["data"]
    assert "import.failed" in [a["action"] for a in audit]


async def test_running_twice_imports_once(client: httpx.AsyncClient, db: Database,
                                          settings: Settings) -> None:
    owner = await make_workspace(client, "Twice")
    job = await _queued(client, owner, _rows(25))
    kwargs: dict[str, Any] = {"tenant_id": owner.tenant_id, "job_id": uuid.UUID(job["id"]),
                              "data_dir": settings.resolved_data_dir(), "chunk_rows": 7}
    assert await flows.run_job(db, **kwargs) == "completed"
    assert await flows.run_job(db, **kwargs) == "completed"
    assert len(await leads(client, owner)) == 25
    done = await _job(client, owner, job["id"])
    assert done["created"] == 25 and done["processed_rows"] == 25
    assert await flows.run_job(db, tenant_id=owner.tenant_id, job_id=uuid.uuid4(),
                               data_dir=settings.resolved_data_dir()) == "missing"


async def test_chunks_keep_duplicates_and_lines_across_boundaries(
        client: httpx.AsyncClient, db: Database, settings: Settings) -> None:
    """Small chunks: a duplicate of a row in an earlier chunk is still a duplicate, and
    line numbers count quoted newlines."""
    owner = await make_workspace(client, "Chunks")
    content = (b'email,notes\n'
               b'a@example.com,"two\nlines"\n'
               b'b@example.com,x\n'
               b'bad,"three\nmore\nlines"\n'
               b'c@example.com,y\n'
               b'a@example.com,again\n'
               b'B@EXAMPLE.COM,again\n')
    job = await _queued(client, owner, content)
    await flows.run_job(db, tenant_id=owner.tenant_id, job_id=uuid.UUID(job["id"]),
                        data_dir=settings.resolved_data_dir(), chunk_rows=2)
    done = await _job(client, owner, job["id"])
    assert (done["created"], done["skipped_duplicate"], done["invalid"]) == (3, 2, 1)
    problems = await errors(client, owner, done)
    assert [(e["line"], e["code"]) for e in problems] == [
        (5, "INVALID_EMAIL"), (9, "DUPLICATE_IN_FILE"), (10, "DUPLICATE_IN_FILE")]
    assert problems[1]["errors"][0]["duplicate_of_line"] == 2
    assert problems[2]["errors"][0]["duplicate_of_line"] == 4


async def test_the_worker_runs_deferred_imports(client: httpx.AsyncClient, db: Database,
                                                settings: Settings, libpq: str) -> None:
    app = build_app(libpq)
    assert "leadbase:run_import" in app.tasks
    owner = await make_workspace(client, "Worker")
    job = await _queued(client, owner, _rows(5))
    set_runtime(Runtime(settings=settings, db=db))
    async with app.open_async():
        await app.run_worker_async(queues=["imports"], wait=False,
                                   install_signal_handlers=False, delete_jobs="successful")
    done = await _job(client, owner, job["id"])
    assert done["status"] == "completed" and done["created"] == 5, done


def _die() -> None:
    import os

    os._exit(1)


async def test_a_dead_validation_process_fails_one_job_not_the_next(
        client: httpx.AsyncClient, db: Database, settings: Settings) -> None:
    from concurrent.futures.process import BrokenProcessPool

    from leadbase.imports import pool

    with pytest.raises(BrokenProcessPool):
        await pool.run(_die)
    owner = await make_workspace(client, "After a crash")
    job = await _queued(client, owner, _rows(3))
    status = await flows.run_job(db, tenant_id=owner.tenant_id, job_id=uuid.UUID(job["id"]),
                                 data_dir=settings.resolved_data_dir())
    assert status == "completed" and len(await leads(client, owner)) == 3
