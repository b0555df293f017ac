"""Per-route role checks and account state, enforced on every request."""

from __future__ import annotations

import httpx
import pytest

from leadbase.db.session import Database
from tests.auth.helpers import assert_problem, execute
from tests.factories import PASSWORD, add_member, make_workspace, unique_email

LEAD = {"first_name": "Rita", "email": "rita@example.com"}


def _user_body(role: str) -> dict[str, str]:
    return {"email": unique_email(role), "name": "New", "password": PASSWORD, "role": role}


async def test_viewer_reads_but_cannot_write(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    viewer = await add_member(client, owner, "viewer")
    assert (await client.get("/api/v1/leads", headers=viewer.headers)).status_code == 200
    assert (await client.get("/api/v1/users", headers=viewer.headers)).status_code == 200
    resp = await client.post("/api/v1/leads", headers=viewer.headers, json=LEAD)
    body = assert_problem(resp, 403, "ROLE_REQUIRED")
    assert "agent" in body["detail"]
    listing = (await client.get("/api/v1/leads", headers=owner.headers)).json()
    assert listing["total"] == 0


@pytest.mark.parametrize("role", ["agent", "manager", "admin", "owner"])
async def test_roles_from_agent_up_write_leads(client: httpx.AsyncClient, role: str) -> None:
    owner = await make_workspace(client)
    member = owner if role == "owner" else await add_member(client, owner, role)
    resp = await client.post("/api/v1/leads", headers=member.headers, json=LEAD)
    assert resp.status_code == 201, resp.text


@pytest.mark.parametrize("role", ["viewer", "agent", "manager"])
async def test_below_admin_cannot_manage_users_or_keys(client: httpx.AsyncClient,
                                                       role: str) -> None:
    owner = await make_workspace(client)
    member = await add_member(client, owner, role)
    admin = await add_member(client, owner, "admin")
    h = member.headers
    assert_problem(await client.post("/api/v1/users", headers=h, json=_user_body("viewer")),
                   403, "ROLE_REQUIRED")
    assert_problem(await client.patch(f"/api/v1/users/{admin.user_id}", headers=h,
                                      json={"name": "X"}), 403, "ROLE_REQUIRED")
    assert_problem(await client.delete(f"/api/v1/users/{admin.user_id}", headers=h),
                   403, "ROLE_REQUIRED")
    assert_problem(await client.post("/api/v1/api-keys", headers=h, json={"name": "k"}),
                   403, "ROLE_REQUIRED")
    assert_problem(await client.get("/api/v1/api-keys", headers=h), 403, "ROLE_REQUIRED")
    assert_problem(await client.get("/api/v1/audit-log", headers=h), 403, "ROLE_REQUIRED")
    # Nothing changed.
    got = (await client.get(f"/api/v1/users/{admin.user_id}", headers=owner.headers)).json()
    assert got["name"] == "Admin" and got["is_active"] is True


async def test_admin_manages_users(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    admin = await add_member(client, owner, "admin")
    created = await client.post("/api/v1/users", headers=admin.headers, json=_user_body("agent"))
    assert created.status_code == 201, created.text
    uid = created.json()["id"]
    patched = await client.patch(f"/api/v1/users/{uid}", headers=admin.headers,
                                 json={"role": "manager"})
    assert patched.status_code == 200 and patched.json()["role"] == "manager"
    gone = await client.delete(f"/api/v1/users/{uid}", headers=admin.headers)
    assert gone.status_code == 200 and gone.json()["is_active"] is False
    assert (await client.get("/api/v1/audit-log", headers=admin.headers)).status_code == 200


async def test_demotion_takes_effect_on_existing_tokens(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    admin = await add_member(client, owner, "admin")
    resp = await client.patch(f"/api/v1/users/{admin.user_id}", headers=owner.headers,
                              json={"role": "viewer"})
    assert resp.status_code == 200
    # The token still says "admin"; the database says "viewer".
    assert_problem(await client.post("/api/v1/users", headers=admin.headers,
                                     json=_user_body("agent")), 403, "ROLE_REQUIRED")
    assert_problem(await client.post("/api/v1/leads", headers=admin.headers, json=LEAD),
                   403, "ROLE_REQUIRED")
    me = (await client.get("/api/v1/auth/me", headers=admin.headers)).json()
    assert me["role"] == "viewer"


async def test_deactivated_user_token_stops_working_immediately(
        client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    assert (await client.get("/api/v1/leads", headers=agent.headers)).status_code == 200
    resp = await client.delete(f"/api/v1/users/{agent.user_id}", headers=owner.headers)
    assert resp.status_code == 200, resp.text
    assert_problem(await client.get("/api/v1/leads", headers=agent.headers), 401,
                   "USER_INACTIVE")
    assert_problem(await client.get("/api/v1/auth/me", headers=agent.headers), 401,
                   "USER_INACTIVE")
    assert_problem(await client.post("/api/v1/auth/login",
                                     json={"email": agent.email, "password": PASSWORD}),
                   401, "USER_INACTIVE")
    assert_problem(await client.post("/api/v1/auth/refresh",
                                     json={"refresh_token": agent.refresh_token}),
                   401, "INVALID_REFRESH_TOKEN")


async def test_reactivated_user_signs_in_again(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    await client.delete(f"/api/v1/users/{agent.user_id}", headers=owner.headers)
    resp = await client.patch(f"/api/v1/users/{agent.user_id}", headers=owner.headers,
                              json={"is_active": True})
    assert resp.status_code == 200 and resp.json()["is_active"] is True
    login = await client.post("/api/v1/auth/login",
                              json={"email": agent.email, "password": PASSWORD})
    assert login.status_code == 200


async def test_deactivated_user_out_of_band_is_refused(client: httpx.AsyncClient,
                                                       db: Database) -> None:
    """Deactivation by any path (CLI, SQL) is seen by the next request."""
    owner = await make_workspace(client)
    await execute(db, owner.tenant_id, "UPDATE users SET is_active = false WHERE id = :u",
                  u=owner.user_id)
    assert_problem(await client.get("/api/v1/users", headers=owner.headers), 401,
                   "USER_INACTIVE")
