"""Import (CSV too, the bounded wait and its 202), export and bulk-update beyond the
document's examples."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from leadbase.app import create_app
from leadbase.db.session import Database
from leadbase.imports import waiting
from tests.compat.crm.helpers import BASE, agent_id, assert_error, call, make_lead, make_world, ok
from tests.conftest import make_settings

CSV = b"First Name,Last Name,Email\nAna,Gil,ana@example.com\nLuis,Mora,luis@example.com\n"


async def _upload(c: httpx.AsyncClient, who: object, content: bytes,
                  name: str = "leads.csv") -> httpx.Response:
    return await c.post(f"{BASE}/leads/import", headers=who.headers,  # type: ignore[attr-defined]
                        files={"file": (name, content)})


async def test_import_a_csv(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    resp = await _upload(client, w.manager, CSV)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["total"], body["successful"], body["failed"], body["errors"]) == (2, 2, 0, [])
    again = (await _upload(client, w.manager, CSV)).json()  # the same people: skipped
    assert (again["successful"], again["failed"]) == (0, 2)
    assert [e["code"] for e in again["errors"]] == ["DUPLICATE_LEAD"] * 2
    assert (await ok(client, "GET", "/leads", w.owner))["total"] == 2


async def test_import_refusals(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    assert_error(await _upload(client, w.agent, CSV), 403, code="ROLE_REQUIRED")
    err = assert_error(await _upload(client, w.manager, b"\x00\x01\x02binary"), 400)
    assert err["errors"]
    assert_error(await _upload(client, w.manager, b"color,size\nred,9\n"), 400)
    resp = await client.post(f"{BASE}/leads/import", headers=w.manager.headers)
    assert_error(resp, 400, "Invalid input data")
    assert (await ok(client, "GET", "/leads", w.owner))["total"] == 0


async def test_import_beyond_the_wait_answers_202(tmp_path: Path, db: Database) -> None:
    app = create_app(make_settings(tmp_path, crm_import_wait_seconds=0), database=db,
                     run_worker=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as c:
        w = await make_world(c)
        resp = await _upload(c, w.manager, CSV)
        assert resp.status_code == 202, resp.text
        body = resp.json()
        assert body["message"] == "Import in progress"
        assert body["status"] in ("QUEUED", "RUNNING")
        assert resp.headers["location"] == f"/api/v1/imports/{body['importId']}"
        await asyncio.gather(*list(waiting._RUNNING))  # the run goes on, and ends
        job = (await c.get(resp.headers["location"], headers=w.manager.headers)).json()
        assert job["status"] == "completed" and job["created"] == 2


async def test_export_csv_and_an_agents_export(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    await make_lead(client, w.owner, email="boss@example.com")
    await make_lead(client, w.agent, email="mine@example.com")
    resp = await client.get(f"{BASE}/leads/export?format=csv", headers=w.agent.headers)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    text = resp.content.decode("utf-8-sig")
    assert "mine@example.com" in text and "boss@example.com" not in text
    assert_error(await call(client, "GET", "/leads/export", w.owner, format="pdf"), 400)
    assert_error(await call(client, "GET", "/activities/export", w.owner, type="CHAT"), 400)


async def test_bulk_update_assigns_and_tags(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    leads = [await make_lead(client, w.owner) for _ in range(3)]
    body = await ok(client, "POST", "/leads/bulk-update", w.manager, {
        "leadIds": [lead["id"] for lead in leads] + [leads[0]["id"]],
        "updates": {"assignedToId": agent_id(w.agent), "tags": ["vip"]}})
    assert (body["updated"], body["failed"]) == (3, 0)
    mine = await ok(client, "GET", "/leads", w.agent)
    assert mine["total"] == 3 and all(r["tags"] == ["vip"] for r in mine["data"])
    err = assert_error(await call(client, "POST", "/leads/bulk-update", w.manager,
                                  {"leadIds": [], "updates": {"status": "LOST"}}), 400)
    assert err["errors"][0]["field"] == "leadIds"
    err = assert_error(await call(client, "POST", "/leads/bulk-update", w.manager,
                                  {"leadIds": [leads[0]["id"]], "updates": {"status": "X"}}),
                       400)
    assert err["errors"][0]["field"] == "updates.status"
