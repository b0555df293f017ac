"""Analytics at service level: periods and ranges, the agent's readable set, time zones."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from sqlalchemy import text

from leadbase.analytics import service
from leadbase.auth.context import Context, Principal
from leadbase.db.session import Database
from leadbase.kit.errors import ValidationFailed
from tests.factories import add_member, make_lead, make_workspace
from tests.opportunities.helpers import ctx_of

WS = service.Workspace(tz="America/Argentina/Buenos_Aires", currency="ARS")


def test_periods_cross_years_and_weeks() -> None:
    assert service.periods(date(2026, 11, 15), date(2027, 2, 1), "month") == [
        date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1)]
    weeks = service.periods(date(2026, 12, 31), date(2027, 1, 11), "week")
    assert weeks == [date(2026, 12, 28), date(2027, 1, 4), date(2027, 1, 11)]
    assert len(service.periods(date(2024, 1, 1), date(2024, 12, 31), "day")) == 366


def test_ranges() -> None:
    r = service.resolve_range(WS, None, date(2026, 12, 7), "month")
    assert r.start == date(2026, 1, 1) and len(r.periods) == 12
    r = service.resolve_range(WS, None, date(2026, 12, 7), "day")
    assert len(r.periods) == 30 and r.periods[-1] == date(2026, 12, 7)
    with pytest.raises(ValidationFailed) as info:
        service.resolve_range(WS, date(2026, 1, 2), date(2026, 1, 1), "day")
    assert info.value.code == "INVALID_RANGE"
    with pytest.raises(ValidationFailed) as info:
        service.resolve_range(WS, date(2000, 1, 1), date(2026, 1, 1), "week")
    assert info.value.code == "RANGE_TOO_LARGE"
    # A local day starts at local midnight (UTC-3 here).
    assert WS.instant(date(2026, 5, 1)).isoformat() == "2026-05-01T03:00:00+00:00"


async def test_the_agent_counts_its_own_leads(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client, "Service")
    agent = await add_member(client, owner, "agent")
    await make_lead(client, agent, source="a")
    await make_lead(client, owner, source="b")
    async with db.transaction(owner.tenant_id) as session:
        mine = await service.leads_by_source(session, ctx=ctx_of(agent), start=None,
                                             end=None, bucket="week")
        every = await service.leads_by_source(session, ctx=ctx_of(owner), start=None,
                                              end=None, bucket="week")
        keyless = await service.funnel(session, ctx=Context(
            tenant_id=owner.tenant_id, principal=Principal(role="agent",
                                                           tenant_id=owner.tenant_id)),
            start=None, end=None)
    assert [s["key"] for s in mine["series"]] == ["a"]
    assert {s["key"] for s in every["series"]} == {"a", "b"}
    assert keyless["total"] == 0  # an agent API key owns no lead


async def test_buckets_follow_the_workspace_time_zone(client: httpx.AsyncClient,
                                                      db: Database) -> None:
    """A lead created at 01:00 UTC on 2 May is a 1 May lead in Buenos Aires."""
    owner = await make_workspace(client, "Time zones")
    lead = await make_lead(client, owner, source="tz")
    async with db.transaction(owner.tenant_id) as session:
        await session.execute(text("UPDATE tenants SET timezone = :z WHERE id = :t"),
                              {"z": WS.tz, "t": owner.tenant_id})
        await session.execute(text("UPDATE leads SET created_at = '2026-05-02T01:00:00Z' "
                                   "WHERE id = :i"), {"i": lead["id"]})
        body = await service.leads_by_source(session, ctx=ctx_of(owner),
                                             start=date(2026, 5, 1), end=date(2026, 5, 2),
                                             bucket="day")
    assert body["timezone"] == WS.tz and body["series"][0]["counts"] == [1, 0]
