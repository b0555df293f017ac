"""imports.waiting: run a queued import now and wait for it, bounded; a job the worker
took (or already finished) is waited for, never run twice."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx

from leadbase.auth.context import Context, Principal
from leadbase.config import Settings
from leadbase.db.session import Database
from leadbase.imports import flows, service, waiting
from leadbase.imports.schemas import ImportOptions
from tests.factories import make_workspace

CSV = b"name,email\nAna Gil,ana@example.com\nLuis Mora,luis@example.com\n"


async def _queued(db: Database, settings: Settings, tenant_id: uuid.UUID,
                  tmp_path: Path) -> uuid.UUID:
    path = tmp_path / uuid.uuid4().hex
    path.write_bytes(CSV)
    ctx = Context(tenant_id=tenant_id, principal=Principal(role="owner", tenant_id=tenant_id))
    async with db.transaction(tenant_id) as session:
        job = await service.create_job(session, ctx=ctx, options=ImportOptions(),
                                       upload=service.Upload(path=path, name="l.csv",
                                                             size=len(CSV)),
                                       data_dir=settings.resolved_data_dir(),
                                       max_uncompressed=10 ** 8)
    job_id: uuid.UUID = job["id"]
    return job_id


async def test_runs_and_waits(client: httpx.AsyncClient, db: Database, settings: Settings,
                              tmp_path: Path) -> None:
    owner = await make_workspace(client)
    job_id = await _queued(db, settings, owner.tenant_id, tmp_path)
    job = await waiting.run_and_wait(db, tenant_id=owner.tenant_id, job_id=job_id,
                                     data_dir=settings.resolved_data_dir(), seconds=30)
    assert job["status"] == "completed" and job["created_count"] == 2
    # Run again (the worker's own run of the deferred job): nothing more happens.
    assert await flows.run_job(db, tenant_id=owner.tenant_id, job_id=job_id,
                               data_dir=settings.resolved_data_dir()) == "completed"
    again = await waiting.run_and_wait(db, tenant_id=owner.tenant_id, job_id=job_id,
                                       data_dir=settings.resolved_data_dir(), seconds=1)
    assert again["created_count"] == 2


async def test_the_wait_is_bounded(client: httpx.AsyncClient, db: Database,
                                   settings: Settings, tmp_path: Path) -> None:
    owner = await make_workspace(client)
    job_id = await _queued(db, settings, owner.tenant_id, tmp_path)
    loop = asyncio.get_running_loop()
    started = loop.time()
    job = await waiting.run_and_wait(db, tenant_id=owner.tenant_id, job_id=job_id,
                                     data_dir=settings.resolved_data_dir(), seconds=0)
    assert loop.time() - started < 1.0
    assert job["status"] in ("queued", "running")
    await asyncio.gather(*list(waiting._RUNNING))  # the run went on
    async with db.transaction(owner.tenant_id) as session:
        from leadbase.imports import repository

        done = await repository.get_job(session, tenant_id=owner.tenant_id, job_id=job_id)
    assert done is not None and done["status"] == "completed"
