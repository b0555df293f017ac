"""/api/v1/workspaces (platform superadmins) and acting inside a workspace."""

from __future__ import annotations

import uuid

import httpx
import pytest

from leadbase.db.session import Database
from tests.auth.helpers import assert_problem, execute, make_superadmin, scalar
from tests.factories import PASSWORD, add_member, login, make_lead, make_workspace, unique_email

WS = "/api/v1/workspaces"


def _new(**over: object) -> dict[str, object]:
    return {"name": "Platform Made", "owner_email": unique_email("pm"), "owner_name": "PM",
            "owner_password": PASSWORD, **over}


async def test_workspace_routes_are_404_for_workspace_users(client: httpx.AsyncClient,
                                                            db: Database) -> None:
    owner = await make_workspace(client)
    key = await client.post("/api/v1/api-keys", headers=owner.headers,
                            json={"name": "k", "role": "admin"})
    key_h = {"Authorization": f"Bearer {key.json()['secret']}"}
    before = await scalar(db, None, "SELECT count(*) FROM tenants")
    for h in (owner.headers, key_h):
        assert_problem(await client.get(WS, headers=h), 404, "NOT_FOUND")
        assert_problem(await client.post(WS, headers=h, json=_new()), 404, "NOT_FOUND")
        assert_problem(await client.get(f"{WS}/{owner.tenant_id}", headers=h), 404)
        assert_problem(await client.patch(f"{WS}/{owner.tenant_id}", headers=h,
                                          json={"name": "Mine now"}), 404)
    assert_problem(await client.get(WS), 401, "AUTH_REQUIRED")
    assert await scalar(db, None, "SELECT count(*) FROM tenants") == before
    assert await scalar(db, owner.tenant_id, "SELECT name FROM tenants WHERE id = :t",
                        t=owner.tenant_id) == "Acme Sales"


async def test_superadmin_me(client: httpx.AsyncClient, db: Database) -> None:
    root = await make_superadmin(client, db)
    me = (await client.get("/api/v1/auth/me", headers=root.headers)).json()
    assert me["role"] == "superadmin" and me["tenant_id"] is None and me["is_active"] is True


async def test_superadmin_creates_lists_reads_and_updates(client: httpx.AsyncClient,
                                                          db: Database) -> None:
    root = await make_superadmin(client, db)
    body = _new(name="Ünïcode Shop", default_region="ar", currency="ars")
    resp = await client.post(WS, headers=root.headers, json=body)
    assert resp.status_code == 201, resp.text
    ws = resp.json()
    assert ws["name"] == "Ünïcode Shop" and ws["slug"].startswith("unicode-shop")
    assert ws["default_region"] == "AR" and ws["currency"] == "ARS"
    assert ws["user_count"] == 1 and ws["is_active"] is True and ws["version"] == 1
    wid = uuid.UUID(ws["id"])
    # The owner signs in to the new workspace.
    tokens = await login(client, str(body["owner_email"]))
    me = (await client.get("/api/v1/auth/me",
                           headers={"Authorization": f"Bearer {tokens['access_token']}"})).json()
    assert me["role"] == "owner" and me["tenant_id"] == str(wid)
    # Audited in the new workspace, with the superadmin as actor.
    assert await scalar(db, wid, "SELECT actor_user_id FROM audit_entries WHERE "
                        "action = 'workspace.created'") == root.user_id

    listed = (await client.get(WS, headers=root.headers, params={"q": ws["slug"]})).json()
    assert [w["id"] for w in listed["data"]] == [str(wid)]
    assert listed["total"] == 1 and listed["data"][0]["user_count"] == 1
    got = await client.get(f"{WS}/{wid}", headers=root.headers)
    assert got.status_code == 200 and got.json()["slug"] == ws["slug"]

    patched = await client.patch(f"{WS}/{wid}", headers=root.headers,
                                 json={"name": "Renamed", "timezone": "America/Cordoba",
                                       "settings": {"scoring": {"hot": 80}}})
    assert patched.status_code == 200, patched.text
    data = patched.json()
    assert data["name"] == "Renamed" and data["version"] == 2
    assert data["timezone"] == "America/Cordoba" and data["settings"] == {"scoring": {"hot": 80}}
    assert data["slug"] == ws["slug"]


