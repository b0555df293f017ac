"""The database side of an import: session settings that cannot always be changed, the
GIN pending lists merged by a function the app's role may call, the search text."""

from __future__ import annotations

import uuid

import httpx
import pytest

from leadbase.config import Settings
from leadbase.db import raw
from leadbase.db.session import Database
from leadbase.imports.repository.staging import TEMP_BUFFERS, Stage, StagePlan
from tests.factories import make_workspace


def _plan(tenant_id: uuid.UUID) -> StagePlan:
    return StagePlan(tenant_id=tenant_id, list_id=uuid.uuid4(), job_id=uuid.uuid4(),
                     mode="skip", match_keys=("email", "phone"))


async def test_staging_in_a_session_whose_temp_buffers_are_set(libpq: str,
                                                              settings: Settings) -> None:
    """temp_buffers can change only before a session's first temporary table: in a
    session that sized them otherwise, the import keeps that size and goes on."""
    database = Database(libpq, settings)  # its own connections: fresh sessions
    tenant = uuid.uuid4()
    try:
        async with database.transaction(tenant) as session:
            await raw.execute(session, "SET LOCAL temp_buffers = '9MB'", ())
            await raw.execute(session, "CREATE TEMP TABLE earlier (a int) ON COMMIT DROP", ())
            await raw.execute(session, "INSERT INTO earlier VALUES (1)", ())
            await Stage(session, _plan(tenant)).create(100)
            row = await raw.fetch_row(session, "SELECT count(*), current_setting("
                                      "'temp_buffers') FROM imp_stage", ())
            assert row is not None and row[0] == 0 and row[1] == "9MB"
        async with database.transaction(tenant) as session:  # the next one: the same
            await Stage(session, _plan(tenant)).create(100)
            row = await raw.fetch_row(session, "SELECT count(*) FROM imp_stage", ())
            assert row is not None and row[0] == 0
    finally:
        await database.dispose()


async def test_staging_sets_temp_buffers_in_a_fresh_session(libpq: str,
                                                            settings: Settings) -> None:
    database = Database(libpq, settings)
    tenant = uuid.uuid4()
    try:
        async with database.transaction(tenant) as session:
            await Stage(session, _plan(tenant)).create(100)
            row = await raw.fetch_row(session, "SELECT pg_size_bytes(current_setting("
                                      "'temp_buffers')) = pg_size_bytes(%s)", (TEMP_BUFFERS,))
            assert row is not None and row[0] is True
    finally:
        await database.dispose()


async def test_flush_lead_indexes_as_the_app_role(client: httpx.AsyncClient,
                                                  db: Database) -> None:
    """The import merges the GIN pending lists before it commits; the app's role does
    not own the indexes, the SECURITY DEFINER function does it for it."""
    owner = await make_workspace(client, "Flush")
    resp = await client.post("/api/v1/leads", headers=owner.headers,
                             json={"first_name": "Zoë", "email": "zoe@flush.example"})
    assert resp.status_code == 201, resp.text
    async with db.transaction(owner.tenant_id) as session:
        role = await raw.fetch_row(session, "SELECT current_user", ())
        assert role is not None and role[0] == "leadbase_app"
        merged = await raw.fetch_row(session, "SELECT lb_flush_lead_indexes()", ())
        assert merged is not None and merged[0] >= 0
    found = await client.get("/api/v1/leads", params={"q": "zoe"}, headers=owner.headers)
    assert [lead["email"] for lead in found.json()["data"]] == ["zoe@flush.example"]


@pytest.mark.parametrize(("values", "expected"), [
    (("José", "Núñez", "JN@Example.com", "+34600000000", "Ñandú S.A."),
     "jose nunez jn@example.com +34600000000 nandu s.a."),
    ((None, "García", None, None, None), "garcia"),
    (("Ana", None, None, "+14155552671", None), "ana +14155552671"),
    ((None, None, None, None, None), ""),
])
async def test_search_text(db: Database, values: tuple[str | None, ...],
                           expected: str) -> None:
    """lb_search_text (PL/pgSQL since migration 0010) gives what the SQL version gave:
    the non-empty values lowercased and unaccented, one space apart."""
    async with db.transaction(None) as session:
        row = await raw.fetch_row(
            session, "SELECT lb_search_text(%s, %s, %s, %s, %s), lower(public.unaccent("
            "concat_ws(' ', %s::text, %s::text, %s::text, %s::text, %s::text)))",
            (*values, *values))
        assert row is not None and row[0] == row[1] == expected
