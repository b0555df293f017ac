"""A field of any list sits in any section of its workspace (sections are the
workspace's), each field with its own position."""

from __future__ import annotations

import uuid

import httpx
import pytest

from leadbase.db.session import Database
from leadbase.fields import service
from leadbase.fields.schemas import FieldCreate, FieldUpdate
from leadbase.kit.errors import ValidationFailed
from tests.auth.helpers import assert_problem, member_ctx
from tests.factories import make_workspace
from tests.fields.test_fields_api import field
from tests.lists.helpers import create_list, default_list

SECTIONS = "/api/v1/field-sections"


async def test_one_section_serves_every_list(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    personal = (await client.post(SECTIONS, headers=owner.headers,
                                  json={"name": "Datos personales"})).json()
    other = (await client.post(SECTIONS, headers=owner.headers, json={"name": "Otros"})).json()
    first = await default_list(client, owner)
    second = await create_list(client, owner, "Second")
    a = await field(client, owner, list_id=first["id"], name="DNI", type="STRING",
                    section_id=personal["id"], position=1)
    b = await field(client, owner, list_id=second["id"], name="DNI", type="STRING",
                    section_id=personal["id"], position=4)
    assert [(f["list_id"], f["section_id"], f["position"]) for f in (a, b)] == [
        (first["id"], personal["id"], 1), (second["id"], personal["id"], 4)]
    moved = await client.patch(f"/api/v1/fields/{b['id']}", headers=owner.headers,
                               json={"section_id": other["id"], "position": 2})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["section_id"], moved.json()["position"]) == (other["id"], 2)
    again = (await client.get(f"/api/v1/fields/{a['id']}", headers=owner.headers)).json()
    assert (again["section_id"], again["position"]) == (personal["id"], 1)


async def test_a_section_must_be_live_and_ours(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    stranger = await make_workspace(client)
    theirs = (await client.post(SECTIONS, headers=stranger.headers, json={"name": "X"})).json()
    gone = (await client.post(SECTIONS, headers=owner.headers, json={"name": "Gone"})).json()
    await client.delete(f"{SECTIONS}/{gone['id']}", headers=owner.headers)
    for section_id in (theirs["id"], gone["id"], str(uuid.uuid4())):
        problem = assert_problem(await client.post("/api/v1/fields", headers=owner.headers,
                                                   json={"name": "F", "type": "STRING",
                                                         "section_id": section_id}),
                                 422, "SECTION_NOT_FOUND")
        assert problem["errors"] == [{"field": "section_id", "message": "no such section"}]


async def test_service_level(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    ctx = member_ctx(owner)
    personal = (await client.post(SECTIONS, headers=owner.headers,
                                  json={"name": "Datos personales"})).json()
    lists = [uuid.UUID((await default_list(client, owner))["id"]),
             uuid.UUID((await create_list(client, owner, "Second"))["id"])]
    section_id = uuid.UUID(personal["id"])
    async with db.transaction(owner.tenant_id) as session:
        made = [await service.create_field(session, ctx=ctx, body=FieldCreate(
            list_id=list_id, name="Edad", type="INT", section_id=section_id, position=n))
            for n, list_id in enumerate(lists)]
        assert [(f["section_id"], f["position"]) for f in made] == [(section_id, 0),
                                                                   (section_id, 1)]
        with pytest.raises(ValidationFailed) as missing:
            await service.update_field(session, ctx=ctx, field_id=made[1]["id"],
                                       body=FieldUpdate(section_id=uuid.uuid4()),
                                       expected_version=None)
        assert missing.value.code == "SECTION_NOT_FOUND"
