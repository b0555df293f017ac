"""Links between leads and listings: create (idempotent, 409 twice), update with If-Match,
delete, the listings of a lead and the leads of a listing (agents: their own)."""

from __future__ import annotations

import httpx

from tests.factories import add_member, make_lead, make_workspace
from tests.listings.test_listings import make_listing

LEADS = "/api/v1/leads"


async def test_link_lifecycle(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Links")
    lead = await make_lead(client, owner)
    car = await make_listing(client, owner)
    base = f"{LEADS}/{lead['id']}/listings"
    h = {**owner.headers, "Idempotency-Key": "link-1"}
    body = {"listing_id": car["id"], "interest": "high", "note": "Wants financing"}
    first = await client.post(base, headers=h, json=body)
    assert first.status_code == 201, first.text
    link = first.json()
    assert link["listing"]["id"] == car["id"] and link["interest"] == "high"
    replay = await client.post(base, headers=h, json=body)
    assert replay.status_code == 201 and replay.json()["id"] == link["id"]
    twice = await client.post(base, headers=owner.headers, json=body)
    assert twice.status_code == 409 and twice.json()["code"] == "LISTING_ALREADY_LINKED"
    bad = await client.post(base, headers=owner.headers,
                            json={"listing_id": car["id"], "interest": "huge"})
    assert bad.status_code == 422
    url = f"{base}/{car['id']}"
    stale = await client.patch(url, headers={**owner.headers, "If-Match": '"5"'},
                               json={"interest": "low"})
    assert stale.status_code == 412
    resp = await client.patch(url, headers={**owner.headers, "If-Match": '"1"'},
                              json={"interest": "low"})
    assert resp.status_code == 200 and resp.json()["interest"] == "low"
    assert resp.headers["etag"] == '"2"'
    listed = (await client.get(base, headers=owner.headers)).json()["data"]
    assert [(r["listing"]["title"], r["interest"]) for r in listed] == [(car["title"], "low")]
    leads = (await client.get(f"/api/v1/listings/{car['id']}/leads",
                              headers=owner.headers)).json()["data"]
    assert [(r["lead"]["id"], r["lead"]["email"]) for r in leads] == [
        (lead["id"], lead["email"])]
    assert (await client.delete(url, headers=owner.headers)).status_code == 204
    assert (await client.delete(url, headers=owner.headers)).status_code == 404
    assert (await client.get(base, headers=owner.headers)).json()["data"] == []


async def test_links_across_workspaces_and_roles(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Links roles")
    agent = await add_member(client, owner, "agent")
    viewer = await add_member(client, owner, "viewer")
    mine = await make_lead(client, agent)
    car = await make_listing(client, owner)
    # An agent links their own lead to the inventory.
    resp = await client.post(f"{LEADS}/{mine['id']}/listings", headers=agent.headers,
                             json={"listing_id": car["id"]})
    assert resp.status_code == 201, resp.text
    assert (await client.post(f"{LEADS}/{mine['id']}/listings", headers=viewer.headers,
                              json={"listing_id": car["id"]})).status_code == 403
    stranger = await make_workspace(client, "Other links")
    their_lead = await make_lead(client, stranger)
    their_car = await make_listing(client, stranger)
    # Another workspace's listing or lead: 404 either way.
    resp = await client.post(f"{LEADS}/{mine['id']}/listings", headers=owner.headers,
                             json={"listing_id": their_car["id"]})
    assert resp.status_code == 404 and resp.json()["code"] == "LISTING_NOT_FOUND"
    resp = await client.post(f"{LEADS}/{their_lead['id']}/listings", headers=owner.headers,
                             json={"listing_id": car["id"]})
    assert resp.status_code == 404 and resp.json()["code"] == "LEAD_NOT_FOUND"
    assert (await client.get(f"/api/v1/listings/{car['id']}/leads",
                             headers=stranger.headers)).status_code == 404
