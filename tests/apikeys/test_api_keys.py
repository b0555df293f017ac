"""API keys over HTTP and at the service level: shown once, stored hashed, scoped, revocable."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from leadbase.apikeys import service
from leadbase.apikeys.schemas import ApiKeyCreate
from leadbase.auth.security import sha256
from leadbase.db.session import Database
from leadbase.kit.errors import Forbidden, NotFound, Unauthorized, ValidationFailed
from leadbase.kit.pagination import PageParams
from tests.auth.helpers import assert_problem, bearer, ctx_for, execute, member_ctx, scalar
from tests.factories import Member, add_member, make_workspace

KEYS = "/api/v1/api-keys"
LEAD = {"first_name": "Key", "email": "key.lead@example.com"}


async def _key(client: httpx.AsyncClient, member: Member, **body: object) -> dict[str, object]:
    resp = await client.post(KEYS, headers=member.headers, json={"name": "CRM sync", **body})
    assert resp.status_code == 201, resp.text
    assert resp.headers["cache-control"] == "no-store"
    data: dict[str, object] = resp.json()
    return data


async def test_secret_shown_once_and_stored_hashed(client: httpx.AsyncClient,
                                                   db: Database) -> None:
    owner = await make_workspace(client)
    key = await _key(client, owner, role="agent", scopes=["read", "write", "read"])
    secret = str(key["secret"])
    assert secret.startswith(str(key["prefix"]) + ".") and secret.startswith("lb_")
    assert key["role"] == "agent" and key["scopes"] == ["read", "write"]
    assert key["created_by"] == str(owner.user_id)
    stored = await scalar(db, owner.tenant_id, "SELECT key_hash FROM api_keys WHERE id = :k",
                          k=key["id"])
    assert stored != secret and secret not in stored and stored == sha256(secret)
    listed = await client.get(KEYS, headers=owner.headers)
    assert listed.status_code == 200
    page = listed.json()
    assert page["total"] == 1 and page["data"][0]["id"] == key["id"]
    assert "secret" not in page["data"][0] and secret not in listed.text


async def test_key_authenticates_as_bearer(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    key = await _key(client, owner, role="manager")
    h = bearer(str(key["secret"]))
    created = await client.post("/api/v1/leads", headers=h, json=LEAD)
    assert created.status_code == 201, created.text
    listing = await client.get("/api/v1/leads", headers=h)
    assert listing.status_code == 200 and listing.json()["total"] == 1
    assert listing.headers["ratelimit-limit"] == "100000"
    assert await scalar(db, owner.tenant_id, "SELECT last_used_at IS NOT NULL FROM api_keys "
                        "WHERE id = :k", k=key["id"]) is True
    # Keys are not users and have no session.
    assert_problem(await client.get("/api/v1/auth/me", headers=h), 404, "NOT_A_USER")
    assert_problem(await client.post("/api/v1/auth/logout", headers=h), 401, "NOT_A_SESSION")


async def test_key_role_is_enforced(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    viewer_key = bearer(str((await _key(client, owner, role="viewer"))["secret"]))
    manager_key = bearer(str((await _key(client, owner, role="manager"))["secret"]))
    admin_key = bearer(str((await _key(client, owner, role="admin"))["secret"]))
    assert (await client.get("/api/v1/leads", headers=viewer_key)).status_code == 200
    assert_problem(await client.post("/api/v1/leads", headers=viewer_key, json=LEAD), 403,
                   "ROLE_REQUIRED")
    assert_problem(await client.post(KEYS, headers=manager_key, json={"name": "x"}), 403,
                   "ROLE_REQUIRED")
    made = await client.post(KEYS, headers=admin_key, json={"name": "from key", "role": "agent"})
    assert made.status_code == 201 and made.json()["created_by"] is None


async def test_read_only_key_cannot_write(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    read_only = bearer(str((await _key(client, owner, role="admin", scopes=["read"]))["secret"]))
    assert (await client.get("/api/v1/leads", headers=read_only)).status_code == 200
    assert_problem(await client.post("/api/v1/leads", headers=read_only, json=LEAD), 403,
                   "INSUFFICIENT_SCOPE")
    assert_problem(await client.post(KEYS, headers=read_only, json={"name": "x"}), 403,
                   "INSUFFICIENT_SCOPE")
    write_only = bearer(str((await _key(client, owner, scopes=["write"]))["secret"]))
    assert_problem(await client.get("/api/v1/leads", headers=write_only), 403,
                   "INSUFFICIENT_SCOPE")
    assert (await client.get("/api/v1/leads", headers=owner.headers)).json()["total"] == 0


async def test_revoked_key_is_401(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    key = await _key(client, owner)
    h = bearer(str(key["secret"]))
    assert (await client.get("/api/v1/leads", headers=h)).status_code == 200
    assert (await client.delete(f"{KEYS}/{key['id']}", headers=owner.headers)).status_code == 204
    assert_problem(await client.get("/api/v1/leads", headers=h), 401, "API_KEY_REVOKED")
    assert (await client.get(KEYS, headers=owner.headers)).json()["total"] == 0
    assert_problem(await client.delete(f"{KEYS}/{key['id']}", headers=owner.headers), 404,
                   "API_KEY_NOT_FOUND")


async def test_forged_and_expired_keys_are_401(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    key = await _key(client, owner)
    secret = str(key["secret"])
    for bad in (secret[:-3] + "xyz", str(key["prefix"]) + ".guess", "lb_000000000000.x", "lb_"):
        assert_problem(await client.get("/api/v1/leads", headers=bearer(bad)), 401,
                       "INVALID_API_KEY")
    await execute(db, owner.tenant_id, "UPDATE api_keys SET expires_at = now() - interval "
                  "'1 second' WHERE id = :k", k=key["id"])
    assert_problem(await client.get("/api/v1/leads", headers=bearer(secret)), 401,
                   "API_KEY_EXPIRED")


@pytest.mark.parametrize(("body", "code"), [
    ({"name": "x", "role": "owner"}, "VALIDATION_ERROR"),
    ({"name": "x", "role": "superadmin"}, "VALIDATION_ERROR"),
    ({"name": "x", "scopes": []}, "VALIDATION_ERROR"),
    ({"name": "x", "scopes": ["admin"]}, "VALIDATION_ERROR"),
    ({"name": ""}, "VALIDATION_ERROR"),
    ({"name": "x", "tenant_id": str(uuid.uuid4())}, "VALIDATION_ERROR"),
    ({"name": "x", "key_hash": "abc"}, "VALIDATION_ERROR"),
    ({"name": "x", "expires_at": "2001-01-01T00:00:00Z"}, "INVALID_EXPIRY"),
])
async def test_create_bad_input(client: httpx.AsyncClient, body: dict[str, object],
                                code: str) -> None:
    owner = await make_workspace(client)
    assert_problem(await client.post(KEYS, headers=owner.headers, json=body), 422, code)
    assert (await client.get(KEYS, headers=owner.headers)).json()["total"] == 0


async def test_future_expiry_is_kept(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    when = datetime.now(UTC) + timedelta(days=30)
    key = await _key(client, owner, expires_at=when.isoformat())
    assert datetime.fromisoformat(str(key["expires_at"])) == when
    assert (await client.get("/api/v1/leads", headers=bearer(str(key["secret"])))).status_code \
        == 200


async def test_workspaces_cannot_touch_each_others_keys(client: httpx.AsyncClient) -> None:
    a = await make_workspace(client)
    b = await make_workspace(client)
    b_key = await _key(client, b)
    assert_problem(await client.delete(f"{KEYS}/{b_key['id']}", headers=a.headers), 404,
                   "API_KEY_NOT_FOUND")
    assert (await client.get(KEYS, headers=a.headers)).json()["total"] == 0
    # B's key still works, and only in B.
    h = bearer(str(b_key["secret"]))
    await client.post("/api/v1/leads", headers=a.headers, json=LEAD)
    assert (await client.get("/api/v1/leads", headers=h)).json()["total"] == 0
    spoof = await client.get("/api/v1/leads", headers={**h, "X-Workspace-Id": str(a.tenant_id)})
    assert spoof.json()["total"] == 0


async def test_service_role_ceiling_and_isolation(client: httpx.AsyncClient,
                                                  db: Database) -> None:
    a = await make_workspace(client)
    b = await make_workspace(client)
    manager = await add_member(client, a, "manager")
    async with db.transaction(a.tenant_id) as session:
        with pytest.raises(Forbidden) as above:
            await service.create_key(session, ctx=member_ctx(manager),
                                     body=ApiKeyCreate(name="k", role="admin"))
        assert above.value.code == "ROLE_NOT_ALLOWED"
        same = await service.create_key(session, ctx=member_ctx(manager),
                                        body=ApiKeyCreate(name="k", role="manager"))
        assert same["role"] == "manager" and same["created_by"] == manager.user_id
        with pytest.raises(Forbidden):
            await service.create_key(session, ctx=ctx_for(a.tenant_id, "viewer"),
                                     body=ApiKeyCreate(name="k", role="agent"))
        with pytest.raises(ValidationFailed):
            await service.create_key(session, ctx=member_ctx(a), body=ApiKeyCreate(
                name="k", expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    async with db.transaction(b.tenant_id) as session:
        with pytest.raises(NotFound):
            await service.revoke_key(session, ctx=member_ctx(b), key_id=same["id"])
        rows, total = await service.list_keys(session, ctx=member_ctx(b), params=PageParams(
            page=1, per_page=25, cursor=None, count="auto"))
        assert (rows, total) == ([], 0)
    async with db.transaction(None, system=True) as session:
        principal = await service.authenticate(session, secret=same["secret"])
        assert principal.role == "manager" and principal.tenant_id == a.tenant_id
        assert principal.api_key_id == same["id"] and principal.user_id is None
        with pytest.raises(Unauthorized):
            await service.authenticate(session, secret=same["secret"] + "x")
    async with db.transaction(a.tenant_id) as session:
        await service.revoke_key(session, ctx=member_ctx(a), key_id=same["id"])
    async with db.transaction(None, system=True) as session:
        with pytest.raises(Unauthorized) as revoked:
            await service.authenticate(session, secret=same["secret"])
    assert revoked.value.code == "API_KEY_REVOKED"


async def test_key_never_outranks_its_creator(client: httpx.AsyncClient) -> None:
    """Demoting a key's creator lowers the key with them; deactivating them stops it."""
    owner = await make_workspace(client)
    admin = await add_member(client, owner, "admin")
    key = await _key(client, admin, role="admin")
    h = bearer(str(key["secret"]))
    assert (await client.get("/api/v1/audit-log", headers=h)).status_code == 200
    demoted = await client.patch(f"/api/v1/users/{admin.user_id}", headers=owner.headers,
                                 json={"role": "agent"})
    assert demoted.status_code == 200, demoted.text
    assert_problem(await client.get("/api/v1/audit-log", headers=h), 403, "ROLE_REQUIRED")
    created = await client.post("/api/v1/leads", headers=h, json=LEAD)
    assert created.status_code == 201, created.text  # still an agent's powers
    gone = await client.delete(f"/api/v1/users/{admin.user_id}", headers=owner.headers)
    assert gone.status_code in (200, 204), gone.text
    assert_problem(await client.get("/api/v1/leads", headers=h), 401,
                   "API_KEY_CREATOR_INACTIVE")
