"""Opportunities and conversion beyond the document's examples: bad input (400 in the
document's shape, nothing changed), not-found messages, roles, other workspaces' ids,
customer matches and idempotent repeats."""

from __future__ import annotations

import httpx
import pytest

from tests.compat.crm.helpers import (
    agent_id,
    assert_error,
    call,
    make_lead,
    make_world,
    ok,
)
from tests.compat.crm.test_opportunities import make_opp

NO_OPP = "opp_" + "0" * 32


@pytest.mark.parametrize(("body", "field"), [
    ({}, "name"),
    ({"name": "x", "value": -1}, "value"),
    ({"name": "x", "value": "12.345"}, "value"),
    ({"name": "x", "probability": 101}, "probability"),
    ({"name": "x", "expectedCloseDate": "soon"}, "expectedCloseDate"),
    ({"name": "x", "stage": "NOWHERE"}, "stage"),
    ({"name": "x", "stage": "CLOSED_WON"}, "stage"),
    ({"name": "x", "currency": "usd"}, "currency"),
])
async def test_create_refuses_bad_input(client: httpx.AsyncClient, body: dict[str, object],
                                        field: str) -> None:
    w = await make_world(client)
    err = assert_error(await call(client, "POST", "/opportunities", w.owner, body), 400)
    assert field in [e["field"] for e in err["errors"]], err
    assert (await ok(client, "GET", "/opportunities", w.owner))["total"] == 0


