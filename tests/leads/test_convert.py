"""POST /leads/{id}/convert and GET /leads/{id}/can-convert through HTTP."""

from __future__ import annotations

import asyncio

import httpx

from tests.customers.helpers import CUSTOMERS, convert, make_customer
from tests.factories import add_member, make_lead, make_workspace


async def test_convert_creates_customer_and_opportunity(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    lead = await make_lead(client, owner, company="Globex Corp", email="ana@globex.com",
                           source="website")
    resp = await convert(client, owner, lead["id"], {
        "create_opportunity": True,
        "opportunity": {"value": "50000.00", "expected_close_date": "2027-03-01"},
        "notes": "Signed the LOI"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["already_converted"] is False and body["customer_created"] is True
    customer, opp, converted = body["customer"], body["opportunity"], body["lead"]
    assert customer["kind"] == "company" and customer["name"] == "Globex Corp"
    assert customer["name_key"] == "globex" and customer["email_domain"] == "globex.com"
    assert opp["value"] == "50000.00" and opp["customer_id"] == customer["id"]
    assert opp["lead_id"] == lead["id"] and opp["status"] == "open"
    assert converted["status"] == "converted" and converted["customer_id"] == customer["id"]
    assert converted["converted_at"] is not None
    assert converted["converted_opportunity_id"] == opp["id"]
    # the lead's timeline has the conversion
    timeline = (await client.get(f"/api/v1/leads/{lead['id']}/timeline",
                                 headers=owner.headers)).json()["data"]
    entry = next(e for e in timeline if e["type"] == "status_change")
    assert entry["attributes"]["to"] == "converted"
    assert entry["attributes"]["customer_id"] == customer["id"]
    assert entry["description"] == "Signed the LOI"
    # contacts and opportunities of the customer
    contacts = (await client.get(f"{CUSTOMERS}/{customer['id']}/contacts",
                                 headers=owner.headers)).json()["data"]
    assert [c["id"] for c in contacts] == [lead["id"]]
    opps = (await client.get(f"{CUSTOMERS}/{customer['id']}/opportunities",
                             headers=owner.headers)).json()["data"]
    assert [o["id"] for o in opps] == [opp["id"]]


async def test_second_convert_answers_the_first(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    lead = await make_lead(client, owner, company="Initech")
    first = (await convert(client, owner, lead["id"], {"create_opportunity": True})).json()
    again = await convert(client, owner, lead["id"], {"customer": {"create": True}})
    assert again.status_code == 200, again.text
    second = again.json()
    assert second["already_converted"] is True and second["customer_created"] is False
    assert second["customer"]["id"] == first["customer"]["id"]
    assert second["opportunity"]["id"] == first["opportunity"]["id"]
    listed = (await client.get(CUSTOMERS, headers=owner.headers)).json()
    assert listed["total"] == 1


async def test_idempotency_key_replays(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    lead = await make_lead(client, owner, company="Hooli")
    headers = {"Idempotency-Key": "convert-1"}
    a = await convert(client, owner, lead["id"], {}, headers)
    b = await convert(client, owner, lead["id"], {}, headers)
    assert a.status_code == b.status_code == 200
    assert b.headers.get("Idempotency-Replayed") == "true"
    assert a.json() == b.json()
    other = await convert(client, owner, lead["id"], {"notes": "x"}, headers)
    assert other.status_code == 422


async def test_match_is_offered_not_duplicated(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    acme = await make_customer(client, owner, "ACME, Inc.", website="https://www.acme.io")
    by_name = await make_lead(client, owner, company="Acme", email="bo@elsewhere.org")
    resp = await convert(client, owner, by_name["id"])
    assert resp.status_code == 409, resp.text
    problem = resp.json()
    assert problem["code"] == "CUSTOMER_MATCH_FOUND"
    assert [c["id"] for c in problem["candidates"]] == [acme["id"]]
    assert problem["candidates"][0]["matched_on"] == ["name"]
    # nothing was written
    lead_now = (await client.get(f"/api/v1/leads/{by_name['id']}", headers=owner.headers))
    assert lead_now.json()["status"] == "new"
    # by the email domain
    by_domain = await make_lead(client, owner, company="Other", email="cy@acme.io")
    resp = await convert(client, owner, by_domain["id"])
    assert resp.status_code == 409
    assert resp.json()["candidates"][0]["matched_on"] == ["email_domain"]
    # reuse it
    reused = await convert(client, owner, by_domain["id"], {"customer": {"id": acme["id"]}})
    assert reused.status_code == 200, reused.text
    assert reused.json()["customer"]["id"] == acme["id"]
    assert reused.json()["customer_created"] is False
    # or force a new one
    forced = await convert(client, owner, by_name["id"], {"customer": {"create": True}})
    assert forced.status_code == 200
    assert forced.json()["customer"]["id"] != acme["id"]


async def test_free_mail_domains_never_match(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    first = await make_lead(client, owner, first_name="Dee", last_name="One",
                            email="dee.one@gmail.com")
    made = await convert(client, owner, first["id"])
    assert made.status_code == 200
    assert made.json()["customer"]["kind"] == "person"
    assert made.json()["customer"]["email"] == "dee.one@gmail.com"
    second = await make_lead(client, owner, first_name="Eve", last_name="Two",
                             email="eve.two@gmail.com")
    resp = await convert(client, owner, second["id"])
    assert resp.status_code == 200, resp.text
    assert resp.json()["customer_created"] is True


async def test_concurrent_converts_make_one_customer(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    lead = await make_lead(client, owner, company="Umbrella")
    results = await asyncio.gather(*[
        convert(client, owner, lead["id"], {"create_opportunity": True}) for _ in range(3)])
    assert [r.status_code for r in results] == [200, 200, 200]
    assert len({r.json()["customer"]["id"] for r in results}) == 1
    assert len({r.json()["opportunity"]["id"] for r in results}) == 1
    assert sorted(r.json()["already_converted"] for r in results) == [False, True, True]
    listed = (await client.get(CUSTOMERS, headers=owner.headers)).json()
    assert listed["total"] == 1


async def test_concurrent_converts_of_one_company(client: httpx.AsyncClient) -> None:
    """Two leads of one company converted at once: the second is offered the first's
    customer (the match keys are locked), not a duplicate."""
    owner = await make_workspace(client)
    a = await make_lead(client, owner, company="Stark Industries")
    b = await make_lead(client, owner, company="stark industries")
    results = await asyncio.gather(convert(client, owner, a["id"]),
                                   convert(client, owner, b["id"]))
    assert sorted(r.status_code for r in results) == [200, 409]
    listed = (await client.get(CUSTOMERS, headers=owner.headers)).json()
    assert listed["total"] == 1


async def test_can_convert_reasons(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    lead = await make_lead(client, owner, first_name="No", last_name="Company",
                           email=None, phone="+14155550100")
    ok = (await client.get(f"/api/v1/leads/{lead['id']}/can-convert",
                           headers=owner.headers)).json()
    assert ok == {"can_convert": True, "reasons": []}
    resp = await client.put("/api/v1/conversion/settings", headers=owner.headers,
                            json={"required_lead_fields": ["email", "company"]})
    assert resp.status_code == 200, resp.text
    found = (await client.get(f"/api/v1/leads/{lead['id']}/can-convert",
                              headers=owner.headers)).json()
    assert found["can_convert"] is False
    assert [(r["code"], r["field"]) for r in found["reasons"]] == [
        ("MISSING_FIELD", "email"), ("MISSING_FIELD", "company")]
    refused = await convert(client, owner, lead["id"])
    assert refused.status_code == 409
    assert refused.json()["code"] == "LEAD_CANNOT_CONVERT"
    assert len(refused.json()["reasons"]) == 2
    # lost
    lost = await make_lead(client, owner, company="Lost Co", email="l@lost.example",
                           status="lost")
    found = (await client.get(f"/api/v1/leads/{lost['id']}/can-convert",
                              headers=owner.headers)).json()
    assert [r["code"] for r in found["reasons"]] == ["LEAD_LOST"]
    # deleted
    gone = await make_lead(client, owner, company="Gone Co", email="g@gone.example")
    await client.delete(f"/api/v1/leads/{gone['id']}", headers=owner.headers)
    found = (await client.get(f"/api/v1/leads/{gone['id']}/can-convert",
                              headers=owner.headers)).json()
    assert [r["code"] for r in found["reasons"]] == ["LEAD_DELETED"]
    assert (await convert(client, owner, gone["id"])).status_code == 409
    # converted
    done = await make_lead(client, owner, company="Done Co", email="d@done.example")
    assert (await convert(client, owner, done["id"])).status_code == 200
    found = (await client.get(f"/api/v1/leads/{done['id']}/can-convert",
                              headers=owner.headers)).json()
    assert [r["code"] for r in found["reasons"]] == ["LEAD_ALREADY_CONVERTED"]
    # require_qualified
    await client.put("/api/v1/conversion/settings", headers=owner.headers,
                     json={"required_lead_fields": [], "require_qualified": True})
    fresh = await make_lead(client, owner, company="Fresh Co")
    found = (await client.get(f"/api/v1/leads/{fresh['id']}/can-convert",
                              headers=owner.headers)).json()
    assert [r["code"] for r in found["reasons"]] == ["LEAD_NOT_QUALIFIED"]
    await client.post(f"/api/v1/leads/{fresh['id']}/qualify", headers=owner.headers)
    found = (await client.get(f"/api/v1/leads/{fresh['id']}/can-convert",
                              headers=owner.headers)).json()
    assert found["can_convert"] is True


async def test_settings_bad_input_and_roles(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    bad = await client.put("/api/v1/conversion/settings", headers=owner.headers,
                           json={"required_lead_fields": ["salary"]})
    assert bad.status_code == 422
    assert (await client.put("/api/v1/conversion/settings", headers=owner.headers,
                             json={})).status_code == 422
    assert (await client.put("/api/v1/conversion/settings", headers=agent.headers,
                             json={"require_qualified": True})).status_code == 403
    got = await client.get("/api/v1/conversion/settings", headers=agent.headers)
    assert got.json() == {"required_lead_fields": [], "require_qualified": False}


async def test_convert_bad_input(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    other = await make_workspace(client, "Other Co")
    lead = await make_lead(client, owner, company="Wayne")
    theirs = await make_customer(client, other, "Wayne")
    cases = [
        {"customer": {"id": theirs["id"]}},  # another workspace's customer
        {"customer": {"id": theirs["id"], "name": "X"}},  # id and values
        {"opportunity": {"value": "10"}},  # not requested
        {"create_opportunity": True, "opportunity": {"value": "-1"}},
        {"create_opportunity": True, "opportunity": {"stage": "nope"}},
        {"create_opportunity": True, "opportunity": {"currency": "euro"}},
        {"customer": {"kind": "robot"}},
        {"surprise": 1},
    ]
    for body in cases:
        resp = await convert(client, owner, lead["id"], body)
        assert resp.status_code == 422, (body, resp.text)
    assert (await client.get(CUSTOMERS, headers=owner.headers)).json()["total"] == 0
    still = (await client.get(f"/api/v1/leads/{lead['id']}", headers=owner.headers)).json()
    assert still["status"] == "new"
    # another workspace's lead
    their_lead = await make_lead(client, other, company="Theirs")
    assert (await convert(client, owner, their_lead["id"])).status_code == 404
    assert (await client.get(f"/api/v1/leads/{their_lead['id']}/can-convert",
                             headers=owner.headers)).status_code == 404
    # a stale If-Match
    resp = await convert(client, owner, lead["id"], {}, {"If-Match": '"99"'})
    assert resp.status_code == 412


async def test_roles(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    viewer = await add_member(client, owner, "viewer")
    agent = await add_member(client, owner, "agent")
    other_agent = await add_member(client, owner, "agent")
    lead = await make_lead(client, owner, company="Cyberdyne", owner_id=str(agent.user_id))
    assert (await convert(client, viewer, lead["id"])).status_code == 403
    assert (await client.get(f"/api/v1/leads/{lead['id']}/can-convert",
                             headers=viewer.headers)).status_code == 200
    assert (await convert(client, other_agent, lead["id"])).status_code == 404
    resp = await convert(client, agent, lead["id"], {"create_opportunity": True})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["customer"]["owner_id"] == str(agent.user_id)
    assert body["opportunity"]["owner_id"] == str(agent.user_id)
    # the agent sees its customer; the other agent does not
    cid = body["customer"]["id"]
    assert (await client.get(f"{CUSTOMERS}/{cid}", headers=agent.headers)).status_code == 200
    assert (await client.get(f"{CUSTOMERS}/{cid}",
                             headers=other_agent.headers)).status_code == 404
    # a match the other agent cannot see is counted, not shown
    theirs = await make_lead(client, other_agent, company="Cyberdyne")
    resp = await convert(client, other_agent, theirs["id"])
    assert resp.status_code == 409
    assert resp.json()["candidates"] == [] and resp.json()["hidden_candidates"] == 1
    assert (await convert(client, other_agent, theirs["id"],
                          {"customer": {"id": cid}})).status_code == 422
    forced = await convert(client, other_agent, theirs["id"], {"customer": {"create": True}})
    assert forced.status_code == 200
