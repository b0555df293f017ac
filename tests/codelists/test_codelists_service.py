"""leadbase.codelists.service called directly with a scoped session and a Context."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import text

from leadbase.codelists import service
from leadbase.codelists.schemas import CodeListCreate, CodeListUpdate, ItemCreate, ItemUpdate
from leadbase.db.session import Database
from leadbase.kit.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed
from leadbase.kit.ids import new_id
from leadbase.kit.pagination import PageParams
from leadbase.lists import service as lists_service
from leadbase.lists.schemas import ListCreate
from tests.auth.helpers import member_ctx, scalar
from tests.factories import make_workspace
from tests.lists.helpers import statements

PARAMS = PageParams(page=1, per_page=25, cursor=None, count="auto")


def _create(name: str = "Colors", *codes: str) -> CodeListCreate:
    return CodeListCreate.model_validate({
        "name": name, "items": [{"code": c, "label": c.upper()} for c in codes or ("r", "g")]})


async def test_reads_for_other_domains(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    ctx = member_ctx(owner, request_id="req-cl")
    async with db.transaction(owner.tenant_id) as session:
        made = await service.create_code_list(session, ctx=ctx, body=_create("C", "a", "b", "c"))
        b = made["items"][1]
        await service.update_item(session, ctx=ctx, code_list_id=made["id"], item_id=b["id"],
                                  body=ItemUpdate(active=False), expected_version=1)
        got = await service.get_code_list(session, ctx=ctx, code_list_id=made["id"])
        by_number = await service.get_by_number(session, ctx=ctx, number=made["number"])
        codes = await service.active_item_codes(session, tenant_id=owner.tenant_id,
                                                code_list_id=made["id"])
        item = await service.get_item_by_number(session, ctx=ctx, number=b["number"])
    assert got["id"] == by_number["id"] == made["id"] and got["version"] == 2
    assert [i["code"] for i in got["items"]] == ["a", "b", "c"]
    assert codes == frozenset({"a", "c"}) and isinstance(codes, frozenset)
    assert item["id"] == b["id"] and item["active"] is False
    assert await scalar(db, owner.tenant_id, "SELECT count(*) FROM audit_entries WHERE "
                        "request_id = 'req-cl'") == 2


async def test_items_load_in_one_query_per_page(client: httpx.AsyncClient,
                                                db: Database) -> None:
    owner = await make_workspace(client)
    ctx = member_ctx(owner)
    async with db.transaction(owner.tenant_id) as session:
        for i in range(6):
            await service.create_code_list(session, ctx=ctx, body=_create(f"CL{i}", "x", "y"))
        with statements(db) as seen:
            rows, total = await service.list_code_lists(session, ctx=ctx, params=PARAMS)
    assert total == 6 and all(len(r["items"]) == 2 for r in rows)
    assert len([s for s in seen if "FROM code_list_items" in s]) == 1


async def test_schema_version_bump_in_the_same_transaction(client: httpx.AsyncClient,
                                                           db: Database) -> None:
    owner = await make_workspace(client)
    ctx = member_ctx(owner)
    async with db.transaction(owner.tenant_id) as session:
        made = await service.create_code_list(session, ctx=ctx, body=_create())
        user = await lists_service.create_list(session, ctx=ctx, body=ListCreate(name="Uses"))
        idle = await lists_service.create_list(session, ctx=ctx, body=ListCreate(name="Idle"))
        await session.execute(text(
            "INSERT INTO field_definitions (id, tenant_id, list_id, name, code, type, subtype, "
            "code_list_id) VALUES (:id, :t, :l, 'Color', 'color', 'SELECTOR', "
            "'SELECTOR_SINGLE', :c)"),
            {"id": new_id(), "t": owner.tenant_id, "l": user["id"], "c": made["id"]})

        async def versions() -> tuple[int, int]:
            rows = {r["id"]: r["schema_version"]
                    for r in (await lists_service.list_lists(session, ctx=ctx,
                                                             params=PARAMS))[0]}
            return rows[user["id"]], rows[idle["id"]]

        assert await versions() == (1, 1)
        item = await service.add_item(session, ctx=ctx, code_list_id=made["id"],
                                      body=ItemCreate(code="b", label="B"))
        assert await versions() == (2, 1)
        await service.update_item(session, ctx=ctx, code_list_id=made["id"], item_id=item["id"],
                                  body=ItemUpdate(label="Blue"), expected_version=1)
        assert await versions() == (3, 1)
        kept = await service.delete_item(session, ctx=ctx, code_list_id=made["id"],
                                         item_id=item["id"], expected_version=2)
        assert kept is not None and kept["active"] is False
        assert await versions() == (4, 1)
        await service.update_item(session, ctx=ctx, code_list_id=made["id"], item_id=item["id"],
                                  body=ItemUpdate(active=True), expected_version=None)
        assert await versions() == (5, 1)
        with pytest.raises(Conflict) as fixed:
            await service.update_item(session, ctx=ctx, code_list_id=made["id"],
                                      item_id=item["id"], body=ItemUpdate(code="navy"),
                                      expected_version=None)
        assert fixed.value.code == "ITEM_CODE_IN_USE"
        with pytest.raises(Conflict) as used:
            await service.delete_code_list(session, ctx=ctx, code_list_id=made["id"],
                                           expected_version=None)
        assert used.value.code == "CODE_LIST_IN_USE"
        assert (await service.get_code_list(session, ctx=ctx,
                                             code_list_id=made["id"]))["version"] == 5


async def test_rules(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    ctx = member_ctx(owner)
    async with db.transaction(owner.tenant_id) as session:
        with pytest.raises(ValidationFailed) as dup:
            await service.create_code_list(session, ctx=ctx, body=_create("D", "a", "a"))
        assert dup.value.code == "DUPLICATE_ITEM_CODE"
        made = await service.create_code_list(session, ctx=ctx, body=_create("C"))
        with pytest.raises(Conflict) as name:
            await service.create_code_list(session, ctx=ctx, body=_create("c"))
        assert name.value.code == "CODE_LIST_NAME_TAKEN"
        with pytest.raises(Conflict) as taken:
            await service.add_item(session, ctx=ctx, code_list_id=made["id"],
                                   body=ItemCreate(code="r", label="R"))
        assert taken.value.code == "ITEM_CODE_TAKEN"
        with pytest.raises(PreconditionFailed):
            await service.update_code_list(session, ctx=ctx, code_list_id=made["id"],
                                           body=CodeListUpdate(name="N"), expected_version=7)
        with pytest.raises(ValidationFailed) as empty:
            await service.update_item(session, ctx=ctx, code_list_id=made["id"],
                                      item_id=made["items"][0]["id"], body=ItemUpdate(),
                                      expected_version=None)
        assert empty.value.code == "EMPTY_UPDATE"
        assert await service.delete_item(session, ctx=ctx, code_list_id=made["id"],
                                         item_id=made["items"][0]["id"],
                                         expected_version=None) is None
        with pytest.raises(NotFound) as missing:
            await service.get_item(session, ctx=ctx, code_list_id=made["id"],
                                   item_id=made["items"][0]["id"])
        assert missing.value.code == "ITEM_NOT_FOUND"
        await service.delete_code_list(session, ctx=ctx, code_list_id=made["id"],
                                       expected_version=None)
        for call in (service.get_code_list(session, ctx=ctx, code_list_id=made["id"]),
                     service.get_by_number(session, ctx=ctx, number=made["number"]),
                     service.get_item_by_number(session, ctx=ctx,
                                                number=made["items"][1]["number"]),
                     service.get_code_list(session, ctx=ctx, code_list_id=uuid.uuid4())):
            with pytest.raises(NotFound):
                await call


async def test_row_level_security_backs_up_scoping(client: httpx.AsyncClient,
                                                   db: Database) -> None:
    a = await make_workspace(client)
    b = await make_workspace(client)
    async with db.transaction(b.tenant_id) as session:
        theirs = await service.create_code_list(session, ctx=member_ctx(b), body=_create())
    ctx_b = member_ctx(b)
    async with db.transaction(a.tenant_id) as session:
        with pytest.raises(NotFound):
            await service.get_code_list(session, ctx=ctx_b, code_list_id=theirs["id"])
        assert await service.list_code_lists(session, ctx=ctx_b, params=PARAMS) == ([], 0)
        assert await service.active_item_codes(session, tenant_id=b.tenant_id,
                                               code_list_id=theirs["id"]) == frozenset()
        with pytest.raises(NotFound):
            await service.add_item(session, ctx=ctx_b, code_list_id=theirs["id"],
                                   body=ItemCreate(code="x", label="X"))
    assert await scalar(db, b.tenant_id, "SELECT count(*) FROM code_list_items WHERE "
                        "code_list_id = :c", c=theirs["id"]) == 2
