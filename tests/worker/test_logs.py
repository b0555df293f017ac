"""Quiet logs: routine runs of periodic jobs log at DEBUG, failures keep their level."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from sqlalchemy import text

from leadbase.config import Settings
from leadbase.db.session import Database
from leadbase.worker.app import build_app
from leadbase.worker.logs import ROUTINE
from leadbase.worker.runtime import Runtime, set_runtime
from tests.factories import make_lead, make_workspace

DRAIN = "leadbase:drain_outbox"


def _drain_runs(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """procrastinate's records about runs of the drain (deferred, started, ended)."""
    return [r for r in caplog.records if r.name.startswith("procrastinate")
            and (getattr(r, "job", None) or {}).get("task_name") == DRAIN]


async def _pending(db: Database, tenant_id: object) -> int:
    async with db.transaction(None, system=True) as session:
        return int((await session.execute(text(
            "SELECT count(*) FROM events WHERE tenant_id = :t AND processed_at IS NULL"),
            {"t": tenant_id})).scalar_one())


async def _run_until_drained(db: Database, settings: Settings, libpq: str,
                             tenant_id: object) -> None:
    """The real worker with its periodic deferrer, until the outbox drain has run."""
    set_runtime(Runtime(settings=settings, db=db))
    app = build_app(libpq)
    async with app.open_async():
        worker = asyncio.create_task(app.run_worker_async(
            queues=["events"], install_signal_handlers=False, delete_jobs="successful"))
        try:
            for _ in range(120):  # the drain runs every 5 s
                await asyncio.sleep(0.1)
                if not await _pending(db, tenant_id):
                    break
            assert not await _pending(db, tenant_id)
            await asyncio.sleep(0.2)  # the job's end is logged after its work
        finally:
            worker.cancel()
            with pytest.raises(asyncio.CancelledError):
                await worker


async def test_the_outbox_drain_is_silent_at_info(
        client: httpx.AsyncClient, db: Database, settings: Settings, libpq: str,
        caplog: pytest.LogCaptureFixture) -> None:
    owner = await make_workspace(client, "Quiet")
    await make_lead(client, owner)
    caplog.set_level(logging.INFO)
    await _run_until_drained(db, settings, libpq, owner.tenant_id)
    assert _drain_runs(caplog) == []
    # What the job did is still said, by the job itself.
    assert any(r.name == "leadbase.worker.jobs" and r.getMessage().startswith("processed")
               for r in caplog.records)

    caplog.clear()
    await make_lead(client, owner)
    caplog.set_level(logging.DEBUG)
    await _run_until_drained(db, settings, libpq, owner.tenant_id)
    runs = {getattr(r, "action", None): r.levelno for r in _drain_runs(caplog)
            if r.levelno > logging.DEBUG or getattr(r, "action", None) in ROUTINE}
    assert {"start_job", "job_success"} <= set(runs) and set(runs.values()) == {logging.DEBUG}


W, CHILD, PERIODIC = "procrastinate.worker", "procrastinate.worker.worker", "procrastinate.periodic"


@pytest.mark.parametrize(("logger", "action", "level", "task", "kept_at"), [
    (W, "job_error", logging.ERROR, DRAIN, logging.ERROR),
    (W, "job_error_retry", logging.INFO, DRAIN, logging.INFO),
    (W, "job_aborted", logging.INFO, DRAIN, logging.INFO),
    (W, "job_success", logging.INFO, "leadbase:run_export", logging.INFO),
    (CHILD, "start_job", logging.INFO, "leadbase:run_import", logging.INFO),
    (W, "job_success", logging.INFO, DRAIN, None),
    (CHILD, "start_job", logging.INFO, DRAIN, None),
    (PERIODIC, "periodic_task_deferred", logging.INFO, DRAIN, None),
])
def test_only_routine_periodic_records_are_lowered(
        libpq: str, caplog: pytest.LogCaptureFixture, logger: str, action: str, level: int,
        task: str, kept_at: int | None) -> None:
    build_app(libpq)
    caplog.set_level(logging.INFO)
    logging.getLogger(logger).log(level, "Job %s", task,
                                  extra={"action": action, "job": {"task_name": task}})
    got = [r.levelno for r in caplog.records if r.name == logger]
    assert got == ([] if kept_at is None else [kept_at])
