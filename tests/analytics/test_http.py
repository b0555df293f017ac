"""Analytics through HTTP: the series, the funnel, pipeline value, imports and activities
per period; bad ranges; roles; other workspaces."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy import text

from leadbase.config import Settings
from leadbase.db.session import Database
from tests.activities.helpers import log
from tests.factories import Member, add_member, make_lead, make_workspace
from tests.imports.conftest import import_file
from tests.opportunities.helpers import make_opportunity

A = "/api/v1/analytics"


async def _get(client: httpx.AsyncClient, member: Member, path: str,
               expect: int = 200) -> dict[str, Any]:
    resp = await client.get(f"{A}{path}", headers=member.headers)
    assert resp.status_code == expect, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def _log(client: httpx.AsyncClient, member: Member, lead: dict[str, Any],
               kind: str) -> None:
    await log(client, member, lead, kind,
              attributes={"content": "x"} if kind == "note" else {})


def _series(body: dict[str, Any]) -> dict[str | None, dict[str, Any]]:
    return {s["key"]: s for s in body["series"]}


async def _backdate(db: Database, member: Member, table: str, row_id: str, days: int,
                    column: str = "created_at") -> None:
    async with db.transaction(member.tenant_id) as session:
        await session.execute(text(f"UPDATE {table} SET {column} = {column} - "
                                   "make_interval(days => :d) WHERE id = :i"),
                              {"d": days, "i": row_id})


async def test_leads_by_source_per_day(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client, "Sources")
    for source in ("web", "web", "fair", None):
        await make_lead(client, owner, source=source)
    old = await make_lead(client, owner, source="web")
    await _backdate(db, owner, "leads", old["id"], 3)
    today = date.today()
    body = await _get(client, owner, f"/leads/by-source?bucket=day&from={today - timedelta(6)}"
                                     f"&to={today}")
    assert body["bucket"] == "day" and len(body["periods"]) == 7
    assert body["periods"][0] == str(today - timedelta(6)) and body["total"] == 5
    by = _series(body)
    assert [s["key"] for s in body["series"]] == ["web", "fair", None]
    assert by["web"]["counts"][-1] == 2 and by["web"]["counts"][-4] == 1
    assert by["web"]["total"] == 3 and by[None]["total"] == 1
    # The default: 12 weeks to today, weeks starting on Monday.
    weekly = await _get(client, owner, "/leads/by-source")
    assert weekly["bucket"] == "week" and len(weekly["periods"]) == 12
    assert date.fromisoformat(weekly["periods"][0]).weekday() == 0
    assert weekly["total"] == 5
    # Outside the range: nothing.
    early = await _get(client, owner, "/leads/by-source?bucket=month&from=2020-01-01"
                                      "&to=2020-12-31")
    assert len(early["periods"]) == 12 and early["total"] == 0 and early["series"] == []


async def test_many_sources_are_summed_as_other(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Many sources")
    for i in range(10):
        await make_lead(client, owner, source=f"s{i}")
    body = await _get(client, owner, "/leads/by-source?bucket=month")
    assert len(body["series"]) == 8 and body["series"][-1]["key"] == "other"
    assert body["series"][-1]["total"] == 3 and body["total"] == 10


async def test_bad_ranges_are_problems(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Ranges")
    for path, code in (("/leads/by-source?from=2026-05-02&to=2026-05-01", "INVALID_RANGE"),
                       ("/leads/funnel?from=2026-05-02&to=2026-05-01", "INVALID_RANGE"),
                       ("/activities?bucket=day&from=2025-01-01&to=2026-06-01",
                        "RANGE_TOO_LARGE"),
                       ("/dashboard?bucket=week&from=2000-01-01&to=2026-06-01",
                        "RANGE_TOO_LARGE"),
                       ("/imports?bucket=month&from=2000-01-01&to=2026-06-01",
                        "RANGE_TOO_LARGE"),
                       ("/leads/funnel?from=2000-01-01&to=2026-06-01", "RANGE_TOO_LARGE"),
                       ("/leads/by-source?bucket=year", "VALIDATION_ERROR"),
                       ("/leads/by-source?bucket=month&to=0001-01-01", "INVALID_RANGE"),
                       ("/activities?from=9999-12-31&to=9999-12-31", "INVALID_RANGE"),
                       ("/leads/funnel?to=0001-01-31", "INVALID_RANGE"),
                       ("/leads/by-source?from=yesterday", "VALIDATION_ERROR")):
        resp = await client.get(f"{A}{path}", headers=owner.headers)
        assert resp.status_code == 422, (path, resp.text)
        assert resp.headers["content-type"].startswith("application/problem+json")
        assert resp.json()["code"] == code, (path, resp.json())
    # The largest ranges allowed.
    await _get(client, owner, "/leads/by-source?bucket=day&from=2025-01-01&to=2026-01-01")
    await _get(client, owner, "/activities?bucket=month&from=2017-01-01&to=2026-12-31")


async def test_funnel(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Funnel")
    for status in ("new", "new", "contacted", "qualified", "converted", "lost", "unqualified"):
        await make_lead(client, owner, status=status)
    body = await _get(client, owner, "/leads/funnel")
    assert body["total"] == 7
    assert {s["status"]: s["count"] for s in body["statuses"]} == {
        "new": 2, "contacted": 1, "qualified": 1, "converted": 1, "unqualified": 1, "lost": 1}
    assert [(s["status"], s["count"]) for s in body["steps"]] == [
        ("new", 7), ("contacted", 3), ("qualified", 2), ("converted", 1)]
    assert [(s["status"], s["count"]) for s in body["exits"]] == [("unqualified", 1),
                                                                   ("lost", 1)]


async def test_pipeline_value(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Deals")
    await make_opportunity(client, owner, value="1000.00")
    await make_opportunity(client, owner, value="250.50")
    body = await _get(client, owner, "/pipeline-value")
    assert body["count"] == 2 and body["value"] == "1250.50"
    first = body["stages"][0]
    assert first["count"] == 2 and first["value"] == "1250.50"
    assert all(s["count"] == 0 for s in body["stages"][1:])
    resp = await client.get(f"{A}/pipeline-value?pipeline_id=00000000-0000-0000-0000-"
                            "000000000001", headers=owner.headers)
    assert resp.status_code == 422 and resp.json()["code"] == "PIPELINE_NOT_FOUND"


async def test_activities_per_week_by_type(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client, "Activity")
    lead = await make_lead(client, owner)
    for kind in ("note", "note", "call"):
        await _log(client, owner, lead, kind)
    body = await _get(client, owner, "/activities")
    by = _series(body)
    assert by["note"]["total"] == 2 and by["call"]["total"] == 1
    assert by["note"]["counts"][-1] == 2


async def test_imports_per_week(client: httpx.AsyncClient, db: Database,
                                settings: Settings) -> None:
    owner = await make_workspace(client, "Imports")
    await import_file(client, owner, db, settings,
                      b"email,first_name\na@x.com,A\nb@x.com,B\nnot-an-email,C\n")
    await import_file(client, owner, db, settings, b"email\nc@x.com\n", dry_run=True)
    body = await _get(client, owner, "/imports")
    by = _series(body)
    assert by["jobs"]["total"] == 1 and by["dry_runs"]["total"] == 1
    assert by["created"]["total"] == 2 and by["invalid"]["total"] == 1
    assert by["created"]["counts"][-1] == 2 and body["total"] == 1
    assert [s["key"] for s in body["series"]] == [
        "jobs", "created", "updated", "skipped", "invalid", "failed", "dry_runs"]


async def test_roles_and_workspaces(client: httpx.AsyncClient, db: Database,
                                    settings: Settings) -> None:
    owner = await make_workspace(client, "Roles")
    agent = await add_member(client, owner, "agent")
    viewer = await add_member(client, owner, "viewer")
    manager = await add_member(client, owner, "manager")
    mine = await make_lead(client, agent, source="mine")
    theirs = await make_lead(client, owner, source="theirs")
    await _log(client, agent, mine, "note")
    await _log(client, owner, theirs, "call")
    await make_opportunity(client, owner, value="500.00", lead_id=theirs["id"])
    await make_opportunity(client, agent, value="70.00", lead_id=mine["id"])
    stranger = await make_workspace(client, "Strangers")
    await make_lead(client, stranger, source="elsewhere")

    got = _series(await _get(client, agent, "/leads/by-source"))
    assert set(got) == {"mine"}
    assert (await _get(client, agent, "/leads/funnel"))["total"] == 1
    assert set(_series(await _get(client, agent, "/activities"))) == {
        "note", "opportunity_event"}  # the deal created on its lead is on its timeline
    assert (await _get(client, agent, "/pipeline-value"))["value"] == "70.00"
    for who in (agent, viewer):
        resp = await client.get(f"{A}/imports", headers=who.headers)
        assert resp.status_code == 403 and resp.json()["code"] == "ROLE_REQUIRED"
    await _get(client, manager, "/imports")
    agent_board = await _get(client, agent, "/dashboard")
    assert agent_board["imports"] is None
    assert agent_board["leads"]["funnel"]["total"] == 1
    assert agent_board["pipeline"]["count"] == 1

    for who in (viewer, owner):
        seen = _series(await _get(client, who, "/leads/by-source"))
        assert set(seen) == {"mine", "theirs"}
        assert (await _get(client, who, "/pipeline-value"))["value"] == "570.00"
        board = await _get(client, who, "/dashboard")
        assert board["leads"]["funnel"]["total"] == 2
        assert {s["key"] for s in board["activities"]["series"]} >= {"note", "call"}
    assert set(_series(await _get(client, stranger, "/leads/by-source"))) == {"elsewhere"}
    assert (await _get(client, stranger, "/pipeline-value"))["count"] == 0
    board = await _get(client, stranger, "/dashboard")
    assert board["imports"]["total"] == 0 and board["activities"]["total"] == 0
    assert (await client.get(f"{A}/dashboard")).status_code == 401
