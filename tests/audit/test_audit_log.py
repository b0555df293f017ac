"""The audit log: entries for user, API-key and lead writes; admins only; paginated."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from leadbase.audit import service
from leadbase.db.session import Database
from leadbase.kit.errors import ValidationFailed
from leadbase.kit.pagination import PageParams
from tests.auth.helpers import assert_problem, bearer, ctx_for, member_ctx
from tests.factories import PASSWORD, Member, add_member, make_lead, make_workspace, unique_email

AUDIT = "/api/v1/audit-log"


async def _entries(client: httpx.AsyncClient, member: Member,
                   **params: Any) -> list[dict[str, Any]]:
    resp = await client.get(AUDIT, headers=member.headers, params=params)
    assert resp.status_code == 200, resp.text
    data: list[dict[str, Any]] = resp.json()["data"]
    return data


async def test_user_writes_are_audited_with_request_id(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    rid = f"req-{uuid.uuid4().hex[:12]}"
    resp = await client.post("/api/v1/users", headers={**owner.headers, "X-Request-ID": rid},
                             json={"email": unique_email("aud"), "name": "Aud",
                                   "password": PASSWORD, "role": "agent"})
    assert resp.status_code == 201 and resp.headers["x-request-id"] == rid
    uid = resp.json()["id"]
    await client.patch(f"/api/v1/users/{uid}", headers=owner.headers,
                       json={"name": "Aud 2", "role": "viewer"})
    await client.delete(f"/api/v1/users/{uid}", headers=owner.headers)

    entries = await _entries(client, owner, entity_id=uid)
    assert [e["action"] for e in entries] == ["user.deactivated", "user.updated", "user.created"]
    created = entries[-1]
    assert created["request_id"] == rid
    assert created["entity_type"] == "user" and created["entity_id"] == uid
    assert created["actor_user_id"] == str(owner.user_id) and created["actor_api_key_id"] is None
    assert entries[1]["changes"] == {"fields": ["name", "role"]}
    assert entries[0]["changes"] == {"fields": ["is_active"]}
    assert entries[1]["request_id"] and entries[1]["request_id"] != rid
    assert "Aud 2" not in str(entries)  # names of fields, never values


async def test_invalid_request_id_is_replaced(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    bad = "has spaces and; semicolons"
    resp = await client.post("/api/v1/leads", headers={**owner.headers, "X-Request-ID": bad},
                             json={"first_name": "Rid"})
    assert resp.status_code == 201
    echoed = resp.headers["x-request-id"]
    assert echoed != bad
    entry = (await _entries(client, owner, entity_id=resp.json()["id"]))[0]
    assert entry["request_id"] == echoed


async def test_lead_and_api_key_writes_are_audited(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    key = (await client.post("/api/v1/api-keys", headers=owner.headers,
                             json={"name": "sync", "role": "manager"})).json()
    lead = await client.post("/api/v1/leads", headers={**bearer(key["secret"]),
                                                       "X-Request-ID": "lead-req-1"},
                             json={"first_name": "Lia", "email": unique_email("lia")})
    assert lead.status_code == 201
    lead_id = lead.json()["id"]
    await client.patch(f"/api/v1/leads/{lead_id}", headers=owner.headers,
                       json={"company": "Initech"})
    await client.delete(f"/api/v1/api-keys/{key['id']}", headers=owner.headers)

    lead_entries = await _entries(client, owner, entity_type="lead", entity_id=lead_id)
    assert [e["action"] for e in lead_entries] == ["lead.updated", "lead.created"]
    created = lead_entries[1]
    assert created["actor_api_key_id"] == key["id"] and created["actor_user_id"] is None
    assert created["request_id"] == "lead-req-1"
    assert {"email", "first_name"} <= set(created["changes"]["fields"])
    assert lead_entries[0]["changes"] == {"fields": ["company"]}
    assert lead_entries[0]["actor_user_id"] == str(owner.user_id)

    key_entries = await _entries(client, owner, entity_type="api_key")
    assert [(e["action"], e["entity_id"]) for e in key_entries] == [
        ("api_key.revoked", key["id"]), ("api_key.created", key["id"])]
    assert key["secret"] not in str(key_entries)
    by_action = await _entries(client, owner, action="api_key.created")
    assert [e["entity_id"] for e in by_action] == [key["id"]]
    by_actor = await _entries(client, owner, actor_user_id=str(owner.user_id),
                              entity_type="lead")
    assert [e["action"] for e in by_actor] == ["lead.updated"]


@pytest.mark.parametrize("role", ["viewer", "agent", "manager"])
async def test_only_admins_read_the_log(client: httpx.AsyncClient, role: str) -> None:
    owner = await make_workspace(client)
    member = await add_member(client, owner, role)
    assert_problem(await client.get(AUDIT, headers=member.headers), 403, "ROLE_REQUIRED")
    admin = await add_member(client, owner, "admin")
    assert len(await _entries(client, admin, entity_type="user")) == 2


async def test_workspaces_see_only_their_own_entries(client: httpx.AsyncClient) -> None:
    a = await make_workspace(client)
    b = await make_workspace(client)
    lead = await make_lead(client, b)
    assert await _entries(client, a, entity_id=lead["id"]) == []
    assert {e["entity_type"] for e in await _entries(client, a)} == {"workspace"}
    assert len(await _entries(client, b, entity_id=lead["id"])) == 1


async def test_pagination_with_per_page_and_cursor(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    for i in range(6):
        await make_lead(client, owner, first_name=f"P{i}")
    everything = await client.get(AUDIT, headers=owner.headers, params={"per_page": 200})
    full = everything.json()
    assert full["total"] == 7 and full["next_cursor"] is None and len(full["data"]) == 7
    expected = [e["id"] for e in full["data"]]
    stamps = [(e["created_at"], e["id"]) for e in full["data"]]
    assert stamps == sorted(stamps, reverse=True)

    seen: list[str] = []
    params: dict[str, Any] = {"per_page": 3}
    pages = 0
    while True:
        page = (await client.get(AUDIT, headers=owner.headers, params=params)).json()
        pages += 1
        assert page["per_page"] == 3 and len(page["data"]) <= 3
        if pages > 1:
            assert page["page"] is None
        seen += [e["id"] for e in page["data"]]
        if page["next_cursor"] is None:
            break
        params = {"per_page": 3, "cursor": page["next_cursor"]}
    assert seen == expected and pages == 3

    offset_page = (await client.get(AUDIT, headers=owner.headers,
                                    params={"per_page": 3, "page": 2})).json()
    assert [e["id"] for e in offset_page["data"]] == expected[3:6]
    assert_problem(await client.get(AUDIT, headers=owner.headers,
                                    params={"cursor": "not-a-cursor"}), 422, "INVALID_CURSOR")
    assert_problem(await client.get(AUDIT, headers=owner.headers, params={"per_page": 0}), 422)
    assert_problem(await client.get(AUDIT, headers=owner.headers, params={"per_page": 201}),
                   422)


async def test_service_record_and_list(client: httpx.AsyncClient, db: Database) -> None:
    a = await make_workspace(client)
    b = await make_workspace(client)
    entity = uuid.uuid4()
    async with db.transaction(a.tenant_id) as session:
        await service.record(session, ctx=member_ctx(a, request_id="svc-1"), action="thing.done",
                             entity_type="thing", entity_id=entity, changes={"fields": ["x"]})
    params = PageParams(page=1, per_page=25, cursor=None, count="auto")
    async with db.transaction(a.tenant_id) as session:
        rows, total, cursor = await service.list_entries(session, ctx=member_ctx(a),
                                                         params=params, entity_id=entity)
        assert [(r["action"], r["request_id"], r["changes"]) for r in rows] == [
            ("thing.done", "svc-1", {"fields": ["x"]})]
        assert total is None and cursor is None
        all_rows, all_total, _ = await service.list_entries(session, ctx=member_ctx(a),
                                                            params=params)
        assert all_total == len(all_rows) == 2
        with pytest.raises(ValidationFailed):
            await service.list_entries(session, ctx=member_ctx(a), params=PageParams(
                page=1, per_page=25, cursor="e30", count="auto"))
    async with db.transaction(b.tenant_id) as session:
        rows, _, _ = await service.list_entries(session, ctx=member_ctx(b), params=params,
                                                entity_id=entity)
        assert rows == []
        # A context naming A inside B's transaction still sees nothing of A (RLS).
        rows, _, _ = await service.list_entries(session, ctx=ctx_for(a.tenant_id, "owner"),
                                                params=params)
        assert rows == []
