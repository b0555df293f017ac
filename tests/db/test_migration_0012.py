"""Migration 0012 (sections belong to the workspace), up and down over rows of 0011."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from leadbase.db.migrate import migrate_to
from tests.conftest import new_database


@pytest.fixture
def at_0011() -> Iterator[str]:
    with new_database("leadbase_mig") as url:
        migrate_to(url, "0011")
        yield url


def test_up_and_down(at_0011: str) -> None:
    t = uuid.uuid4()
    default, other, gone = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    shared, of_gone, empty = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    f_default, f_other = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(at_0011, autocommit=True) as conn:
        conn.execute("INSERT INTO tenants (id, name, slug) VALUES (%s, 'T', %s)",
                     (t, f"t-{t.hex[:8]}"))
        conn.execute("INSERT INTO lead_lists (id, tenant_id, name, is_default, deleted_at) "
                     "VALUES (%s, %s, 'Default', true, NULL), (%s, %s, 'Other', false, NULL),"
                     " (%s, %s, 'Gone', false, now())", (default, t, other, t, gone, t))
        conn.execute("INSERT INTO field_sections (id, tenant_id, list_id, name, position) "
                     "VALUES (%s, %s, %s, 'Shared', 0), (%s, %s, %s, 'Of gone', 0), "
                     "(%s, %s, %s, 'Empty', 1)",
                     (shared, t, other, of_gone, t, gone, empty, t, other))
        conn.execute("INSERT INTO field_definitions (id, tenant_id, list_id, section_id, name, "
                     "code, type) VALUES (%s, %s, %s, %s, 'A', 'a', 'INT')",
                     (f_default, t, default, shared))
    migrate_to(at_0011, "0012")
    with psycopg.connect(at_0011, autocommit=True) as conn:
        # 0012 lets a field of another list into the section.
        conn.execute("INSERT INTO field_definitions (id, tenant_id, list_id, section_id, name, "
                     "code, type) VALUES (%s, %s, %s, %s, 'B', 'b', 'INT')",
                     (f_other, t, other, shared))
        live = conn.execute("SELECT name FROM field_sections WHERE deleted_at IS NULL "
                            "ORDER BY name").fetchall()
        assert live == [("Empty",), ("Shared",)]  # a deleted list's section stays hidden
        columns = conn.execute("SELECT column_name FROM information_schema.columns WHERE "
                               "table_name = 'field_sections'").fetchall()
        assert ("list_id",) not in columns
    migrate_to(at_0011, "0011", down=True)
    with psycopg.connect(at_0011, autocommit=True) as conn:
        lists = dict(conn.execute("SELECT id, list_id FROM field_sections").fetchall())
        # The list of its oldest field, else the default list.
        assert lists == {shared: default, of_gone: default, empty: default}
        sections = dict(conn.execute("SELECT id, section_id FROM field_definitions").fetchall())
        assert sections == {f_default: shared, f_other: None}
