"""Per user: upcoming, recent and the summary of a period (with tasks from the tasks
table); who may ask about whom."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import text

from leadbase.activities.agenda import period_bounds
from leadbase.db.session import Database
from leadbase.kit.errors import ValidationFailed
from tests.activities.helpers import ACTIVITIES, log
from tests.factories import add_member, make_lead, make_workspace


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def _task(db: Database, tenant: uuid.UUID, lead: str, assignee: uuid.UUID,
                status: str, due: datetime | None = None,
                completed: datetime | None = None) -> None:
    async with db.transaction(tenant) as session:
        await session.execute(text(
            "INSERT INTO tasks (id, tenant_id, lead_id, title, status, due_at, assignee_id, "
            "completed_at, position) VALUES (gen_random_uuid(), :t, :l, 'T', :s, :d, :a, "
            ":c, 1)"), {"t": tenant, "l": lead, "s": status, "d": due, "a": assignee,
                        "c": completed})


async def test_upcoming_recent_and_summary(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    manager = await add_member(client, owner, "manager")
    lead = await make_lead(client, agent)
    now = datetime.now(UTC)
    overdue = await log(client, agent, lead, "call", scheduled_for=_iso(now - timedelta(hours=2)))
    soon = await log(client, agent, lead, "meeting", scheduled_for=_iso(now + timedelta(days=1)))
    later = await log(client, agent, lead, "demo", scheduled_for=_iso(now + timedelta(days=30)))
    await log(client, agent, lead, "call", completed_at=_iso(now - timedelta(minutes=5)))
    await log(client, agent, lead, "email", completed_at=_iso(now - timedelta(minutes=4)))
    await log(client, agent, lead, "email", completed_at=_iso(now - timedelta(minutes=3)))
    old = await log(client, agent, lead, "note", attributes={"content": "old"},
                    occurred_at=_iso(now - timedelta(days=40)))
    await log(client, owner, lead, "note", attributes={"content": "not the agent's"})
    # A status change by the agent: a system entry, listed but not counted.
    assert (await client.patch(f"/api/v1/leads/{lead['id']}", headers=agent.headers,
                               json={"status": "contacted"})).status_code == 200

    up = (await client.get(f"{ACTIVITIES}/upcoming", headers=agent.headers)).json()
    assert [a["id"] for a in up["data"]] == [overdue["id"], soon["id"], later["id"]]
    until = _iso(now + timedelta(days=7))
    up = (await client.get(f"{ACTIVITIES}/upcoming?until={until}&per_page=1",
                           headers=agent.headers)).json()
    assert [a["id"] for a in up["data"]] == [overdue["id"]] and up["next_cursor"]
    more = (await client.get(f"{ACTIVITIES}/upcoming?until={until}&per_page=1&cursor="
                             f"{up['next_cursor']}", headers=agent.headers)).json()
    assert [a["id"] for a in more["data"]] == [soon["id"]] and more["next_cursor"] is None

    recent = (await client.get(f"{ACTIVITIES}/recent?days=7", headers=agent.headers)).json()
    kinds = [a["type"] for a in recent["data"]]
    assert kinds[:3] == ["status_change", "email", "email"] and "note" not in kinds
    assert overdue["id"] in {a["id"] for a in recent["data"]}  # planned 2 h ago
    assert old["id"] in {a["id"] for a in (await client.get(
        f"{ACTIVITIES}/recent?days=60", headers=agent.headers)).json()["data"]}

    await _task(db, owner.tenant_id, lead["id"], agent.user_id, "completed",
                completed=now - timedelta(minutes=1))
    await _task(db, owner.tenant_id, lead["id"], agent.user_id, "open",
                due=now - timedelta(days=1))
    await _task(db, owner.tenant_id, lead["id"], agent.user_id, "open")
    await _task(db, owner.tenant_id, lead["id"], agent.user_id, "open",
                due=now + timedelta(days=400))
    await _task(db, owner.tenant_id, lead["id"], owner.user_id, "open")
    start, end = _iso(now - timedelta(days=1)), _iso(now + timedelta(seconds=5))
    resp = await client.get(f"{ACTIVITIES}/summary?period=custom&from={start}&to={end}",
                            headers=agent.headers)
    assert resp.status_code == 200, resp.text
    summary = resp.json()
    assert summary["by_type"] == {"call": 1, "email": 2} and summary["total"] == 3
    assert summary["tasks_completed"] == 1 and summary["tasks_pending"] == 2
    assert summary["user_id"] == str(agent.user_id) and summary["period"] == "custom"
    for period in ("day", "week", "month"):
        resp = await client.get(f"{ACTIVITIES}/summary?period={period}&user_id="
                                f"{agent.user_id}", headers=manager.headers)
        assert resp.status_code == 200 and resp.json()["period"] == period

    # Agents ask about themselves only; others about anyone in the workspace.
    for path in ("upcoming", "recent", "summary"):
        resp = await client.get(f"{ACTIVITIES}/{path}?user_id={owner.user_id}",
                                headers=agent.headers)
        assert resp.status_code == 403 and resp.json()["code"] == "ONLY_OWN_ACTIVITIES"
        resp = await client.get(f"{ACTIVITIES}/{path}?user_id={agent.user_id}",
                                headers=manager.headers)
        assert resp.status_code == 200, path
        resp = await client.get(f"{ACTIVITIES}/{path}?user_id={uuid.uuid4()}",
                                headers=manager.headers)
        assert resp.status_code == 404 and resp.json()["code"] == "USER_NOT_FOUND"
    stranger = await make_workspace(client)
    resp = await client.get(f"{ACTIVITIES}/upcoming?user_id={agent.user_id}",
                            headers=stranger.headers)
    assert resp.status_code == 404
    bad = await client.get(f"{ACTIVITIES}/summary?period=custom&from={end}&to={start}",
                           headers=agent.headers)
    assert bad.status_code == 422


def test_period_bounds() -> None:
    madrid = ZoneInfo("Europe/Madrid")
    now = datetime(2026, 3, 18, 23, 30, tzinfo=UTC)  # Thursday 00:30 in Madrid
    day = period_bounds("day", now, madrid, None, None)
    assert day == (datetime(2026, 3, 18, 23, tzinfo=UTC), datetime(2026, 3, 19, 23, tzinfo=UTC))
    week = period_bounds("week", now, madrid, None, None)
    assert week[0] == datetime(2026, 3, 15, 23, tzinfo=UTC)  # Monday 16th, 00:00 local
    month = period_bounds("month", now, ZoneInfo("UTC"), None, None)
    assert month == (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
    with pytest.raises(ValidationFailed):
        period_bounds("custom", now, madrid, now, None)
    with pytest.raises(ValidationFailed):
        period_bounds("custom", now, madrid, now - timedelta(days=400), now)
