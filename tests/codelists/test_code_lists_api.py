"""/api/v1/code-lists over HTTP: create with items, read, pages, roles, isolation, delete,
ETag/If-Match."""

from __future__ import annotations

import uuid

import httpx
import pytest

from leadbase.db.session import Database
from tests.auth.helpers import assert_problem, scalar
from tests.codelists.helpers import CODE_LISTS, item_bodies, make_code_list
from tests.factories import add_member, make_workspace
from tests.lists.helpers import create_list, default_list, insert_field


async def test_create_with_items(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    resp = await client.post(CODE_LISTS, headers=owner.headers, json={
        "name": "Provinces", "description": "AR",
        "items": [{"code": "BA", "label": "Buenos Aires"},
                  {"code": "CB", "label": "Córdoba", "position": 10},
                  {"code": "SF", "label": "Santa Fe", "active": False},
                  {"code": "AA", "label": "First", "position": 0}]})
    assert resp.status_code == 201, resp.text
    made = resp.json()
    assert resp.headers["etag"] == '"1"'
    assert resp.headers["location"] == f"{CODE_LISTS}/{made['id']}"
    assert made["name"] == "Provinces" and made["description"] == "AR"
    assert [(i["code"], i["position"], i["active"]) for i in made["items"]] == [
        ("BA", 0, True), ("AA", 0, True), ("CB", 10, True), ("SF", 11, False)]
    assert {i["code_list_id"] for i in made["items"]} == {made["id"]}
    assert set(made["items"][0]) == {"id", "number", "code_list_id", "code", "label",
                                     "position", "active", "created_at", "updated_at",
                                     "version"}
    got = await client.get(f"{CODE_LISTS}/{made['id']}", headers=owner.headers)
    assert got.json() == made and got.headers["etag"] == '"1"'
    empty = await make_code_list(client, owner, "Empty", items=[])
    assert empty["items"] == []
    assert await scalar(db, owner.tenant_id, "SELECT changes FROM audit_entries WHERE "
                        "entity_id = :e AND action = 'code_list.created'",
                        e=made["id"]) == {"fields": ["description", "name"], "items": 4}


@pytest.mark.parametrize(("body", "field"), [
    ({"name": ""}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"items": []}, "name"),
    ({"name": "C", "description": "d" * 2001}, "description"),
    ({"name": "C", "tenant_id": "00000000-0000-0000-0000-000000000001"}, "tenant_id"),
    ({"name": "C", "version": 4}, "version"),
    ({"name": "C", "items": [{"code": "", "label": "L"}]}, "items.0.code"),
    ({"name": "C", "items": [{"code": "c" * 101, "label": "L"}]}, "items.0.code"),
    ({"name": "C", "items": [{"code": "c", "label": ""}]}, "items.0.label"),
    ({"name": "C", "items": [{"code": "c", "label": "l" * 301}]}, "items.0.label"),
    ({"name": "C", "items": [{"code": "c"}]}, "items.0.label"),
    ({"name": "C", "items": [{"code": "c", "label": "L", "position": -1}]}, "items.0.position"),
    ({"name": "C", "items": [{"code": "c", "label": "L", "code_list_id": str(uuid.uuid4())}]},
     "items.0.code_list_id"),
    ({"name": "C", "items": [{"code": f"c{i}", "label": "L"} for i in range(1001)]}, "items"),
])
async def test_create_refuses_bad_input(client: httpx.AsyncClient, body: dict[str, object],
                                        field: str) -> None:
    owner = await make_workspace(client)
    problem = assert_problem(await client.post(CODE_LISTS, headers=owner.headers, json=body),
                             422, "VALIDATION_ERROR")
    assert field in [e["field"] for e in problem["errors"]]
    assert (await client.get(CODE_LISTS, headers=owner.headers)).json()["total"] == 0


