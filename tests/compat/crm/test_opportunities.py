"""Conformance: every request of the document's Opportunities section sent as written
(``{id}``, ``lead_xxx``, ``agent_123`` replaced by the ids of rows made first), its
status and response shape checked against what the document shows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text

from leadbase.db.session import Database
from tests.compat.crm.helpers import (
    BASE,
    PAGE_KEYS,
    World,
    agent_id,
    check,
    make_lead,
    ok,
    send,
    world_with_lead,
)
from tests.factories import Member

OPP_KEYS = {"id", "name", "leadId", "customerId", "stage", "stageName", "status", "value",
            "currency", "probability", "weightedValue", "expectedCloseDate", "assignedToId",
            "source", "notes", "actualValue", "closeDate", "closedAt", "lostReason",
            "competitor", "closeNotes", "reopenedAt", "reopenReason", "lastActivityAt",
            "stageEnteredAt", "lead", "customer", "createdAt", "updatedAt"}
STAGES = ["QUALIFIED", "PROPOSAL", "NEGOTIATION", "CLOSED_WON", "CLOSED_LOST"]


async def make_opp(client: httpx.AsyncClient, who: Member, **body: Any) -> dict[str, Any]:
    made: dict[str, Any] = await ok(client, "POST", "/opportunities", who,
                                    {"name": "Deal", "value": 1000, **body}, expect=201)
    return made


async def world_with_opp(client: httpx.AsyncClient, **body: Any
                         ) -> tuple[World, dict[str, Any], dict[str, Any], dict[str, str]]:
    w, lead, names = await world_with_lead(client)
    opp = await make_opp(client, w.owner, leadId=lead["id"], **body)
    return w, lead, opp, {**names, "{id}": opp["id"], "opp_xxx": opp["id"]}


# CRUD ---------------------------------------------------------------------------------------

async def test_create_opportunity(client: httpx.AsyncClient) -> None:
    w, lead, names = await world_with_lead(client)
    body = check(await send(client, "Create Opportunity", w.owner, names),
                 "Create Opportunity")
    assert set(body) == OPP_KEYS and body["id"].startswith("opp_")
    assert (body["name"], body["leadId"], body["stage"], body["status"]) == \
        ("Enterprise Deal", lead["id"], "QUALIFIED", "OPEN")
    assert (body["value"], body["probability"], body["weightedValue"]) == (50000, 50, 25000)
    assert body["expectedCloseDate"] == "2026-03-31T00:00:00Z"
    assert body["assignedToId"] == agent_id(w.agent)  # the lead's agent
    assert body["lead"]["id"] == lead["id"] and body["currency"] == "USD"


async def test_get_all_opportunities(client: httpx.AsyncClient) -> None:
    w, lead, names = await world_with_lead(client)
    await make_opp(client, w.owner, leadId=lead["id"])
    proposal = await make_opp(client, w.owner, stage="PROPOSAL", name="Second")
    body = check(await send(client, "Get All Opportunities", w.owner, names),
                 "Get All Opportunities")
    assert set(body) == PAGE_KEYS and [o["id"] for o in body["data"]] == [proposal["id"]]
    assert (body["total"], body["page"], body["limit"], body["totalPages"]) == (1, 1, 20, 1)
    everything = await ok(client, "GET", "/opportunities", w.owner, limit=1, page=2)
    assert everything["total"] == 2 and everything["totalPages"] == 2
    assert len(everything["data"]) == 1 and everything["data"][0]["id"] != proposal["id"]


async def test_get_opportunity_by_id(client: httpx.AsyncClient) -> None:
    w, _lead, opp, names = await world_with_opp(client)
    resp = await send(client, "Get Opportunity by ID", w.owner, names)
    body = check(resp, "Get Opportunity by ID")
    assert body == opp and resp.headers["etag"]


async def test_update_opportunity(client: httpx.AsyncClient) -> None:
    w, _lead, opp, names = await world_with_opp(client)
    body = check(await send(client, "Update Opportunity", w.owner, names),
                 "Update Opportunity")
    assert (body["value"], body["probability"], body["weightedValue"]) == (55000, 75, 41250)
    assert body["name"] == opp["name"] and body["stage"] == "QUALIFIED"


async def test_delete_opportunity(client: httpx.AsyncClient) -> None:
    w, _lead, opp, names = await world_with_opp(client)
    resp = await send(client, "Delete Opportunity", w.owner, names)
    check(resp, "Delete Opportunity")
    assert resp.content == b""
    gone = await client.get(f"{BASE}/opportunities/{opp['id']}", headers=w.owner.headers)
    assert gone.status_code == 404
    assert gone.json()["message"] == f"Opportunity {opp['id']} not found"


# Pipeline -----------------------------------------------------------------------------------

async def test_move_to_stage(client: httpx.AsyncClient) -> None:
    w, _lead, opp, names = await world_with_opp(client)
    body = check(await send(client, "Move to Stage", w.owner, names), "Move to Stage")
    assert body["stage"] == "PROPOSAL" and body["probability"] == 50
    assert body["stageEnteredAt"] >= opp["stageEnteredAt"]
    history = await client.get(f"/api/v1/opportunities/{uuid.UUID(opp['id'][4:])}"
                               "/stage-history", headers=w.owner.headers)
    assert [c["to_stage"] for c in history.json()["data"]] == ["proposal", "qualified"]


async def test_get_by_stage(client: httpx.AsyncClient) -> None:
    w, _lead, names = await world_with_lead(client)
    await make_opp(client, w.owner)
    older = await make_opp(client, w.owner, stage="PROPOSAL", name="Older")
    newer = await make_opp(client, w.owner, stage="PROPOSAL", name="Newer")
    resp = await send(client, "Get by Stage", w.owner, names)
    body = check(resp, "Get by Stage")
    assert [o["id"] for o in body] == [newer["id"], older["id"]]
    first = await client.get(f"{BASE}/opportunities/pipeline/by-stage/PROPOSAL?limit=1",
                             headers=w.owner.headers)
    assert [o["id"] for o in first.json()] == [newer["id"]]
    rest = await client.get(f"{BASE}/opportunities/pipeline/by-stage/PROPOSAL",
                            params={"limit": 1, "cursor": first.headers["x-next-cursor"]},
                            headers=w.owner.headers)
    assert [o["id"] for o in rest.json()] == [older["id"]]
    assert "x-next-cursor" not in rest.headers


async def test_get_pipeline_view(client: httpx.AsyncClient) -> None:
    w, lead, names = await world_with_lead(client)
    mine = await make_opp(client, w.agent, leadId=lead["id"], value=150000)
    await make_opp(client, w.agent, stage="PROPOSAL", value=100)
    await make_opp(client, w.owner, value=7)  # the owner's: not agent_123's
    body = check(await send(client, "Get Pipeline View", w.owner, names),
                 "Get Pipeline View")
    assert list(body["stages"]) == STAGES
    qualified = body["stages"]["QUALIFIED"]
    assert (qualified["count"], qualified["value"]) == (1, 150000)
    assert [o["id"] for o in qualified["opportunities"]] == [mine["id"]]
    assert qualified["weightedValue"] == 30000 and qualified["nextCursor"] is None
    assert body["stages"]["PROPOSAL"]["count"] == 1
    assert (body["totalValue"], body["totalCount"]) == (150100, 2)
    everyone = await ok(client, "GET", "/opportunities/pipeline/view", w.owner)
    assert everyone["totalCount"] == 3 and everyone["currency"] == "USD"


async def test_calculate_probability(client: httpx.AsyncClient) -> None:
    w, _lead, opp, names = await world_with_opp(client)
    body = check(await send(client, "Calculate Probability", w.owner, names),
                 "Calculate Probability")
    assert body["probability"] == 20 and body["method"] == "STAGE_DEFAULT"
    assert body["sampleSize"] == 0 and body["stage"] == "QUALIFIED"
    unchanged = await ok(client, "GET", f"/opportunities/{opp['id']}", w.owner)
    assert unchanged["updatedAt"] == opp["updatedAt"]


async def test_update_probability(client: httpx.AsyncClient) -> None:
    w, _lead, opp, names = await world_with_opp(client, probability=90)
    body = check(await send(client, "Update Probability", w.owner, names),
                 "Update Probability")
    assert body["id"] == opp["id"] and body["probability"] == 20  # the stage's, stored
    assert body["probabilityMethod"] == "STAGE_DEFAULT"
    got = await ok(client, "GET", f"/opportunities/{opp['id']}", w.owner)
    assert got["probability"] == 20


async def test_forecast_revenue(client: httpx.AsyncClient) -> None:
    w, _lead, names = await world_with_lead(client)
    soon = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT00:00:00Z")
    await make_opp(client, w.owner, value=1000, probability=50, expectedCloseDate=soon)
    await make_opp(client, w.owner, value=500, expectedCloseDate=soon)  # stage's 20
    await make_opp(client, w.owner, value=9999)  # undated: not in the forecast
    body = check(await send(client, "Forecast Revenue", w.owner, names), "Forecast Revenue")
    assert body["period"] == "Next 3 months"
    assert (body["predictedRevenue"], body["weightedRevenue"], body["opportunities"]) == \
        (1500, 600, 2)
    assert len(body["months"]) == 3 and sum(m["opportunities"] for m in body["months"]) == 2
    one = await ok(client, "GET", "/opportunities/forecast/revenue", w.owner, months=1)
    assert one["period"] == "Next month"


async def test_get_stale_opportunities(client: httpx.AsyncClient, db: Database) -> None:
    w, _lead, names = await world_with_lead(client)
    old = await make_opp(client, w.owner, name="Old")
    await make_opp(client, w.owner, name="Fresh")
    async with db.transaction(w.owner.tenant_id) as session:
        await session.execute(text(
            "UPDATE opportunities SET stage_entered_at = now() - interval '40 days' "
            "WHERE id = :i"), {"i": uuid.UUID(old["id"][4:])})
    resp = await send(client, "Get Stale Opportunities", w.owner, names)
    body = check(resp, "Get Stale Opportunities")
    assert [o["id"] for o in body] == [old["id"]] and body[0]["idleDays"] == 40
    assert resp.headers["x-total-count"] == "1"


async def test_close_won(client: httpx.AsyncClient) -> None:
    w, _lead, _opp, names = await world_with_opp(client)
    body = check(await send(client, "Close Won", w.owner, names), "Close Won")
    assert (body["status"], body["stage"], body["actualValue"]) == ("WON", "CLOSED_WON", 55000)
    assert body["closeNotes"] == "Great negotiation" and body["closedAt"]
    assert body["probability"] == 100


async def test_close_lost(client: httpx.AsyncClient) -> None:
    w, _lead, _opp, names = await world_with_opp(client)
    body = check(await send(client, "Close Lost", w.owner, names), "Close Lost")
    assert (body["status"], body["stage"], body["lostReason"], body["closeNotes"]) == \
        ("LOST", "CLOSED_LOST", "Chose competitor", "Better pricing")


async def test_reopen_opportunity(client: httpx.AsyncClient) -> None:
    w, _lead, opp, names = await world_with_opp(client)
    await ok(client, "POST", f"/opportunities/{opp['id']}/move-stage", w.owner,
             {"stage": "NEGOTIATION"})
    await ok(client, "POST", f"/opportunities/{opp['id']}/close-lost", w.owner,
             {"reason": "Budget"})
    body = check(await send(client, "Reopen Opportunity", w.owner, names),
                 "Reopen Opportunity")
    assert (body["status"], body["stage"]) == ("OPEN", "NEGOTIATION")
    assert body["reopenReason"] == "Customer reconsidering" and body["lostReason"] is None


# Activities ---------------------------------------------------------------------------------

async def test_log_activity(client: httpx.AsyncClient) -> None:
    w, lead, opp, names = await world_with_opp(client)
    body = check(await send(client, "Log Activity", w.owner, names), "Log Activity")
    assert body["id"].startswith("act_") and body["type"] == "CALL"
    assert (body["opportunityId"], body["leadId"]) == (opp["id"], lead["id"])
    assert body["description"] == "Discussed pricing" and body["state"] == "COMPLETED"
    got = await ok(client, "GET", f"/opportunities/{opp['id']}", w.owner)
    assert got["lastActivityAt"] is not None


async def test_get_activities(client: httpx.AsyncClient) -> None:
    w, _lead, opp, names = await world_with_opp(client)
    call = await ok(client, "POST", f"/opportunities/{opp['id']}/activities", w.owner,
                    {"type": "CALL", "description": "x", "duration": 5}, expect=201)
    await ok(client, "POST", f"/opportunities/{opp['id']}/move-stage", w.owner,
             {"stage": "PROPOSAL"})
    body = check(await send(client, "Get Activities", w.owner, names), "Get Activities")
    types = [a["type"] for a in body]
    assert call["id"] in [a["id"] for a in body] and "CALL" in types
    assert "OPPORTUNITY_EVENT" in types and call["duration"] == 5
    calls = await ok(client, "GET", f"/opportunities/{opp['id']}/activities", w.owner,
                     type="CALL")
    assert [a["id"] for a in calls] == [call["id"]]


async def test_schedule_follow_up(client: httpx.AsyncClient) -> None:
    w, _lead, opp, names = await world_with_opp(client)
    body = check(await send(client, "Schedule Follow-up", w.owner, names),
                 "Schedule Follow-up")
    assert (body["type"], body["state"], body["opportunityId"]) == \
        ("CALL", "SCHEDULED", opp["id"])
    assert body["scheduledFor"].startswith("2026-02-15T10:00:00")
    assert body["description"] == "Follow up on proposal"


async def test_get_upcoming_activities(client: httpx.AsyncClient) -> None:
    w, lead, names = await world_with_lead(client)
    opp = await make_opp(client, w.agent, leadId=lead["id"])
    later = await ok(client, "POST", f"/opportunities/{opp['id']}/schedule-follow-up",
                     w.agent, {"scheduledFor": "2031-02-15T10:00:00Z"}, expect=201)
    sooner = await ok(client, "POST", f"/opportunities/{opp['id']}/schedule-follow-up",
                      w.agent, {"scheduledFor": "2031-01-15T10:00:00Z", "type": "MEETING",
                                "title": "Visit"}, expect=201)
    await ok(client, "POST", f"/opportunities/{opp['id']}/schedule-follow-up", w.owner,
             {"scheduledFor": "2031-01-01T10:00:00Z"}, expect=201)  # the owner's
    body = check(await send(client, "Get Upcoming Activities", w.owner, names),
                 "Get Upcoming Activities")
    assert [a["id"] for a in body] == [sooner["id"], later["id"]]
    assert body[0]["title"] == "Visit"
    mine = await make_lead(client, w.owner)
    assert mine["id"] not in str(body)
