"""/api/v1/field-sections over HTTP and leadbase.lists.sections.service directly."""

from __future__ import annotations

import uuid

import httpx
import pytest

from leadbase.db.session import Database
from leadbase.kit.errors import NotFound, PreconditionFailed, ValidationFailed
from leadbase.kit.pagination import PageParams
from leadbase.lists.sections import service
from leadbase.lists.sections.schemas import SectionCreate, SectionUpdate
from tests.auth.helpers import assert_problem, member_ctx, scalar
from tests.factories import Member, add_member, make_workspace
from tests.lists.helpers import create_list, default_list, insert_field

SECTIONS = "/api/v1/field-sections"
PARAMS = PageParams(page=1, per_page=25, cursor=None, count="auto")


async def _section(client: httpx.AsyncClient, member: Member, **body: object) -> dict[str, object]:
    resp = await client.post(SECTIONS, headers=member.headers, json=body)
    assert resp.status_code == 201, resp.text
    out: dict[str, object] = resp.json()
    return out


async def _schema_version(client: httpx.AsyncClient, member: Member, list_id: object) -> int:
    resp = await client.get(f"/api/v1/lists/{list_id}", headers=member.headers)
    return int(resp.json()["schema_version"])


async def test_create_order_and_filter(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    default = await default_list(client, owner)
    other = await create_list(client, owner, "Other")
    resp = await client.post(SECTIONS, headers=owner.headers, json={"name": "Identity"})
    assert resp.status_code == 201, resp.text
    first = resp.json()
    assert resp.headers["etag"] == '"1"' and resp.headers["location"].endswith(first["id"])
    assert first["position"] == 0
    assert set(first) == {"id", "number", "name", "position", "created_at", "updated_at",
                          "version"}
    second = await _section(client, owner, name="Address")
    top = await _section(client, owner, name="Top", position=0)
    assert second["position"] == 1
    # Creating a section changes no list's schema (no field sits in it yet).
    assert await _schema_version(client, owner, other["id"]) == 1
    everything = (await client.get(SECTIONS, headers=owner.headers)).json()
    assert [s["id"] for s in everything["data"]] == [first["id"], top["id"], second["id"]]
    assert everything["total"] == 3
    paged = (await client.get(SECTIONS, headers=owner.headers,
                              params={"per_page": 2, "page": 2})).json()
    assert paged["total"] == 3 and [s["id"] for s in paged["data"]] == [second["id"]]
    # ?list_id=: the sections holding a field of that list.
    await insert_field(db, owner.tenant_id, list_id=str(other["id"]), code="a", type="INT",
                       section_id=str(second["id"]))
    await insert_field(db, owner.tenant_id, list_id=str(default["id"]), code="b",
                       type="INT", section_id=str(first["id"]))
    await insert_field(db, owner.tenant_id, list_id=str(other["id"]), code="c", type="INT",
                       section_id=str(first["id"]))
    of_other = (await client.get(SECTIONS, headers=owner.headers,
                                 params={"list_id": other["id"]})).json()
    assert [s["id"] for s in of_other["data"]] == [first["id"], second["id"]]
    of_default = (await client.get(SECTIONS, headers=owner.headers,
                                   params={"list_id": default["id"]})).json()
    assert [s["id"] for s in of_default["data"]] == [first["id"]]
    assert await scalar(db, owner.tenant_id, "SELECT count(*) FROM audit_entries WHERE "
                        "action = 'field_section.created'") == 3


@pytest.mark.parametrize(("body", "field"), [
    ({"name": ""}, "name"),
    ({"name": "x" * 201}, "name"),
    ({}, "name"),
    ({"name": "S", "position": -1}, "position"),
    ({"name": "S", "list_id": "nope"}, "list_id"),  # a section is no list's
    ({"name": "S", "tenant_id": "00000000-0000-0000-0000-000000000001"}, "tenant_id"),
    ({"name": "S", "version": 2}, "version"),
])
async def test_create_refuses_bad_input(client: httpx.AsyncClient, body: dict[str, object],
                                        field: str) -> None:
    owner = await make_workspace(client)
    problem = assert_problem(await client.post(SECTIONS, headers=owner.headers, json=body), 422,
                             "VALIDATION_ERROR")
    assert field in [e["field"] for e in problem["errors"]]


async def test_lists_must_be_live_and_ours(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    stranger = await make_workspace(client)
    theirs = await create_list(client, stranger, "Theirs")
    gone = await create_list(client, owner, "Gone")
    await client.delete(f"/api/v1/lists/{gone['id']}", headers=owner.headers)
    for list_id in (theirs["id"], gone["id"], str(uuid.uuid4())):
        assert_problem(await client.get(SECTIONS, headers=owner.headers,
                                        params={"list_id": list_id}), 422, "LIST_NOT_FOUND")
    default = await default_list(client, owner)
    problem = assert_problem(await client.post(SECTIONS, headers=owner.headers, json={
        "list_id": default["id"], "name": "S"}), 422, "VALIDATION_ERROR")
    assert [e["field"] for e in problem["errors"]] == ["list_id"]


async def test_a_section_outlives_a_deleted_list(client: httpx.AsyncClient,
                                                 db: Database) -> None:
    owner = await make_workspace(client)
    doomed = await create_list(client, owner, "Doomed")
    section = await _section(client, owner, name="S")
    await insert_field(db, owner.tenant_id, list_id=str(doomed["id"]), code="age",
                       type="INT", section_id=str(section["id"]))
    await client.delete(f"/api/v1/lists/{doomed['id']}", headers=owner.headers)
    assert (await client.get(f"{SECTIONS}/{section['id']}", headers=owner.headers)
            ).status_code == 200
    assert (await client.get(SECTIONS, headers=owner.headers)).json()["total"] == 1


async def test_update_and_if_match(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    section = await _section(client, owner, name="Old")
    url = f"{SECTIONS}/{section['id']}"
    using = [await default_list(client, owner), await create_list(client, owner, "Other")]
    unused = await create_list(client, owner, "Unused")
    for n, made in enumerate(using):
        await insert_field(db, owner.tenant_id, list_id=str(made["id"]), code=f"f{n}",
                           type="INT", section_id=str(section["id"]))
    list_id = using[1]["id"]
    before = await _schema_version(client, owner, list_id)
    got = await client.get(url, headers=owner.headers)
    assert got.headers["etag"] == '"1"'
    resp = await client.patch(url, headers={**owner.headers, "If-Match": '"1"'},
                              json={"name": "New", "position": 5})
    assert resp.status_code == 200, resp.text
    assert resp.json()["name"] == "New" and resp.json()["position"] == 5
    assert resp.headers["etag"] == '"2"'
    # Every list with a field in the section has a new schema version; the others not.
    assert await _schema_version(client, owner, list_id) == before + 1
    assert await _schema_version(client, owner, using[0]["id"]) == before + 1
    assert await _schema_version(client, owner, unused["id"]) == 1
    assert_problem(await client.patch(url, headers={**owner.headers, "If-Match": '"1"'},
                                      json={"name": "Lost"}), 412, "VERSION_MISMATCH")
    assert_problem(await client.delete(url, headers={**owner.headers, "If-Match": '"1"'}),
                   412, "VERSION_MISMATCH")
    for body in ({}, {"name": None}, {"position": None}, {"list_id": str(uuid.uuid4())},
                 {"name": ""}):
        assert_problem(await client.patch(url, headers=owner.headers, json=body), 422)
    same = await client.patch(url, headers=owner.headers, json={"name": "New"})
    assert same.json()["version"] == 2


async def test_delete_detaches_fields(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    section = await _section(client, owner, name="Doomed")
    keep = await _section(client, owner, name="Kept")
    list_id = (await create_list(client, owner, "Other"))["id"]
    field = await insert_field(db, owner.tenant_id, list_id=str(list_id), code="age",
                               type="INT", section_id=str(section["id"]))
    other = await insert_field(db, owner.tenant_id, list_id=str(list_id), code="city",
                               type="STRING", section_id=str(keep["id"]))
    before = await _schema_version(client, owner, list_id)
    resp = await client.delete(f"{SECTIONS}/{section['id']}",
                               headers={**owner.headers, "If-Match": '"1"'})
    assert resp.status_code == 204, resp.text
    assert_problem(await client.get(f"{SECTIONS}/{section['id']}", headers=owner.headers), 404,
                   "SECTION_NOT_FOUND")
    assert [s["id"] for s in (await client.get(SECTIONS, headers=owner.headers)).json()["data"]] \
        == [keep["id"]]
    assert await scalar(db, owner.tenant_id, "SELECT section_id IS NULL AND version = 2 FROM "
                        "field_definitions WHERE id = :f", f=field) is True
    assert await scalar(db, owner.tenant_id, "SELECT section_id FROM field_definitions "
                        "WHERE id = :f", f=other) == uuid.UUID(str(keep["id"]))
    assert await scalar(db, owner.tenant_id, "SELECT deleted_at IS NOT NULL FROM "
                        "field_sections WHERE id = :s", s=section["id"]) is True
    assert await _schema_version(client, owner, list_id) == before + 1
    assert await scalar(db, owner.tenant_id, "SELECT changes FROM audit_entries WHERE "
                        "entity_id = :s AND action = 'field_section.deleted'",
                        s=section["id"]) == {"fields": ["deleted_at"], "detached_fields": 1}


async def test_roles_and_isolation(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    section = await _section(client, owner, name="S")
    url = f"{SECTIONS}/{section['id']}"
    for role in ("viewer", "agent", "manager"):
        member = await add_member(client, owner, role)
        assert (await client.get(SECTIONS, headers=member.headers)).json()["total"] == 1
        assert (await client.get(url, headers=member.headers)).status_code == 200
        assert_problem(await client.post(SECTIONS, headers=member.headers, json={"name": "x"}),
                       403, "ROLE_REQUIRED")
        assert_problem(await client.patch(url, headers=member.headers, json={"name": "x"}),
                       403, "ROLE_REQUIRED")
        assert_problem(await client.delete(url, headers=member.headers), 403, "ROLE_REQUIRED")
    admin = await add_member(client, owner, "admin")
    await _section(client, admin, name="By admin")
    stranger = await make_workspace(client)
    assert_problem(await client.get(url, headers=stranger.headers), 404, "SECTION_NOT_FOUND")
    assert_problem(await client.patch(url, headers=stranger.headers, json={"name": "x"}), 404,
                   "SECTION_NOT_FOUND")
    assert_problem(await client.delete(url, headers=stranger.headers), 404, "SECTION_NOT_FOUND")
    assert (await client.get(SECTIONS, headers=stranger.headers)).json()["total"] == 0


async def test_service_level(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    stranger = await make_workspace(client)
    ctx = member_ctx(owner, request_id="req-sections")
    async with db.transaction(owner.tenant_id) as session:
        made = await service.create_section(session, ctx=ctx, body=SectionCreate(name="A"))
        assert (await service.get_by_number(session, ctx=ctx,
                                            number=made["number"]))["id"] == made["id"]
        rows, total = await service.list_sections(session, ctx=ctx, params=PARAMS)
        assert total == 1 and rows[0]["id"] == made["id"]
        default = (await default_list(client, owner))["id"]
        rows, total = await service.list_sections(session, ctx=ctx, params=PARAMS,
                                                  list_id=uuid.UUID(str(default)))
        assert (rows, total) == ([], 0)  # no field of the list sits in it
        with pytest.raises(PreconditionFailed):
            await service.update_section(session, ctx=ctx, section_id=made["id"],
                                         body=SectionUpdate(name="B"), expected_version=3)
        with pytest.raises(ValidationFailed) as empty:
            await service.update_section(session, ctx=ctx, section_id=made["id"],
                                         body=SectionUpdate(), expected_version=None)
        assert empty.value.code == "EMPTY_UPDATE"
        assert await service.delete_section(session, ctx=ctx, section_id=made["id"],
                                            expected_version=1) == 0
        with pytest.raises(NotFound):
            await service.get_by_number(session, ctx=ctx, number=made["number"])
    async with db.transaction(stranger.tenant_id) as session:
        with pytest.raises(NotFound):  # RLS backs up the scoping
            await service.get_section(session, ctx=member_ctx(owner), section_id=made["id"])
    assert await scalar(db, owner.tenant_id, "SELECT count(*) FROM audit_entries WHERE "
                        "request_id = 'req-sections'") == 2
