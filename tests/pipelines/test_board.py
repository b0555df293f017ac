"""Boards (counts and pages per stage), metrics on a hand-built history, and the counters
staying exact under concurrent moves, imports, bulk changes and deletes."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from sqlalchemy import text

from leadbase.config import Settings
from leadbase.db.session import Database
from tests.factories import add_member, make_lead, make_workspace
from tests.imports.conftest import import_file
from tests.pipelines.conftest import PIPELINES, default_pipeline, move, stage_id

ZERO = uuid.UUID(int=0)


async def assert_counters_exact(db: Database, tenant_id: uuid.UUID) -> dict[Any, int]:
    """The counters equal a count of the live leads per (stage, owner)."""
    async with db.transaction(tenant_id) as session:
        kept = {(r[0], r[1]): int(r[2]) for r in (await session.execute(text(
            "SELECT stage_id, owner_key, sum(leads) FROM pipeline_stage_counts "
            "GROUP BY 1, 2 HAVING sum(leads) <> 0"))).all()}
        real = {(r[0], r[1]): int(r[2]) for r in (await session.execute(text(
            "SELECT stage_id, coalesce(owner_id, :z), count(*) FROM leads "
            "WHERE deleted_at IS NULL GROUP BY 1, 2"), {"z": ZERO})).all()}
    assert kept == real
    return kept


async def test_board_counts_and_pages(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    p = await default_pipeline(client, owner)
    url = f"{PIPELINES}/{p['id']}/board"
    leads = [await make_lead(client, owner) for _ in range(5)]
    mine = [await make_lead(client, agent) for _ in range(2)]
    for lead in leads[:3]:
        await move(client, owner, lead["id"], "contacted")
    board = (await client.get(f"{url}?per_page=2", headers=owner.headers)).json()
    columns = {c["stage"]["code"]: c for c in board["stages"]}
    assert [c["stage"]["code"] for c in board["stages"]] == [s["code"] for s in p["stages"]]
    assert columns["new"]["count"] == 4 and columns["contacted"]["count"] == 3
    contacted = columns["contacted"]["leads"]
    # Newest first, then the next page by the stage's cursor.
    assert [r["id"] for r in contacted["data"]] == [leads[2]["id"], leads[1]["id"]]
    nxt = await client.get(f"{url}/stages/{stage_id(p, 'contacted')}?per_page=2&cursor="
                           f"{contacted['next_cursor']}", headers=owner.headers)
    assert nxt.status_code == 200, nxt.text
    assert [r["id"] for r in nxt.json()["data"]] == [leads[0]["id"]]
    assert nxt.json()["next_cursor"] is None
    # Another stage's cursor is refused.
    wrong = await client.get(f"{url}/stages/{stage_id(p, 'new')}?cursor="
                             f"{contacted['next_cursor']}", headers=owner.headers)
    assert wrong.status_code == 422
    assert (await client.get(f"{url}?per_page=51", headers=owner.headers)).status_code == 422
    assert (await client.get(f"{url}/stages/{uuid.uuid4()}",
                             headers=owner.headers)).status_code == 404
    # An agent's board: their own leads and counts.
    theirs = (await client.get(url, headers=agent.headers)).json()
    counts = {c["stage"]["code"]: c["count"] for c in theirs["stages"]}
    assert counts["new"] == 2 and counts["contacted"] == 0
    assert {r["id"] for c in theirs["stages"] for r in c["leads"]["data"]} == {
        m["id"] for m in mine}
    await assert_counters_exact(db, owner.tenant_id)


async def test_metrics_on_a_hand_built_history(client: httpx.AsyncClient,
                                               db: Database) -> None:
    owner = await make_workspace(client)
    p = await default_pipeline(client, owner)
    leads = [await make_lead(client, owner) for _ in range(3)]
    for i, lead in enumerate(leads):  # 100, 200 and 300 seconds in "new"
        async with db.transaction(owner.tenant_id) as session:
            await session.execute(text(
                "UPDATE leads SET stage_entered_at = now() - make_interval(secs => :s) "
                "WHERE id = :i"), {"s": 100 * (i + 1), "i": lead["id"]})
        assert (await move(client, owner, lead["id"], "contacted")).status_code == 200
    back = leads[0]["id"]
    await move(client, owner, back, "new")  # backwards: converts nothing
    await move(client, owner, back, "qualified")  # its "contacted" and "new" entries do
    resp = await client.get(f"{PIPELINES}/{p['id']}/metrics", headers=owner.headers)
    assert resp.status_code == 200, resp.text
    got = {m["stage"]["code"]: m for m in resp.json()["stages"]}
    new, contacted, qualified = got["new"], got["contacted"], got["qualified"]
    assert (new["leads"], contacted["leads"], qualified["leads"]) == (0, 2, 1)
    assert (new["entered"], new["exited"], new["converted"]) == (4, 4, 4)
    assert new["conversion"] == 1.0
    assert (contacted["entered"], contacted["exited"], contacted["converted"]) == (3, 1, 1)
    assert contacted["conversion"] == 0.3333
    assert (qualified["entered"], qualified["exited"]) == (1, 0)
    assert qualified["avg_seconds_in_stage"] is None
    # "new" exits: 100, 200, 300 and about 0 seconds.
    assert 150 <= new["avg_seconds_in_stage"] <= 152
    assert 150 <= new["median_seconds_in_stage"] <= 151 and not new["median_is_estimate"]
    # A period without the moves; bad periods.
    past = await client.get(f"{PIPELINES}/{p['id']}/metrics?from=2020-01-01&to=2020-01-31",
                            headers=owner.headers)
    assert {m["entered"] for m in past.json()["stages"]} == {0}
    for query in ("from=2020-02-01&to=2020-01-01", "from=1990-01-01&to=2020-01-01",
                  "from=yesterday"):
        bad = await client.get(f"{PIPELINES}/{p['id']}/metrics?{query}",
                               headers=owner.headers)
        assert bad.status_code == 422, query
    agent = await add_member(client, owner, "agent")
    resp = await client.get(f"{PIPELINES}/{p['id']}/metrics", headers=agent.headers)
    assert resp.status_code == 403


def test_histogram_median() -> None:
    from leadbase.pipelines.board import _median_from
    from leadbase.pipelines.repository.moves import bucket, bucket_bounds

    values = [100] * 5 + [1000] * 10 + [5000] * 5
    hist: dict[int, int] = {}
    for v in values:
        hist[bucket(v)] = hist.get(bucket(v), 0) + 1
        low, high = bucket_bounds(bucket(v))
        assert low <= v < high
    median = _median_from(hist, len(values))
    assert median is not None and 800 <= median <= 1200


async def test_counters_stay_exact(client: httpx.AsyncClient, db: Database,
                                   settings: Settings) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    p = await default_pipeline(client, owner)
    leads = [await make_lead(client, owner) for _ in range(12)]
    # Concurrent moves (several connections at once).
    codes = ["contacted", "qualified", "proposal", "won"]
    results = await asyncio.gather(*[
        move(client, owner, lead["id"], codes[i % 4]) for i, lead in enumerate(leads)],
        *[move(client, owner, lead["id"], codes[(i + 1) % 4]) for i, lead in enumerate(leads)])
    assert {r.status_code for r in results} == {200}
    await assert_counters_exact(db, owner.tenant_id)
    # An import (INSERT ... SELECT) into the default first stage.
    csv = "email\n" + "".join(f"imp{i}-{uuid.uuid4().hex[:6]}@example.com\n"
                              for i in range(25))
    job = await import_file(client, owner, db, settings, csv.encode())
    assert job["status"] == "completed", job
    kept = await assert_counters_exact(db, owner.tenant_id)
    assert kept[(uuid.UUID(stage_id(p, "new")), ZERO)] == 25
    # Bulk: reassign (owner counters), delete, restore.
    resp = await client.post("/api/v1/leads/bulk", headers=owner.headers, json={
        "action": "update", "ids": [x["id"] for x in leads[:5]],
        "changes": {"owner_id": str(agent.user_id)}})
    assert resp.status_code == 200, resp.text
    await assert_counters_exact(db, owner.tenant_id)
    resp = await client.post("/api/v1/leads/bulk", headers=owner.headers, json={
        "action": "delete", "ids": [x["id"] for x in leads[3:8]]})
    assert resp.status_code == 200, resp.text
    await assert_counters_exact(db, owner.tenant_id)
    resp = await client.post("/api/v1/leads/bulk", headers=owner.headers, json={
        "action": "restore", "ids": [x["id"] for x in leads[3:5]]})
    assert resp.status_code == 200, resp.text
    await assert_counters_exact(db, owner.tenant_id)
    # Purge, and a stage deleted with its leads moved.
    assert (await client.delete(f"/api/v1/leads/{leads[0]['id']}?purge=true",
                                headers=owner.headers)).status_code == 204
    resp = await client.delete(f"{PIPELINES}/{p['id']}/stages/{stage_id(p, 'proposal')}"
                               "?move_to=won", headers=owner.headers)
    assert resp.status_code == 200, resp.text
    kept = await assert_counters_exact(db, owner.tenant_id)
    assert (uuid.UUID(stage_id(p, "proposal")), ZERO) not in kept
    board = (await client.get(f"{PIPELINES}/{p['id']}/board", headers=owner.headers)).json()
    async with db.transaction(owner.tenant_id) as session:
        real = dict((await session.execute(text(
            "SELECT s.code, count(l.id) FROM pipeline_stages s LEFT JOIN leads l ON "
            "l.stage_id = s.id AND l.deleted_at IS NULL WHERE s.pipeline_id = :p AND "
            "s.deleted_at IS NULL GROUP BY 1"), {"p": p["id"]})).all())
    assert {c["stage"]["code"]: c["count"] for c in board["stages"]} == real


def test_whole_closed_months() -> None:
    from datetime import date

    from leadbase.pipelines.repository.board import fold_boundary, whole_months
    today = date(2026, 12, 4)
    assert fold_boundary(today) == date(2026, 12, 1)
    assert fold_boundary(date(2026, 12, 1)) == date(2026, 11, 1)  # a day past its end
    assert whole_months(date(2026, 9, 15), today, today) == [date(2026, 10, 1),
                                                             date(2026, 11, 1)]
    assert whole_months(date(2026, 10, 1), date(2026, 10, 31), today) == [date(2026, 10, 1)]
    assert whole_months(date(2026, 10, 1), date(2026, 10, 30), today) == []
    assert whole_months(date(2025, 12, 1), date(2026, 2, 28), today) == [
        date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]


async def test_month_summaries_change_nothing(client: httpx.AsyncClient, db: Database,
                                              monkeypatch: Any) -> None:
    """Metrics over a long period read the folded months (``fold_stage_months``) and the
    days for the rest: the same figures as the days alone."""
    from datetime import UTC, datetime, timedelta

    from leadbase.pipelines import board, jobs
    monkeypatch.setattr(board, "EXACT_MEDIAN_LIMIT", 0)  # every median from histograms
    owner = await make_workspace(client)
    p = await default_pipeline(client, owner)
    new = stage_id(p, "new")
    today = datetime.now(UTC).date()
    days = [today - timedelta(days=n) for n in (3, 40, 41, 75, 140, 200, 330)]
    async with db.transaction(owner.tenant_id) as session:
        for i, day in enumerate(days):
            for shard in (0, 5):
                await session.execute(text(
                    "INSERT INTO pipeline_stage_days (tenant_id, stage_id, day, shard, "
                    "entered, exited, exited_seconds, converted, hist) VALUES (:t, :s, :d, "
                    ":k, 1, :x, :x * 100, 0, :h)"),
                    {"t": owner.tenant_id, "s": new, "d": day, "k": shard, "x": 3 + i,
                     "h": [0] * (10 + 3 * i + shard) + [1 + i, 0, 2 + shard]})
    start = today - timedelta(days=300)
    url = f"{PIPELINES}/{p['id']}/metrics?from={start}&to={today}"

    async def figures() -> Any:
        resp = await client.get(url, headers=owner.headers)
        assert resp.status_code == 200, resp.text
        return {m["stage"]["code"]: m for m in resp.json()["stages"]}["new"]

    before = await figures()
    assert before["exited"] == 2 * sum(3 + i for i, d in enumerate(days) if d >= start)
    assert before["median_is_estimate"]
    assert await jobs.fold_all(db) >= 2
    assert await jobs.fold_all(db) == 0  # folded months stay as they are
    from leadbase.pipelines.repository.board import whole_months
    async with db.transaction(owner.tenant_id) as session:
        used = (await session.execute(text(
            "SELECT count(*) FROM pipeline_stage_months WHERE stage_id = :s "
            "AND month = ANY(:m)"), {"s": new, "m": whole_months(start, today, today)})
        ).scalar_one()
    assert used >= 2  # the period's whole months are read from their summaries
    assert await figures() == before
