"""Migration 0016's pipelines over rows of 0015: default pipelines for the workspaces
present, their leads in the default lead pipeline's first stage, the stage counters
counting them; and back down."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from leadbase.db.migrate import migrate_to
from tests.conftest import new_database


@pytest.fixture
def at_0015() -> Iterator[str]:
    with new_database("leadbase_mig") as url:
        migrate_to(url, "0015")
        yield url


def test_backfill_and_counters(at_0015: str) -> None:
    t, lst, owner = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(at_0015, autocommit=True) as conn:
        conn.execute("INSERT INTO tenants (id, name, slug) VALUES (%s, 'T', %s)",
                     (t, f"t-{t.hex[:8]}"))
        conn.execute("INSERT INTO lead_lists (id, tenant_id, name, is_default) "
                     "VALUES (%s, %s, 'Default', true)", (lst, t))
        conn.execute("INSERT INTO users (id, tenant_id, email, name, password_hash, role) "
                     "VALUES (%s, %s, 'o@example.com', 'O', 'x', 'owner')", (owner, t))
        for i in range(5):
            conn.execute("INSERT INTO leads (id, tenant_id, list_id, first_name, owner_id, "
                         "deleted_at) VALUES (%s, %s, %s, 'A', %s, %s)",
                         (uuid.uuid4(), t, lst, owner if i < 2 else None,
                          "2026-01-01" if i == 4 else None))
    migrate_to(at_0015, "0016")
    with psycopg.connect(at_0015, autocommit=True) as conn:
        kinds = conn.execute("SELECT kind FROM pipelines WHERE tenant_id = %s AND is_default "
                             "ORDER BY kind", (t,)).fetchall()
        assert kinds == [("deal",), ("lead",)]
        first = conn.execute(
            "SELECT s.id FROM pipeline_stages s JOIN pipelines p ON p.id = s.pipeline_id "
            "WHERE p.tenant_id = %s AND p.kind = 'lead' AND s.code = 'new'", (t,)).fetchone()
        assert first is not None
        placed = conn.execute("SELECT count(*) FROM leads WHERE tenant_id = %s AND "
                              "stage_id = %s AND pipeline_id IS NOT NULL AND "
                              "stage_entered_at IS NOT NULL", (t, first[0])).fetchone()
        assert placed == (5,)
        counts = dict(conn.execute(
            "SELECT owner_key, sum(leads) FROM pipeline_stage_counts WHERE tenant_id = %s "
            "AND stage_id = %s GROUP BY 1", (t, first[0])).fetchall())
        assert counts == {owner: 2, uuid.UUID(int=0): 2}  # live leads only
    migrate_to(at_0015, "0015", down=True)
    with psycopg.connect(at_0015, autocommit=True) as conn:
        gone = conn.execute("SELECT to_regclass('pipeline_stage_counts'), "
                            "to_regclass('pipelines')").fetchone()
        assert gone == (None, None)
        assert conn.execute("SELECT count(*) FROM leads").fetchone() == (5,)
