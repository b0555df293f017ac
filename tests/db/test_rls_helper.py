"""leadbase.db.rls: a table created by a migration with ``rls.protect`` is held by
row-level security for the application role."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, pool, text
from sqlalchemy.exc import DBAPIError

from leadbase.db import rls
from leadbase.db.session import Database
from leadbase.db.urls import sqlalchemy_url


@pytest.fixture
def protected(libpq: str) -> Iterator[str]:
    """A new table, created and protected the way a migration does (as the owner)."""
    table = f"rls_probe_{secrets.token_hex(4)}"
    engine = create_engine(sqlalchemy_url(libpq), poolclass=pool.NullPool)
    with engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
        conn.execute(text(f"CREATE TABLE {table} (id uuid PRIMARY KEY, "
                          "tenant_id uuid NOT NULL, number bigint NOT NULL, note text)"))
        rls.protect(table)
    yield table
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute(f"DROP TABLE {table}")
    engine.dispose()


async def test_protect_enforces_rls_for_the_app_role(libpq: str, db: Database,
                                                     protected: str) -> None:
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(libpq, autocommit=True) as conn:  # the owner, beside RLS
        for tenant in (mine, theirs, theirs):
            conn.execute(f"INSERT INTO {protected} (id, tenant_id, note) "
                         "VALUES (%s, %s, 'seed')", (uuid.uuid4(), tenant))
        flags = conn.execute("SELECT relrowsecurity, relforcerowsecurity FROM pg_class "
                             "WHERE relname = %s", (protected,)).fetchone()
        policies = conn.execute("SELECT policyname FROM pg_policies WHERE tablename = %s",
                                (protected,)).fetchall()
    assert flags == (True, True)
    assert policies == [("tenant_isolation",)]
    async with db.transaction(mine) as session:
        rows = (await session.execute(text(f"SELECT tenant_id FROM {protected}"))).scalars()
        assert list(rows) == [mine]
        await session.execute(text(f"INSERT INTO {protected} (id, tenant_id, note) "
                                   "VALUES (:i, :t, 'new')"), {"i": uuid.uuid4(), "t": mine})
        hijack = await session.execute(text(f"UPDATE {protected} SET note = 'x' "
                                            "WHERE tenant_id = :t"), {"t": theirs})
        assert hijack.rowcount == 0  # type: ignore[attr-defined]
    with pytest.raises(DBAPIError, match="row-level security"):
        async with db.transaction(mine) as session:
            await session.execute(text(f"INSERT INTO {protected} (id, tenant_id, note) "
                                       "VALUES (:i, :t, 'x')"), {"i": uuid.uuid4(), "t": theirs})
    async with db.transaction(None) as session:
        assert (await session.execute(text(f"SELECT count(*) FROM {protected}"))).scalar() == 0
    async with db.transaction(None, system=True) as session:  # tenant data: no system scope
        assert (await session.execute(text(f"SELECT count(*) FROM {protected}"))).scalar() == 0


async def test_protect_numbers_rows_per_workspace(libpq: str, db: Database,
                                                  protected: str) -> None:
    """A protected table numbers each workspace's rows from 1 (an insert giving no number)."""
    first, second = uuid.uuid4(), uuid.uuid4()
    for tenant, rows in ((first, 3), (second, 2)):
        async with db.transaction(tenant) as session:
            for _ in range(rows):
                await session.execute(text(f"INSERT INTO {protected} (id, tenant_id) "
                                           "VALUES (:i, :t)"), {"i": uuid.uuid4(), "t": tenant})
    for tenant, expected in ((first, [1, 2, 3]), (second, [1, 2])):
        async with db.transaction(tenant) as session:
            numbers = (await session.execute(text(
                f"SELECT number FROM {protected} ORDER BY number"))).scalars()
            assert list(numbers) == expected
    with pytest.raises(DBAPIError, match="uq_"):
        async with db.transaction(first) as session:  # numbers stay unique per workspace
            await session.execute(text(f"INSERT INTO {protected} (id, tenant_id, number) "
                                       "VALUES (:i, :t, 1)"), {"i": uuid.uuid4(), "t": first})


def test_statements() -> None:
    assert rls.statements("deals", numbered=False)[-1] == (
        "CREATE POLICY tenant_isolation ON deals USING (tenant_id = (SELECT lb_current_tenant())) "
        "WITH CHECK (tenant_id = (SELECT lb_current_tenant()))")
    assert "OR (SELECT lb_system_scope())" in rls.statements(
        "sessions", system_scope=True, numbered=False)[-1]
    assert "EXECUTE FUNCTION lb_assign_number()" in rls.statements("deals")[-3]
    for bad in ("deals; DROP TABLE leads", "Deals", "public.deals", ""):
        with pytest.raises(ValueError):
            rls.statements(bad)
