"""Creating leads through the API: normalisation, validation, duplicates, idempotency."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from sqlalchemy import text

from leadbase.db.session import Database
from tests.factories import add_member, make_lead, make_workspace, unique_email

PROBLEM = "application/problem+json"


async def test_create_normalises_contact_data(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    resp = await client.post("/api/v1/leads", headers=owner.headers, json={
        "first_name": "José", "last_name": "García", "email": "Jose.Garcia@Example.COM",
        "phone": "415-555-2672", "tags": ["vip", "vip", " buyer "], "company": "Acme"})
    assert resp.status_code == 201, resp.text
    lead = resp.json()
    assert lead["email"] == "jose.garcia@example.com"
    assert lead["phone"] == "+14155552672"
    assert lead["timezone"] == "America/Los_Angeles"
    assert lead["country"] == "US"
    assert lead["tags"] == ["vip", "buyer"]
    assert lead["full_name"] == "José García"
    assert lead["status"] == "new" and lead["score"] == 0 and lead["version"] == 1
    assert resp.headers["etag"] == '"1"'
    assert resp.headers["location"] == f"/api/v1/leads/{lead['id']}"
    assert uuid.UUID(lead["id"]).version == 7
    assert isinstance(lead["number"], int)


async def test_second_format_of_the_same_region(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    lead = await make_lead(client, owner, phone="(415) 555-2673")
    assert lead["phone"] == "+14155552673"


async def test_identity_required(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    resp = await client.post("/api/v1/leads", headers=owner.headers,
                             json={"company": "Nameless Inc", "notes": "x"})
    assert resp.status_code == 422
    assert resp.headers["content-type"].startswith(PROBLEM)
    body = resp.json()
    assert body["code"] == "LEAD_IDENTITY_REQUIRED"
    assert {e["field"] for e in body["errors"]} >= {"email", "phone"}


async def test_bad_phone_names_the_field(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    for phone in ("12345", "not a phone", "+1 555"):
        resp = await client.post("/api/v1/leads", headers=owner.headers,
                                 json={"first_name": "A", "phone": phone})
        assert resp.status_code == 422, phone
        assert resp.json()["code"] == "INVALID_PHONE"
        assert resp.json()["errors"][0]["field"] == "phone"


async def test_bad_email_names_the_field(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    resp = await client.post("/api/v1/leads", headers=owner.headers,
                             json={"first_name": "A", "email": "nope@"})
    assert resp.status_code == 422
    assert resp.json()["code"] == "INVALID_EMAIL"
    assert resp.json()["errors"][0]["field"] == "email"


async def test_mass_assignment_and_bad_values_are_refused(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    other = await make_workspace(client)
    for extra in ({"tenant_id": str(other.tenant_id)}, {"id": str(uuid.uuid4())},
                  {"score": 99}, {"number": 5}, {"version": 9}, {"status": "won"},
                  {"tags": "vip"}, {"tags": ["x" * 51]}):
        resp = await client.post("/api/v1/leads", headers=owner.headers,
                                 json={"first_name": "A", **extra})
        assert resp.status_code == 422, extra
        assert resp.json()["code"] == "VALIDATION_ERROR"
    listing = await client.get("/api/v1/leads", headers=owner.headers)
    assert listing.json()["total"] == 0  # nothing was written


async def test_malformed_json_is_a_problem(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    resp = await client.post("/api/v1/leads", headers={**owner.headers,
                                                       "content-type": "application/json"},
                             content=b"{not json")
    assert resp.status_code == 422
    assert resp.headers["content-type"].startswith(PROBLEM)
    assert "Traceback" not in resp.text


async def test_duplicate_email_and_phone(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    first = await make_lead(client, owner, email="dup@example.com", phone="415-555-2672")
    resp = await client.post("/api/v1/leads", headers=owner.headers,
                             json={"first_name": "B", "email": "DUP@example.com"})
    assert resp.status_code == 409
    assert resp.json()["code"] == "DUPLICATE_LEAD"
    assert resp.json()["existing_id"] == first["id"]
    assert resp.json()["matched_on"] == "email"
    resp = await client.post("/api/v1/leads", headers=owner.headers,
                             json={"first_name": "C", "phone": "+1 (415) 555 2672"})
    assert resp.status_code == 409
    assert resp.json()["matched_on"] == "phone"
    resp = await client.post("/api/v1/leads?on_duplicate=allow", headers=owner.headers,
                             json={"first_name": "D", "email": "dup@example.com"})
    assert resp.status_code == 201
    assert resp.json()["id"] != first["id"]


async def test_on_duplicate_update_merges(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    first = await make_lead(client, owner, email="m@example.com", tags=["a"],
                            metadata={"x": 1})
    resp = await client.post("/api/v1/leads?on_duplicate=update", headers=owner.headers,
                             json={"email": "m@example.com", "company": "NewCo",
                                   "tags": ["b"], "metadata": {"y": 2}})
    assert resp.status_code == 200, resp.text
    merged = resp.json()
    assert merged["id"] == first["id"]
    assert merged["company"] == "NewCo"
    assert merged["first_name"] == first["first_name"]
    assert merged["tags"] == ["a", "b"]
    assert merged["metadata"] == {"x": 1, "y": 2}
    assert merged["version"] == 2


async def test_deleted_lead_is_not_a_duplicate(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    first = await make_lead(client, owner, email="gone@example.com")
    assert (await client.delete(f"/api/v1/leads/{first['id']}",
                                headers=owner.headers)).status_code == 204
    again = await make_lead(client, owner, email="gone@example.com")
    assert again["id"] != first["id"]


async def test_duplicates_are_per_workspace(client: httpx.AsyncClient) -> None:
    a = await make_workspace(client)
    b = await make_workspace(client)
    await make_lead(client, a, email="shared@example.com")
    await make_lead(client, b, email="shared@example.com")


async def test_concurrent_creates_of_the_same_email(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    email = unique_email("race")
    results = await asyncio.gather(*[
        client.post("/api/v1/leads", headers=owner.headers,
                    json={"first_name": f"R{i}", "email": email}) for i in range(4)])
    codes = sorted(r.status_code for r in results)
    assert codes == [201, 409, 409, 409]


async def test_idempotency_key(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    headers = {**owner.headers, "Idempotency-Key": "create-42"}
    body = {"first_name": "Idem", "email": unique_email("idem")}
    first = await client.post("/api/v1/leads", headers=headers, json=body)
    again = await client.post("/api/v1/leads", headers=headers, json=body)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers["idempotency-replayed"] == "true"
    assert again.headers["etag"] == first.headers["etag"]
    other = await client.post("/api/v1/leads", headers=headers,
                              json={**body, "first_name": "Changed"})
    assert other.status_code == 422
    assert other.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    listing = await client.get("/api/v1/leads", headers=owner.headers)
    assert listing.json()["total"] == 1
    # Keys are scoped per workspace: the same key elsewhere is a new request.
    stranger = await make_workspace(client)
    theirs = await client.post("/api/v1/leads", headers={**stranger.headers,
                                                         "Idempotency-Key": "create-42"},
                               json=body)
    assert theirs.status_code == 201
    assert theirs.json()["id"] != first.json()["id"]


async def test_concurrent_requests_with_one_idempotency_key(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    headers = {**owner.headers, "Idempotency-Key": "same-time"}
    body = {"first_name": "Twice", "email": unique_email("twice")}
    a, b = await asyncio.gather(client.post("/api/v1/leads", headers=headers, json=body),
                                client.post("/api/v1/leads", headers=headers, json=body))
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] == b.json()["id"]


async def test_failed_request_does_not_burn_the_key(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    headers = {**owner.headers, "Idempotency-Key": "retry-me"}
    bad = await client.post("/api/v1/leads", headers=headers,
                            json={"first_name": "X", "phone": "123"})
    assert bad.status_code == 422
    fixed = await client.post("/api/v1/leads", headers=headers,
                              json={"first_name": "X", "phone": "123"})
    assert fixed.status_code == 422  # still evaluated, not replayed
    assert "idempotency-replayed" not in fixed.headers


async def test_owner_and_list_must_belong_to_the_workspace(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    stranger = await make_workspace(client)
    resp = await client.post("/api/v1/leads", headers=owner.headers,
                             json={"first_name": "A", "owner_id": str(stranger.user_id)})
    assert resp.status_code == 422
    assert resp.json()["code"] == "OWNER_NOT_FOUND"
    their_lead = await make_lead(client, stranger)
    resp = await client.post("/api/v1/leads", headers=owner.headers,
                             json={"first_name": "A", "list_id": their_lead["list_id"]})
    assert resp.status_code == 422
    assert resp.json()["code"] == "LIST_NOT_FOUND"


async def test_agent_owns_what_they_create(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    lead = await make_lead(client, agent)
    assert lead["owner_id"] == str(agent.user_id)
    resp = await client.post("/api/v1/leads", headers=agent.headers,
                             json={"first_name": "A", "owner_id": str(owner.user_id)})
    assert resp.status_code == 403
    assert resp.json()["code"] == "OWNER_NOT_ALLOWED"


async def test_viewer_cannot_create(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    viewer = await add_member(client, owner, "viewer")
    resp = await client.post("/api/v1/leads", headers=viewer.headers, json={"first_name": "A"})
    assert resp.status_code == 403
    assert resp.json()["code"] == "ROLE_REQUIRED"


async def test_write_leaves_audit_entry_and_event(client: httpx.AsyncClient,
                                                  db: Database) -> None:
    owner = await make_workspace(client)
    resp = await client.post("/api/v1/leads", headers={**owner.headers,
                                                       "X-Request-ID": "req-abc-123"},
                             json={"first_name": "Audited", "email": unique_email("a")})
    lead_id = resp.json()["id"]
    async with db.transaction(owner.tenant_id) as session:
        audit = (await session.execute(text(
            "SELECT action, actor_user_id, changes, request_id FROM audit_entries "
            "WHERE entity_id = :id"), {"id": lead_id})).mappings().all()
        events = (await session.execute(text(
            "SELECT type, payload FROM events WHERE entity_id = :id"),
            {"id": lead_id})).mappings().all()
    assert [a["action"] for a in audit] == ["lead.created"]
    assert str(audit[0]["actor_user_id"]) == str(owner.user_id)
    assert audit[0]["request_id"] == "req-abc-123"
    assert "email" in audit[0]["changes"]["fields"]
    assert "Audited" not in str(audit[0]["changes"])
    assert [e["type"] for e in events] == ["lead.created"]
    assert events[0]["payload"]["id"] == lead_id


async def test_unauthenticated(client: httpx.AsyncClient) -> None:
    resp = await client.post("/api/v1/leads", json={"first_name": "A"})
    assert resp.status_code == 401
    assert resp.json()["code"] == "AUTH_REQUIRED"
    assert resp.headers["www-authenticate"] == "Bearer"
