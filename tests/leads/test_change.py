"""Reading, changing, deleting, restoring and purging leads; tenancy and roles."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import text

from leadbase.db.session import Database
from tests.factories import add_member, make_lead, make_workspace


async def test_get_and_etag(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    lead = await make_lead(client, owner)
    resp = await client.get(f"/api/v1/leads/{lead['id']}", headers=owner.headers)
    assert resp.status_code == 200
    assert resp.json() == lead
    assert resp.headers["etag"] == '"1"'


async def test_other_workspace_ids_are_not_found(client: httpx.AsyncClient) -> None:
    a = await make_workspace(client)
    b = await make_workspace(client)
    theirs = await make_lead(client, b)
    url = f"/api/v1/leads/{theirs['id']}"
    for method, kwargs in (("GET", {}), ("PATCH", {"json": {"company": "Mine"}}),
                           ("DELETE", {})):
        resp = await client.request(method, url, headers=a.headers, **kwargs)
        assert resp.status_code == 404, method
        assert resp.json()["code"] == "LEAD_NOT_FOUND"
    resp = await client.post(f"{url}/restore", headers=a.headers)
    assert resp.status_code == 404
    resp = await client.delete(f"{url}?purge=true", headers=a.headers)
    assert resp.status_code == 404
    # Untouched for its owner.
    resp = await client.get(url, headers=b.headers)
    assert resp.status_code == 200 and resp.json()["version"] == 1


async def test_malformed_id(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    resp = await client.get("/api/v1/leads/not-a-uuid", headers=owner.headers)
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["field"] == "lead_id"


async def test_patch(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    lead = await make_lead(client, owner, tags=["a"])
    resp = await client.patch(f"/api/v1/leads/{lead['id']}", headers=owner.headers,
                              json={"status": "qualified", "phone": "212 555 0123",
                                    "tags": ["b"], "fields": {}, "notes": "called"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == "qualified"
    assert body["phone"] == "+12125550123"
    assert body["timezone"] == "America/New_York"
    assert body["tags"] == ["b"]
    assert body["version"] == 2
    assert resp.headers["etag"] == '"2"'
    # Clearing the phone clears what was derived from it.
    resp = await client.patch(f"/api/v1/leads/{lead['id']}", headers=owner.headers,
                              json={"phone": None})
    assert resp.json()["phone"] is None and resp.json()["timezone"] is None


async def test_patch_validation(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    lead = await make_lead(client, owner)
    url = f"/api/v1/leads/{lead['id']}"
    cases = [({}, "EMPTY_UPDATE"), ({"status": None}, "NULL_NOT_ALLOWED"),
             ({"status": "won"}, "VALIDATION_ERROR"), ({"phone": "999"}, "INVALID_PHONE"),
             ({"email": "x@"}, "INVALID_EMAIL"), ({"tenant_id": str(owner.tenant_id)},
                                                  "VALIDATION_ERROR"),
             ({"first_name": None, "last_name": None, "email": None}, "LEAD_IDENTITY_REQUIRED")]
    for body, code in cases:
        resp = await client.patch(url, headers=owner.headers, json=body)
        assert resp.status_code == 422, body
        assert resp.json()["code"] == code, body
    assert (await client.get(url, headers=owner.headers)).json()["version"] == 1


async def test_patch_to_a_duplicate_email(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    a = await make_lead(client, owner, email="a@example.com")
    b = await make_lead(client, owner, email="b@example.com")
    resp = await client.patch(f"/api/v1/leads/{b['id']}", headers=owner.headers,
                              json={"email": "A@example.com"})
    assert resp.status_code == 409
    assert resp.json()["existing_id"] == a["id"]
    # Re-sending its own email is no conflict.
    resp = await client.patch(f"/api/v1/leads/{b['id']}", headers=owner.headers,
                              json={"email": "b@example.com", "company": "X"})
    assert resp.status_code == 200


async def test_if_match(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    lead = await make_lead(client, owner)
    url = f"/api/v1/leads/{lead['id']}"
    ok = await client.patch(url, headers={**owner.headers, "If-Match": '"1"'},
                            json={"company": "One"})
    assert ok.status_code == 200
    stale = await client.patch(url, headers={**owner.headers, "If-Match": '"1"'},
                               json={"company": "Two"})
    assert stale.status_code == 412
    assert stale.json()["code"] == "VERSION_MISMATCH"
    assert stale.json()["current_version"] == 2
    garbage = await client.patch(url, headers={**owner.headers, "If-Match": "nonsense"},
                                 json={"company": "Three"})
    assert garbage.status_code == 412
    stale_delete = await client.delete(url, headers={**owner.headers, "If-Match": '"1"'})
    assert stale_delete.status_code == 412
    assert (await client.get(url, headers=owner.headers)).json()["company"] == "One"


async def test_concurrent_patches_with_the_same_if_match(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    lead = await make_lead(client, owner)
    url = f"/api/v1/leads/{lead['id']}"
    headers = {**owner.headers, "If-Match": '"1"'}
    results = await asyncio.gather(
        client.patch(url, headers=headers, json={"company": "First"}),
        client.patch(url, headers=headers, json={"company": "Second"}))
    assert sorted(r.status_code for r in results) == [200, 412]
    winner = next(r for r in results if r.status_code == 200).json()
    current = (await client.get(url, headers=owner.headers)).json()
    assert current["company"] == winner["company"] and current["version"] == 2


async def test_delete_and_restore(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    lead = await make_lead(client, owner)
    url = f"/api/v1/leads/{lead['id']}"
    assert (await client.delete(url, headers=owner.headers)).status_code == 204
    assert (await client.get(url, headers=owner.headers)).status_code == 404
    assert (await client.delete(url, headers=owner.headers)).status_code == 404
    deleted = await client.get(f"{url}?include_deleted=true", headers=owner.headers)
    assert deleted.json()["deleted_at"] is not None
    restored = await client.post(f"{url}/restore", headers=owner.headers)
    assert restored.status_code == 200
    assert restored.json()["deleted_at"] is None
    again = await client.post(f"{url}/restore", headers=owner.headers)
    assert again.status_code == 409 and again.json()["code"] == "LEAD_NOT_DELETED"


async def test_restore_refuses_a_duplicate(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    lead = await make_lead(client, owner, email="twin@example.com")
    await client.delete(f"/api/v1/leads/{lead['id']}", headers=owner.headers)
    newer = await make_lead(client, owner, email="twin@example.com")
    resp = await client.post(f"/api/v1/leads/{lead['id']}/restore", headers=owner.headers)
    assert resp.status_code == 409 and resp.json()["existing_id"] == newer["id"]
    resp = await client.post(f"/api/v1/leads/{lead['id']}/restore?on_duplicate=allow",
                             headers=owner.headers)
    assert resp.status_code == 200


async def test_purge(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    manager = await add_member(client, owner, "manager")
    lead = await make_lead(client, owner, email="erase.me@example.com", first_name="Erase")
    url = f"/api/v1/leads/{lead['id']}"
    denied = await client.delete(f"{url}?purge=true", headers=manager.headers)
    assert denied.status_code == 403
    assert (await client.delete(f"{url}?purge=true", headers=owner.headers)).status_code == 204
    gone = await client.get(f"{url}?include_deleted=true", headers=owner.headers)
    assert gone.status_code == 404
    async with db.transaction(owner.tenant_id) as session:
        audit = (await session.execute(text(
            "SELECT action, changes::text AS changes FROM audit_entries WHERE entity_id = :id "
            "ORDER BY created_at"), {"id": lead["id"]})).mappings().all()
        payloads = (await session.execute(text(
            "SELECT payload::text FROM events WHERE entity_id = :id"),
            {"id": lead["id"]})).scalars().all()
    assert [a["action"] for a in audit] == ["lead.created", "lead.purged"]
    for blob in [*(a["changes"] for a in audit), *payloads]:
        assert "erase.me" not in blob and "Erase" not in blob


async def test_purge_a_soft_deleted_lead(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    lead = await make_lead(client, owner)
    url = f"/api/v1/leads/{lead['id']}"
    await client.delete(url, headers=owner.headers)
    assert (await client.delete(f"{url}?purge=true", headers=owner.headers)).status_code == 204
    assert (await client.get(f"{url}?include_deleted=true",
                             headers=owner.headers)).status_code == 404


async def test_roles_on_leads(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    viewer = await add_member(client, owner, "viewer")
    agent = await add_member(client, owner, "agent")
    other_agent = await add_member(client, owner, "agent")
    mine = await make_lead(client, agent)
    theirs = await make_lead(client, other_agent)
    unowned = await make_lead(client, owner)
    # Viewers read everything and write nothing.
    assert (await client.get(f"/api/v1/leads/{unowned['id']}",
                             headers=viewer.headers)).status_code == 200
    for method, body in (("PATCH", {"company": "X"}), ("DELETE", None)):
        resp = await client.request(method, f"/api/v1/leads/{unowned['id']}",
                                    headers=viewer.headers, json=body)
        assert resp.status_code == 403, method
    # Agents see and change only their own leads.
    listing = (await client.get("/api/v1/leads", headers=agent.headers)).json()
    assert [r["id"] for r in listing["data"]] == [mine["id"]]
    for lead in (theirs, unowned):
        resp = await client.get(f"/api/v1/leads/{lead['id']}", headers=agent.headers)
        assert resp.status_code == 404
        resp = await client.patch(f"/api/v1/leads/{lead['id']}", headers=agent.headers,
                                  json={"company": "X"})
        assert resp.status_code == 404
    resp = await client.patch(f"/api/v1/leads/{mine['id']}", headers=agent.headers,
                              json={"owner_id": str(other_agent.user_id)})
    assert resp.status_code == 403
    resp = await client.patch(f"/api/v1/leads/{mine['id']}", headers=agent.headers,
                              json={"status": "contacted"})
    assert resp.status_code == 200
    # Managers reassign.
    resp = await client.patch(f"/api/v1/leads/{unowned['id']}", headers=owner.headers,
                              json={"owner_id": str(agent.user_id)})
    assert resp.status_code == 200 and resp.json()["owner_id"] == str(agent.user_id)
    assert (await client.get(f"/api/v1/leads/{unowned['id']}",
                             headers=agent.headers)).status_code == 200
