"""Row-level security: a query that forgets its tenant filter still sees one workspace."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from leadbase.db.session import Database
from tests.factories import make_lead, make_workspace


async def test_unfiltered_query_sees_only_the_current_tenant(client: httpx.AsyncClient,
                                                             db: Database) -> None:
    a = await make_workspace(client)
    b = await make_workspace(client)
    for _ in range(3):
        await make_lead(client, a)
    await make_lead(client, b)
    async with db.transaction(a.tenant_id) as session:
        tenants = (await session.execute(text("SELECT DISTINCT tenant_id FROM leads"))).scalars()
        assert list(tenants) == [a.tenant_id]
        assert (await session.execute(text("SELECT count(*) FROM leads"))).scalar() == 3
        users = (await session.execute(text("SELECT DISTINCT tenant_id FROM users"))).scalars()
        assert list(users) == [a.tenant_id]
        assert (await session.execute(text("SELECT count(*) FROM tenants"))).scalar() == 1
    async with db.transaction(b.tenant_id) as session:
        assert (await session.execute(text("SELECT count(*) FROM leads"))).scalar() == 1


async def test_queries_run_as_an_unprivileged_role(db: Database) -> None:
    async with db.transaction(uuid.uuid4()) as session:
        row = (await session.execute(text(
            "SELECT current_user, r.rolsuper, r.rolbypassrls FROM pg_roles r "
            "WHERE r.rolname = current_user"))).one()
    assert row == ("leadbase_app", False, False)


async def test_no_tenant_means_no_rows(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    await make_lead(client, owner)
    async with db.transaction(None) as session:
        for table in ("leads", "users", "tenants", "audit_entries", "events", "lead_lists"):
            count = (await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar()
            assert count == 0, table


async def test_system_scope_does_not_open_tenant_data(client: httpx.AsyncClient,
                                                      db: Database) -> None:
    owner = await make_workspace(client)
    await make_lead(client, owner)
    async with db.transaction(None, system=True) as session:
        assert (await session.execute(text("SELECT count(*) FROM leads"))).scalar() == 0
        assert (await session.execute(text("SELECT count(*) FROM audit_entries"))).scalar() == 0
        # ... while sign-in needs, and gets, the users table.
        assert (await session.execute(text("SELECT count(*) FROM users"))).scalar() >= 1


async def test_writes_into_another_tenant_are_refused(client: httpx.AsyncClient,
                                                      db: Database) -> None:
    a = await make_workspace(client)
    b = await make_workspace(client)
    lead = await make_lead(client, b)
    with pytest.raises(DBAPIError, match="row-level security"):
        async with db.transaction(a.tenant_id) as session:
            await session.execute(text(
                "INSERT INTO leads (id, tenant_id, list_id, first_name) "
                "VALUES (:id, :t, :l, 'x')"),
                {"id": uuid.uuid4(), "t": b.tenant_id, "l": lead["list_id"]})
    async with db.transaction(a.tenant_id) as session:
        result = await session.execute(text(
            "UPDATE leads SET first_name = 'hijacked' WHERE id = :id"), {"id": lead["id"]})
        assert result.rowcount == 0  # type: ignore[attr-defined]
        result = await session.execute(text("DELETE FROM leads WHERE id = :id"),
                                       {"id": lead["id"]})
        assert result.rowcount == 0  # type: ignore[attr-defined]
    resp = await client.get(f"/api/v1/leads/{lead['id']}", headers=b.headers)
    assert resp.json()["first_name"] == lead["first_name"]


async def test_every_tenant_table_forces_rls(db: Database) -> None:
    async with db.transaction(None, system=True) as session:
        rows = (await session.execute(text(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' "
            "WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace"))).all()
    assert {r[0] for r in rows} >= {"leads", "users", "api_keys", "audit_entries", "events",
                                    "idempotency_keys", "lead_lists", "refresh_tokens"}
    assert all(r[1] and r[2] for r in rows), rows
