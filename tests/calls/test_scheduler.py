"""The scheduler at service level: the law (no call outside the callee's 08:00-21:00 or the
agent's hours, never a do-not-call number), concurrency, two ticks at once, retries by
outcome until max attempts, dispositions moving the lead."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import psycopg

from leadbase.calls import hours, scheduler
from leadbase.config import Settings
from leadbase.db.session import Database
from tests.calls.helpers import (
    ALWAYS,
    CALLS,
    NOON_NY,
    TASKS,
    daytime_phone,
    enqueue,
    make_agent,
    night_phone,
    phone_lead,
    place_queued,
    run_jobs,
    tick,
)
from tests.factories import make_workspace

# Numbers whose zones span the day: New York, London, Tokyo, Sydney, Kolkata, São Paulo.
PHONES = {"+14155552671": "America/Los_Angeles", "+442071838750": "Europe/London",
          "+81312345678": "Asia/Tokyo", "+61291234567": "Australia/Sydney",
          "+919876543210": "Asia/Kolkata", "+551133334444": "America/Sao_Paulo"}
NINE_TO_FIVE = {d: [{"start": "09:00", "end": "17:00"}] for d in ("mon", "tue", "wed",
                                                                   "thu", "fri")}


async def test_no_call_outside_the_law(client: httpx.AsyncClient, db: Database,
                                       libpq: str) -> None:
    owner = await make_workspace(client, "Law")
    agent = await make_agent(client, owner, timezone="Europe/Madrid",
                             business_hours=NINE_TO_FIVE, max_concurrent_calls=50)
    for phone in PHONES:
        await enqueue(client, owner, agent, await phone_lead(client, owner, phone=phone))
    agent_hours = hours.parse_hours(NINE_TO_FIVE)
    placed_zones: set[str] = set()
    start = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)  # a Monday
    for step in range(0, 7 * 24 * 60, 97):  # a week, every 97 minutes
        now = start + timedelta(minutes=step)
        found = await tick(db, owner.tenant_id, now=now)
        async with await psycopg.AsyncConnection.connect(libpq, autocommit=True) as conn:
            rows = await (await conn.execute(
                "SELECT c.callee_timezone FROM calls c WHERE c.id = ANY(%s)",
                (found.placed,))).fetchall()
            for (zone,) in rows:
                assert hours.is_allowed(now, agent_hours, "Europe/Madrid", zone), (now, zone)
                local, madrid = now.astimezone(ZoneInfo(zone)), now.astimezone(
                    ZoneInfo("Europe/Madrid"))
                assert 8 <= local.hour < 21, (now, zone)
                assert madrid.weekday() < 5 and 9 <= madrid.hour < 17, (now, zone)
                placed_zones.add(zone)
            # Free the lines again and make every task due for the next step.
            await conn.execute("UPDATE calls SET status = 'completed' WHERE tenant_id = %s",
                               (owner.tenant_id,))
            await conn.execute("UPDATE dial_tasks SET active_call_id = NULL, status = 'new', "
                               "next_attempt_at = '2000-01-01' WHERE tenant_id = %s",
                               (owner.tenant_id,))
    # Los Angeles' 08:00-21:00 never meets Madrid's 09:00-17:00; the others do.
    assert placed_zones >= {"Europe/London", "America/Sao_Paulo", "Asia/Calcutta"}
    assert "America/Los_Angeles" not in placed_zones


async def test_moved_to_the_next_allowed_minute(client: httpx.AsyncClient,
                                                db: Database) -> None:
    owner = await make_workspace(client, "Law moves")
    agent = await make_agent(client, owner, timezone="America/New_York",
                             business_hours=NINE_TO_FIVE)
    task = await enqueue(client, owner, agent, await phone_lead(client, owner,
                                                                 phone="+14155552671"))  # LA
    now = datetime(2026, 12, 8, 15, 0, tzinfo=UTC)  # 10:00 NY, 07:00 LA
    found = await tick(db, owner.tenant_id, now=now)
    assert found.placed == [] and found.moved == 1
    got = (await client.get(f"{TASKS}/{task['id']}", headers=owner.headers)).json()
    assert datetime.fromisoformat(got["next_attempt_at"]) == datetime(
        2026, 12, 8, 16, 0, tzinfo=UTC)  # 08:00 in Los Angeles
    assert got["status"] == "new" and got["attempts"] == 0


async def test_do_not_call_and_do_not_contact_close_the_task(client: httpx.AsyncClient,
                                                             db: Database) -> None:
    owner = await make_workspace(client, "Law dnc")
    agent = await make_agent(client, owner, business_hours=ALWAYS)
    listed = await enqueue(client, owner, agent, await phone_lead(client, owner,
                                                                  phone="+14155552601"))
    flagged = await enqueue(client, owner, agent, await phone_lead(
        client, owner, phone="+14155552602", do_not_contact=True))
    await client.post("/api/v1/dnc", headers=owner.headers, json={"phone": "+14155552601"})
    found = await tick(db, owner.tenant_id, NOON_NY)
    assert found.placed == [] and found.closed == 2
    for task in (listed, flagged):
        got = (await client.get(f"{TASKS}/{task['id']}", headers=owner.headers)).json()
        assert got["status"] == "done" and got["disposition"] == "do_not_call"
    assert (await client.get(CALLS, headers=owner.headers)).json()["data"] == []


async def test_concurrency_and_two_ticks_at_once(client: httpx.AsyncClient, db: Database,
                                                 libpq: str) -> None:
    owner = await make_workspace(client, "Concurrency")
    agent = await make_agent(client, owner, max_concurrent_calls=3)
    for i in range(8):
        await enqueue(client, owner, agent, await phone_lead(client, owner,
                                                             phone=f"+1415555{2610 + i}"))
    first, second = await asyncio.gather(tick(db, owner.tenant_id, NOON_NY),
                                         tick(db, owner.tenant_id, NOON_NY))
    assert len(first.placed) + len(second.placed) == 3
    assert (await tick(db, owner.tenant_id, NOON_NY)).placed == []  # the lines are busy
    async with await psycopg.AsyncConnection.connect(libpq) as conn:
        row = await (await conn.execute(
            "SELECT count(*), count(DISTINCT dial_task_id) FROM calls WHERE tenant_id = %s",
            (owner.tenant_id,))).fetchone()
    assert row == (3, 3)


async def test_retries_by_outcome_until_max_attempts(client: httpx.AsyncClient, db: Database,
                                                     settings: Settings, libpq: str) -> None:
    owner = await make_workspace(client, "Retries")
    agent = await make_agent(client, owner, max_attempts=2, retry_delay_minutes=60,
                             retry_delays={"no_answer": 15},
                             settings={"time_scale": 0, "outcome": "no_answer"})
    lead = await phone_lead(client, owner, phone=daytime_phone())
    task = await enqueue(client, owner, agent, lead)
    assert len((await tick(db, owner.tenant_id, now=datetime.now(UTC))).placed) == 1
    await run_jobs(libpq, db, settings, owner.tenant_id)
    got = (await client.get(f"{TASKS}/{task['id']}", headers=owner.headers)).json()
    assert got["status"] == "in_progress" and got["last_outcome"] == "no_answer"
    assert got["disposition"] is None and got["attempts"] == 1
    due = datetime.fromisoformat(got["next_attempt_at"])
    assert timedelta(minutes=14) < due - datetime.now(UTC) <= timedelta(minutes=15)
    assert (await tick(db, owner.tenant_id, now=due - timedelta(minutes=1))).placed == []
    later = due + timedelta(minutes=1)
    assert len((await tick(db, owner.tenant_id, now=later)).placed) == 1
    await run_jobs(libpq, db, settings, owner.tenant_id)
    got = (await client.get(f"{TASKS}/{task['id']}", headers=owner.headers)).json()
    assert got["status"] == "done" and got["disposition"] == "no_answer"
    assert got["attempts"] == 2
    metrics = (await client.get(f"{CALLS}/metrics", headers=owner.headers)).json()
    assert metrics["no_answer_calls"] == 2 and metrics["average_attempts_per_lead"] == 2.0
    assert metrics["pickup_rate"] == 0.0
    # No call without a timeline entry is missing: a no-answer call logs its activity too.
    timeline = (await client.get(f"/api/v1/leads/{lead['id']}/timeline",
                                 headers=owner.headers)).json()["data"]
    assert len([e for e in timeline if e["type"] == "call"]) == 2


async def test_a_disposition_moves_the_lead(client: httpx.AsyncClient, db: Database,
                                            settings: Settings, libpq: str) -> None:
    owner = await make_workspace(client, "Dispositions")
    resp = await client.put("/api/v1/call-settings", headers=owner.headers, json={
        "dispositions": {"not_interested": {"status": "lost"}}})
    assert resp.status_code == 200, resp.text
    assert (await client.put("/api/v1/call-settings", headers=owner.headers, json={
        "dispositions": {"maybe": {"status": "lost"}}})).status_code == 422
    agent = await make_agent(client, owner,
                             settings={"time_scale": 0, "outcome": "not_interested"})
    lead = await phone_lead(client, owner)
    await enqueue(client, owner, agent, lead)
    await tick(db, owner.tenant_id)
    await run_jobs(libpq, db, settings, owner.tenant_id)
    now = (await client.get(f"/api/v1/leads/{lead['id']}", headers=owner.headers)).json()
    assert now["status"] == "lost"


async def test_tick_over_every_workspace(db: Database) -> None:
    found = await scheduler.tick(db, now=datetime.now(UTC))
    assert isinstance(found.placed, list)


async def test_the_law_is_checked_again_when_dialling(client: httpx.AsyncClient, db: Database,
                                                      settings: Settings, libpq: str) -> None:
    """A call claimed in the window but dialled after it closed is undone: no call, the
    task due at the next allowed minute, the attempt not counted."""
    owner = await make_workspace(client, "Law at dial")
    agent = await make_agent(client, owner)
    task = await enqueue(client, owner, agent, await phone_lead(client, owner,
                                                                phone=night_phone()))
    assert len((await tick(db, owner.tenant_id, datetime.now(UTC) + timedelta(hours=12)))
               .placed) == 1
    assert await place_queued(libpq, db, settings, owner.tenant_id) == ["outside_calling_hours"]
    got = (await client.get(f"{TASKS}/{task['id']}", headers=owner.headers)).json()
    assert got["attempts"] == 0 and got["active_call_id"] is None and got["status"] == "new"
    assert datetime.fromisoformat(got["next_attempt_at"]) > datetime.now(UTC)
    assert (await client.get(CALLS, headers=owner.headers)).json()["data"] == []
