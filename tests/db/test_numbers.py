"""``number`` counts per workspace: one workspace's activity never shows in another's."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import text

from leadbase.config import Settings
from leadbase.db.session import Database
from tests.factories import add_member, make_lead, make_workspace
from tests.imports.conftest import import_file, leads


async def test_lead_numbers_start_at_one_in_each_workspace(client: httpx.AsyncClient) -> None:
    a = await make_workspace(client)
    b = await make_workspace(client)
    assert [(await make_lead(client, a))["number"] for _ in range(3)] == [1, 2, 3]
    # b's numbers do not jump by what a created.
    assert (await make_lead(client, b))["number"] == 1
    assert (await make_lead(client, a))["number"] == 4


async def test_imported_leads_continue_the_workspace_numbers(
        client: httpx.AsyncClient, db: Database, settings: Settings) -> None:
    a = await make_workspace(client)
    other = await make_workspace(client)
    await make_lead(client, a)
    await make_lead(client, other)
    csv = "first_name,email\n" + "".join(f"N{i},n{i}@example.com\n" for i in range(5))
    job = await import_file(client, a, db, settings, csv.encode())
    assert job["created"] == 5, job
    assert [r["number"] for r in await leads(client, a)] == [1, 2, 3, 4, 5, 6]
    # In file order, and the next lead goes on from there.
    assert [r["first_name"] for r in await leads(client, a)][1:] == [f"N{i}" for i in range(5)]
    assert (await make_lead(client, a))["number"] == 7
    assert (await make_lead(client, other))["number"] == 2


async def test_users_lists_and_keys_count_per_workspace(client: httpx.AsyncClient,
                                                        db: Database) -> None:
    a = await make_workspace(client)
    await add_member(client, a, "agent")
    b = await make_workspace(client)
    member = await add_member(client, b, "agent")
    resp = await client.get(f"/api/v1/users/{member.user_id}", headers=b.headers)
    assert resp.json()["number"] == 2  # the owner is 1
    key = await client.post("/api/v1/api-keys", headers=b.headers, json={"name": "k"})
    assert key.json()["number"] == 1
    async with db.transaction(b.tenant_id) as session:
        lists = (await session.execute(text("SELECT number FROM lead_lists"))).scalars().all()
    assert list(lists) == [1]


async def test_concurrent_creates_take_distinct_numbers(client: httpx.AsyncClient) -> None:
    a = await make_workspace(client)
    made = await asyncio.gather(*(make_lead(client, a) for _ in range(8)))
    assert sorted(m["number"] for m in made) == list(range(1, 9))


async def test_a_workspace_sequence_at_service_level(client: httpx.AsyncClient,
                                                    db: Database) -> None:
    a = await make_workspace(client)
    await make_lead(client, a)
    async with db.transaction(a.tenant_id) as session:
        taken = (await session.execute(text(
            "SELECT nextval(lb_number_seq(:t, 'leads')) FROM generate_series(1, 100)"),
            {"t": a.tenant_id})).scalars().all()
    assert list(taken) == list(range(2, 102))
    assert (await make_lead(client, a))["number"] == 102


async def test_an_open_transaction_does_not_hold_up_another(client: httpx.AsyncClient,
                                                            db: Database) -> None:
    """Numbers never wait: a transaction that inserted into a workspace and is still open
    does not block another writer of the same workspace and table."""
    a = await make_workspace(client)
    async with db.transaction(a.tenant_id) as session:
        await session.execute(text(
            "INSERT INTO leads (id, tenant_id, list_id, first_name) SELECT gen_random_uuid(), "
            "tenant_id, id, 'open' FROM lead_lists WHERE is_default"))
        made = await asyncio.wait_for(make_lead(client, a), timeout=20)
    assert made["number"] == 2
