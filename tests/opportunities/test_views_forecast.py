"""The forecast (months from the workspace's current month, overdue and undated apart,
pages per month) and stale opportunities; roles, other workspaces and bad input."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from leadbase.db.session import Database
from leadbase.kit.errors import ValidationFailed
from leadbase.opportunities import views
from tests.factories import add_member, make_workspace
from tests.opportunities.helpers import BASE, ctx_of, make_opportunity
from tests.opportunities.test_views_pipeline import sums_equal_scan, weighted

FORECAST = f"{BASE}/forecast"


def month_start(today: date, add: int = 0) -> date:
    k = today.year * 12 + today.month - 1 + add
    return date(k // 12, k % 12 + 1, 1)


def period(body: dict[str, Any], month: str) -> dict[str, Any]:
    found: dict[str, Any] = next(p for p in body["periods"] if p["month"] == month)
    return found


async def test_forecast_by_month(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client, "Forecast")
    agent = await add_member(client, owner, "agent")
    today = datetime.now(UTC).date()
    this, nxt, far = month_start(today), month_start(today, 1), month_start(today, 5)
    a = await make_opportunity(client, owner, value="1000.00", expected_close_date=str(this))
    await make_opportunity(client, owner, value="200.50", probability=35,
                           expected_close_date=str(this + timedelta(days=3)))
    c = await make_opportunity(client, agent, value="300.00", stage="negotiation",
                               expected_close_date=str(nxt))
    await make_opportunity(client, owner, value="5.00", expected_close_date=str(far))
    late = await make_opportunity(client, owner, value="77.70",
                                  expected_close_date=str(this - timedelta(days=40)))
    await make_opportunity(client, owner, value="9.99")  # no date
    won = await make_opportunity(client, owner, value="5000.00", expected_close_date=str(nxt))
    assert (await client.post(f"{BASE}/{won['id']}/close-won", headers=owner.headers,
                              json={})).status_code == 200
    resp = await client.get(f"{FORECAST}?months=3", headers=owner.headers)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["timezone"] == "UTC" and body["months"] == 3
    assert [p["month"] for p in body["periods"]] == [
        f"{this:%Y-%m}", f"{nxt:%Y-%m}", f"{month_start(today, 2):%Y-%m}"]
    first = period(body, f"{this:%Y-%m}")
    assert first["count"] == 2 and first["value"] == "1200.50"
    assert first["weighted_value"] == weighted(("1000.00", 20), ("200.50", 35))
    assert first["start"] == str(this) and first["end"] == str(nxt - timedelta(days=1))
    assert first["opportunities"]["data"][0]["id"] == a["id"]  # soonest first
    second = period(body, f"{nxt:%Y-%m}")
    assert second["count"] == 1 and second["weighted_value"] == "225.00"  # won is not open
    assert second["opportunities"]["data"][0]["id"] == c["id"]
    assert period(body, f"{month_start(today, 2):%Y-%m}")["count"] == 0
    assert body["totals"]["count"] == 3 and body["totals"]["value"] == "1500.50"
    assert body["overdue"]["count"] == 1 and body["overdue"]["value"] == "77.70"
    assert body["overdue"]["opportunities"]["data"][0]["id"] == late["id"]
    assert body["undated"]["count"] == 1 and body["undated"]["value"] == "9.99"
    # Six months reach the far one.
    six = (await client.get(f"{FORECAST}?months=6&per_page=0", headers=owner.headers)).json()
    assert six["totals"]["count"] == 4 and six["periods"][5]["value"] == "5.00"
    # An agent: its own only; owner_id= for a manager.
    theirs = (await client.get(FORECAST, headers=agent.headers)).json()
    assert theirs["totals"]["count"] == 1 and theirs["overdue"]["count"] == 0
    by_owner = (await client.get(f"{FORECAST}?owner_id={agent.user_id}",
                                 headers=owner.headers)).json()
    assert by_owner["totals"]["value"] == "300.00"
    # Bad input.
    for months in (0, 25, -1):
        bad = await client.get(f"{FORECAST}?months={months}", headers=owner.headers)
        assert bad.status_code == 422, bad.text
    with pytest.raises(ValidationFailed):
        async with db.transaction(owner.tenant_id) as session:
            await views.forecast(session, ctx=ctx_of(owner), months=25)
    # Other workspaces see nothing of it.
    other = await make_workspace(client, "Forecast other")
    assert (await client.get(FORECAST, headers=other.headers)).json()["totals"]["count"] == 0
    await sums_equal_scan(db, owner.tenant_id)


async def test_forecast_month_pages_and_time_zone(client: httpx.AsyncClient,
                                                  db: Database) -> None:
    owner = await make_workspace(client, "Forecast pages")
    today = datetime.now(UTC).date()
    this = month_start(today)
    made = [await make_opportunity(client, owner, value="1.00",
                                   expected_close_date=str(this + timedelta(days=i % 3)))
            for i in range(5)]
    body = (await client.get(f"{FORECAST}?per_page=2", headers=owner.headers)).json()
    page = body["periods"][0]["opportunities"]
    ids = [r["id"] for r in page["data"]]
    cursor = page["next_cursor"]
    while cursor:
        nxt = await client.get(f"{FORECAST}/months/{this:%Y-%m}?per_page=2&cursor={cursor}",
                               headers=owner.headers)
        assert nxt.status_code == 200, nxt.text
        ids += [r["id"] for r in nxt.json()["data"]]
        cursor = nxt.json()["next_cursor"]
    assert sorted(ids) == sorted(m["id"] for m in made) and len(ids) == 5
    overdue = await client.get(f"{FORECAST}/months/overdue", headers=owner.headers)
    assert overdue.status_code == 200 and overdue.json()["data"] == []
    for bad in ("2026-13", "soon", "26-01", "9999-12", "0000-01", "-123-1", "2026-+1"):
        resp = await client.get(f"{FORECAST}/months/{bad}", headers=owner.headers)
        assert resp.status_code == 422 and resp.json()["code"] == "INVALID_MONTH"
    wrong = await client.get(f"{FORECAST}/months/{month_start(today, 1):%Y-%m}?cursor="
                             f"{body['periods'][0]['opportunities']['next_cursor']}",
                             headers=owner.headers)
    assert wrong.status_code == 422
    # The current month is the workspace's: far east of UTC it may already be the next.
    async with db.transaction(owner.tenant_id) as session:
        await session.execute(text("UPDATE tenants SET timezone = 'Pacific/Kiritimati'"))
        body2 = await views.forecast(session, ctx=ctx_of(owner), months=1, per_page=0)
    local = datetime.now(zoneinfo.ZoneInfo("Pacific/Kiritimati")).date()
    assert body2["start"] == month_start(local) and body2["timezone"] == "Pacific/Kiritimati"


async def test_stale(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client, "Stale")
    agent = await add_member(client, owner, "agent")
    old = await make_opportunity(client, owner, value="1.00")
    older = await make_opportunity(client, agent, value="2.00")
    fresh = await make_opportunity(client, owner, value="3.00")
    touched = await make_opportunity(client, owner, value="4.00")
    closed = await make_opportunity(client, owner, value="5.00")
    async with db.transaction(owner.tenant_id) as session:
        for opp, days, activity in ((old, 40, None), (older, 50, None), (touched, 60, 2),
                                    (closed, 90, None)):
            await session.execute(text(
                "UPDATE opportunities SET stage_entered_at = now() - make_interval(days => :d),"
                " last_activity_at = CASE WHEN CAST(:a AS int) IS NULL THEN NULL "
                "ELSE now() - make_interval(days => CAST(:a AS int)) END WHERE id = :id"),
                {"d": days, "a": activity, "id": opp["id"]})
    assert (await client.post(f"{BASE}/{closed['id']}/close-lost", headers=owner.headers,
                              json={"reason": "gone"})).status_code == 200
    resp = await client.get(f"{BASE}/stale?days=30", headers=owner.headers)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert [r["id"] for r in body["data"]] == [older["id"], old["id"]]  # oldest first
    assert body["total"] == 2 and body["data"][0]["idle_days"] == 50
    first = (await client.get(f"{BASE}/stale?days=30&per_page=1", headers=owner.headers)).json()
    assert first["next_cursor"]
    rest = (await client.get(f"{BASE}/stale?days=30&per_page=1&cursor={first['next_cursor']}",
                             headers=owner.headers)).json()
    assert [r["id"] for r in rest["data"]] == [old["id"]] and rest["next_cursor"] is None
    assert (await client.get(f"{BASE}/stale?days=0", headers=owner.headers)).json()[
        "total"] == 4
    assert fresh["id"] in {r["id"] for r in (await client.get(
        f"{BASE}/stale?days=0", headers=owner.headers)).json()["data"]}
    mine = (await client.get(f"{BASE}/stale?days=30", headers=agent.headers)).json()
    assert [r["id"] for r in mine["data"]] == [older["id"]]
    assert (await client.get(f"{BASE}/stale?days=-1", headers=owner.headers)).status_code == 422
    with pytest.raises(ValidationFailed):
        async with db.transaction(owner.tenant_id) as session:
            await views.stale(session, ctx=ctx_of(owner), days=-3)
    other = await make_workspace(client, "Stale other")
    assert (await client.get(f"{BASE}/stale?days=0", headers=other.headers)).json()[
        "total"] == 0
    async with db.transaction(owner.tenant_id) as session:
        body3 = await views.stale(session, ctx=ctx_of(owner), days=45)
    assert [str(r["id"]) for r in body3["data"]] == [older["id"]]
    assert Decimal(str(body3["data"][0]["value"])) == Decimal("2.00")