async def test_changes_refuse_bad_input(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    opp = await make_opp(client, w.owner)
    url = f"/opportunities/{opp['id']}"
    for method, path, body, field in (
            ("PUT", "", {"stage": "PROPOSAL"}, "stage"),
            ("PUT", "", {"status": "WON"}, "status"),
            ("PUT", "", {"probability": -1}, "probability"),
            ("POST", "/move-stage", {}, "stage"),
            ("POST", "/move-stage", {"stage": "NOWHERE"}, "stage"),
            ("POST", "/move-stage", {"stage": "CLOSED_LOST"}, "reason"),
            ("POST", "/close-won", {"actualValue": -5}, "actualValue"),
            ("POST", "/close-lost", {}, "reason"),
            ("POST", "/activities", {"type": "NOTE", "duration": 5}, "duration"),
            ("POST", "/activities", {"type": "SMOKE"}, "type"),
            ("POST", "/schedule-follow-up", {"description": "x"}, "scheduledFor")):
        err = assert_error(await call(client, method, url + path, w.owner, body), 400)
        assert field in [e["field"] for e in err["errors"]], (path, err)
    for query in ("limit=0", "page=0", "status=open", "days=-1"):
        path = "/opportunities/pipeline/stale" if query.startswith("days") else "/opportunities"
        assert_error(await call(client, "GET", f"{path}?{query}", w.owner), 400)
    now = await ok(client, "GET", url, w.owner)
    assert now["updatedAt"] == opp["updatedAt"] and now["lastActivityAt"] is None


async def test_not_found_in_the_documents_words(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    opp = await make_opp(client, w.owner)
    await ok(client, "DELETE", f"/opportunities/{opp['id']}", w.owner, expect=204)
    for raw in ("opp_xxx", NO_OPP, opp["id"], "lead_" + "0" * 32):
        for method, path, body in (("GET", "", None), ("PUT", "", {"value": 1}),
                                   ("DELETE", "", None),
                                   ("POST", "/move-stage", {"stage": "PROPOSAL"}),
                                   ("POST", "/close-won", {}),
                                   ("POST", "/calculate-probability", None),
                                   ("POST", "/schedule-follow-up",
                                    {"scheduledFor": "2031-01-01T00:00:00Z"})):
            assert_error(await call(client, method, f"/opportunities/{raw}{path}", w.owner,
                                    body), 404, f"Opportunity {raw} not found")
    assert_error(await call(client, "GET", "/opportunities/pipeline/by-stage/NOWHERE",
                            w.owner), 404, "Stage NOWHERE not found")
    lead = "lead_" + "1" * 32
    assert_error(await call(client, "POST", "/opportunities", w.owner,
                            {"name": "x", "leadId": lead}), 404, f"Lead {lead} not found")
    assert_error(await call(client, "GET", "/opportunities/pipeline/view", w.owner,
                            agentId="agent_x"), 404, "Agent agent_x not found")


async def test_closed_and_open_conflicts(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    opp = await make_opp(client, w.owner)
    url = f"/opportunities/{opp['id']}"
    assert_error(await call(client, "POST", url + "/reopen", w.owner, {"reason": "x"}), 409,
                 code="OPPORTUNITY_NOT_CLOSED")
    await ok(client, "POST", url + "/close-won", w.owner, {})
    for path, body in (("/close-won", {}), ("/close-lost", {"reason": "x"}),
                       ("/move-stage", {"stage": "PROPOSAL"}),
                       ("/calculate-probability", None), ("/update-probability", None)):
        assert_error(await call(client, "POST", url + path, w.owner, body), 409,
                     code="OPPORTUNITY_CLOSED")
    stale = await client.put(f"/compat/crm/v1{url}", headers={**w.owner.headers,
                                                              "If-Match": '"1"'},
                             json={"value": 3})
    assert_error(stale, 412)


async def test_agents_reach_their_own_deals_and_viewers_read(client: httpx.AsyncClient
                                                            ) -> None:
    w = await make_world(client)
    theirs_lead = await make_lead(client, w.owner, assignedToId=agent_id(w.agent2))
    mine = await make_opp(client, w.agent)
    assert mine["assignedToId"] == agent_id(w.agent)
    theirs = await make_opp(client, w.agent2, leadId=theirs_lead["id"])
    given = await make_opp(client, w.owner, leadId=theirs_lead["id"],
                           assignedToId=agent_id(w.agent))
    listed = await ok(client, "GET", "/opportunities", w.agent)
    assert {o["id"] for o in listed["data"]} == {mine["id"], given["id"]}
    shown = await ok(client, "GET", f"/opportunities/{given['id']}", w.agent)
    assert shown["leadId"] is None and shown["lead"] is None  # another agent's lead
    view = await ok(client, "GET", "/opportunities/pipeline/view", w.agent)
    assert view["totalCount"] == 2 and theirs_lead["id"] not in str(view)
    for method, path, body in (("GET", "", None), ("PUT", "", {"value": 1}),
                               ("POST", "/close-lost", {"reason": "x"}),
                               ("POST", "/activities", {"type": "NOTE", "content": "x"})):
        assert_error(await call(client, method, f"/opportunities/{theirs['id']}{path}",
                                w.agent, body), 404, f"Opportunity {theirs['id']} not found")
    assert_error(await call(client, "POST", "/opportunities", w.agent,
                            {"name": "x", "leadId": theirs_lead["id"]}), 404,
                 f"Lead {theirs_lead['id']} not found")
    assert_error(await call(client, "POST", "/opportunities", w.agent,
                            {"name": "x", "assignedToId": agent_id(w.agent2)}), 403,
                 code="OWNER_NOT_ALLOWED")
    await ok(client, "POST", f"/opportunities/{theirs['id']}/schedule-follow-up", w.agent2,
             {"scheduledFor": "2031-01-01T00:00:00Z"}, expect=201)
    assert await ok(client, "GET", "/opportunities/activities/upcoming", w.agent,
                    agentId=agent_id(w.agent2)) == []
    # Viewers read, never write.
    assert (await ok(client, "GET", f"/opportunities/{theirs['id']}", w.viewer))["leadId"] \
        == theirs_lead["id"]
    for method, path, body in (("POST", "", {"name": "v"}), ("PUT", f"/{mine['id']}",
                                                             {"value": 2}),
                               ("DELETE", f"/{mine['id']}", None),
                               ("POST", f"/{mine['id']}/move-stage", {"stage": "PROPOSAL"}),
                               ("POST", f"/{mine['id']}/update-probability", None),
                               ("POST", f"/{mine['id']}/schedule-follow-up",
                                {"scheduledFor": "2031-01-01T00:00:00Z"})):
        assert_error(await call(client, method, f"/opportunities{path}", w.viewer, body), 403)
    assert (await ok(client, "GET", f"/opportunities/{mine['id']}", w.owner))["value"] == 1000


async def test_another_workspaces_ids_are_not_found(client: httpx.AsyncClient) -> None:
    w, other = await make_world(client), await make_world(client, "Other Co")
    lead = await make_lead(client, other.owner)
    opp = await make_opp(client, other.owner, leadId=lead["id"])
    for method, path, body in (("GET", "", None), ("PUT", "", {"value": 1}),
                               ("DELETE", "", None), ("POST", "/reopen", {"reason": "x"}),
                               ("POST", "/activities", {"type": "CALL"})):
        assert_error(await call(client, method, f"/opportunities/{opp['id']}{path}",
                                w.owner, body), 404, f"Opportunity {opp['id']} not found")
    for method, path, body in (("POST", "/convert", {}), ("GET", "/can-convert", None),
                               ("POST", "/qualify", None),
                               ("POST", "/unqualify", {"reason": "x"})):
        assert_error(await call(client, method, f"/leads/{lead['id']}{path}", w.owner, body),
                     404, f"Lead {lead['id']} not found")
    assert_error(await call(client, "POST", "/opportunities", w.owner,
                            {"name": "x", "leadId": lead["id"]}), 404)
    assert (await ok(client, "GET", "/opportunities", w.owner))["total"] == 0
    assert (await ok(client, "GET", f"/leads/{lead['id']}", other.owner))["status"] == "NEW"


async def test_create_is_idempotent_with_a_key(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    headers = {**w.owner.headers, "Idempotency-Key": "opp-1"}
    first = await client.post("/compat/crm/v1/opportunities", headers=headers,
                              json={"name": "Once"})
    again = await client.post("/compat/crm/v1/opportunities", headers=headers,
                              json={"name": "Once"})
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert (await ok(client, "GET", "/opportunities", w.owner))["total"] == 1


# Conversion ---------------------------------------------------------------------------------

async def test_a_matching_customer_is_offered_not_duplicated(client: httpx.AsyncClient
                                                             ) -> None:
    w = await make_world(client)
    existing = await client.post("/api/v1/customers", headers=w.owner.headers,
                                 json={"name": "Acme Corp"})
    assert existing.status_code == 201, existing.text
    cus = "cus_" + existing.json()["id"].replace("-", "")
    lead = await make_lead(client, w.owner, company="Acme Corp")
    err = assert_error(await call(client, "POST", f"/leads/{lead['id']}/convert", w.owner,
                                  {"createOpportunity": True}), 409,
                       code="CUSTOMER_MATCH_FOUND")
    assert "customerId" in err["message"] and err["hiddenCandidates"] == 0
    assert [c["id"] for c in err["candidates"]] == [cus]
    assert err["candidates"][0]["name"] == "Acme Corp"
    assert (await ok(client, "GET", f"/leads/{lead['id']}", w.owner))["status"] == "NEW"
    assert (await ok(client, "GET", "/opportunities", w.owner))["total"] == 0
    done = await ok(client, "POST", f"/leads/{lead['id']}/convert", w.owner,
                    {"customerId": cus, "createOpportunity": True, "estimatedValue": 10})
    assert done["customer"]["id"] == cus and done["customerCreated"] is False
    other = await make_lead(client, w.owner, company="Acme Corp")
    fresh = await ok(client, "POST", f"/leads/{other['id']}/convert", w.owner,
                     {"createCustomer": True})
    assert fresh["customer"]["id"] != cus and fresh["opportunity"] is None
    nobody = "cus_" + "0" * 32
    third = await make_lead(client, w.owner)
    assert_error(await call(client, "POST", f"/leads/{third['id']}/convert", w.owner,
                            {"customerId": nobody}), 404, f"Customer {nobody} not found")


async def test_conversion_refusals(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    lost = await make_lead(client, w.owner, status="LOST")
    err = assert_error(await call(client, "POST", f"/leads/{lost['id']}/convert", w.owner,
                                  {}), 409, code="LEAD_CANNOT_CONVERT")
    assert [r["code"] for r in err["reasons"]] == ["LEAD_LOST"]
    can = await ok(client, "GET", f"/leads/{lost['id']}/can-convert", w.owner)
    assert can["canConvert"] is False and can["reasons"][0]["code"] == "LEAD_LOST"
    lead = await make_lead(client, w.owner)
    for body, field in (({"estimatedValue": -1}, "estimatedValue"),
                        ({"createOpportunity": "maybe"}, "createOpportunity"),
                        ({"customerKind": "ROBOT"}, "customerKind")):
        err = assert_error(await call(client, "POST", f"/leads/{lead['id']}/convert",
                                      w.owner, body), 400)
        assert field in [e["field"] for e in err["errors"]], err
    assert_error(await call(client, "POST", f"/leads/{lead['id']}/unqualify", w.owner, {}),
                 400)
    assert_error(await call(client, "POST", f"/leads/{lead['id']}/unqualify", w.owner,
                            {"reason": ""}), 400)
    await ok(client, "POST", f"/leads/{lead['id']}/convert", w.owner, {})
    for path, body in (("/qualify", None), ("/unqualify", {"reason": "late"})):
        assert_error(await call(client, "POST", f"/leads/{lead['id']}{path}", w.owner, body),
                     409, code="LEAD_CONVERTED")


async def test_conversion_roles(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    mine = await make_lead(client, w.agent)
    theirs = await make_lead(client, w.owner, assignedToId=agent_id(w.agent2))
    for method, path, body in (("POST", "/convert", {}), ("GET", "/can-convert", None),
                               ("POST", "/qualify", None),
                               ("POST", "/unqualify", {"reason": "x"})):
        assert_error(await call(client, method, f"/leads/{theirs['id']}{path}", w.agent,
                                body), 404, f"Lead {theirs['id']} not found")
        if method == "POST":
            assert_error(await call(client, method, f"/leads/{mine['id']}{path}", w.viewer,
                                    body), 403)
    assert (await ok(client, "GET", f"/leads/{mine['id']}/can-convert", w.viewer))[
        "canConvert"] is True
    done = await ok(client, "POST", f"/leads/{mine['id']}/convert", w.agent,
                    {"createOpportunity": True, "estimatedValue": 5000})
    assert done["opportunity"]["assignedToId"] == agent_id(w.agent)
    assert done["lead"]["status"] == "CONVERTED"
    key = {**w.agent.headers, "Idempotency-Key": "conv-1"}
    other = await make_lead(client, w.agent, firstName="Otro", lastName="Cliente")
    first = await client.post(f"/compat/crm/v1/leads/{other['id']}/convert", headers=key,
                              json={"createOpportunity": True, "createCustomer": True})
    replay = await client.post(f"/compat/crm/v1/leads/{other['id']}/convert", headers=key,
                               json={"createOpportunity": True, "createCustomer": True})
    assert first.status_code == replay.status_code == 200, first.text
    assert first.json() == replay.json()
