"""Registration, sign-in, /me, the password policy, hashing and sign-in throttling."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from leadbase.auth import security
from leadbase.db.session import Database
from tests.auth.helpers import assert_problem, bearer, client_with, random_ip, scalar
from tests.factories import PASSWORD, add_member, login, make_workspace, unique_email


def _register_body(**over: object) -> dict[str, object]:
    return {"email": unique_email("reg"), "password": PASSWORD, "name": "Reg",
            "workspace_name": "Reg Co", **over}


async def test_register_creates_workspace_and_owner(client: httpx.AsyncClient,
                                                    db: Database) -> None:
    body = _register_body(email=unique_email("Reg").upper(), workspace_name="Zeta Leads")
    resp = await client.post("/api/v1/auth/register", json=body)
    assert resp.status_code == 201, resp.text
    tokens = resp.json()
    assert set(tokens) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 900
    assert resp.headers["cache-control"] == "no-store"

    me = await client.get("/api/v1/auth/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200, me.text
    data = me.json()
    assert set(data) == {"id", "email", "name", "role", "tenant_id", "is_active"}
    assert data["email"] == str(body["email"]).lower()
    assert data["name"] == "Reg"
    assert data["role"] == "owner"
    assert data["is_active"] is True
    tenant_id = uuid.UUID(data["tenant_id"])
    assert await scalar(db, tenant_id, "SELECT name FROM tenants WHERE id = :t",
                        t=tenant_id) == "Zeta Leads"
    assert await scalar(db, tenant_id, "SELECT count(*) FROM lead_lists") == 1


async def test_password_is_stored_as_argon2id(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    stored = await scalar(db, owner.tenant_id, "SELECT password_hash FROM users WHERE id = :u",
                          u=owner.user_id)
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert security.verify_password(PASSWORD, stored)
    assert not security.verify_password(PASSWORD + "x", stored)


@pytest.mark.parametrize(("password", "code"), [
    ("Sh0rt", "PASSWORD_TOO_SHORT"),
    ("alllower123", "PASSWORD_NO_UPPERCASE"),
    ("ALLUPPER123", "PASSWORD_NO_LOWERCASE"),
    ("NoDigitsHere", "PASSWORD_NO_DIGIT"),
])
async def test_register_rejects_weak_password_naming_the_rule(
        client: httpx.AsyncClient, db: Database, password: str, code: str) -> None:
    body = _register_body(password=password)
    resp = await client.post("/api/v1/auth/register", json=body)
    problem = assert_problem(resp, 422, code)
    rules = [e["rule"] for e in problem["errors"]]
    assert rules == [code]
    assert problem["errors"][0]["field"] == "password"
    # Nothing was created.
    assert await scalar(db, None, "SELECT count(*) FROM users WHERE email = :e",
                        e=body["email"]) == 0


async def test_password_policy_lists_every_broken_rule() -> None:
    codes = [code for code, _ in security.password_problems("abc")]
    assert codes == ["PASSWORD_TOO_SHORT", "PASSWORD_NO_UPPERCASE", "PASSWORD_NO_DIGIT"]
    assert security.password_problems("Abcdefg1") == []
    assert security.password_problems("Abcdefg") != []  # seven characters


async def test_register_duplicate_email_is_409_case_insensitive(client: httpx.AsyncClient,
                                                                db: Database) -> None:
    owner = await make_workspace(client)
    before = await scalar(db, None, "SELECT count(*) FROM tenants")
    resp = await client.post("/api/v1/auth/register",
                             json=_register_body(email=owner.email.upper()))
    assert_problem(resp, 409, "EMAIL_TAKEN")
    assert await scalar(db, None, "SELECT count(*) FROM tenants") == before


@pytest.mark.parametrize("body", [
    {"password": PASSWORD, "name": "A", "workspace_name": "W"},
    {"email": "not-an-email", "password": PASSWORD, "name": "A", "workspace_name": "W"},
    {"email": "a@example.com", "password": PASSWORD, "name": "A", "workspace_name": "   "},
    {"email": "a@example.com", "password": PASSWORD, "name": "A", "workspace_name": "W",
     "role": "superadmin"},
    {"email": "a@example.com", "password": PASSWORD, "name": "A", "workspace_name": "W",
     "tenant_id": str(uuid.uuid4())},
])
async def test_register_bad_input_is_422(client: httpx.AsyncClient,
                                         body: dict[str, object]) -> None:
    problem = assert_problem(await client.post("/api/v1/auth/register", json=body), 422,
                             "VALIDATION_ERROR")
    assert problem["errors"]


async def test_login_returns_tokens_and_records_login(client: httpx.AsyncClient,
                                                      db: Database) -> None:
    owner = await make_workspace(client)
    tokens = await login(client, owner.email.upper())
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 900
    assert tokens["refresh_token"] != owner.refresh_token
    me = await client.get("/api/v1/auth/me", headers=bearer(tokens["access_token"]))
    assert me.json()["id"] == str(owner.user_id)
    assert await scalar(db, owner.tenant_id, "SELECT last_login_at IS NOT NULL FROM users "
                        "WHERE id = :u", u=owner.user_id) is True


async def test_login_wrong_password_and_unknown_email_look_alike(
        client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    wrong = await client.post("/api/v1/auth/login",
                              json={"email": owner.email, "password": "Wrong1234"})
    unknown = await client.post("/api/v1/auth/login",
                                json={"email": unique_email("nobody"), "password": PASSWORD})
    a = assert_problem(wrong, 401, "INVALID_CREDENTIALS")
    b = assert_problem(unknown, 401, "INVALID_CREDENTIALS")
    assert a["detail"] == b["detail"]
    assert "access_token" not in wrong.text


async def test_login_bad_body_is_422(client: httpx.AsyncClient) -> None:
    assert_problem(await client.post("/api/v1/auth/login", json={"email": "x@example.com"}),
                   422, "VALIDATION_ERROR")
    assert_problem(await client.post("/api/v1/auth/login", json={
        "email": "x@example.com", "password": "Secret123", "remember": True}), 422)


async def test_me_needs_a_token(client: httpx.AsyncClient) -> None:
    resp = await client.get("/api/v1/auth/me")
    assert_problem(resp, 401, "AUTH_REQUIRED")
    assert resp.headers["www-authenticate"] == "Bearer"
    assert_problem(await client.get("/api/v1/auth/me", headers={"Authorization": "Basic abc"}),
                   401, "AUTH_REQUIRED")


async def test_me_shows_member_role(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    data = (await client.get("/api/v1/auth/me", headers=agent.headers)).json()
    assert data["role"] == "agent"
    assert data["tenant_id"] == str(owner.tenant_id)
    assert data["id"] == str(agent.user_id)


async def test_login_throttled_per_account(tmp_path: Path, db: Database,
                                           client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    other = await make_workspace(client)
    async with client_with(tmp_path, db, login_rate_limit_account="3/hour") as c:
        for _ in range(3):
            resp = await c.post("/api/v1/auth/login",
                                json={"email": owner.email, "password": "Wrong1234"})
            assert resp.status_code == 401
        blocked = await c.post("/api/v1/auth/login",
                               json={"email": owner.email.upper(), "password": PASSWORD})
        assert_problem(blocked, 429, "LOGIN_THROTTLED")
        assert 1 <= int(blocked.headers["retry-after"]) <= 3600
        assert "access_token" not in blocked.text
        # Another account from the same address is not affected.
        ok = await c.post("/api/v1/auth/login", json={"email": other.email, "password": PASSWORD})
        assert ok.status_code == 200, ok.text


async def test_login_throttled_per_ip(tmp_path: Path, db: Database,
                                      client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    ip = random_ip()
    async with client_with(tmp_path, db, ip=ip, login_rate_limit_ip="3/hour") as c:
        for _ in range(3):
            resp = await c.post("/api/v1/auth/login",
                                json={"email": unique_email("spray"), "password": PASSWORD})
            assert resp.status_code == 401
        blocked = await c.post("/api/v1/auth/login",
                               json={"email": owner.email, "password": PASSWORD})
        assert_problem(blocked, 429, "LOGIN_THROTTLED")
        assert int(blocked.headers["retry-after"]) >= 1
    # The same account signs in from another address.
    async with client_with(tmp_path, db, login_rate_limit_ip="3/hour") as c2:
        resp = await c2.post("/api/v1/auth/login",
                             json={"email": owner.email, "password": PASSWORD})
        assert resp.status_code == 200, resp.text


async def test_register_throttled_per_ip(tmp_path: Path, db: Database) -> None:
    async with client_with(tmp_path, db, register_rate_limit_ip="2/hour") as c:
        for _ in range(2):
            resp = await c.post("/api/v1/auth/register", json=_register_body())
            assert resp.status_code == 201, resp.text
        resp = await c.post("/api/v1/auth/register", json=_register_body())
        assert_problem(resp, 429, "REGISTER_THROTTLED")
        # The sliding-window counter's windows are aligned to the clock: just after the
        # hour turns, the earlier hits weigh less and the wait can be short (never 0).
        assert int(resp.headers["retry-after"]) >= 1


async def test_new_workspaces_take_the_configured_region(db: Database, tmp_path: Path) -> None:
    from leadbase.app import create_app
    from tests.conftest import make_settings
    from tests.factories import make_lead, make_workspace

    app = create_app(make_settings(tmp_path, default_region="AR"), database=db,
                     run_worker=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        owner = await make_workspace(c)
        lead = await make_lead(c, owner, phone="011 4321-5678")
    assert lead["phone"] == "+541143215678"
    assert lead["country"] == "AR"
