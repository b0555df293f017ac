"""A segment as the filter of bulk operations and exports (``{"segment_id": ...}`` in their
LeadFilter body, ``segment_id=`` in the export's query string)."""

from __future__ import annotations

import uuid

import httpx

from leadbase.bulk import service as bulk
from leadbase.config import Settings
from leadbase.db.session import Database
from leadbase.exports import service as exports
from tests.exports.conftest import read_csv
from tests.factories import add_member, make_lead, make_workspace
from tests.segments.conftest import SEGMENTS, make_segment, pred


async def test_bulk_update_by_segment(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    vips = [await make_lead(client, owner, tags=["vip"]) for _ in range(3)]
    other = await make_lead(client, owner, tags=["smb"])
    seg = await make_segment(client, owner, "VIP", pred("tags", "contains", "vip"))
    resp = await client.post("/api/v1/leads/bulk", headers=owner.headers, json={
        "action": "update", "filter": {"segment_id": seg["id"]},
        "changes": {"status": "qualified"}})
    assert resp.status_code == 202, resp.text
    job = resp.json()
    assert await bulk.run_job(db, tenant_id=owner.tenant_id, job_id=uuid.UUID(job["id"]),
                              batch=2) == "completed"
    done = (await client.get(f"/api/v1/leads/bulk/{job['id']}", headers=owner.headers)).json()
    assert (done["matched"], done["updated"]) == (3, 3)
    for lead in vips:
        got = (await client.get(f"/api/v1/leads/{lead['id']}", headers=owner.headers)).json()
        assert got["status"] == "qualified"
    untouched = (await client.get(f"/api/v1/leads/{other['id']}", headers=owner.headers)).json()
    assert untouched["status"] == "new"


async def test_bulk_by_a_static_segment_and_refusals(client: httpx.AsyncClient,
                                                     db: Database) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    a = await make_lead(client, owner)
    b = await make_lead(client, agent)
    seg = await make_segment(client, owner, "Picked", kind="static",
                             lead_ids=[a["id"], b["id"]])
    # An agent's operation reaches only their own members.
    resp = await client.post("/api/v1/leads/bulk", headers=agent.headers, json={
        "action": "update", "filter": {"segment_id": seg["id"]},
        "changes": {"tags_add": ["picked"]}})
    assert resp.status_code == 202, resp.text
    await bulk.run_job(db, tenant_id=owner.tenant_id, job_id=uuid.UUID(resp.json()["id"]))
    got_a = (await client.get(f"/api/v1/leads/{a['id']}", headers=owner.headers)).json()
    got_b = (await client.get(f"/api/v1/leads/{b['id']}", headers=owner.headers)).json()
    assert got_a["tags"] == [] and got_b["tags"] == ["picked"]
    # A deleted segment, another workspace's, or a malformed id: refused before queueing.
    stranger = await make_workspace(client)
    theirs = await make_segment(client, stranger, "Theirs", pred("source", "eq", "x"))
    await client.delete(f"{SEGMENTS}/{seg['id']}", headers=owner.headers)
    for segment_id, message in ((seg["id"], "deleted segment"),
                                (theirs["id"], "unknown segment")):
        refused = await client.post("/api/v1/leads/bulk", headers=owner.headers, json={
            "action": "delete", "filter": {"segment_id": segment_id}})
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"] == [{"field": "segment_id", "message": message}]
    malformed = await client.post("/api/v1/leads/bulk", headers=owner.headers, json={
        "action": "delete", "filter": {"segment_id": "nope"}})
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["field"] == "filter.segment_id"


async def test_exports_by_segment(client: httpx.AsyncClient, db: Database,
                                  settings: Settings) -> None:
    owner = await make_workspace(client)
    await make_lead(client, owner, first_name="Web", source="website")
    await make_lead(client, owner, first_name="Fair", source="fair")
    seg = await make_segment(client, owner, "Web", pred("source", "eq", "website"))
    streamed = await client.get(f"/api/v1/leads/export?segment_id={seg['id']}",
                                headers=owner.headers)
    assert streamed.status_code == 200, streamed.text
    assert [r["first_name"] for r in read_csv(streamed.content)] == ["Web"]
    resp = await client.post("/api/v1/exports", headers=owner.headers,
                             json={"format": "csv", "filters": {"segment_id": seg["id"]}})
    assert resp.status_code == 202, resp.text
    job = resp.json()
    assert await exports.run_job(db, tenant_id=owner.tenant_id, job_id=uuid.UUID(job["id"]),
                                 data_dir=settings.resolved_data_dir()) == "completed"
    done = (await client.get(f"/api/v1/exports/{job['id']}", headers=owner.headers)).json()
    assert done["total_rows"] == 1
    got = await client.get(done["download_url"], headers=owner.headers)
    assert [r["first_name"] for r in read_csv(got.content)] == ["Web"]
    await client.delete(f"{SEGMENTS}/{seg['id']}", headers=owner.headers)
    refused = await client.post("/api/v1/exports", headers=owner.headers,
                                json={"filters": {"segment_id": seg["id"]}})
    assert refused.status_code == 422 and refused.json()["code"] == "INVALID_FILTER"
    streamed = await client.get(f"/api/v1/leads/export?segment_id={seg['id']}",
                                headers=owner.headers)
    assert streamed.status_code == 422
