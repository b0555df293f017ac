"""/api/v1/code-lists/{id}/items: add, change, (de)activate, delete, and the schema_version
bump of the lists whose fields use the code list."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from leadbase.db.session import Database
from tests.auth.helpers import assert_problem, scalar
from tests.codelists.helpers import CODE_LISTS, make_code_list
from tests.factories import Member, make_workspace
from tests.lists.helpers import create_list, default_list, insert_field


async def _schema_versions(client: httpx.AsyncClient, member: Member) -> dict[str, int]:
    page = (await client.get("/api/v1/lists", headers=member.headers)).json()
    return {row["name"]: row["schema_version"] for row in page["data"]}


async def _add(client: httpx.AsyncClient, member: Member, code_list_id: str,
               **body: Any) -> httpx.Response:
    return await client.post(f"{CODE_LISTS}/{code_list_id}/items", headers=member.headers,
                             json=body)


async def test_add_items(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    made = await make_code_list(client, owner)
    resp = await _add(client, owner, made["id"], code="blue", label="Blue")
    assert resp.status_code == 201, resp.text
    item = resp.json()
    assert resp.headers["etag"] == '"1"'
    assert resp.headers["location"] == f"{CODE_LISTS}/{made['id']}/items/{item['id']}"
    assert item["position"] == 2 and item["active"] is True
    first = (await _add(client, owner, made["id"], code="black", label="Black",
                        position=0, active=False)).json()
    assert first["active"] is False
    listing = (await client.get(f"{CODE_LISTS}/{made['id']}/items",
                                headers=owner.headers)).json()
    assert [i["code"] for i in listing["data"]] == ["red", "black", "green", "blue"]
    assert listing["total"] == 4
    active = (await client.get(f"{CODE_LISTS}/{made['id']}/items", headers=owner.headers,
                               params={"active": "false"})).json()
    assert [i["code"] for i in active["data"]] == ["black"]
    paged = (await client.get(f"{CODE_LISTS}/{made['id']}/items", headers=owner.headers,
                              params={"per_page": 3, "page": 2})).json()
    assert [i["code"] for i in paged["data"]] == ["blue"] and paged["total"] == 4
    code_list = await client.get(f"{CODE_LISTS}/{made['id']}", headers=owner.headers)
    assert code_list.headers["etag"] == '"3"', "item changes move the code list's version"
    assert len(code_list.json()["items"]) == 4
    assert await scalar(db, owner.tenant_id, "SELECT changes FROM audit_entries WHERE "
                        "entity_id = :e AND action = 'code_list_item.created'",
                        e=item["id"]) == {"fields": ["active", "code", "label", "position"],
                                          "code_list_id": made["id"]}


@pytest.mark.parametrize(("body", "field"), [
    ({"code": "", "label": "L"}, "code"),
    ({"code": "c" * 101, "label": "L"}, "code"),
    ({"code": "c", "label": ""}, "label"),
    ({"code": "c", "label": "l" * 301}, "label"),
    ({"label": "L"}, "code"),
    ({"code": "c", "label": "L", "tenant_id": "00000000-0000-0000-0000-000000000001"},
     "tenant_id"),
    ({"code": "c", "label": "L", "version": 3}, "version"),
])
async def test_add_refuses_bad_input(client: httpx.AsyncClient, body: dict[str, object],
                                     field: str) -> None:
    owner = await make_workspace(client)
    made = await make_code_list(client, owner)
    problem = assert_problem(await _add(client, owner, made["id"], **body), 422,
                             "VALIDATION_ERROR")
    assert field in [e["field"] for e in problem["errors"]]


async def test_codes_are_unique_per_code_list(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    made = await make_code_list(client, owner, items=[{"code": "red", "label": "Red"},
                                                      {"code": "old", "label": "Old",
                                                       "active": False}])
    for code in ("red", "old"):
        problem = assert_problem(await _add(client, owner, made["id"], code=code, label="X"),
                                 409, "ITEM_CODE_TAKEN")
        assert problem["errors"][0]["field"] == "code"
    assert (await _add(client, owner, made["id"], code="RED", label="Loud")).status_code == 201
    other = await make_code_list(client, owner, "Other")
    assert (await _add(client, owner, other["id"], code="old", label="Old")).status_code == 201
    red = made["items"][0]
    assert_problem(await client.patch(f"{CODE_LISTS}/{made['id']}/items/{red['id']}",
                                      headers=owner.headers, json={"code": "old"}),
                   409, "ITEM_CODE_TAKEN")
    renamed = await client.patch(f"{CODE_LISTS}/{made['id']}/items/{red['id']}",
                                 headers=owner.headers, json={"code": "crimson"})
    assert renamed.status_code == 200 and renamed.json()["code"] == "crimson"


async def test_update_item_and_if_match(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    made = await make_code_list(client, owner)
    url = f"{CODE_LISTS}/{made['id']}/items/{made['items'][0]['id']}"
    got = await client.get(url, headers=owner.headers)
    assert got.headers["etag"] == '"1"' and got.json()["code"] == "red"
    resp = await client.patch(url, headers={**owner.headers, "If-Match": '"1"'},
                              json={"label": "Rojo", "position": 7})
    assert resp.status_code == 200, resp.text
    assert resp.json()["label"] == "Rojo" and resp.json()["position"] == 7
    assert resp.headers["etag"] == '"2"'
    assert_problem(await client.patch(url, headers={**owner.headers, "If-Match": '"1"'},
                                      json={"label": "Lost"}), 412, "VERSION_MISMATCH")
    assert_problem(await client.delete(url, headers={**owner.headers, "If-Match": '"1"'}),
                   412, "VERSION_MISMATCH")
    for body in ({}, {"label": None}, {"code": None}, {"active": None}, {"code": ""},
                 {"code_list_id": made["id"]}):
        assert_problem(await client.patch(url, headers=owner.headers, json=body), 422)
    same = await client.patch(url, headers=owner.headers, json={"label": "Rojo"})
    assert same.json()["version"] == 2


async def test_delete_erases_an_unused_item(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    made = await make_code_list(client, owner)
    item = made["items"][0]
    url = f"{CODE_LISTS}/{made['id']}/items/{item['id']}"
    resp = await client.delete(url, headers={**owner.headers, "If-Match": '"1"'})
    assert resp.status_code == 204 and resp.content == b""
    assert_problem(await client.get(url, headers=owner.headers), 404, "ITEM_NOT_FOUND")
    assert_problem(await client.delete(url, headers=owner.headers), 404, "ITEM_NOT_FOUND")
    assert await scalar(db, owner.tenant_id, "SELECT count(*) FROM code_list_items WHERE "
                        "id = :i", i=item["id"]) == 0
    assert await scalar(db, owner.tenant_id, "SELECT count(*) FROM audit_entries WHERE "
                        "entity_id = :i AND action = 'code_list_item.deleted'",
                        i=item["id"]) == 1


async def test_items_of_a_used_code_list(client: httpx.AsyncClient, db: Database) -> None:
    """Deleting deactivates; codes are fixed; every change bumps the schema_version of the
    lists whose fields use the code list, and only theirs."""
    owner = await make_workspace(client)
    made = await make_code_list(client, owner)
    users_a = await create_list(client, owner, "Uses A")
    users_b = await create_list(client, owner, "Uses B")
    await create_list(client, owner, "Bystander")
    default = await default_list(client, owner)
    # Two fields of one list use it (one inactive): its version moves once per change.
    await insert_field(db, owner.tenant_id, list_id=users_a["id"], code="color",
                       code_list_id=made["id"])
    await insert_field(db, owner.tenant_id, list_id=users_a["id"], code="color2",
                       code_list_id=made["id"], active=False)
    await insert_field(db, owner.tenant_id, list_id=users_b["id"], code="color",
                       code_list_id=made["id"])
    other = await make_code_list(client, owner, "Other")
    await insert_field(db, owner.tenant_id, list_id=default["id"], code="other",
                       code_list_id=other["id"])
    start = await _schema_versions(client, owner)
    url = f"{CODE_LISTS}/{made['id']}/items"

    def bumped(now: dict[str, int], times: int) -> None:
        assert now == {**start, "Uses A": start["Uses A"] + times,
                       "Uses B": start["Uses B"] + times}

    added = (await _add(client, owner, made["id"], code="blue", label="Blue")).json()
    bumped(await _schema_versions(client, owner), 1)
    await client.patch(f"{url}/{added['id']}", headers=owner.headers, json={"label": "Azul"})
    bumped(await _schema_versions(client, owner), 2)
    problem = assert_problem(await client.patch(f"{url}/{added['id']}", headers=owner.headers,
                                                json={"code": "navy"}), 409, "ITEM_CODE_IN_USE")
    assert problem["errors"][0]["field"] == "code"
    bumped(await _schema_versions(client, owner), 2)
    resp = await client.delete(f"{url}/{added['id']}", headers=owner.headers)
    assert resp.status_code == 200, resp.text
    assert resp.json()["active"] is False and resp.json()["version"] == 3
    assert resp.headers["etag"] == '"3"'
    bumped(await _schema_versions(client, owner), 3)
    again = await client.delete(f"{url}/{added['id']}", headers=owner.headers)
    assert again.status_code == 200 and again.json()["version"] == 3
    bumped(await _schema_versions(client, owner), 3)  # already inactive: nothing changed
    back = await client.patch(f"{url}/{added['id']}", headers=owner.headers,
                              json={"active": True})
    assert back.json()["active"] is True
    bumped(await _schema_versions(client, owner), 4)
    assert await scalar(db, owner.tenant_id, "SELECT count(*) FROM code_list_items WHERE "
                        "id = :i", i=added["id"]) == 1
    assert await scalar(db, owner.tenant_id, "SELECT count(*) FROM audit_entries WHERE "
                        "entity_id = :i AND action = 'code_list_item.deactivated'",
                        i=added["id"]) == 1
    # Renaming the code list itself is not a schema change.
    await client.patch(f"{CODE_LISTS}/{made['id']}", headers=owner.headers,
                       json={"name": "Renamed"})
    bumped(await _schema_versions(client, owner), 4)


async def test_idempotent_add(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    made = await make_code_list(client, owner)
    headers = {**owner.headers, "Idempotency-Key": "item-1"}
    url = f"{CODE_LISTS}/{made['id']}/items"
    first = await client.post(url, headers=headers, json={"code": "x", "label": "X"})
    again = await client.post(url, headers=headers, json={"code": "x", "label": "X"})
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert_problem(await client.post(url, headers=headers, json={"code": "y", "label": "Y"}),
                   422, "IDEMPOTENCY_KEY_REUSED")
