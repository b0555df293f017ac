"""The workspace scan: a job with progress whose groups join the blockings; groups paged,
best first, managers only; the service level of merges and candidates."""

from __future__ import annotations

import uuid

import httpx
import pytest

from leadbase.auth.context import context_of
from leadbase.db.session import Database
from leadbase.duplicates import merge, scan, service
from leadbase.duplicates.schemas import MergeIn, UnmergeIn
from leadbase.kit.errors import Conflict, NotFound, ValidationFailed
from tests.duplicates.helpers import LEADS
from tests.factories import add_member, make_workspace


async def _allow(client: httpx.AsyncClient, member, **fields: object) -> dict:  # type: ignore[no-untyped-def, type-arg]
    resp = await client.post(f"{LEADS}?on_duplicate=allow", headers=member.headers,
                             json={"first_name": "Ana", "last_name": "López", **fields})
    assert resp.status_code == 201, resp.text
    return resp.json()  # type: ignore[no-any-return]


async def test_scan_groups(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    other = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    e1 = await _allow(client, owner, first_name="Li", last_name="Wei", email="li.wei@corp.cn")
    e2 = await _allow(client, owner, first_name="Wei", last_name="Li", email="Li.Wei+crm@corp.cn",
                      phone="+442071234567")
    e3 = await _allow(client, owner, first_name="L", last_name="W", phone="+442071234567",
                      email="lw@else.org")
    n1 = await _allow(client, owner, first_name="Jonathan", last_name="Smithers",
                      company="Globex", email="j1@a.org")
    n2 = await _allow(client, owner, first_name="Jonathon", last_name="Smithers",
                      company="globex", email="j2@b.org")
    d1 = await _allow(client, owner, first_name="Kim", last_name="Park", email="kim@initech.com")
    d2 = await _allow(client, owner, first_name="Jae", last_name="Park", email="jae@initech.com")
    await _allow(client, owner, first_name="Solo", last_name="Lead", email="solo@z.org")
    await _allow(client, other, first_name="Li", last_name="Wei", email="li.wei@corp.cn")
    url = f"{LEADS}/duplicates"
    empty = (await client.get(url, headers=owner.headers)).json()
    assert empty["data"] == [] and empty["scan_id"] is None
    resp = await client.post(f"{url}/scan", headers=owner.headers)
    assert resp.status_code == 202, resp.text
    job = resp.json()
    assert job["status"] == "queued" and job["total"] == scan.STEPS
    again = await client.post(f"{url}/scan", headers=owner.headers)
    assert again.status_code == 409 and again.json()["code"] == "DUPLICATE_SCAN_RUNNING"
    assert await scan.run_scan(db, tenant_id=owner.tenant_id,
                               scan_id=uuid.UUID(job["id"])) == "completed"
    assert await scan.run_scan(db, tenant_id=owner.tenant_id,
                               scan_id=uuid.UUID(job["id"])) == "completed"  # taken once
    done = (await client.get(f"{url}/scans/{job['id']}", headers=owner.headers)).json()
    assert done["status"] == "completed" and done["processed"] == scan.STEPS
    assert done["groups"] == 3 and done["leads"] == 8
    page = (await client.get(url, headers=owner.headers)).json()
    assert page["total"] == 3 and page["scan_id"] == job["id"]
    groups = [({m["id"] for m in g["leads"]}, g["reasons"], g["score"]) for g in page["data"]]
    assert groups[0] == ({e1["id"], e2["id"], e3["id"]}, ["same_email", "same_phone"], 100)
    assert {frozenset(g[0]) for g in groups[1:]} == {frozenset({n1["id"], n2["id"]}),
                                                     frozenset({d1["id"], d2["id"]})}
    assert [g[2] for g in groups] == sorted((g[2] for g in groups), reverse=True)
    assert (await client.get(url, headers=agent.headers)).status_code == 403
    assert (await client.post(f"{url}/scan", headers=agent.headers)).status_code == 403
    assert (await client.get(f"{url}/scans/{job['id']}",
                             headers=other.headers)).status_code == 404
    assert (await client.get(url, headers=other.headers)).json()["total"] == 0
    # A merged lead drops out of its group.
    resp = await client.post(f"{LEADS}/{d1['id']}/merge", headers=owner.headers,
                             json={"other_ids": [d2["id"]]})
    assert resp.status_code == 200, resp.text
    page = (await client.get(url, headers=owner.headers)).json()
    assert any([m["id"] for m in g["leads"]] == [d1["id"]] for g in page["data"])
    # A new scan replaces the groups; cancel refuses a finished one.
    second = (await client.post(f"{url}/scan", headers=owner.headers)).json()
    assert await scan.run_scan(db, tenant_id=owner.tenant_id,
                               scan_id=uuid.UUID(second["id"])) == "completed"
    assert (await client.get(url, headers=owner.headers)).json()["total"] == 2
    resp = await client.post(f"{url}/scans/{second['id']}/cancel", headers=owner.headers)
    assert resp.status_code == 409
    scans = (await client.get(f"{url}/scans", headers=owner.headers)).json()
    assert [s["id"] for s in scans["data"]] == [second["id"], job["id"]]


async def test_cancelled_scan_writes_nothing(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    await _allow(client, owner, email="same@q.org")
    await _allow(client, owner, email="same@q.org")
    job = (await client.post(f"{LEADS}/duplicates/scan", headers=owner.headers)).json()
    resp = await client.post(f"{LEADS}/duplicates/scans/{job['id']}/cancel",
                             headers=owner.headers)
    assert resp.status_code == 200 and resp.json()["status"] == "cancelled"
    assert await scan.run_scan(db, tenant_id=owner.tenant_id,
                               scan_id=uuid.UUID(job["id"])) == "cancelled"
    assert (await client.get(f"{LEADS}/duplicates", headers=owner.headers)).json()["total"] == 0


async def test_service_level(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    other = await make_workspace(client)
    a = await _allow(client, owner, email="svc@q.org")
    b = await _allow(client, owner, email="svc@q.org", job_title="CEO")
    foreign = await _allow(client, other, email="svc@q.org")
    ctx = context_of(owner.tenant_id, {"role": "owner", "user_id": str(owner.user_id)})
    a_id, b_id = uuid.UUID(a["id"]), uuid.UUID(b["id"])
    async with db.transaction(owner.tenant_id) as session:
        found = await service.lead_candidates(session, ctx=ctx, lead_id=a_id, limit=5)
        assert [m.lead["id"] for m in found] == [b_id]
        with pytest.raises(ValidationFailed):
            await merge.merge(session, ctx=ctx, lead_id=a_id, body=MergeIn(other_ids=[a_id]))
    async with db.transaction(owner.tenant_id) as session:
        with pytest.raises(NotFound):
            await merge.merge(session, ctx=ctx, lead_id=a_id,
                              body=MergeIn(other_ids=[uuid.UUID(foreign["id"])]))
    async with db.transaction(owner.tenant_id) as session:
        lead, record = await merge.merge(session, ctx=ctx, lead_id=a_id,
                                         body=MergeIn(other_ids=[b_id]))
        assert lead["job_title"] == "CEO" and record["merged_ids"] == [b_id]
        assert record["before"] == {"job_title": None}
    async with db.transaction(owner.tenant_id) as session:
        with pytest.raises(Conflict):
            await merge.merge(session, ctx=ctx, lead_id=a_id, body=MergeIn(other_ids=[b_id]))
    async with db.transaction(owner.tenant_id) as session:
        lead, records = await merge.unmerge(session, ctx=ctx, lead_id=a_id, body=UnmergeIn())
        assert lead["job_title"] is None and records[0]["status"] == "unmerged"
    with pytest.raises(ValueError):
        MergeIn(other_ids=[b_id, b_id])
