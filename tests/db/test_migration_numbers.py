"""Migration 0015 renumbers the rows present per workspace, in their old order."""

from __future__ import annotations

import uuid

import psycopg

from leadbase.db.migrate import migrate_to
from tests.conftest import new_database


def _numbers(conn: psycopg.Connection, tenant: uuid.UUID) -> list[tuple[str, int]]:
    return [(r[0], r[1]) for r in conn.execute(
        "SELECT name, number FROM lead_lists WHERE tenant_id = %s ORDER BY number",
        (tenant,)).fetchall()]


def test_rows_are_renumbered_per_workspace_and_back() -> None:
    with new_database("leadbase_mig") as url:
        migrate_to(url, "0014")
        a, b = uuid.uuid4(), uuid.uuid4()
        with psycopg.connect(url, autocommit=True) as conn:  # the owner, beside RLS
            for t in (a, b):
                conn.execute("INSERT INTO tenants (id, name, slug) VALUES (%s, 'w', %s)",
                             (t, str(t)))
            for t, name in ((a, "a1"), (b, "b1"), (a, "a2"), (b, "b2"), (a, "a3")):
                conn.execute("INSERT INTO lead_lists (id, tenant_id, name) VALUES (%s, %s, %s)",
                             (uuid.uuid4(), t, name))
            assert [n for _, n in _numbers(conn, b)] == [2, 4]
        migrate_to(url, "0015")
        with psycopg.connect(url, autocommit=True) as conn:
            assert _numbers(conn, a) == [("a1", 1), ("a2", 2), ("a3", 3)]
            assert _numbers(conn, b) == [("b1", 1), ("b2", 2)]
            conn.execute("INSERT INTO lead_lists (id, tenant_id, name) VALUES (%s, %s, 'b3')",
                         (uuid.uuid4(), b))
            assert _numbers(conn, b)[-1] == ("b3", 3)
            c = uuid.uuid4()  # a new workspace starts at 1
            conn.execute("INSERT INTO tenants (id, name, slug) VALUES (%s, 'w', %s)", (c, str(c)))
            conn.execute("INSERT INTO lead_lists (id, tenant_id, name) VALUES (%s, %s, 'c1')",
                         (uuid.uuid4(), c))
            assert _numbers(conn, c) == [("c1", 1)]
        migrate_to(url, "0014", down=True)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("INSERT INTO lead_lists (id, tenant_id, name) VALUES (%s, %s, 'a4')",
                         (uuid.uuid4(), a))
            numbers = [n for _, n in _numbers(conn, a)] + [n for _, n in _numbers(conn, b)]
            assert len(set(numbers)) == len(numbers)  # one sequence again
