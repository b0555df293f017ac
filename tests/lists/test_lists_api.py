"""/api/v1/lists over HTTP: create, read, lead counts, pages, roles, isolation, the default
list, delete refusals, ETag/If-Match."""

from __future__ import annotations

import uuid

import httpx
import pytest

from leadbase.db.session import Database
from tests.auth.helpers import assert_problem, scalar
from tests.factories import add_member, make_lead, make_workspace
from tests.lists.helpers import create_list, default_list, insert_field

LISTS = "/api/v1/lists"


async def test_new_workspace_has_its_default_list(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    page = (await client.get(LISTS, headers=owner.headers)).json()
    assert page["total"] == 1 and page["page"] == 1 and page["per_page"] == 25
    (only,) = page["data"]
    assert only["name"] == "Leads" and only["is_default"] is True
    assert only["lead_count"] == 0 and only["schema_version"] == 1 and only["version"] == 1
    assert set(only) == {"id", "number", "name", "description", "is_default", "schema_version",
                         "lead_count", "created_at", "updated_at", "version"}


async def test_create_and_read(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    resp = await client.post(LISTS, headers=owner.headers,
                             json={"name": "  Trade show 2026 ", "description": "Booth scans"})
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert resp.headers["etag"] == '"1"'
    assert resp.headers["location"] == f"{LISTS}/{created['id']}"
    assert created["name"] == "Trade show 2026" and created["description"] == "Booth scans"
    assert created["is_default"] is False and created["lead_count"] == 0
    got = await client.get(f"{LISTS}/{created['id']}", headers=owner.headers)
    assert got.status_code == 200 and got.headers["etag"] == '"1"'
    assert got.json() == created
    assert await scalar(db, owner.tenant_id, "SELECT actor_user_id FROM audit_entries WHERE "
                        "entity_id = :e AND action = 'list.created'",
                        e=created["id"]) == owner.user_id


@pytest.mark.parametrize(("body", "field"), [
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 201}, "name"),
    ({}, "name"),
    ({"name": None}, "name"),
    ({"name": "Ok", "description": "d" * 2001}, "description"),
    ({"name": "Ok", "tenant_id": "00000000-0000-0000-0000-000000000001"}, "tenant_id"),
    ({"name": "Ok", "id": "00000000-0000-0000-0000-000000000001"}, "id"),
    ({"name": "Ok", "is_default": True}, "is_default"),
    ({"name": "Ok", "schema_version": 9}, "schema_version"),
    ({"name": "Ok", "version": 3}, "version"),
])
async def test_create_refuses_bad_input(client: httpx.AsyncClient, body: dict[str, object],
                                        field: str) -> None:
    owner = await make_workspace(client)
    problem = assert_problem(await client.post(LISTS, headers=owner.headers, json=body), 422,
                             "VALIDATION_ERROR")
    assert field in [e["field"] for e in problem["errors"]]
    assert (await client.get(LISTS, headers=owner.headers)).json()["total"] == 1


