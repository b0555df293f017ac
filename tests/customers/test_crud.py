"""/api/v1/customers: create, read, list, change, delete through HTTP."""

from __future__ import annotations

import httpx

from tests.customers.helpers import CUSTOMERS, make_customer
from tests.factories import add_member, make_lead, make_workspace


async def test_create_derives_the_match_keys(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    resp = await client.post(CUSTOMERS, headers=owner.headers, json={
        "name": "  Société Générale S.A. ", "email": "Info@SocGen.FR", "phone": "415 555 0100",
        "website": "https://www.socgen.fr/en", "industry": "Banking",
        "address": "Paris", "notes": "Big", "metadata": {"tier": 1}})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert resp.headers["Location"] == f"/api/v1/customers/{body['id']}"
    assert resp.headers["ETag"] == '"1"'
    assert body["name"] == "Société Générale S.A."
    assert body["name_key"] == "societe generale"
    assert body["email"] == "info@socgen.fr" and body["email_domain"] == "socgen.fr"
    assert body["phone"] == "+14155550100" and body["kind"] == "company"
    assert body["metadata"] == {"tier": 1} and body["owner_id"] is None
    person = await make_customer(client, owner, "Ana López", kind="person",
                                 website="ana.example.org")
    assert person["email_domain"] == "ana.example.org"
    got = await client.get(f"{CUSTOMERS}/{body['id']}", headers=owner.headers)
    assert got.status_code == 200 and got.json() == body


async def test_bad_input(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    for body in ({}, {"name": ""}, {"name": "x" * 301}, {"name": "A", "kind": "robot"},
                 {"name": "A", "email": "not-an-email"}, {"name": "A", "phone": "12"},
                 {"name": "A", "tenant_id": "x"}, {"name": "A", "name_key": "b"},
                 {"name": "A", "owner_id": "00000000-0000-0000-0000-000000000001"},
                 {"name": "A", "metadata": {"x": "y" * 70_000}}):
        resp = await client.post(CUSTOMERS, headers=owner.headers, json=body)
        assert resp.status_code == 422, (body, resp.text)
    listed = (await client.get(CUSTOMERS, headers=owner.headers)).json()
    assert listed["total"] == 0
    assert (await client.get(f"{CUSTOMERS}/nope", headers=owner.headers)).status_code == 422
    for query in ("kind=robot", "owner_id=nope", "sort=salary", "cursor=abc"):
        resp = await client.get(f"{CUSTOMERS}?{query}", headers=owner.headers)
        assert resp.status_code == 422, query


async def test_idempotent_create(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    headers = {**owner.headers, "Idempotency-Key": "cust-1"}
    a = await client.post(CUSTOMERS, headers=headers, json={"name": "Once"})
    b = await client.post(CUSTOMERS, headers=headers, json={"name": "Once"})
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] == b.json()["id"]
    assert b.headers["Idempotency-Replayed"] == "true"
    c = await client.post(CUSTOMERS, headers=headers, json={"name": "Twice"})
    assert c.status_code == 422
    assert (await client.get(CUSTOMERS, headers=owner.headers)).json()["total"] == 1


async def test_list_filters_and_cursor(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    manager = await add_member(client, owner, "manager")
    made = [await make_customer(client, owner, f"Company {i}",
                                email=f"hello@c{i % 2}.example") for i in range(5)]
    await make_customer(client, owner, "Pat Person", kind="person",
                        owner_id=str(manager.user_id))
    everything = (await client.get(CUSTOMERS, headers=owner.headers)).json()
    assert everything["total"] == 6
    assert [c["name"] for c in everything["data"]][:2] == ["Pat Person", "Company 4"]
    people = (await client.get(f"{CUSTOMERS}?kind=person", headers=owner.headers)).json()
    assert [c["name"] for c in people["data"]] == ["Pat Person"]
    owned = (await client.get(f"{CUSTOMERS}?owner_id={manager.user_id}",
                              headers=owner.headers)).json()
    assert owned["total"] == 1
    domain = (await client.get(f"{CUSTOMERS}?email_domain=C0.example",
                               headers=owner.headers)).json()
    assert {c["id"] for c in domain["data"]} == {made[0]["id"], made[2]["id"], made[4]["id"]}
    found = (await client.get(f"{CUSTOMERS}?q=pany 3", headers=owner.headers)).json()
    assert [c["id"] for c in found["data"]] == [made[3]["id"]]
    by_mail = (await client.get(f"{CUSTOMERS}?q=hello@c1", headers=owner.headers)).json()
    assert by_mail["total"] == 2
    percent = (await client.get(f"{CUSTOMERS}?q=%25", headers=owner.headers)).json()
    assert percent["total"] == 0
    # cursor walk by name
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        url = f"{CUSTOMERS}?sort=name&per_page=2" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(url, headers=owner.headers)).json()
        seen += [c["name"] for c in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen) and len(seen) == 6
    page2 = (await client.get(f"{CUSTOMERS}?per_page=4&page=2", headers=owner.headers)).json()
    assert len(page2["data"]) == 2 and page2["total"] == 6


async def test_update_and_delete(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    made = await make_customer(client, owner, "Old Name", email="a@old.example")
    url = f"{CUSTOMERS}/{made['id']}"
    stale = await client.patch(url, headers={**owner.headers, "If-Match": '"7"'},
                               json={"name": "New"})
    assert stale.status_code == 412 and stale.json()["current_version"] == 1
    for body in ({}, {"name": None}, {"kind": None}, {"email": "bad"}, {"id": "x"}):
        resp = await client.patch(url, headers=owner.headers, json=body)
        assert resp.status_code == 422, (body, resp.text)
    resp = await client.patch(url, headers={**owner.headers, "If-Match": '"1"'},
                              json={"name": "New Name LLC", "industry": "Retail"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["version"] == 2 and body["name_key"] == "new name"
    assert body["email_domain"] == "old.example"
    moved = (await client.patch(url, headers=owner.headers,
                                json={"email": "b@new.example"})).json()
    assert moved["email_domain"] == "new.example"
    same = await client.patch(url, headers=owner.headers, json={"industry": "Retail"})
    assert same.json()["version"] == moved["version"]
    assert (await client.delete(url, headers={**owner.headers, "If-Match": '"1"'})
            ).status_code == 412
    assert (await client.delete(url, headers=owner.headers)).status_code == 204
    assert (await client.get(url, headers=owner.headers)).status_code == 404
    kept = await client.get(f"{url}?include_deleted=true", headers=owner.headers)
    assert kept.status_code == 200 and kept.json()["deleted_at"] is not None
    assert (await client.get(CUSTOMERS, headers=owner.headers)).json()["total"] == 0
    assert (await client.delete(url, headers=owner.headers)).status_code == 404


async def test_other_workspaces(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    other = await make_workspace(client, "Other")
    theirs = await make_customer(client, other, "Theirs")
    url = f"{CUSTOMERS}/{theirs['id']}"
    assert (await client.get(url, headers=owner.headers)).status_code == 404
    assert (await client.patch(url, headers=owner.headers,
                               json={"name": "Mine"})).status_code == 404
    assert (await client.delete(url, headers=owner.headers)).status_code == 404
    for sub in ("contacts", "opportunities", "timeline"):
        assert (await client.get(f"{url}/{sub}", headers=owner.headers)).status_code == 404
    assert (await client.get(CUSTOMERS, headers=owner.headers)).json()["total"] == 0


async def test_roles(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    viewer = await add_member(client, owner, "viewer")
    agent = await add_member(client, owner, "agent")
    other_agent = await add_member(client, owner, "agent")
    shared = await make_customer(client, owner, "Workspace Co")
    assert (await client.post(CUSTOMERS, headers=viewer.headers,
                              json={"name": "V"})).status_code == 403
    assert (await client.get(f"{CUSTOMERS}/{shared['id']}",
                             headers=viewer.headers)).status_code == 200
    assert (await client.patch(f"{CUSTOMERS}/{shared['id']}", headers=viewer.headers,
                               json={"name": "V"})).status_code == 403
    # an agent's customers are its own
    mine = await make_customer(client, agent, "Agent Co")
    assert mine["owner_id"] == str(agent.user_id)
    resp = await client.post(CUSTOMERS, headers=agent.headers,
                             json={"name": "Given", "owner_id": str(other_agent.user_id)})
    assert resp.status_code == 403 and resp.json()["code"] == "OWNER_NOT_ALLOWED"
    listed = (await client.get(CUSTOMERS, headers=agent.headers)).json()
    assert [c["id"] for c in listed["data"]] == [mine["id"]]
    assert (await client.get(f"{CUSTOMERS}/{shared['id']}",
                             headers=agent.headers)).status_code == 404
    assert (await client.get(f"{CUSTOMERS}/{mine['id']}",
                             headers=other_agent.headers)).status_code == 404
    assert (await client.patch(f"{CUSTOMERS}/{mine['id']}", headers=agent.headers,
                               json={"industry": "Toys"})).status_code == 200
    # a customer of one of its leads: seen, not changed
    lead = await make_lead(client, owner, company="Workspace Co",
                           owner_id=str(agent.user_id))
    resp = await client.post(f"/api/v1/leads/{lead['id']}/convert", headers=owner.headers,
                             json={"customer": {"id": shared["id"]}})
    assert resp.status_code == 200, resp.text
    assert (await client.get(f"{CUSTOMERS}/{shared['id']}",
                             headers=agent.headers)).status_code == 200
    resp = await client.patch(f"{CUSTOMERS}/{shared['id']}", headers=agent.headers,
                              json={"industry": "Toys"})
    assert resp.status_code == 403 and resp.json()["code"] == "CUSTOMER_NOT_YOURS"
    assert (await client.delete(f"{CUSTOMERS}/{shared['id']}",
                                headers=agent.headers)).status_code == 403
    # managers change any
    manager = await add_member(client, owner, "manager")
    assert (await client.patch(f"{CUSTOMERS}/{mine['id']}", headers=manager.headers,
                               json={"owner_id": str(other_agent.user_id)})
            ).status_code == 200
