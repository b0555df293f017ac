"""A customer's contacts, opportunities and timeline."""

from __future__ import annotations

import httpx

from tests.customers.helpers import CUSTOMERS, convert, make_customer
from tests.factories import add_member, make_lead, make_workspace


async def test_contacts_opportunities_timeline(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    customer = await make_customer(client, owner, "Soylent")
    leads = []
    for i, who in enumerate([owner, agent, owner]):
        lead = await make_lead(client, owner, company="Soylent", first_name=f"C{i}",
                               owner_id=str(who.user_id))
        resp = await convert(client, owner, lead["id"], {
            "customer": {"id": customer["id"]}, "create_opportunity": True,
            "opportunity": {"name": f"Deal {i}", "value": f"{i + 1}000.00"}})
        assert resp.status_code == 200, resp.text
        leads.append((lead, resp.json()["opportunity"]))
    url = f"{CUSTOMERS}/{customer['id']}"
    # contacts, newest first, cursor paged
    first = (await client.get(f"{url}/contacts?per_page=2", headers=owner.headers)).json()
    assert [c["first_name"] for c in first["data"]] == ["C2", "C1"]
    rest = (await client.get(f"{url}/contacts?per_page=2&cursor={first['next_cursor']}",
                             headers=owner.headers)).json()
    assert [c["first_name"] for c in rest["data"]] == ["C0"] and rest["next_cursor"] is None
    assert all(c["customer_id"] == customer["id"] for c in first["data"])
    # opportunities
    opps = (await client.get(f"{url}/opportunities", headers=owner.headers)).json()
    assert [o["name"] for o in opps["data"]] == ["Deal 2", "Deal 1", "Deal 0"]
    assert opps["data"][0]["value"] == "3000.00"
    # timeline: each contact's entries (conversion, opportunity created) newest first
    timeline = (await client.get(f"{url}/timeline?per_page=100",
                                 headers=owner.headers)).json()["data"]
    assert {e["lead_id"] for e in timeline} == {lead["id"] for lead, _ in leads}
    stamps = [(e["occurred_at"], e["id"]) for e in timeline]
    assert stamps == sorted(stamps, reverse=True)
    assert any(e["opportunity_id"] == leads[0][1]["id"] for e in timeline)
    walked: list[str] = []
    cursor = None
    for _ in range(20):
        page = (await client.get(f"{url}/timeline?per_page=2"
                                 + (f"&cursor={cursor}" if cursor else ""),
                                 headers=owner.headers)).json()
        walked += [e["id"] for e in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert walked == [e["id"] for e in timeline]
    # the agent sees the customer (one of its leads), only its contact and opportunity
    mine = (await client.get(f"{url}/contacts", headers=agent.headers)).json()
    assert [c["first_name"] for c in mine["data"]] == ["C1"]
    mine_opps = (await client.get(f"{url}/opportunities", headers=agent.headers)).json()
    assert [o["name"] for o in mine_opps["data"]] == ["Deal 1"]
    mine_timeline = (await client.get(f"{url}/timeline", headers=agent.headers)).json()
    assert {e["lead_id"] for e in mine_timeline["data"]} == {leads[1][0]["id"]}
    # bad input
    for sub in ("contacts", "opportunities", "timeline"):
        for query in ("per_page=0", "per_page=201", "cursor=bad"):
            resp = await client.get(f"{url}/{sub}?{query}", headers=owner.headers)
            assert resp.status_code == 422, (sub, query)
    for query in ("status=closed", "sort=salary"):
        resp = await client.get(f"{url}/opportunities?{query}", headers=owner.headers)
        assert resp.status_code == 422, query
    won = (await client.get(f"{url}/opportunities?status=won", headers=owner.headers)).json()
    assert won["data"] == [] and won["total"] == 0
    # a deleted contact leaves the list
    await client.delete(f"/api/v1/leads/{leads[0][0]['id']}", headers=owner.headers)
    left = (await client.get(f"{url}/contacts", headers=owner.headers)).json()
    assert [c["first_name"] for c in left["data"]] == ["C2", "C1"]
