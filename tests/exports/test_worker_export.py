"""The real worker: a deferred export is picked up by procrastinate and completed."""

from __future__ import annotations

import httpx

from leadbase.config import Settings
from leadbase.db.session import Database
from leadbase.worker.app import build_app
from leadbase.worker.runtime import Runtime, set_runtime
from tests.exports.conftest import Shop, read_csv


async def test_worker_runs_deferred_exports_and_bulk_jobs(
        client: httpx.AsyncClient, shop: Shop, db: Database, settings: Settings,
        libpq: str) -> None:
    app = build_app(libpq)
    assert {"leadbase:run_export", "leadbase:run_bulk"} <= set(app.tasks)
    h = shop.owner.headers
    job = (await client.post("/api/v1/exports", headers=h,
                             json={"filters": {"status": "lost"}})).json()
    bulk = (await client.post("/api/v1/leads/bulk", headers=h, json={
        "action": "update", "filter": {"status": "lost"}, "changes": {"tags_add": ["w"]}})
    ).json()
    set_runtime(Runtime(settings=settings, db=db))
    async with app.open_async():
        await app.run_worker_async(queues=["exports", "bulk"], wait=False,
                                   install_signal_handlers=False, delete_jobs="successful")
    done = (await client.get(f"/api/v1/exports/{job['id']}", headers=h)).json()
    assert done["status"] == "completed", done
    got = await client.get(done["download_url"], headers=h)
    assert [r["first_name"] for r in read_csv(got.content)] == ["Plain"]
    bulk_done = (await client.get(f"/api/v1/leads/bulk/{bulk['id']}", headers=h)).json()
    assert bulk_done["status"] == "completed" and bulk_done["updated"] == 1
