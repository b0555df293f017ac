"""The pipeline view: exact sums per stage and currency, pages per stage, roles, other
workspaces, bad input, and the trigger-kept sums equal to a count of the rows."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import text

from leadbase.auth.context import system_context
from leadbase.db import raw
from leadbase.db.session import Database
from leadbase.opportunities import views
from leadbase.opportunities import views_repository as sql
from leadbase.opportunities.service import scope_of
from tests.factories import add_member, make_lead, make_workspace
from tests.opportunities.helpers import BASE, ctx_of, deal_pipeline, make_opportunity

VIEW = f"{BASE}/pipeline"


def weighted(*pairs: tuple[str, int]) -> str:
    """The exact sum of value x probability / 100, rounded half up to cents."""
    total = sum((Decimal(v) * p for v, p in pairs), Decimal(0)) / 100
    return str(views.money(total))


async def sums_equal_scan(db: Database, tenant_id: uuid.UUID) -> None:
    """The kept sums (stage and month tables) equal sums counted from the rows."""
    async with db.transaction(tenant_id) as session:
        stage_ids = [r[0] for r in (await session.execute(text(
            "SELECT id FROM pipeline_stages WHERE tenant_id = :t"), {"t": tenant_id})).all()]
        scope = scope_of(system_context(tenant_id))
        kept = await raw.fetch_all(session, *sql.stage_sums_statement(scope, stage_ids, None))
        counted = (await session.execute(text(
            "SELECT o.stage_id, o.currency, count(*), sum(o.value), "
            "sum(o.value * coalesce(o.probability, s.probability)) FROM opportunities o "
            "JOIN pipeline_stages s ON s.id = o.stage_id WHERE o.deleted_at IS NULL "
            "GROUP BY 1, 2"))).all()
        months = await raw.fetch_all(session, *sql.month_sums_statement(
            scope, date(9999, 1, 1), None, None))
        counted_months = (await session.execute(text(
            "SELECT date_trunc('month', o.expected_close_date::timestamp)::date, o.currency, "
            "count(*), sum(o.value), sum(o.value * coalesce(o.probability, s.probability)) "
            "FROM opportunities o JOIN pipeline_stages s ON s.id = o.stage_id "
            "WHERE o.deleted_at IS NULL AND o.status = 'open' GROUP BY 1, 2"))).all()
    assert {(r["stage_id"], r["currency"], int(r["n"]), r["value"], r["weighted100"])
            for r in kept} == {(r[0], r[1], int(r[2]), r[3], r[4]) for r in counted}
    assert {(r["close_month"], r["currency"], int(r["n"]), r["value"], r["weighted100"])
            for r in months} == {(r[0], r[1], int(r[2]), r[3], r[4]) for r in counted_months}


def column(body: dict[str, Any], code: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in body["stages"] if c["stage"]["code"] == code)
    return found


async def test_sums_per_stage_exact_and_pages(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client, "View sums")
    pipeline = await deal_pipeline(client, owner)
    a = await make_opportunity(client, owner, value="1000.05")  # qualified 20 (default)
    b = await make_opportunity(client, owner, value="333.33", probability=33)
    c = await make_opportunity(client, owner, value="10.01", stage="proposal")  # 50
    await make_opportunity(client, owner, value="99.99", currency="EUR")
    resp = await client.get(VIEW, headers=owner.headers)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["pipeline"]["id"] == pipeline["id"] and body["currency"] == "USD"
    assert [s["stage"]["code"] for s in body["stages"]] == [
        "qualified", "proposal", "negotiation", "closed_won", "closed_lost"]
    q = column(body, "qualified")
    assert q["count"] == 3  # every currency
    assert q["value"] == "1333.38"  # USD only
    assert q["weighted_value"] == weighted(("1000.05", 20), ("333.33", 33))
    assert {x["currency"]: x["value"] for x in q["by_currency"]} == {
        "EUR": "99.99", "USD": "1333.38"}
    eur = next(x for x in q["by_currency"] if x["currency"] == "EUR")
    assert eur["weighted_value"] == weighted(("99.99", 20))
    p = column(body, "proposal")
    assert p["count"] == 1 and p["weighted_value"] == "5.01"  # 5.005 half up
    assert body["totals"]["count"] == 4 and body["totals"]["value"] == "1343.39"
    assert body["totals"]["weighted_value"] == weighted(
        ("1000.05", 20), ("333.33", 33), ("10.01", 50))
    assert {r["id"] for r in p["opportunities"]["data"]} == {c["id"]}
    # In EUR instead.
    eur_view = (await client.get(f"{VIEW}?currency=EUR", headers=owner.headers)).json()
    assert eur_view["currency"] == "EUR" and eur_view["totals"]["value"] == "99.99"
    # Pages: newest first, then the stage's cursor.
    small = (await client.get(f"{VIEW}?per_page=2", headers=owner.headers)).json()
    first = column(small, "qualified")["opportunities"]
    assert len(first["data"]) == 2 and first["next_cursor"]
    nxt = await client.get(f"{VIEW}/stages/qualified?per_page=2&cursor={first['next_cursor']}",
                           headers=owner.headers)
    assert nxt.status_code == 200, nxt.text
    seen = [r["id"] for r in first["data"]] + [r["id"] for r in nxt.json()["data"]]
    assert set(seen) >= {a["id"], b["id"]} and len(seen) == 3 and nxt.json()["next_cursor"] is None
    # Another stage's cursor, an unknown stage, a lead pipeline, a bad per_page.
    wrong = await client.get(f"{VIEW}/stages/proposal?cursor={first['next_cursor']}",
                             headers=owner.headers)
    assert wrong.status_code == 422 and wrong.json()["code"] == "INVALID_CURSOR"
    unknown = await client.get(f"{VIEW}/stages/nope", headers=owner.headers)
    assert unknown.status_code == 404 and unknown.json()["code"] == "STAGE_NOT_FOUND"
    leads_p = (await client.get("/api/v1/pipelines?kind=lead", headers=owner.headers)).json()
    bad = await client.get(f"{VIEW}?pipeline_id={leads_p['data'][0]['id']}",
                           headers=owner.headers)
    assert bad.status_code == 422 and bad.json()["code"] == "PIPELINE_NOT_FOUND"
    assert (await client.get(f"{VIEW}?per_page=51", headers=owner.headers)).status_code == 422
    assert (await client.get(f"{VIEW}?currency=euro", headers=owner.headers)).status_code == 422
    # Figures only.
    bare = (await client.get(f"{VIEW}?per_page=0", headers=owner.headers)).json()
    assert column(bare, "qualified")["opportunities"]["data"] == []
    await sums_equal_scan(db, owner.tenant_id)


async def test_moves_closes_edits_and_deletes_keep_the_sums(client: httpx.AsyncClient,
                                                           db: Database) -> None:
    owner = await make_workspace(client, "View moves")
    agent = await add_member(client, owner, "agent")
    opps = [await make_opportunity(client, owner, value=f"{100 + i}.10",
                                   expected_close_date="2030-01-15") for i in range(5)]
    url = f"{BASE}/{opps[0]['id']}"
    assert (await client.post(f"{url}/stage", headers=owner.headers,
                              json={"stage": "negotiation"})).status_code == 200
    assert (await client.post(f"{BASE}/{opps[1]['id']}/close-won", headers=owner.headers,
                              json={})).status_code == 200
    assert (await client.post(f"{BASE}/{opps[2]['id']}/close-lost", headers=owner.headers,
                              json={"reason": "price"})).status_code == 200
    assert (await client.patch(f"{BASE}/{opps[3]['id']}", headers=owner.headers, json={
        "probability": 90, "value": "7.77", "owner_id": str(agent.user_id),
        "expected_close_date": "2031-02-01"})).status_code == 200
    assert (await client.delete(f"{BASE}/{opps[4]['id']}", headers=owner.headers)
            ).status_code == 204
    body = (await client.get(VIEW, headers=owner.headers)).json()
    counts = {c["stage"]["code"]: c["count"] for c in body["stages"]}
    assert counts == {"qualified": 1, "proposal": 0, "negotiation": 1, "closed_won": 1,
                      "closed_lost": 1}
    assert column(body, "closed_won")["weighted_value"] == "101.10"  # 100%
    assert column(body, "closed_lost")["weighted_value"] == "0.00"
    assert column(body, "qualified")["weighted_value"] == weighted(("7.77", 90))
    # The owner filter: the sums of the agent's.
    mine = (await client.get(f"{VIEW}?owner_id={agent.user_id}", headers=owner.headers)).json()
    assert mine["totals"]["count"] == 1 and mine["totals"]["value"] == "7.77"
    await sums_equal_scan(db, owner.tenant_id)


async def test_agents_see_their_own_and_their_leads(client: httpx.AsyncClient,
                                                   db: Database) -> None:
    owner = await make_workspace(client, "View roles")
    agent = await add_member(client, owner, "agent")
    viewer = await add_member(client, owner, "viewer")
    theirs = await make_opportunity(client, agent, value="10.00")
    lead = await make_lead(client, agent)
    # Owned by the workspace owner, but about the agent's lead: the agent sees it.
    via_lead = await make_opportunity(client, owner, value="20.00", lead_id=lead["id"],
                                      owner_id=str(owner.user_id))
    await make_opportunity(client, owner, value="40.00")
    seen = (await client.get(VIEW, headers=agent.headers)).json()
    assert seen["totals"]["count"] == 2 and seen["totals"]["value"] == "30.00"
    ids = {r["id"] for c in seen["stages"] for r in c["opportunities"]["data"]}
    assert ids == {theirs["id"], via_lead["id"]}
    # Service level, the same.
    async with db.transaction(owner.tenant_id) as session:
        body = await views.pipeline_view(session, ctx=ctx_of(agent))
    assert body["totals"]["value"] == Decimal("30.00")
    # The forecast counts the same two (both without an expected close date).
    forecast = (await client.get(f"{BASE}/forecast", headers=agent.headers)).json()
    assert forecast["undated"]["count"] == 2 and forecast["undated"]["value"] == "30.00"
    narrowed = (await client.get(f"{VIEW}?owner_id={owner.user_id}", headers=agent.headers)
                ).json()
    assert narrowed["totals"]["count"] == 1 and narrowed["totals"]["value"] == "20.00"
    everything = (await client.get(VIEW, headers=viewer.headers)).json()
    assert everything["totals"]["count"] == 3 and everything["totals"]["value"] == "70.00"
    # Another workspace sees none of them, and not its pipeline.
    other = await make_workspace(client, "View other")
    theirs_view = (await client.get(VIEW, headers=other.headers)).json()
    assert theirs_view["totals"]["count"] == 0
    foreign = await client.get(f"{VIEW}?pipeline_id={seen['pipeline']['id']}",
                               headers=other.headers)
    assert foreign.status_code == 422 and foreign.json()["code"] == "PIPELINE_NOT_FOUND"
    assert (await client.get(VIEW)).status_code == 401
