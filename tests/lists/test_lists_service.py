"""leadbase.lists.service called directly with a scoped session and a Context."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from leadbase.db.session import Database
from leadbase.kit.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed
from leadbase.kit.pagination import PageParams
from leadbase.leads import service as leads_service
from leadbase.leads.schemas import LeadCreate
from leadbase.lists import service
from leadbase.lists.schemas import ListCreate, ListUpdate
from tests.auth.helpers import member_ctx, scalar
from tests.factories import make_workspace
from tests.lists.helpers import statements

PARAMS = PageParams(page=1, per_page=25, cursor=None, count="auto")


async def test_create_get_and_audit(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    ctx = member_ctx(owner, request_id="req-lists-1")
    async with db.transaction(owner.tenant_id) as session:
        made = await service.create_list(session, ctx=ctx, body=ListCreate(name="Svc"))
        by_id = await service.get_list(session, ctx=ctx, list_id=made["id"])
        by_number = await service.get_by_number(session, ctx=ctx, number=made["number"])
        rows, total = await service.list_lists(session, ctx=ctx, params=PARAMS)
    assert by_id["id"] == by_number["id"] == made["id"] and by_id["lead_count"] == 0
    assert total == 2 and {r["name"] for r in rows} == {"Leads", "Svc"}
    assert await scalar(db, owner.tenant_id, "SELECT request_id FROM audit_entries WHERE "
                        "entity_id = :e AND action = 'list.created'",
                        e=made["id"]) == "req-lists-1"


async def test_lead_counts_take_one_grouped_query(client: httpx.AsyncClient,
                                                  db: Database) -> None:
    owner = await make_workspace(client)
    ctx = member_ctx(owner)
    async with db.transaction(owner.tenant_id) as session:
        made = [await service.create_list(session, ctx=ctx, body=ListCreate(name=f"L{i}"))
                for i in range(8)]
        for lst in made[:3]:
            await leads_service.create_lead(session, ctx=ctx,
                                            body=LeadCreate(first_name="A", list_id=lst["id"]))
        with statements(db) as seen:
            rows, total = await service.list_lists(session, ctx=ctx, params=PARAMS)
    assert total == 9 and sum(r["lead_count"] for r in rows) == 3
    on_leads = [s for s in seen if "FROM leads" in s]
    assert len(on_leads) == 1 and "GROUP BY" in on_leads[0]


async def test_numbers_of_deleted_and_foreign_lists(client: httpx.AsyncClient,
                                                    db: Database) -> None:
    a = await make_workspace(client)
    b = await make_workspace(client)
    async with db.transaction(b.tenant_id) as session:
        theirs = await service.create_list(session, ctx=member_ctx(b), body=ListCreate(name="B"))
    ctx = member_ctx(a)
    async with db.transaction(a.tenant_id) as session:
        mine = await service.create_list(session, ctx=ctx, body=ListCreate(name="A"))
        await service.delete_list(session, ctx=ctx, list_id=mine["id"], expected_version=1)
        for number in (mine["number"], theirs["number"]):
            with pytest.raises(NotFound) as exc:
                await service.get_by_number(session, ctx=ctx, number=number)
            assert exc.value.code == "LIST_NOT_FOUND"
        with pytest.raises(NotFound):
            await service.get_list(session, ctx=ctx, list_id=theirs["id"])
        with pytest.raises(ValidationFailed) as resolved:
            await service.resolve(session, tenant_id=a.tenant_id, list_id=mine["id"])
        assert resolved.value.code == "LIST_NOT_FOUND"


async def test_row_level_security_backs_up_scoping(client: httpx.AsyncClient,
                                                   db: Database) -> None:
    """A context naming workspace B in a transaction scoped to A (a scoping bug) still
    cannot see or change B's lists."""
    a = await make_workspace(client)
    b = await make_workspace(client)
    async with db.transaction(b.tenant_id) as session:
        theirs = await service.create_list(session, ctx=member_ctx(b), body=ListCreate(name="B"))
    ctx_b = member_ctx(b)
    async with db.transaction(a.tenant_id) as session:
        with pytest.raises(NotFound):
            await service.get_list(session, ctx=ctx_b, list_id=theirs["id"])
        assert await service.list_lists(session, ctx=ctx_b, params=PARAMS) == ([], 0)
        with pytest.raises(NotFound):
            await service.update_list(session, ctx=ctx_b, list_id=theirs["id"],
                                      body=ListUpdate(name="Pwned"), expected_version=None)
    assert await scalar(db, b.tenant_id, "SELECT name FROM lead_lists WHERE id = :l",
                        l=theirs["id"]) == "B"