async def test_superadmin_list_pages(client: httpx.AsyncClient, db: Database) -> None:
    root = await make_superadmin(client, db)
    tag = uuid.uuid4().hex[:8]
    for i in range(3):
        assert (await client.post(WS, headers=root.headers,
                                  json=_new(name=f"pg {tag} {i}"))).status_code == 201
    first = (await client.get(WS, headers=root.headers,
                              params={"q": tag, "per_page": 2})).json()
    second = (await client.get(WS, headers=root.headers,
                               params={"q": tag, "per_page": 2, "page": 2})).json()
    assert first["total"] == 3 and len(first["data"]) == 2 and len(second["data"]) == 1
    names = [w["name"] for w in first["data"] + second["data"]]
    assert sorted(names) == [f"pg {tag} {i}" for i in range(3)]


@pytest.mark.parametrize(("over", "status", "code"), [
    ({"owner_password": "password"}, 422, "PASSWORD_NO_UPPERCASE"),
    ({"owner_password": "Sh0rt"}, 422, "PASSWORD_TOO_SHORT"),
    ({"default_region": "ZZ"}, 422, "INVALID_REGION"),
    ({"owner_email": "not-an-email"}, 422, "VALIDATION_ERROR"),
    ({"id": str(uuid.uuid4())}, 422, "VALIDATION_ERROR"),
    ({"slug": "chosen"}, 422, "VALIDATION_ERROR"),
    ({"name": ""}, 422, "VALIDATION_ERROR"),
])
async def test_create_bad_input(client: httpx.AsyncClient, db: Database,
                                over: dict[str, object], status: int, code: str) -> None:
    root = await make_superadmin(client, db)
    body = _new(**over)
    assert_problem(await client.post(WS, headers=root.headers, json=body), status, code)
    if isinstance(body["owner_email"], str) and "@" in body["owner_email"]:
        assert await scalar(db, None, "SELECT count(*) FROM users WHERE email = :e",
                            e=body["owner_email"]) == 0


async def test_create_with_taken_owner_email(client: httpx.AsyncClient, db: Database) -> None:
    root = await make_superadmin(client, db)
    owner = await make_workspace(client)
    assert_problem(await client.post(WS, headers=root.headers,
                                     json=_new(owner_email=owner.email.upper())),
                   409, "EMAIL_TAKEN")


async def test_get_and_patch_bad_input(client: httpx.AsyncClient, db: Database) -> None:
    root = await make_superadmin(client, db)
    owner = await make_workspace(client)
    url = f"{WS}/{owner.tenant_id}"
    assert_problem(await client.get(f"{WS}/{uuid.uuid4()}", headers=root.headers), 404,
                   "WORKSPACE_NOT_FOUND")
    assert_problem(await client.patch(f"{WS}/{uuid.uuid4()}", headers=root.headers,
                                      json={"name": "x"}), 404, "WORKSPACE_NOT_FOUND")
    assert_problem(await client.get(f"{WS}/nope", headers=root.headers), 422)
    for body in ({"id": str(uuid.uuid4())}, {"slug": "x"}, {"version": 3},
                 {"default_region": "USA"}):
        assert_problem(await client.patch(url, headers=root.headers, json=body), 422)
    assert_problem(await client.patch(url, headers=root.headers, json={"default_region": "QQ"}),
                   422, "INVALID_REGION")
    got = (await client.get(url, headers=root.headers)).json()
    assert got["version"] == 1 and got["default_region"] == "US"