async def test_names_are_unique_among_live_lists(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    first = await create_list(client, owner, "Webinar")
    problem = assert_problem(await client.post(LISTS, headers=owner.headers,
                                               json={"name": "WEBINAR"}), 409, "LIST_NAME_TAKEN")
    assert problem["errors"][0]["field"] == "name"
    assert_problem(await client.post(LISTS, headers=owner.headers, json={"name": "leads"}),
                   409, "LIST_NAME_TAKEN")
    other = await create_list(client, owner, "Other")
    assert_problem(await client.patch(f"{LISTS}/{other['id']}", headers=owner.headers,
                                      json={"name": "webinar"}), 409, "LIST_NAME_TAKEN")
    # Changing only the case of its own name is fine.
    renamed = await client.patch(f"{LISTS}/{first['id']}", headers=owner.headers,
                                 json={"name": "WEBINAR"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "WEBINAR"
    assert (await client.delete(f"{LISTS}/{first['id']}", headers=owner.headers)).status_code == 204
    again = await create_list(client, owner, "webinar")  # a deleted list frees its name
    assert again["id"] != first["id"]
    # Another workspace may use the same names.
    await create_list(client, await make_workspace(client), "Webinar")


async def test_lead_counts_and_pages(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    lists = [await create_list(client, owner, f"List {i}") for i in range(5)]
    await make_lead(client, owner, list_id=lists[0]["id"])
    await make_lead(client, owner, list_id=lists[0]["id"])
    gone = await make_lead(client, owner, list_id=lists[0]["id"])
    await make_lead(client, owner, list_id=lists[3]["id"])
    await make_lead(client, owner)  # the default list
    assert (await client.delete(f"/api/v1/leads/{gone['id']}",
                                headers=owner.headers)).status_code == 204
    page = (await client.get(LISTS, headers=owner.headers)).json()
    counts = {row["name"]: row["lead_count"] for row in page["data"]}
    assert counts == {"Leads": 1, "List 0": 2, "List 1": 0, "List 2": 0, "List 3": 1,
                      "List 4": 0}
    one = (await client.get(f"{LISTS}/{lists[0]['id']}", headers=owner.headers)).json()
    assert one["lead_count"] == 2
    second = (await client.get(LISTS, headers=owner.headers,
                               params={"per_page": 2, "page": 2})).json()
    assert second["total"] == 6 and [r["name"] for r in second["data"]] == ["List 1", "List 2"]
    last = (await client.get(LISTS, headers=owner.headers,
                             params={"per_page": 4, "page": 2})).json()
    assert last["total"] == 6 and len(last["data"]) == 2
    by_name = (await client.get(LISTS, headers=owner.headers, params={"sort": "-name"})).json()
    assert [r["name"] for r in by_name["data"]][:2] == ["List 4", "List 3"]
    found = (await client.get(LISTS, headers=owner.headers, params={"q": "st 3"})).json()
    assert [r["name"] for r in found["data"]] == ["List 3"]
    assert (await client.get(LISTS, headers=owner.headers,
                             params={"q": "%"})).json()["total"] == 0
    assert_problem(await client.get(LISTS, headers=owner.headers, params={"sort": "secret"}),
                   422, "INVALID_SORT")
    assert_problem(await client.get(LISTS, headers=owner.headers, params={"per_page": 201}),
                   422, "VALIDATION_ERROR")


async def test_roles(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    target = await create_list(client, owner, "Target")
    url = f"{LISTS}/{target['id']}"
    for role in ("viewer", "agent", "manager"):
        member = await add_member(client, owner, role)
        assert (await client.get(LISTS, headers=member.headers)).json()["total"] == 2
        assert (await client.get(url, headers=member.headers)).status_code == 200
        assert_problem(await client.post(LISTS, headers=member.headers, json={"name": role}),
                       403, "ROLE_REQUIRED")
        assert_problem(await client.patch(url, headers=member.headers, json={"name": role}),
                       403, "ROLE_REQUIRED")
        assert_problem(await client.delete(url, headers=member.headers), 403, "ROLE_REQUIRED")
    admin = await add_member(client, owner, "admin")
    made = await create_list(client, admin, "By admin")
    assert (await client.patch(f"{LISTS}/{made['id']}", headers=admin.headers,
                               json={"description": "x"})).status_code == 200
    assert (await client.delete(f"{LISTS}/{made['id']}", headers=admin.headers)).status_code == 204
    assert_problem(await client.get(LISTS), 401, "AUTH_REQUIRED")


async def test_other_workspaces_lists_are_not_found(client: httpx.AsyncClient) -> None:
    a = await make_workspace(client)
    b = await make_workspace(client)
    theirs = await create_list(client, b, "Theirs")
    url = f"{LISTS}/{theirs['id']}"
    assert_problem(await client.get(url, headers=a.headers), 404, "LIST_NOT_FOUND")
    assert_problem(await client.patch(url, headers=a.headers, json={"name": "Mine"}), 404,
                   "LIST_NOT_FOUND")
    assert_problem(await client.delete(url, headers=a.headers), 404, "LIST_NOT_FOUND")
    assert_problem(await client.get(f"{LISTS}/{uuid.uuid4()}", headers=a.headers), 404,
                   "LIST_NOT_FOUND")
    assert_problem(await client.get(f"{LISTS}/not-a-uuid", headers=a.headers), 422)
    assert [r["name"] for r in (await client.get(LISTS, headers=a.headers)).json()["data"]] \
        == ["Leads"]
    assert (await client.get(url, headers=b.headers)).json()["name"] == "Theirs"


async def test_switching_the_default_list(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    old = await default_list(client, owner)
    await make_lead(client, owner)  # warms the workspace-defaults cache with the old default
    new = await create_list(client, owner, "Inbound")
    resp = await client.patch(f"{LISTS}/{new['id']}", headers=owner.headers,
                              json={"is_default": True})
    assert resp.status_code == 200, resp.text
    assert resp.json()["is_default"] is True and resp.json()["version"] == 2
    rows = (await client.get(LISTS, headers=owner.headers)).json()["data"]
    assert [r["id"] for r in rows if r["is_default"]] == [new["id"]]
    previous = (await client.get(f"{LISTS}/{old['id']}", headers=owner.headers)).json()
    assert previous["is_default"] is False and previous["version"] == old["version"] + 1
    # New leads without a list now go to the new default.
    lead = await make_lead(client, owner)
    assert lead["list_id"] == new["id"]
    assert await scalar(db, owner.tenant_id, "SELECT count(*) FROM audit_entries WHERE "
                        "action = 'list.updated' AND entity_id IN (:a, :b) AND "
                        "changes = '{\"fields\": [\"is_default\"]}'::jsonb",
                        a=old["id"], b=new["id"]) == 2
    # Setting it again changes nothing.
    same = await client.patch(f"{LISTS}/{new['id']}", headers=owner.headers,
                              json={"is_default": True})
    assert same.json()["version"] == 2
    # The default cannot be un-defaulted directly; a non-default list can be "un-defaulted".
    problem = assert_problem(await client.patch(f"{LISTS}/{new['id']}", headers=owner.headers,
                                                json={"is_default": False}),
                             409, "DEFAULT_LIST_REQUIRED")
    assert problem["errors"][0]["field"] == "is_default"
    fine = await client.patch(f"{LISTS}/{old['id']}", headers=owner.headers,
                              json={"is_default": False})
    assert fine.status_code == 200 and fine.json()["version"] == previous["version"]
    # Switching back works the same way; the old default is now deletable... once empty.
    await client.patch(f"{LISTS}/{old['id']}", headers=owner.headers, json={"is_default": True})
    assert (await default_list(client, owner))["id"] == old["id"]


async def test_update_fields_and_nulls(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    made = await create_list(client, owner, "Plain", description="first")
    url = f"{LISTS}/{made['id']}"
    assert_problem(await client.patch(url, headers=owner.headers, json={}), 422, "EMPTY_UPDATE")
    for body in ({"name": None}, {"is_default": None}, {"name": ""}, {"number": 5},
                 {"tenant_id": str(uuid.uuid4())}, {"deleted_at": None}):
        assert_problem(await client.patch(url, headers=owner.headers, json=body), 422,
                       "VALIDATION_ERROR")
    cleared = await client.patch(url, headers=owner.headers, json={"description": None})
    assert cleared.json()["description"] is None and cleared.json()["version"] == 2
    unchanged = await client.patch(url, headers=owner.headers, json={"name": "Plain"})
    assert unchanged.json()["version"] == 2 and unchanged.headers["etag"] == '"2"'


async def test_if_match(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    made = await create_list(client, owner, "Versioned")
    url = f"{LISTS}/{made['id']}"
    ok = await client.patch(url, headers={**owner.headers, "If-Match": '"1"'},
                            json={"name": "Versioned 2"})
    assert ok.status_code == 200 and ok.headers["etag"] == '"2"'
    for tag in ('"1"', "garbage", 'W/"7"'):
        assert_problem(await client.patch(url, headers={**owner.headers, "If-Match": tag},
                                          json={"name": "Lost update"}), 412, "VERSION_MISMATCH")
        assert_problem(await client.delete(url, headers={**owner.headers, "If-Match": tag}),
                       412, "VERSION_MISMATCH")
    assert (await client.get(url, headers=owner.headers)).json()["name"] == "Versioned 2"
    gone = await client.delete(url, headers={**owner.headers, "If-Match": '"2"'})
    assert gone.status_code == 204


async def test_delete_refusals_and_soft_delete(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    default = await default_list(client, owner)
    assert_problem(await client.delete(f"{LISTS}/{default['id']}", headers=owner.headers), 409,
                   "DEFAULT_LIST")
    full = await create_list(client, owner, "Full")
    lead = await make_lead(client, owner, list_id=full["id"])
    assert_problem(await client.delete(f"{LISTS}/{full['id']}", headers=owner.headers), 409,
                   "LIST_NOT_EMPTY")
    await client.delete(f"/api/v1/leads/{lead['id']}", headers=owner.headers)
    target = await create_list(client, owner, "Target")
    user = await create_list(client, owner, "User")
    await insert_field(db, owner.tenant_id, list_id=user["id"], code="buyer", type="LEAD",
                       related_list_id=target["id"], active=False)
    assert_problem(await client.delete(f"{LISTS}/{target['id']}", headers=owner.headers), 409,
                   "LIST_IN_USE")
    # A field relating a list to itself does not hold it.
    await insert_field(db, owner.tenant_id, list_id=full["id"], code="parent", type="LEAD",
                       related_list_id=full["id"])
    resp = await client.delete(f"{LISTS}/{full['id']}", headers=owner.headers)
    assert resp.status_code == 204, resp.text
    assert_problem(await client.get(f"{LISTS}/{full['id']}", headers=owner.headers), 404,
                   "LIST_NOT_FOUND")
    assert_problem(await client.delete(f"{LISTS}/{full['id']}", headers=owner.headers), 404,
                   "LIST_NOT_FOUND")
    names = [r["name"] for r in (await client.get(LISTS, headers=owner.headers)).json()["data"]]
    assert "Full" not in names
    assert await scalar(db, owner.tenant_id, "SELECT deleted_at IS NOT NULL FROM lead_lists "
                        "WHERE id = :l", l=full["id"]) is True
    assert await scalar(db, owner.tenant_id, "SELECT count(*) FROM audit_entries WHERE "
                        "entity_id = :l AND action = 'list.deleted'", l=full["id"]) == 1
    # Leads cannot go into a deleted list.
    assert_problem(await client.post("/api/v1/leads", headers=owner.headers,
                                      json={"first_name": "X", "list_id": full["id"]}),
                   422, "LIST_NOT_FOUND")
    # Once the relating list is gone, the target can go too.
    assert (await client.delete(f"{LISTS}/{user['id']}", headers=owner.headers)).status_code \
        == 204
    assert (await client.delete(f"{LISTS}/{target['id']}",
                                headers=owner.headers)).status_code == 204


async def test_idempotent_create(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    headers = {**owner.headers, "Idempotency-Key": "list-1"}
    first = await client.post(LISTS, headers=headers, json={"name": "Once"})
    again = await client.post(LISTS, headers=headers, json={"name": "Once"})
    assert first.status_code == again.status_code == 201
    assert again.headers.get("idempotency-replayed") == "true"
    assert again.json()["id"] == first.json()["id"]
    assert (await client.get(LISTS, headers=owner.headers)).json()["total"] == 2