async def test_update_rules(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    ctx = member_ctx(owner)
    async with db.transaction(owner.tenant_id) as session:
        made = await service.create_list(session, ctx=ctx, body=ListCreate(name="One"))
        await service.create_list(session, ctx=ctx, body=ListCreate(name="Two"))
        with pytest.raises(Conflict) as taken:
            await service.update_list(session, ctx=ctx, list_id=made["id"],
                                      body=ListUpdate(name="two"), expected_version=None)
        assert taken.value.code == "LIST_NAME_TAKEN"
        with pytest.raises(PreconditionFailed):
            await service.update_list(session, ctx=ctx, list_id=made["id"],
                                      body=ListUpdate(description="x"), expected_version=9)
        with pytest.raises(ValidationFailed) as empty:
            await service.update_list(session, ctx=ctx, list_id=made["id"], body=ListUpdate(),
                                      expected_version=None)
        assert empty.value.code == "EMPTY_UPDATE"
        done = await service.update_list(session, ctx=ctx, list_id=made["id"],
                                         body=ListUpdate(name="Uno", description="first"),
                                         expected_version=1)
    assert done["name"] == "Uno" and done["version"] == 2 and done["lead_count"] == 0
    assert await scalar(db, owner.tenant_id, "SELECT changes FROM audit_entries WHERE "
                        "entity_id = :e AND action = 'list.updated'",
                        e=made["id"]) == {"fields": ["description", "name"]}


async def test_concurrent_creates_of_one_name_leave_one(client: httpx.AsyncClient,
                                                        db: Database) -> None:
    owner = await make_workspace(client)

    async def second() -> None:
        async with db.transaction(owner.tenant_id) as s2:
            await service.create_list(s2, ctx=member_ctx(owner), body=ListCreate(name="race"))

    async with db.transaction(owner.tenant_id) as s1:
        await service.create_list(s1, ctx=member_ctx(owner), body=ListCreate(name="Race"))
        task = asyncio.create_task(second())
        await asyncio.sleep(0.3)
        assert not task.done(), "the second create must wait for the first to commit"
    with pytest.raises(Conflict) as exc:
        await task
    assert exc.value.code == "LIST_NAME_TAKEN"


async def test_concurrent_default_switches_leave_one_default(client: httpx.AsyncClient,
                                                             db: Database) -> None:
    owner = await make_workspace(client)
    ctx = member_ctx(owner)
    async with db.transaction(owner.tenant_id) as session:
        b = await service.create_list(session, ctx=ctx, body=ListCreate(name="B"))
        c = await service.create_list(session, ctx=ctx, body=ListCreate(name="C"))

    async def to_c() -> None:
        async with db.transaction(owner.tenant_id) as s2:
            await service.update_list(s2, ctx=ctx, list_id=c["id"],
                                      body=ListUpdate(is_default=True), expected_version=None)

    async with db.transaction(owner.tenant_id) as s1:
        await service.update_list(s1, ctx=ctx, list_id=b["id"], body=ListUpdate(is_default=True),
                                  expected_version=None)
        task = asyncio.create_task(to_c())
        await asyncio.sleep(0.3)
        assert not task.done()
    await task
    assert await scalar(db, owner.tenant_id, "SELECT array_agg(name) FROM lead_lists WHERE "
                        "is_default AND deleted_at IS NULL") == ["C"]


async def test_delete_waits_for_a_lead_being_added(client: httpx.AsyncClient,
                                                   db: Database) -> None:
    """A lead written into a list while it is being deleted: the delete waits for it, then
    refuses."""
    owner = await make_workspace(client)
    ctx = member_ctx(owner)
    async with db.transaction(owner.tenant_id) as session:
        target = await service.create_list(session, ctx=ctx, body=ListCreate(name="Busy"))

    async def delete() -> None:
        async with db.transaction(owner.tenant_id) as s2:
            await service.delete_list(s2, ctx=ctx, list_id=target["id"], expected_version=None)

    async with db.transaction(owner.tenant_id) as s1:
        await service.resolve(s1, tenant_id=owner.tenant_id, list_id=target["id"])
        task = asyncio.create_task(delete())
        await asyncio.sleep(0.3)
        assert not task.done(), "the delete must wait for the lead's transaction"
        await leads_service.create_lead(s1, ctx=ctx, body=LeadCreate(first_name="Late",
                                                                     list_id=target["id"]))
    with pytest.raises(Conflict) as exc:
        await task
    assert exc.value.code == "LIST_NOT_EMPTY"


async def test_resolve_keeps_its_contract(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    async with db.transaction(owner.tenant_id) as session:
        default = await service.resolve(session, tenant_id=owner.tenant_id, list_id=None)
        assert await service.resolve(session, tenant_id=owner.tenant_id,
                                     list_id=default) == default
        with pytest.raises(ValidationFailed) as exc:
            await service.resolve(session, tenant_id=owner.tenant_id, list_id=uuid.uuid4())
    assert exc.value.code == "LIST_NOT_FOUND"