async def test_superadmin_acts_inside_a_workspace(client: httpx.AsyncClient,
                                                  db: Database) -> None:
    root = await make_superadmin(client, db)
    owner = await make_workspace(client)
    other = await make_workspace(client)
    await make_lead(client, owner)
    h = {**root.headers, "X-Workspace-Id": str(owner.tenant_id)}
    users = (await client.get("/api/v1/users", headers=h)).json()
    assert [u["id"] for u in users["data"]] == [str(owner.user_id)]
    assert (await client.get("/api/v1/leads", headers=h)).json()["total"] == 1
    created = await client.post("/api/v1/users", headers=h, json={
        "email": unique_email("byroot"), "name": "By Root", "password": PASSWORD,
        "role": "owner"})
    assert created.status_code == 201, created.text
    assert created.json()["tenant_id"] == str(owner.tenant_id)
    # The header chooses the workspace; nothing leaks into the other one.
    h2 = {**root.headers, "X-Workspace-Id": str(other.tenant_id)}
    assert (await client.get("/api/v1/leads", headers=h2)).json()["total"] == 0
    assert_problem(await client.get(f"/api/v1/users/{owner.user_id}", headers=h2), 404)


async def test_superadmin_needs_a_valid_workspace_header(client: httpx.AsyncClient,
                                                         db: Database) -> None:
    root = await make_superadmin(client, db)
    assert_problem(await client.get("/api/v1/users", headers=root.headers), 403,
                   "WORKSPACE_REQUIRED")
    assert_problem(await client.get("/api/v1/users",
                                     headers={**root.headers, "X-Workspace-Id": "junk"}),
                   403, "WORKSPACE_REQUIRED")


async def test_superadmin_unknown_workspace_header_is_404(client: httpx.AsyncClient,
                                                          db: Database) -> None:
    root = await make_superadmin(client, db)
    h = {**root.headers, "X-Workspace-Id": str(uuid.uuid4())}
    assert_problem(await client.get("/api/v1/users", headers=h), 404, "WORKSPACE_NOT_FOUND")
    assert_problem(await client.post("/api/v1/users", headers=h, json={
        "email": unique_email("ghost"), "name": "Ghost", "password": PASSWORD,
        "role": "agent"}), 404, "WORKSPACE_NOT_FOUND")


async def test_deactivated_superadmin_is_refused_at_once(client: httpx.AsyncClient,
                                                         db: Database) -> None:
    root = await make_superadmin(client, db)
    owner = await make_workspace(client)
    assert (await client.get(WS, headers=root.headers)).status_code == 200
    await execute(db, None, "UPDATE users SET is_active = false WHERE id = :u", u=root.user_id)
    assert_problem(await client.get(WS, headers=root.headers), 401, "USER_INACTIVE")
    assert_problem(await client.get("/api/v1/users", headers={
        **root.headers, "X-Workspace-Id": str(owner.tenant_id)}), 401, "USER_INACTIVE")


async def test_suspended_workspace_is_locked(client: httpx.AsyncClient, db: Database) -> None:
    root = await make_superadmin(client, db)
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    key = (await client.post("/api/v1/api-keys", headers=owner.headers,
                             json={"name": "k"})).json()["secret"]
    resp = await client.patch(f"{WS}/{owner.tenant_id}", headers=root.headers,
                              json={"is_active": False})
    assert resp.status_code == 200 and resp.json()["is_active"] is False
    for h in (owner.headers, agent.headers, {"Authorization": f"Bearer {key}"}):
        assert_problem(await client.get("/api/v1/leads", headers=h), 403, "WORKSPACE_SUSPENDED")
    assert_problem(await client.post("/api/v1/auth/login", json={
        "email": agent.email, "password": PASSWORD}), 403, "WORKSPACE_SUSPENDED")
    assert_problem(await client.post("/api/v1/auth/refresh", json={
        "refresh_token": agent.refresh_token}), 403, "WORKSPACE_SUSPENDED")
    # The platform admin still gets in, and can lift the suspension.
    h = {**root.headers, "X-Workspace-Id": str(owner.tenant_id)}
    assert (await client.get("/api/v1/leads", headers=h)).status_code == 200
    await client.patch(f"{WS}/{owner.tenant_id}", headers=root.headers, json={"is_active": True})
    assert (await client.get("/api/v1/leads", headers=agent.headers)).status_code == 200
