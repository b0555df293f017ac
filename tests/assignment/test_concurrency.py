"""Fair and safe under concurrency: many sessions creating leads at once with the
workspace auto-assigning them. Round-robin turns differ by at most one; least_loaded
never gives anyone more open leads than their capacity."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from leadbase.auth.context import system_context
from leadbase.db.session import Database
from leadbase.leads import service as leads_service
from leadbase.leads.schemas import LeadCreate
from tests.assignment.helpers import agents, make_rule, members, patch_user, turn_on
from tests.auth.helpers import scalar
from tests.conftest import make_settings
from tests.factories import Member, make_workspace

SESSIONS = 16


@pytest_asyncio.fixture(loop_scope="session")
async def wide_db(libpq: str, tmp_path: Path) -> AsyncIterator[Database]:
    """A pool as wide as the clients, so every session really runs at once."""
    database = Database(libpq, make_settings(tmp_path, db_pool_size=SESSIONS + 2))
    yield database
    await database.dispose()


async def _create_concurrently(db: Database, owner: Member, total: int) -> None:
    ctx = system_context(owner.tenant_id)
    per, extra = divmod(total, SESSIONS)

    async def client(n: int) -> None:
        for _ in range(n):
            async with db.transaction(owner.tenant_id) as session:
                await leads_service.create_lead(session, ctx=ctx, body=LeadCreate(
                    first_name="C", email=f"c.{uuid.uuid4().hex}@example.com"))

    await asyncio.gather(*(client(per + (1 if i < extra else 0)) for i in range(SESSIONS)))


async def _owners(db: Database, owner: Member) -> Counter[str | None]:
    rows = await scalar(db, owner.tenant_id, "SELECT array_agg(owner_id::text) FROM leads")
    return Counter(rows or [])


@pytest.mark.parametrize("total", [700])
async def test_round_robin_is_fair(client: httpx.AsyncClient, wide_db: Database,
                                   total: int) -> None:
    owner = await make_workspace(client)
    people = await agents(client, owner, 7)
    await make_rule(client, owner, strategy="round_robin", members=members(*people))
    await turn_on(client, owner)
    await _create_concurrently(wide_db, owner, total)
    counts = await _owners(wide_db, owner)
    assert sum(counts.values()) == total and None not in counts
    assert max(counts.values()) - min(counts.values()) <= 1, counts
    assert await scalar(wide_db, owner.tenant_id,
                        "SELECT picks FROM assignment_state") == total


async def test_least_loaded_never_exceeds_capacity(client: httpx.AsyncClient,
                                                   wide_db: Database) -> None:
    owner = await make_workspace(client)
    people = await agents(client, owner, 4)
    for person, capacity in zip(people, (5, 10, 10, 15), strict=True):
        await patch_user(client, owner, person, capacity=capacity)
    await make_rule(client, owner, strategy="least_loaded", members=members(*people))
    await turn_on(client, owner)
    await _create_concurrently(wide_db, owner, 64)
    counts = await _owners(wide_db, owner)
    caps = {str(p.user_id): c for p, c in zip(people, (5, 10, 10, 15), strict=True)}
    assert all(counts[u] <= caps[u] for u in caps), counts
    assert counts[None] == 64 - 40 and sum(counts[u] for u in caps) == 40


async def test_capacity_holds_for_round_robin_too(client: httpx.AsyncClient,
                                                  wide_db: Database) -> None:
    owner = await make_workspace(client)
    people = await agents(client, owner, 3)
    await patch_user(client, owner, people[0], capacity=3)
    await make_rule(client, owner, strategy="round_robin", members=members(*people))
    await turn_on(client, owner)
    await _create_concurrently(wide_db, owner, 48)
    counts = await _owners(wide_db, owner)
    assert counts[str(people[0].user_id)] == 3
    assert counts[str(people[1].user_id)] + counts[str(people[2].user_id)] == 45
    assert abs(counts[str(people[1].user_id)] - counts[str(people[2].user_id)]) <= 1
