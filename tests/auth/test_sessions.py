"""Access tokens die with their session (the refresh-token family they carry as ``sid``)."""

from __future__ import annotations

import httpx

from leadbase.auth import repository as auth_repository
from leadbase.db.session import Database
from tests.auth.helpers import assert_problem, bearer, claims_of, make_superadmin
from tests.factories import add_member, login, make_workspace

USERS = "/api/v1/users"
ME = "/api/v1/auth/me"


async def _refused(client: httpx.AsyncClient, token: str) -> None:
    for path in (USERS, ME):
        assert_problem(await client.get(path, headers=bearer(token)), 401, "SESSION_ENDED")


async def test_logout_ends_the_access_token_at_once(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    other = await login(client, owner.email)
    assert (await client.get(USERS, headers=owner.headers)).status_code == 200
    resp = await client.post("/api/v1/auth/logout", headers=owner.headers,
                             json={"refresh_token": owner.refresh_token})
    assert resp.status_code == 204
    await _refused(client, owner.access_token)
    # Another sign-in of the same user goes on.
    assert (await client.get(USERS, headers=bearer(other["access_token"]))).status_code == 200
    # Signing out again with the dead token is refused too.
    assert_problem(await client.post("/api/v1/auth/logout", headers=owner.headers), 401,
                   "SESSION_ENDED")


async def test_logout_naming_another_session_also_ends_the_callers(
        client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    other = await login(client, owner.email)
    resp = await client.post("/api/v1/auth/logout", headers=owner.headers,
                             json={"refresh_token": other["refresh_token"]})
    assert resp.status_code == 204
    await _refused(client, owner.access_token)
    await _refused(client, other["access_token"])


async def test_refresh_reuse_ends_every_access_token_of_the_family(
        client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    rotated = await client.post("/api/v1/auth/refresh",
                                json={"refresh_token": owner.refresh_token})
    newer = rotated.json()
    assert claims_of(owner)["sid"] == claims_of(owner.__class__(
        **{**owner.__dict__, "access_token": newer["access_token"]}))["sid"]
    assert (await client.get(USERS, headers=bearer(newer["access_token"]))).status_code == 200
    reused = await client.post("/api/v1/auth/refresh",
                               json={"refresh_token": owner.refresh_token})
    assert_problem(reused, 401, "REFRESH_TOKEN_REUSED")
    await _refused(client, owner.access_token)
    await _refused(client, newer["access_token"])


async def test_deactivation_ends_tokens_and_reactivation_does_not_revive_them(
        client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    assert (await client.delete(f"{USERS}/{agent.user_id}",
                                headers=owner.headers)).status_code == 200
    back = await client.patch(f"{USERS}/{agent.user_id}", headers=owner.headers,
                              json={"is_active": True})
    assert back.status_code == 200, back.text
    await _refused(client, agent.access_token)
    fresh = await login(client, agent.email)
    assert (await client.get(USERS, headers=bearer(fresh["access_token"]))).status_code == 200


async def test_superadmin_token_dies_with_its_session(client: httpx.AsyncClient,
                                                      db: Database) -> None:
    root = await make_superadmin(client, db)
    assert (await client.get("/api/v1/workspaces", headers=root.headers)).status_code == 200
    assert (await client.post("/api/v1/auth/logout", headers=root.headers)).status_code == 204
    assert_problem(await client.get("/api/v1/workspaces", headers=root.headers), 401,
                   "SESSION_ENDED")


async def test_session_check_at_service_level(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    sid = claims_of(owner)["sid"]
    async with db.transaction(owner.tenant_id) as session:
        assert await auth_repository.session_live(session, sid)
    async with db.transaction(None, system=True) as session:
        await auth_repository.revoke_family(session, sid)
    async with db.transaction(owner.tenant_id) as session:
        assert not await auth_repository.session_live(session, sid)
