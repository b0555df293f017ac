"""Indexed custom fields: the worker builds an expression index per field, list queries
sort and range-filter along it, and sorting keeps NULLS LAST in both directions."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from leadbase.auth.context import system_context
from leadbase.config import Settings
from leadbase.db.session import Database
from leadbase.events import service as events_service
from leadbase.fields import indexes
from leadbase.kit.sorting import parse_sort
from leadbase.leads import field_filters, listing, repository
from leadbase.leads.filters import LeadFilter
from leadbase.worker.app import build_app
from leadbase.worker.runtime import Runtime, set_runtime
from tests.factories import Member, make_workspace, walk_leads
from tests.fields.test_fields_api import field, post_lead

AGES = [30, None, 18, 45, 30, None, 18, 60, 30, 45]


async def _leads(client: httpx.AsyncClient, owner: Member) -> list[dict[str, Any]]:
    out = []
    for i, age in enumerate(AGES):
        values = {"Ciudad": f"C{i % 3}", **({"Edad": age} if age is not None else {})}
        resp = await post_lead(client, owner, values)
        assert resp.status_code == 201, resp.text
        out.append(resp.json())
    return out


def _expected(leads: list[dict[str, Any]], descending: bool) -> list[str]:
    valued = [x for x in leads if x["fields"].get("Edad") is not None]
    empty = [x for x in leads if x["fields"].get("Edad") is None]
    valued.sort(key=lambda x: (x["fields"]["Edad"], x["id"]), reverse=descending)
    empty.sort(key=lambda x: x["id"], reverse=descending)
    return [x["id"] for x in valued + empty]


async def _walk(client: httpx.AsyncClient, owner: Member, query: str) -> list[str]:
    return await walk_leads(client, owner, query, per_page=3, pages=20)


async def _pages(client: httpx.AsyncClient, owner: Member, query: str) -> list[str]:
    ids: list[str] = []
    for page in range(1, 6):
        body = (await client.get(f"/api/v1/leads?{query}&per_page=3&page={page}",
                                 headers=owner.headers)).json()
        ids += [r["id"] for r in body["data"]]
    return ids


async def _sorts_agree(client: httpx.AsyncClient, owner: Member,
                       leads: list[dict[str, Any]]) -> None:
    list_id = leads[0]["list_id"]
    for descending in (False, True):
        expected = _expected(leads, descending)
        query = f"list_id={list_id}&sort={'-' if descending else ''}fields.Edad"
        assert await _walk(client, owner, query) == expected, query
        assert await _pages(client, owner, query) == expected, query
    # A second sort column after the custom field: newest first among equal ages.
    created = {x["id"]: k for k, x in enumerate(leads)}
    expected = [x["id"] for x in sorted(leads, key=lambda x: (
        x["fields"].get("Edad") is None, x["fields"].get("Edad") or 0, -created[x["id"]]))]
    assert await _walk(client, owner, f"list_id={list_id}&sort=fields.Edad,-created_at") \
        == expected


async def _index_names(db: Database, tenant_id: uuid.UUID) -> list[str]:
    async with db.transaction(tenant_id) as session:
        rows = (await session.execute(text(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'leads' "
            "AND indexname LIKE 'ix\\_leads\\_l%' ORDER BY 1"))).all()
    return [r[0] for r in rows]


async def test_sorting_by_a_custom_field_before_and_after_indexing(
        client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    edad = await field(client, owner, name="Edad", type="INT")
    await field(client, owner, name="Ciudad", type="STRING")
    leads = await _leads(client, owner)
    await _sorts_agree(client, owner, leads)
    resp = await client.patch(f"/api/v1/fields/{edad['id']}", headers=owner.headers,
                              json={"indexed": True})
    assert resp.status_code == 200 and resp.json()["indexed"] is True
    list_id = uuid.UUID(leads[0]["list_id"])
    done = await indexes.sync_list(db, tenant_id=owner.tenant_id, list_id=list_id)
    assert len(done) == 1 and done[0].startswith("+ix_leads_l")
    assert await indexes.sync_list(db, tenant_id=owner.tenant_id, list_id=list_id) == []
    await _sorts_agree(client, owner, leads)
    got = (await client.get(f"/api/v1/leads?list_id={list_id}&fields.Edad_gte=30"
                            f"&fields.Edad_lte=45&sort=-fields.Edad", headers=owner.headers))
    assert [r["fields"]["Edad"] for r in got.json()["data"]] == [45, 45, 30, 30, 30]


async def test_list_queries_use_the_index(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    edad = await field(client, owner, name="Edad", type="INT", indexed=True)
    await field(client, owner, name="Alta", type="DATE", indexed=True)
    await post_lead(client, owner, {"Edad": 40, "Alta": "2026-01-02"})
    list_id = uuid.UUID(edad["list_id"])
    await indexes.sync_list(db, tenant_id=owner.tenant_id, list_id=list_id)
    number = await _list_number(db, owner.tenant_id, list_id)
    mine = [n for n in await _index_names(db, owner.tenant_id)
            if n.startswith(indexes.prefix(number))]
    assert len(mine) == 2
    types = {"edad": {"code": "Edad", "type": "INT"}, "alta": {"code": "Alta", "type": "DATE"}}
    for sort, filters in (("fields.Edad", []), ("-fields.Edad", [("Edad", "gte", "18")]),
                          ("fields.Alta", [("Alta", "lte", "2026-12-31")])):
        code = sort.lstrip("-")
        sortable = {code: field_filters.sort_column(types[code[7:].lower()])}
        _, columns = parse_sort(sort, sortable, default="-created_at",
                                tiebreak=("id", repository.ID_COLUMN))
        leads = repository.LeadSet(
            scope=repository.readable(system_context(owner.tenant_id)),
            f=LeadFilter(list_id=str(list_id)), extra=tuple(field_filters.conditions(
                filters, {k: {**v, "name": v["code"], "subtype": None, "code_list_id": None}
                          for k, v in types.items()}, "AR")))
        query = listing.list_query(leads, columns, None, 0, 26)
        sql = str(query.compile(dialect=postgresql.dialect(),
                                compile_kwargs={"literal_binds": True}))
        async with db.transaction(owner.tenant_id) as session:
            # Whether the index can serve the query (the planner would rather sort a
            # table this small): as the application role, under row-level security.
            for setting in ("enable_seqscan", "enable_sort", "enable_bitmapscan"):
                await session.execute(text(f"SET LOCAL {setting} = off"))
            plan = "\n".join(r[0] for r in (await session.execute(
                text("EXPLAIN " + sql.replace(":", "\\:")))).all())
        index = next(n for n in mine if f"_f{edad['number']}_" in n) \
            if "Edad" in sort else next(n for n in mine if f"_f{edad['number']}_" not in n)
        assert index in plan, plan
        # The outer query orders the two parts' few rows; the parts themselves walk the index.
        assert "Sort" not in plan.split("Append", 1)[1], plan
        if filters:
            assert "Index Cond" in plan and ("'18'" in plan or "'2026-12-31'" in plan), plan


async def _list_number(db: Database, tenant_id: uuid.UUID, list_id: uuid.UUID) -> int:
    async with db.transaction(tenant_id) as session:
        return int((await session.execute(text("SELECT number FROM lead_lists WHERE id = :i"),
                                          {"i": list_id})).scalar_one())


async def test_indexes_follow_the_fields(client: httpx.AsyncClient, db: Database,
                                         settings: Settings, libpq: str) -> None:
    owner = await make_workspace(client)
    bad = await client.post("/api/v1/fields", headers=owner.headers,
                            json={"name": "Notas", "type": "TEXT", "indexed": True})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "indexed"
    edad = await field(client, owner, name="Edad", type="INT", indexed=True)
    list_id = uuid.UUID(edad["list_id"])
    number = await _list_number(db, owner.tenant_id, list_id)

    async def mine() -> list[str]:
        return [n for n in await _index_names(db, owner.tenant_id)
                if n.startswith(indexes.prefix(number))]

    # The outbox event queues the worker job, which builds the index.
    set_runtime(Runtime(settings=settings, db=db))
    app = build_app(libpq)
    assert "leadbase:sync_field_indexes" in app.tasks

    async def work() -> None:
        await events_service.drain(db)
        async with app.open_async():
            await app.run_worker_async(queues=["indexes"], wait=False,
                                       install_signal_handlers=False,
                                       delete_jobs="successful")

    await work()
    assert len(await mine()) == 1
    await client.patch(f"/api/v1/fields/{edad['id']}", headers=owner.headers,
                       json={"indexed": False})
    await work()
    assert await mine() == []
    await client.patch(f"/api/v1/fields/{edad['id']}", headers=owner.headers,
                       json={"indexed": True})
    await post_lead(client, owner, {"Edad": 3})
    await work()
    assert len(await mine()) == 1
    deleted = await client.delete(f"/api/v1/fields/{edad['id']}", headers=owner.headers)
    assert deleted.json()["result"] == "deactivated"
    await work()
    assert await mine() == []
