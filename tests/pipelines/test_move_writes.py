"""What one stage move writes (one UPDATE of the lead, its timeline entry, history and
statistics), and the shard of the counters each transaction takes (migration 0020)."""

from __future__ import annotations

import uuid
from datetime import datetime

import httpx
from sqlalchemy import text

from leadbase.auth.context import Context, Principal
from leadbase.db.session import Database
from leadbase.pipelines import moves
from leadbase.pipelines.schemas import StageMove
from tests.factories import make_lead, make_workspace
from tests.pipelines.test_board import assert_counters_exact

SHARD = text("SELECT lb_stage_shard()")
UPDATES = text("SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relid = 'leads'::regclass")


async def test_a_move_updates_the_lead_once(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    lead = await make_lead(client, owner)
    ctx = Context(tenant_id=owner.tenant_id,
                  principal=Principal(role="owner", tenant_id=owner.tenant_id,
                                      user_id=owner.user_id))
    async with db.transaction(owner.tenant_id) as session:
        before = (await session.execute(UPDATES)).scalar_one()
        moved, change = await moves.move_lead(
            session, ctx=ctx, lead_id=uuid.UUID(lead["id"]),
            body=StageMove(stage="contacted", reason="called"), expected_version=None)
        # The backend's statistics (not flushed within a transaction): the timeline entry
        # did not touch the lead.
        updates = (await session.execute(UPDATES)).scalar_one() - before
        entries = (await session.execute(text(
            "SELECT type, occurred_at FROM activities WHERE lead_id = :l"),
            {"l": lead["id"]})).all()
    assert updates == 1
    assert change is not None and moved["stage"] == "contacted"
    assert moved["version"] == lead["version"] + 1
    # last_activity_at moved with the stage, to the entry's time.
    assert [e[0] for e in entries] == ["stage_change"]
    assert isinstance(moved["last_activity_at"], datetime)
    assert moved["last_activity_at"] == entries[0][1] == moved["stage_entered_at"]
    timeline = (await client.get(f"/api/v1/leads/{lead['id']}/timeline?types=stage_change",
                                 headers=owner.headers)).json()["data"]
    assert [(t["type"], t["attributes"]["to_stage"], t["attributes"]["reason"])
            for t in timeline] == [("stage_change", "contacted", "called")]
    history = (await client.get(f"/api/v1/leads/{lead['id']}/stage-history",
                                headers=owner.headers)).json()["data"]
    assert [(h["from_stage"], h["to_stage"]) for h in history] == [
        ("new", "contacted"), (None, "new")]
    await assert_counters_exact(db, owner.tenant_id)


async def test_each_transaction_holds_its_own_shard(client: httpx.AsyncClient,
                                                    db: Database) -> None:
    owner = await make_workspace(client)
    async with db.transaction(owner.tenant_id) as a, db.transaction(owner.tenant_id) as b:
        first = (await a.execute(SHARD)).scalar_one()
        assert (await a.execute(SHARD)).scalar_one() == first  # kept to the end
        other = (await b.execute(SHARD)).scalar_one()
        assert other != first
        assert 0 <= first < 16 and 0 <= other < 16
    # Released at commit: a later transaction may take it again.
    async with db.transaction(owner.tenant_id) as a, db.transaction(owner.tenant_id) as b:
        taken = {(await a.execute(SHARD)).scalar_one(), (await b.execute(SHARD)).scalar_one()}
        assert len(taken) == 2


async def test_a_rolled_back_savepoint_gives_its_shard_back(client: httpx.AsyncClient,
                                                            db: Database) -> None:
    owner = await make_workspace(client)
    async with db.transaction(owner.tenant_id) as a, db.transaction(owner.tenant_id) as b:
        nested = await a.begin_nested()
        held = (await a.execute(SHARD)).scalar_one()
        await nested.rollback()
        # The lock went with the savepoint, and so did the remembered shard.
        again = (await b.execute(SHARD)).scalar_one()
        mine = (await a.execute(SHARD)).scalar_one()
        assert mine != again
        assert held in {mine, again}
