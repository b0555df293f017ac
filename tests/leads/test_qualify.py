"""POST /leads/{id}/qualify, /unqualify and GET /leads/unqualified-reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.customers.helpers import convert
from tests.factories import Member, add_member, make_lead, make_workspace


async def _timeline(client: httpx.AsyncClient, member: Member,
                    lead_id: str) -> list[dict[str, Any]]:
    resp = await client.get(f"/api/v1/leads/{lead_id}/timeline?types=status_change",
                            headers=member.headers)
    assert resp.status_code == 200, resp.text
    data: list[dict[str, Any]] = resp.json()["data"]
    return data


async def test_qualify(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    lead = await make_lead(client, owner)
    resp = await client.post(f"/api/v1/leads/{lead['id']}/qualify", headers=owner.headers)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == "qualified" and body["qualified_at"] is not None
    assert resp.headers["ETag"] == f'"{body["version"]}"'
    entries = await _timeline(client, owner, lead["id"])
    assert [(e["attributes"]["from"], e["attributes"]["to"]) for e in entries] == [
        ("new", "qualified")]
    # again: nothing changes
    again = await client.post(f"/api/v1/leads/{lead['id']}/qualify", headers=owner.headers)
    assert again.json()["version"] == body["version"]
    assert len(await _timeline(client, owner, lead["id"])) == 1
    # stale If-Match
    stale = await client.post(f"/api/v1/leads/{lead['id']}/qualify",
                              headers={**owner.headers, "If-Match": '"1"'})
    assert stale.status_code == 412


async def test_unqualify_keeps_the_reason(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    lead = await make_lead(client, owner)
    url = f"/api/v1/leads/{lead['id']}/unqualify"
    for body in ({}, {"reason": ""}, {"reason": "x" * 501}, {"reason": 3}):
        resp = await client.post(url, headers=owner.headers, json=body)
        assert resp.status_code == 422, (body, resp.text)
    resp = await client.post(url, headers=owner.headers, json={"reason": "  No   budget "})
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "unqualified"
    assert resp.json()["unqualified_reason"] == "No budget"
    entries = await _timeline(client, owner, lead["id"])
    assert entries[0]["attributes"] == {"from": "new", "to": "unqualified",
                                        "reason": "No budget"}
    same = await client.post(url, headers=owner.headers, json={"reason": "No budget"})
    assert same.json()["version"] == resp.json()["version"]
    # qualify back: the last reason stays for reports
    back = await client.post(f"/api/v1/leads/{lead['id']}/qualify", headers=owner.headers)
    assert back.json()["status"] == "qualified"
    assert back.json()["unqualified_reason"] == "No budget"


async def test_converted_and_foreign_leads(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    other = await make_workspace(client, "Other")
    lead = await make_lead(client, owner, company="Vandelay")
    assert (await convert(client, owner, lead["id"])).status_code == 200
    for path, body in (("qualify", None), ("unqualify", {"reason": "late"})):
        resp = await client.post(f"/api/v1/leads/{lead['id']}/{path}", headers=owner.headers,
                                 json=body)
        assert resp.status_code == 409 and resp.json()["code"] == "LEAD_CONVERTED"
    theirs = await make_lead(client, other)
    assert (await client.post(f"/api/v1/leads/{theirs['id']}/qualify",
                              headers=owner.headers)).status_code == 404
    assert (await client.post(f"/api/v1/leads/{theirs['id']}/unqualify",
                              headers=owner.headers,
                              json={"reason": "x"})).status_code == 404


async def test_roles(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    viewer = await add_member(client, owner, "viewer")
    agent = await add_member(client, owner, "agent")
    mine = await make_lead(client, agent)
    theirs = await make_lead(client, owner)
    assert (await client.post(f"/api/v1/leads/{mine['id']}/qualify",
                              headers=viewer.headers)).status_code == 403
    assert (await client.post(f"/api/v1/leads/{theirs['id']}/qualify",
                              headers=agent.headers)).status_code == 404
    assert (await client.post(f"/api/v1/leads/{mine['id']}/qualify",
                              headers=agent.headers)).status_code == 200
    assert (await client.get("/api/v1/leads/unqualified-reasons",
                             headers=viewer.headers)).status_code == 200


async def test_reasons_report(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    leads = [await make_lead(client, owner) for _ in range(3)]
    own = await make_lead(client, agent)
    for lead, reason in zip([*leads, own], ["No budget", "No budget", "Competitor",
                                            "No budget"], strict=True):
        resp = await client.post(f"/api/v1/leads/{lead['id']}/unqualify",
                                 headers=owner.headers, json={"reason": reason})
        assert resp.status_code == 200
    # a plain status change counts without a reason
    await client.patch(f"/api/v1/leads/{leads[2]['id']}", headers=owner.headers,
                       json={"status": "new"})
    await client.patch(f"/api/v1/leads/{leads[2]['id']}", headers=owner.headers,
                       json={"status": "unqualified"})
    report = (await client.get("/api/v1/leads/unqualified-reasons",
                               headers=owner.headers)).json()
    assert report["total"] == 5
    assert report["reasons"] == [{"reason": "No budget", "count": 3},
                                 {"reason": "Competitor", "count": 1},
                                 {"reason": None, "count": 1}]
    assert set(report) == {"from", "to", "total", "reasons"}
    mine = (await client.get("/api/v1/leads/unqualified-reasons",
                             headers=agent.headers)).json()
    assert mine["reasons"] == [{"reason": "No budget", "count": 1}]
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    later = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    empty = (await client.get("/api/v1/leads/unqualified-reasons",
                              params={"from": future, "to": later},
                              headers=owner.headers)).json()
    assert empty["total"] == 0 and empty["reasons"] == []
    bad = await client.get("/api/v1/leads/unqualified-reasons",
                           params={"from": later, "to": future}, headers=owner.headers)
    assert bad.status_code == 422 and bad.json()["code"] == "INVALID_RANGE"
    bad = await client.get("/api/v1/leads/unqualified-reasons?from=yesterday",
                           headers=owner.headers)
    assert bad.status_code == 422
