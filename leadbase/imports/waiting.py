"""Running a queued import now and waiting for it, for a caller that answers with the
result (the crm profile's ``POST /leads/import``).

The job stays queued for the worker as well (:func:`service.create_job` deferred it):
only a queued job is taken (:func:`flows.run_job`), so whichever of the two starts first
runs it and the other finds it taken. Past the wait the run goes on in this process and
the caller answers with the job as it is."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from pathlib import Path
from typing import Any

from leadbase.db.session import Database
from leadbase.imports import flows, repository

FINISHED = frozenset({"completed", "failed", "cancelled"})
POLL_SECONDS = 0.2
# Runs that outlived their wait: referenced here so that they are not collected.
_RUNNING: set[asyncio.Task[str]] = set()


async def run_and_wait(db: Database, *, tenant_id: uuid.UUID, job_id: uuid.UUID,
                       data_dir: Path, seconds: float) -> dict[str, Any]:
    """Run the committed, queued import ``job_id`` and wait at most ``seconds`` for it to
    finish (also when the worker took it first); the job row then."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    task = asyncio.ensure_future(flows.run_job(db, tenant_id=tenant_id, job_id=job_id,
                                               data_dir=data_dir))
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(task), timeout=max(seconds, 0.0))
    while True:
        async with db.transaction(tenant_id) as session:
            job = await repository.get_job(session, tenant_id=tenant_id, job_id=job_id)
        assert job is not None, "the import job was deleted"
        if job["status"] in FINISHED or loop.time() >= deadline:
            return job
        await asyncio.sleep(min(POLL_SECONDS, max(0.0, deadline - loop.time())))