async def test_duplicate_codes_in_one_request(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    problem = assert_problem(await client.post(CODE_LISTS, headers=owner.headers, json={
        "name": "Dupes", "items": item_bodies("a", "b", "a", "A", "b")}),
        422, "DUPLICATE_ITEM_CODE")
    assert [e["field"] for e in problem["errors"]] == ["items.2.code", "items.4.code"]
    assert (await client.get(CODE_LISTS, headers=owner.headers)).json()["total"] == 0


async def test_names_are_unique_among_live_code_lists(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    first = await make_code_list(client, owner, "Colors")
    assert_problem(await client.post(CODE_LISTS, headers=owner.headers,
                                     json={"name": "COLORS"}), 409, "CODE_LIST_NAME_TAKEN")
    other = await make_code_list(client, owner, "Sizes")
    assert_problem(await client.patch(f"{CODE_LISTS}/{other['id']}", headers=owner.headers,
                                      json={"name": "colors"}), 409, "CODE_LIST_NAME_TAKEN")
    await client.delete(f"{CODE_LISTS}/{first['id']}", headers=owner.headers)
    await make_code_list(client, owner, "colors")
    await make_code_list(client, await make_workspace(client), "Colors")


async def test_pages_carry_items(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    for i in range(5):
        codes = [f"c{j}" for j in range(i)]
        await make_code_list(client, owner, f"CL {i}", items=item_bodies(*codes))
    page = (await client.get(CODE_LISTS, headers=owner.headers,
                             params={"per_page": 2, "page": 2})).json()
    assert page["total"] == 5 and page["page"] == 2 and page["per_page"] == 2
    assert [(c["name"], len(c["items"])) for c in page["data"]] == [("CL 2", 2), ("CL 3", 3)]
    assert [i["code"] for i in page["data"][1]["items"]] == ["c0", "c1", "c2"]
    by_name = (await client.get(CODE_LISTS, headers=owner.headers,
                                params={"sort": "-name", "q": "cl "})).json()
    assert [c["name"] for c in by_name["data"]] == [f"CL {i}" for i in (4, 3, 2, 1, 0)]
    assert_problem(await client.get(CODE_LISTS, headers=owner.headers,
                                    params={"sort": "items"}), 422, "INVALID_SORT")


async def test_update_and_if_match(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    made = await make_code_list(client, owner, "Before", description="d")
    url = f"{CODE_LISTS}/{made['id']}"
    resp = await client.patch(url, headers={**owner.headers, "If-Match": '"1"'},
                              json={"name": "After", "description": None})
    assert resp.status_code == 200, resp.text
    assert resp.json()["name"] == "After" and resp.json()["description"] is None
    assert resp.headers["etag"] == '"2"' and len(resp.json()["items"]) == 2
    assert_problem(await client.patch(url, headers={**owner.headers, "If-Match": '"1"'},
                                      json={"name": "Lost"}), 412, "VERSION_MISMATCH")
    assert_problem(await client.delete(url, headers={**owner.headers, "If-Match": '"1"'}),
                   412, "VERSION_MISMATCH")
    bodies: list[dict[str, object]] = [{}, {"name": None}, {"name": ""}, {"items": []},
                                       {"tenant_id": "x"}]
    for body in bodies:
        assert_problem(await client.patch(url, headers=owner.headers, json=body), 422)
    assert (await client.delete(url, headers={**owner.headers, "If-Match": '"2"'})).status_code \
        == 204


async def test_roles(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    made = await make_code_list(client, owner)
    url = f"{CODE_LISTS}/{made['id']}"
    item_url = f"{url}/items/{made['items'][0]['id']}"
    for role in ("viewer", "agent", "manager"):
        member = await add_member(client, owner, role)
        h = member.headers
        assert (await client.get(CODE_LISTS, headers=h)).json()["total"] == 1
        assert (await client.get(url, headers=h)).status_code == 200
        assert (await client.get(f"{url}/items", headers=h)).json()["total"] == 2
        assert (await client.get(item_url, headers=h)).status_code == 200
        for resp in (await client.post(CODE_LISTS, headers=h, json={"name": role}),
                     await client.patch(url, headers=h, json={"name": role}),
                     await client.delete(url, headers=h),
                     await client.post(f"{url}/items", headers=h,
                                       json={"code": role, "label": role}),
                     await client.patch(item_url, headers=h, json={"label": role}),
                     await client.delete(item_url, headers=h)):
            assert_problem(resp, 403, "ROLE_REQUIRED")
    admin = await add_member(client, owner, "admin")
    await make_code_list(client, admin, "By admin")
    resp = await client.post(f"{url}/items", headers=admin.headers,
                             json={"code": "blue", "label": "Blue"})
    assert resp.status_code == 201


async def test_other_workspaces_ids_are_not_found(client: httpx.AsyncClient) -> None:
    a = await make_workspace(client)
    b = await make_workspace(client)
    theirs = await make_code_list(client, b)
    url = f"{CODE_LISTS}/{theirs['id']}"
    item_url = f"{url}/items/{theirs['items'][0]['id']}"
    h = a.headers
    for resp in (await client.get(url, headers=h),
                 await client.patch(url, headers=h, json={"name": "Mine"}),
                 await client.delete(url, headers=h),
                 await client.get(f"{url}/items", headers=h),
                 await client.post(f"{url}/items", headers=h, json={"code": "x", "label": "X"}),
                 await client.get(item_url, headers=h),
                 await client.patch(item_url, headers=h, json={"label": "X"}),
                 await client.delete(item_url, headers=h)):
        assert_problem(resp, 404, "CODE_LIST_NOT_FOUND")
    # Their item under one of our code lists is not found either.
    mine = await make_code_list(client, a)
    mine_url = f"{CODE_LISTS}/{mine['id']}/items/{theirs['items'][0]['id']}"
    assert_problem(await client.get(mine_url, headers=h), 404, "ITEM_NOT_FOUND")
    assert_problem(await client.patch(mine_url, headers=h, json={"label": "X"}), 404,
                   "ITEM_NOT_FOUND")
    assert_problem(await client.delete(mine_url, headers=h), 404, "ITEM_NOT_FOUND")
    assert (await client.get(CODE_LISTS, headers=h)).json()["total"] == 1
    got = (await client.get(url, headers=b.headers)).json()
    assert got["name"] == "Colors" and len(got["items"]) == 2


async def test_delete_refused_while_a_field_uses_it(client: httpx.AsyncClient,
                                                    db: Database) -> None:
    owner = await make_workspace(client)
    made = await make_code_list(client, owner)
    url = f"{CODE_LISTS}/{made['id']}"
    side = await create_list(client, owner, "Side")
    await insert_field(db, owner.tenant_id, list_id=side["id"], code_list_id=made["id"],
                       active=False)
    assert_problem(await client.delete(url, headers=owner.headers), 409, "CODE_LIST_IN_USE")
    # A field of a deleted list no longer holds it.
    assert (await client.delete(f"/api/v1/lists/{side['id']}",
                                headers=owner.headers)).status_code == 204
    assert (await client.delete(url, headers=owner.headers)).status_code == 204
    assert_problem(await client.get(url, headers=owner.headers), 404, "CODE_LIST_NOT_FOUND")
    assert_problem(await client.get(f"{url}/items", headers=owner.headers), 404,
                   "CODE_LIST_NOT_FOUND")
    assert (await client.get(CODE_LISTS, headers=owner.headers)).json()["total"] == 0
    assert await scalar(db, owner.tenant_id, "SELECT deleted_at IS NOT NULL FROM code_lists "
                        "WHERE id = :c", c=made["id"]) is True
    assert await scalar(db, owner.tenant_id, "SELECT count(*) FROM audit_entries WHERE "
                        "entity_id = :c AND action = 'code_list.deleted'", c=made["id"]) == 1
    used = await make_code_list(client, owner, "Used")
    await insert_field(db, owner.tenant_id, list_id=(await default_list(client, owner))["id"],
                       code_list_id=used["id"])
    assert_problem(await client.delete(f"{CODE_LISTS}/{used['id']}", headers=owner.headers),
                   409, "CODE_LIST_IN_USE")
