"""/api/v1/users over HTTP: listing, creation, ETag/If-Match, roles, deactivation, isolation."""

from __future__ import annotations

import uuid

import httpx
import pytest

from leadbase.db.session import Database
from tests.auth.helpers import assert_problem, make_superadmin, scalar
from tests.factories import PASSWORD, add_member, login, make_workspace, unique_email

USERS = "/api/v1/users"


def _body(role: str = "agent", **over: object) -> dict[str, object]:
    return {"email": unique_email(role), "name": "Pat Doe", "password": PASSWORD,
            "role": role, **over}


async def test_create_user(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    body = _body("manager", email=unique_email("Mixed").upper(), capacity=40,
                 working_hours={"mon": ["09:00", "17:00"]})
    resp = await client.post(USERS, headers=owner.headers, json=body)
    assert resp.status_code == 201, resp.text
    user = resp.json()
    assert resp.headers["etag"] == '"1"'
    assert user["email"] == str(body["email"]).lower()
    assert user["role"] == "manager" and user["is_active"] is True
    assert user["tenant_id"] == str(owner.tenant_id)
    # A single interval may be sent flat; it is kept as a list of intervals.
    assert user["capacity"] == 40 and user["working_hours"] == {"mon": [["09:00", "17:00"]]}
    assert "password" not in resp.text and "password_hash" not in user
    stored = await scalar(db, owner.tenant_id, "SELECT password_hash FROM users WHERE id = :u",
                          u=user["id"])
    assert stored.startswith("$argon2id$")
    assert (await login(client, str(body["email"])))["access_token"]


async def test_list_users_filters_and_pages(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    for role in ("agent", "agent", "viewer"):
        await add_member(client, owner, role)
    page = (await client.get(USERS, headers=owner.headers)).json()
    assert page["total"] == 4 and page["page"] == 1 and page["per_page"] == 25
    assert {u["tenant_id"] for u in page["data"]} == {str(owner.tenant_id)}
    agents = (await client.get(USERS, headers=owner.headers,
                               params={"role": "agent,viewer"})).json()
    assert agents["total"] == 3
    assert {u["role"] for u in agents["data"]} == {"agent", "viewer"}
    second = (await client.get(USERS, headers=owner.headers,
                               params={"per_page": 3, "page": 2})).json()
    assert len(second["data"]) == 1 and second["total"] == 4
    found = (await client.get(USERS, headers=owner.headers, params={"q": "VIEW"})).json()
    assert [u["role"] for u in found["data"]] == ["viewer"]
    assert_problem(await client.get(USERS, headers=owner.headers, params={"per_page": 201}),
                   422, "VALIDATION_ERROR")


@pytest.mark.parametrize(("extra", "field"), [
    ({"tenant_id": "00000000-0000-0000-0000-000000000001"}, "tenant_id"),
    ({"id": "00000000-0000-0000-0000-000000000001"}, "id"),
    ({"is_active": False}, "is_active"),
    ({"version": 7}, "version"),
    ({"password_hash": "$argon2id$x"}, "password_hash"),
])
async def test_create_refuses_unknown_fields(client: httpx.AsyncClient, extra: dict[str, object],
                                             field: str) -> None:
    owner = await make_workspace(client)
    body = _body(**extra)
    problem = assert_problem(await client.post(USERS, headers=owner.headers, json=body), 422,
                             "VALIDATION_ERROR")
    assert field in [e["field"] for e in problem["errors"]]
    assert (await client.get(USERS, headers=owner.headers)).json()["total"] == 1


@pytest.mark.parametrize(("body", "code"), [
    (_body(password="short1A"), "PASSWORD_TOO_SHORT"),
    (_body(password="lowercase1"), "PASSWORD_NO_UPPERCASE"),
    (_body(password="UPPERCASE1"), "PASSWORD_NO_LOWERCASE"),
    (_body(password="NoDigitsAtAll"), "PASSWORD_NO_DIGIT"),
    (_body(role="superadmin"), "VALIDATION_ERROR"),
    (_body(email="nope"), "VALIDATION_ERROR"),
    (_body(name=""), "VALIDATION_ERROR"),
    (_body(capacity=-1), "VALIDATION_ERROR"),
])
async def test_create_bad_input(client: httpx.AsyncClient, body: dict[str, object],
                                code: str) -> None:
    owner = await make_workspace(client)
    assert_problem(await client.post(USERS, headers=owner.headers, json=body), 422, code)


async def test_duplicate_email_even_in_another_workspace(client: httpx.AsyncClient) -> None:
    a = await make_workspace(client)
    b = await make_workspace(client)
    member = await add_member(client, a, "agent")
    for owner in (a, b):
        resp = await client.post(USERS, headers=owner.headers,
                                 json=_body(email=member.email.upper()))
        assert_problem(resp, 409, "EMAIL_TAKEN")
    assert_problem(await client.post(USERS, headers=b.headers, json=_body(email=a.email)),
                   409, "EMAIL_TAKEN")


async def test_nobody_grants_a_role_above_their_own(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    admin = await add_member(client, owner, "admin")
    assert_problem(await client.post(USERS, headers=admin.headers, json=_body("owner")),
                   403, "ROLE_NOT_ALLOWED")
    equal = await client.post(USERS, headers=admin.headers, json=_body("admin"))
    assert equal.status_code == 201
    agent = await add_member(client, owner, "agent")
    assert_problem(await client.patch(f"{USERS}/{agent.user_id}", headers=admin.headers,
                                      json={"role": "owner"}), 403, "ROLE_NOT_ALLOWED")
    # An admin cannot touch an owner at all.
    assert_problem(await client.patch(f"{USERS}/{owner.user_id}", headers=admin.headers,
                                      json={"name": "Hijacked"}), 403, "ROLE_NOT_ALLOWED")
    assert_problem(await client.delete(f"{USERS}/{owner.user_id}", headers=admin.headers),
                   403, "ROLE_NOT_ALLOWED")
    got = (await client.get(f"{USERS}/{owner.user_id}", headers=owner.headers)).json()
    assert got["name"] == "Owner" and got["is_active"] is True
    roles = {u["role"] for u in (await client.get(USERS, headers=owner.headers)).json()["data"]}
    assert "owner" in roles and roles <= {"owner", "admin", "agent"}


async def test_cannot_change_own_role(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    admin = await add_member(client, owner, "admin")
    assert_problem(await client.patch(f"{USERS}/{admin.user_id}", headers=admin.headers,
                                      json={"role": "viewer"}), 403, "ROLE_NOT_ALLOWED")
    own_name = await client.patch(f"{USERS}/{admin.user_id}", headers=admin.headers,
                                  json={"name": "Renamed"})
    assert own_name.status_code == 200 and own_name.json()["name"] == "Renamed"


async def test_etag_and_if_match(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    url = f"{USERS}/{agent.user_id}"
    got = await client.get(url, headers=owner.headers)
    assert got.headers["etag"] == '"1"' and got.json()["version"] == 1
    ok = await client.patch(url, headers={**owner.headers, "If-Match": got.headers["etag"]},
                            json={"name": "First"})
    assert ok.status_code == 200, ok.text
    assert ok.headers["etag"] == '"2"' and ok.json()["version"] == 2
    stale = await client.patch(url, headers={**owner.headers, "If-Match": '"1"'},
                               json={"name": "Second"})
    assert_problem(stale, 412, "VERSION_MISMATCH")
    weak = await client.patch(url, headers={**owner.headers, "If-Match": 'W/"2"'},
                              json={"name": "Weak"})
    assert weak.status_code == 200
    assert_problem(await client.patch(url, headers={**owner.headers, "If-Match": "junk"},
                                      json={"name": "Junk"}), 412)
    assert_problem(await client.delete(url, headers={**owner.headers, "If-Match": '"1"'}), 412)
    current = (await client.get(url, headers=owner.headers)).json()
    assert current["name"] == "Weak" and current["is_active"] is True
    # No If-Match: last write wins.
    assert (await client.patch(url, headers=owner.headers, json={"name": "Free"})).status_code \
        == 200


async def test_stale_if_match_fails_even_when_nothing_would_change(
        client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    url = f"{USERS}/{agent.user_id}"
    await client.patch(url, headers=owner.headers, json={"name": "Moved on"})
    resp = await client.patch(url, headers={**owner.headers, "If-Match": '"1"'},
                              json={"role": "agent"})
    assert_problem(resp, 412, "VERSION_MISMATCH")


@pytest.mark.parametrize("body", [
    {"tenant_id": "00000000-0000-0000-0000-000000000001"},
    {"id": "00000000-0000-0000-0000-000000000001"},
    {"email": "new@example.com"},
    {"version": 9},
    {"name": "ok", "number": 5},
])
async def test_patch_refuses_unknown_fields(client: httpx.AsyncClient,
                                            body: dict[str, object]) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    assert_problem(await client.patch(f"{USERS}/{agent.user_id}", headers=owner.headers,
                                      json=body), 422, "VALIDATION_ERROR")
    got = (await client.get(f"{USERS}/{agent.user_id}", headers=owner.headers)).json()
    assert got["version"] == 1 and got["tenant_id"] == str(owner.tenant_id)


async def test_patch_bad_input(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    url = f"{USERS}/{agent.user_id}"
    assert_problem(await client.patch(url, headers=owner.headers, json={}), 422, "EMPTY_UPDATE")
    assert_problem(await client.patch(url, headers=owner.headers, json={"role": "god"}), 422)
    assert_problem(await client.patch(url, headers=owner.headers, json={"password": "weakpass"}),
                   422, "PASSWORD_NO_UPPERCASE")
    assert_problem(await client.patch(f"{USERS}/not-a-uuid", headers=owner.headers,
                                      json={"name": "x"}), 422)
    assert_problem(await client.patch(f"{USERS}/{uuid.uuid4()}", headers=owner.headers,
                                      json={"name": "x"}), 404, "USER_NOT_FOUND")


async def test_password_change_revokes_sessions(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    resp = await client.patch(f"{USERS}/{agent.user_id}", headers=owner.headers,
                              json={"password": "NewSecret456"})
    assert resp.status_code == 200
    assert_problem(await client.post("/api/v1/auth/refresh",
                                     json={"refresh_token": agent.refresh_token}), 401)
    assert_problem(await client.post("/api/v1/auth/login",
                                     json={"email": agent.email, "password": PASSWORD}), 401)
    assert (await login(client, agent.email, "NewSecret456"))["access_token"]


async def test_cannot_deactivate_yourself(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    admin = await add_member(client, owner, "admin")
    for member in (owner, admin):
        url = f"{USERS}/{member.user_id}"
        assert_problem(await client.delete(url, headers=member.headers), 409,
                       "CANNOT_DEACTIVATE_SELF")
        assert_problem(await client.patch(url, headers=member.headers,
                                          json={"is_active": False}), 409,
                       "CANNOT_DEACTIVATE_SELF")
        assert (await client.get("/api/v1/auth/me", headers=member.headers)).status_code == 200


async def test_owners_and_the_last_owner(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    second = await add_member(client, owner, "owner")
    # With two owners, one may demote or deactivate the other.
    resp = await client.delete(f"{USERS}/{second.user_id}", headers=owner.headers)
    assert resp.status_code == 200 and resp.json()["is_active"] is False
    # Now one is left: even a platform superadmin acting as owner cannot remove it.
    root = await make_superadmin(client, db)
    h = {**root.headers, "X-Workspace-Id": str(owner.tenant_id)}
    assert_problem(await client.delete(f"{USERS}/{owner.user_id}", headers=h), 409, "LAST_OWNER")
    assert_problem(await client.patch(f"{USERS}/{owner.user_id}", headers=h,
                                      json={"role": "admin"}), 409, "LAST_OWNER")
    assert_problem(await client.patch(f"{USERS}/{owner.user_id}", headers=h,
                                      json={"is_active": False}), 409, "LAST_OWNER")
    me = (await client.get("/api/v1/auth/me", headers=owner.headers)).json()
    assert me["role"] == "owner" and me["is_active"] is True


async def test_workspaces_cannot_reach_each_others_users(client: httpx.AsyncClient) -> None:
    a = await make_workspace(client)
    b = await make_workspace(client)
    b_agent = await add_member(client, b, "agent")
    for target in (b.user_id, b_agent.user_id):
        url = f"{USERS}/{target}"
        assert_problem(await client.get(url, headers=a.headers), 404, "USER_NOT_FOUND")
        assert_problem(await client.patch(url, headers=a.headers, json={"name": "Pwned"}),
                       404, "USER_NOT_FOUND")
        assert_problem(await client.patch(url, headers={**a.headers, "If-Match": '"1"'},
                                          json={"role": "viewer"}), 404, "USER_NOT_FOUND")
        assert_problem(await client.delete(url, headers=a.headers), 404, "USER_NOT_FOUND")
    listed = (await client.get(USERS, headers=a.headers)).json()
    assert [u["id"] for u in listed["data"]] == [str(a.user_id)]
    # A workspace header from a normal user is ignored: the token decides the workspace.
    spoof = await client.get(USERS, headers={**a.headers, "X-Workspace-Id": str(b.tenant_id)})
    assert [u["id"] for u in spoof.json()["data"]] == [str(a.user_id)]
    still = (await client.get(f"{USERS}/{b_agent.user_id}", headers=b.headers)).json()
    assert still["name"] == "Agent" and still["is_active"] is True and still["role"] == "agent"
