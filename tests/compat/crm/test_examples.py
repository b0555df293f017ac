"""Conformance: every request of the document's Leads and Activities sections sent as
written (its placeholder ids — ``{id}``, ``lead_xxx``, ``agent_123``... — replaced by the
ids of rows the test made first), its status and response shape checked against what the
document shows. The Opportunities section: ``test_opportunities``."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import httpx
from python_calamine import CalamineWorkbook

from tests.compat.crm import test_opportunities
from tests.compat.crm.helpers import (
    BASE,
    EXAMPLES,
    LEAD_KEYS,
    PAGE_KEYS,
    World,
    agent_id,
    check,
    example,
    make_lead,
    make_world,
    ok,
    scoring_model,
    send,
    world_with_lead,
)


def test_every_example_is_covered() -> None:
    tested = {name.removeprefix("test_").replace("_", " ")
              for name in (*globals(), *vars(test_opportunities)) if name.startswith("test_")}
    for title in EXAMPLES:
        key = title.lower().replace("-", " ").replace("/", " ")
        assert key in tested, title
    assert len(EXAMPLES) == 39 + 19


# Leads: CRUD ------------------------------------------------------------------------------

async def test_create_lead(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    body = check(await send(client, "Create Lead", w.owner, {}), "Create Lead")
    assert set(body) == LEAD_KEYS and body["id"].startswith("lead_")
    sent = example("Create Lead").body
    assert body["phone"] == sent["phone"] and body["company"] == "Acme Corp"
    assert body["jobTitle"] == "CEO" and body["source"] == "WEBSITE"
    assert body["notes"] == "Interested in insurance" and body["assignedToId"] is None
    assert datetime.fromisoformat(body["createdAt"]).tzinfo is not None
    assert body["createdAt"].endswith("Z")


async def test_get_all_leads(client: httpx.AsyncClient) -> None:
    w, hot, names = await world_with_lead(client)
    await scoring_model(client, w.owner)
    await ok(client, "POST", f"/leads/{hot['id']}/update-score", w.owner)
    cold = await make_lead(client, w.owner, source="REFERRAL")
    await ok(client, "POST", f"/leads/{cold['id']}/update-score", w.owner)
    await make_lead(client, w.owner, status="CONTACTED", source="WEBSITE")
    body = check(await send(client, "Get All Leads", w.owner, names), "Get All Leads")
    assert set(body) == PAGE_KEYS
    assert [r["id"] for r in body["data"]] == [hot["id"]]
    assert body["total"] == 1 and body["page"] == 1 and body["limit"] == 20
    assert body["totalPages"] == 1 and set(body["data"][0]) == LEAD_KEYS
    assert body["data"][0]["score"] == 80 and body["data"][0]["temperature"] == "HOT"


async def test_get_lead_by_id(client: httpx.AsyncClient) -> None:
    w, lead, names = await world_with_lead(client)
    await ok(client, "POST", "/activities/log-call", w.owner,
             {"leadId": lead["id"], "description": "First call", "duration": 5}, expect=201)
    body = check(await send(client, "Get Lead by ID", w.owner, names), "Get Lead by ID")
    assert set(body) == LEAD_KEYS | {"activities", "assignedTo"}
    assert body["firstName"] == "Juan" and body["lastName"] == "Pérez"
    assert body["assignedTo"] == {"id": agent_id(w.agent), "name": "Agent",
                                  "email": w.agent.email, "role": "AGENT", "active": True}
    types = [a["type"] for a in body["activities"]]
    assert types == ["CALL"]
    call = next(a for a in body["activities"] if a["type"] == "CALL")
    assert call["duration"] == 5 and call["leadId"] == lead["id"]


async def test_update_lead(client: httpx.AsyncClient) -> None:
    w, lead, names = await world_with_lead(client)
    body = check(await send(client, "Update Lead", w.owner, names), "Update Lead")
    assert body["status"] == "CONTACTED" and body["notes"] == "Called and discussed options"
    assert body["email"] == lead["email"] and body["firstName"] == "Juan"


async def test_delete_lead(client: httpx.AsyncClient) -> None:
    w, lead, names = await world_with_lead(client)
    resp = await send(client, "Delete Lead", w.owner, names)
    check(resp, "Delete Lead")
    assert resp.content == b""
    gone = await client.get(f"{BASE}/leads/{lead['id']}", headers=w.owner.headers)
    assert gone.status_code == 404
    assert gone.json()["message"] == f"Lead {lead['id']} not found"


# Leads: scoring ---------------------------------------------------------------------------

async def test_calculate_score(client: httpx.AsyncClient) -> None:
    w, _lead, names = await world_with_lead(client)
    await scoring_model(client, w.owner)
    body = check(await send(client, "Calculate Score", w.owner, names), "Calculate Score")
    assert body == {"score": 80}


async def test_update_score(client: httpx.AsyncClient) -> None:
    w, lead, names = await world_with_lead(client)
    await scoring_model(client, w.owner)
    body = check(await send(client, "Update Score", w.owner, names), "Update Score")
    assert body == {"id": lead["id"], "score": 80, "temperature": "HOT"}
    got = await ok(client, "GET", f"/leads/{lead['id']}", w.owner)
    assert got["score"] == 80


async def _scored_world(client: httpx.AsyncClient) -> tuple[World, list[dict[str, Any]],
                                                            dict[str, str]]:
    w, hot, names = await world_with_lead(client)
    await scoring_model(client, w.owner)
    cold = await make_lead(client, w.owner, source="REFERRAL", firstName="María")
    unscored = await make_lead(client, w.owner)
    for lead in (hot, cold):
        await ok(client, "POST", f"/leads/{lead['id']}/update-score", w.owner)
    return w, [hot, cold, unscored], names


async def test_get_hot_leads(client: httpx.AsyncClient) -> None:
    w, (hot, _, _), names = await _scored_world(client)
    body = check(await send(client, "Get Hot Leads", w.owner, names), "Get Hot Leads")
    assert [(r["id"], r["score"]) for r in body] == [(hot["id"], 80)]
    assert body[0]["firstName"] == "Juan"


async def test_get_cold_leads(client: httpx.AsyncClient) -> None:
    w, (_, cold, unscored), names = await _scored_world(client)
    body = check(await send(client, "Get Cold Leads", w.owner, names), "Get Cold Leads")
    assert isinstance(body, list)
    assert [r["id"] for r in body] == [unscored["id"], cold["id"]]  # lowest first
    assert [r["score"] for r in body] == [0, 10]


async def test_recalculate_all_scores(client: httpx.AsyncClient) -> None:
    w, _, names = await world_with_lead(client)
    await scoring_model(client, w.owner)
    resp = await send(client, "Recalculate All Scores", w.owner, names)
    body = check(resp, "Recalculate All Scores")
    assert body["message"] == "Score recalculation started"
    assert body["status"] == "QUEUED" and body["total"] >= 1
    assert resp.headers["location"] == f"/api/v1/scoring/jobs/{body['jobId']}"


# Leads: assignment ------------------------------------------------------------------------

async def test_assign_lead(client: httpx.AsyncClient) -> None:
    w, _lead, names = await world_with_lead(client)
    names["agent_123"] = agent_id(w.agent2)
    body = check(await send(client, "Assign Lead", w.manager, names), "Assign Lead")
    assert set(body) == LEAD_KEYS and body["assignedToId"] == agent_id(w.agent2)


async def test_auto_assign_lead(client: httpx.AsyncClient) -> None:
    w, lead, names = await world_with_lead(client)
    resp = await client.post("/api/v1/assignment/rules", headers=w.owner.headers, json={
        "name": "Everyone to agent 2", "strategy": "round_robin",
        "respect_working_hours": False, "members": [{"user_id": str(w.agent2.user_id)}]})
    assert resp.status_code == 201, resp.text
    body = check(await send(client, "Auto-Assign Lead", w.manager, names),
                 "Auto-Assign Lead")
    assert body["id"] == lead["id"] and body["assignedToId"] == agent_id(w.agent2)


async def test_reassign_lead(client: httpx.AsyncClient) -> None:
    w, _lead, names = await world_with_lead(client)
    body = check(await send(client, "Reassign Lead", w.manager, names), "Reassign Lead")
    assert body["assignedToId"] == agent_id(w.agent2)
    again = await send(client, "Reassign Lead", w.manager, names)  # from agent_1: no more
    assert again.status_code == 409 and again.json()["code"] == "OWNER_CHANGED"


async def test_get_unassigned_leads(client: httpx.AsyncClient) -> None:
    w, _assigned, names = await world_with_lead(client)
    free = await make_lead(client, w.owner)
    body = check(await send(client, "Get Unassigned Leads", w.owner, names),
                 "Get Unassigned Leads")
    assert set(body) == PAGE_KEYS and [r["id"] for r in body["data"]] == [free["id"]]
    assert body["total"] == 1


async def test_get_leads_by_agent(client: httpx.AsyncClient) -> None:
    w, assigned, names = await world_with_lead(client)
    await make_lead(client, w.owner)
    body = check(await send(client, "Get Leads by Agent", w.owner, names),
                 "Get Leads by Agent")
    assert [r["id"] for r in body["data"]] == [assigned["id"]] and body["total"] == 1


# Leads: conversion -------------------------------------------------------------------------

async def test_convert_to_customer(client: httpx.AsyncClient) -> None:
    w, lead, names = await world_with_lead(client)
    body = check(await send(client, "Convert to Customer", w.owner, names),
                 "Convert to Customer")
    assert set(body) == {"lead", "customer", "opportunity", "customerCreated",
                         "alreadyConverted"}
    assert set(body["lead"]) == LEAD_KEYS and body["lead"]["id"] == lead["id"]
    assert body["lead"]["status"] == "CONVERTED"
    customer, opp = body["customer"], body["opportunity"]
    assert customer["id"].startswith("cus_") and customer["name"] == "Juan Pérez"
    assert customer["kind"] == "PERSON" and customer["email"] == lead["email"]
    assert opp["id"].startswith("opp_") and opp["value"] == 5000
    assert opp["leadId"] == lead["id"] and opp["customerId"] == customer["id"]
    assert (opp["stage"], opp["status"]) == ("QUALIFIED", "OPEN")
    assert body["customerCreated"] is True and body["alreadyConverted"] is False
    again = check(await send(client, "Convert to Customer", w.owner, names),
                  "Convert to Customer")  # the first result, not a second customer
    assert again["customer"]["id"] == customer["id"]
    assert again["opportunity"]["id"] == opp["id"] and again["alreadyConverted"] is True
    timeline = await ok(client, "GET", f"/activities/timeline/lead/{lead['id']}", w.owner)
    assert any(e["type"] == "STATUS_CHANGE" and e["description"] == "Ready for sales"
               for e in timeline)


async def test_can_convert(client: httpx.AsyncClient) -> None:
    w, lead, names = await world_with_lead(client)
    body = check(await send(client, "Can Convert", w.owner, names), "Can Convert")
    assert body == {"canConvert": True, "reasons": []}
    await ok(client, "POST", f"/leads/{lead['id']}/convert", w.owner, {})
    body = await ok(client, "GET", f"/leads/{lead['id']}/can-convert", w.viewer)
    assert body["canConvert"] is False
    assert [r["code"] for r in body["reasons"]] == ["LEAD_ALREADY_CONVERTED"]


async def test_mark_as_qualified(client: httpx.AsyncClient) -> None:
    w, _lead, names = await world_with_lead(client)
    body = check(await send(client, "Mark as Qualified", w.agent, names),
                 "Mark as Qualified")
    assert set(body) == LEAD_KEYS and body["status"] == "QUALIFIED"
    again = check(await send(client, "Mark as Qualified", w.agent, names),
                  "Mark as Qualified")
    assert again["updatedAt"] == body["updatedAt"]  # already qualified: unchanged


async def test_mark_as_unqualified(client: httpx.AsyncClient) -> None:
    w, lead, names = await world_with_lead(client)
    body = check(await send(client, "Mark as Unqualified", w.agent, names),
                 "Mark as Unqualified")
    assert body["status"] == "UNQUALIFIED" and body["id"] == lead["id"]
    report = await client.get("/api/v1/leads/unqualified-reasons", headers=w.owner.headers)
    assert report.json()["reasons"] == [{"reason": "Budget too low", "count": 1}]


# Leads: import / export ---------------------------------------------------------------------

def _xlsx(rows: list[list[Any]]) -> bytes:
    import xlsxwriter

    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    sheet = book.add_worksheet()
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    book.close()
    return buf.getvalue()


async def test_import_leads(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    existing = await make_lead(client, w.owner, email="taken@example.com")
    content = _xlsx([["firstName", "lastName", "email", "phone", "company"],
                     ["Ana", "Gil", "ana@example.com", "+34612345001", "Acme"],
                     ["Luis", "Mora", "luis@example.com", "", "Beta"],
                     ["Bad", "Mail", "not-an-email", "", ""],
                     ["Dup", "Licate", "taken@example.com", "", ""]])
    assert example("Import Leads").body == "file: leads.xlsx"
    resp = await send(client, "Import Leads", w.manager, {},
                      files={"file": ("leads.xlsx", content)})
    body = check(resp, "Import Leads")
    assert (body["total"], body["successful"], body["failed"]) == (4, 2, 2)
    assert body["created"] == 2 and len(body["errors"]) == 2
    assert {e["row"] for e in body["errors"]} == {4, 5}
    assert all(set(e) == {"row", "field", "code", "message"} for e in body["errors"])
    found = await ok(client, "GET", "/leads", w.owner, limit=10)
    assert found["total"] == 3 and existing["id"] in [r["id"] for r in found["data"]]
    assert {r["email"] for r in found["data"]} >= {"ana@example.com", "luis@example.com"}


async def test_export_leads(client: httpx.AsyncClient) -> None:
    w, lead, names = await world_with_lead(client)
    await make_lead(client, w.owner, status="CONTACTED", email="other@example.com")
    content = check(await send(client, "Export Leads", w.owner, names), "Export Leads")
    rows = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()
    header = list(rows[0])
    assert len(rows) == 2 and rows[1][header.index("email")] == lead["email"]
    assert rows[1][header.index("status")] == "new"


async def test_bulk_update(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    first, second = await make_lead(client, w.owner), await make_lead(client, w.owner)
    names = {"lead_1": first["id"], "lead_2": second["id"]}
    body = check(await send(client, "Bulk Update", w.owner, names), "Bulk Update")
    assert (body["updated"], body["failed"], body["errors"]) == (2, 0, [])
    for lead in (first, second):
        assert (await ok(client, "GET", f"/leads/{lead['id']}", w.owner))["status"] == \
            "CONTACTED"


# Activities: CRUD ----------------------------------------------------------------------------

async def test_create_activity(client: httpx.AsyncClient) -> None:
    w, lead, names = await world_with_lead(client)
    body = check(await send(client, "Create Activity", w.owner, names), "Create Activity")
    assert body["id"].startswith("act_") and body["type"] == "CALL"
    assert body["description"] == "Initial contact call" and body["leadId"] == lead["id"]
    assert body["state"] == "COMPLETED" and body["createdById"] == agent_id(w.owner)


async def test_get_all_activities(client: httpx.AsyncClient) -> None:
    w, lead, names = await world_with_lead(client)
    other = await make_lead(client, w.owner)
    made = await ok(client, "POST", "/activities", w.owner,
                    {"type": "CALL", "leadId": lead["id"], "description": "x"}, expect=201)
    await ok(client, "POST", "/activities/log-note", w.owner,
             {"leadId": lead["id"], "content": "a note"}, expect=201)
    await ok(client, "POST", "/activities", w.owner,
             {"type": "CALL", "leadId": other["id"]}, expect=201)
    body = check(await send(client, "Get All Activities", w.owner, names),
                 "Get All Activities")
    assert [a["id"] for a in body] == [made["id"]]


async def _activity(client: httpx.AsyncClient, w: World, lead: dict[str, Any],
                    names: dict[str, str], **extra: Any) -> dict[str, Any]:
    made: dict[str, Any] = await ok(client, "POST", "/activities/log-meeting", w.owner,
                                    {"leadId": lead["id"], "title": "Visit",
                                     "scheduledFor": "2030-02-15T10:00:00Z", **extra},
                                    expect=201)
    names["{id}"] = made["id"]
    return made


async def test_get_activity_by_id(client: httpx.AsyncClient) -> None:
    w, lead, names = await world_with_lead(client)
    made = await _activity(client, w, lead, names)
    body = check(await send(client, "Get Activity by ID", w.owner, names),
                 "Get Activity by ID")
    assert body == made


async def test_update_activity(client: httpx.AsyncClient) -> None:
    w, lead, names = await world_with_lead(client)
    made = await _activity(client, w, lead, names)
    assert made["state"] == "SCHEDULED" and made["completedAt"] is None
    body = check(await send(client, "Update Activity", w.owner, names), "Update Activity")
    assert body["state"] == "COMPLETED"
    assert body["completedAt"].startswith("2026-01-28T15:00:00")


async def test_delete_activity(client: httpx.AsyncClient) -> None:
    w, lead, names = await world_with_lead(client)
    made = await _activity(client, w, lead, names)
    check(await send(client, "Delete Activity", w.owner, names), "Delete Activity")
    gone = await client.get(f"{BASE}/activities/{made['id']}", headers=w.owner.headers)
    assert gone.status_code == 404
    assert gone.json()["message"] == f"Activity {made['id']} not found"


# Activities: the types -------------------------------------------------------------------

async def _logged(client: httpx.AsyncClient, title: str) -> dict[str, Any]:
    w, lead, names = await world_with_lead(client)
    body: dict[str, Any] = check(await send(client, title, w.owner, names), title)
    assert body["leadId"] == lead["id"] and body["id"].startswith("act_")
    return body


async def test_log_call(client: httpx.AsyncClient) -> None:
    body = await _logged(client, "Log Call")
    assert (body["type"], body["duration"], body["outcome"]) == ("CALL", 30, "Interested")
    assert body["description"] == "Discussed insurance options"


async def test_log_email(client: httpx.AsyncClient) -> None:
    body = await _logged(client, "Log Email")
    assert (body["type"], body["subject"], body["body"], body["status"]) == \
        ("EMAIL", "Insurance Quote", "Dear customer...", "sent")
    assert body["state"] == "COMPLETED"


async def test_log_meeting(client: httpx.AsyncClient) -> None:
    body = await _logged(client, "Log Meeting")
    assert (body["type"], body["title"], body["duration"], body["location"]) == \
        ("MEETING", "Product Demo", 60, "Office")
    assert body["state"] == "SCHEDULED" and body["scheduledFor"].startswith("2026-02-15")


async def test_log_note(client: httpx.AsyncClient) -> None:
    body = await _logged(client, "Log Note")
    assert body["content"] == "Customer prefers monthly payment" and body["type"] == "NOTE"


async def test_log_task(client: httpx.AsyncClient) -> None:
    body = await _logged(client, "Log Task")
    assert (body["title"], body["priority"], body["state"]) == \
        ("Send quote", "high", "SCHEDULED")
    assert body["dueDate"].startswith("2026-02-10")


async def test_log_demo(client: httpx.AsyncClient) -> None:
    body = await _logged(client, "Log Demo")
    assert (body["duration"], body["feedback"]) == (45, "Very interested")


async def test_log_proposal(client: httpx.AsyncClient) -> None:
    """On an opportunity, as the document shows (and on its lead's timeline), or on a
    lead."""
    w, lead, names = await world_with_lead(client)
    opp = await ok(client, "POST", "/opportunities", w.owner,
                   {"name": "Deal", "leadId": lead["id"]}, expect=201)
    body = check(await send(client, "Log Proposal", w.owner, {**names, "opp_xxx": opp["id"]}),
                 "Log Proposal")
    assert (body["type"], body["title"], body["value"], body["documentUrl"]) == \
        ("PROPOSAL", "Enterprise Insurance Proposal", 50000, "https://...")
    assert body["opportunityId"] == opp["id"] and body["leadId"] == lead["id"]
    timeline = await ok(client, "GET", f"/activities/timeline/lead/{lead['id']}", w.owner)
    assert body["id"] in [e["id"] for e in timeline]
    on_lead = await ok(client, "POST", "/activities/log-proposal", w.owner,
                       {**example("Log Proposal").body, "leadId": lead["id"],
                        "opportunityId": None}, expect=201)
    assert on_lead["opportunityId"] is None and on_lead["value"] == 50000
    missing = await send(client, "Log Proposal", w.owner, {"opp_xxx": "opp_" + "0" * 32})
    assert missing.status_code == 404
    assert missing.json()["message"] == f"Opportunity opp_{'0' * 32} not found"


async def test_log_document(client: httpx.AsyncClient) -> None:
    body = await _logged(client, "Log Document")
    assert (body["title"], body["documentType"], body["documentUrl"]) == \
        ("Contract signed", "contract", "https://...")


# Activities: timeline ---------------------------------------------------------------------

async def test_get_timeline(client: httpx.AsyncClient) -> None:
    w, lead, names = await world_with_lead(client)
    await ok(client, "POST", "/activities/log-note", w.owner,
             {"leadId": lead["id"], "content": "hello"}, expect=201)
    body = check(await send(client, "Get Timeline", w.owner, names), "Get Timeline")
    assert body[0]["type"] == "NOTE" and body[0]["content"] == "hello"
    assert {e["entry"] for e in body} == {"ACTIVITY", "CHANGE"}


async def test_get_recent_activities(client: httpx.AsyncClient) -> None:
    w, lead, names = await world_with_lead(client)
    mine = await ok(client, "POST", "/activities/log-call", w.agent,
                    {"leadId": lead["id"], "duration": 3}, expect=201)
    await ok(client, "POST", "/activities/log-note", w.owner,
             {"leadId": lead["id"], "content": "not the agent's"}, expect=201)
    body = check(await send(client, "Get Recent Activities", w.agent, names),
                 "Get Recent Activities")
    assert [a["id"] for a in body] == [mine["id"]]


async def test_get_activity_summary(client: httpx.AsyncClient) -> None:
    w, lead, names = await world_with_lead(client)
    for _ in range(2):
        await ok(client, "POST", "/activities/log-call", w.agent,
                 {"leadId": lead["id"], "duration": 3}, expect=201)
    await ok(client, "POST", "/activities/log-email", w.agent,
             {"leadId": lead["id"], "subject": "Hi"}, expect=201)
    body = check(await send(client, "Get Activity Summary", w.agent, names),
                 "Get Activity Summary")
    assert body["totalActivities"] == 3 and body["byType"] == {"CALL": 2, "EMAIL": 1}
    assert body["period"] == "week" and (body["completedTasks"], body["pendingTasks"]) == \
        (0, 0)


async def test_export_activities(client: httpx.AsyncClient) -> None:
    w, lead, names = await world_with_lead(client)
    made = await ok(client, "POST", "/activities/log-call", w.owner,
                    {"leadId": lead["id"], "duration": 3, "outcome": "Busy"}, expect=201)
    await ok(client, "POST", "/activities/log-note", w.owner,
             {"leadId": lead["id"], "content": "=HYPERLINK(1)"}, expect=201)
    content = check(await send(client, "Export Activities", w.owner, names),
                    "Export Activities")
    book = CalamineWorkbook.from_filelike(io.BytesIO(content))
    assert book.sheet_names == ["Activities"]
    rows = book.get_sheet_by_index(0).to_python()
    header = list(rows[0])
    assert len(rows) == 2 and rows[1][header.index("type")] == "call"
    assert str(rows[1][header.index("id")]).replace("-", "") == made["id"].removeprefix("act_")
