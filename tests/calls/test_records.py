"""The call history through HTTP: filters, search over lead name, phone and agent name,
keyset pages; metrics by filter."""

from __future__ import annotations

import httpx
import psycopg

from leadbase.db.session import Database
from tests.calls.helpers import CALLS, NOON_NY, enqueue, make_agent, phone_lead, tick
from tests.factories import make_workspace


async def test_history_filters_search_and_pages(client: httpx.AsyncClient, db: Database,
                                                libpq: str) -> None:
    owner = await make_workspace(client, "History")
    alpha = await make_agent(client, owner, name="Alpha caller")
    beta = await make_agent(client, owner, name="Beta caller")
    names = ["Zoe", "Yann", "Xavi", "Wen", "Vera"]
    for i, name in enumerate(names):
        lead = await phone_lead(client, owner, phone=f"+1415555{2630 + i}", first_name=name)
        await enqueue(client, owner, alpha if i < 3 else beta, lead)
    assert len((await tick(db, owner.tenant_id, NOON_NY)).placed) == 5
    async with await psycopg.AsyncConnection.connect(libpq, autocommit=True) as conn:
        await conn.execute(
            "UPDATE calls SET status = 'completed', outcome = CASE WHEN agent_id = %s "
            "THEN 'completed' ELSE 'no_answer' END WHERE tenant_id = %s",
            (alpha["id"], owner.tenant_id))
    h = owner.headers
    seen, cursor = [], None
    while True:
        url = f"{CALLS}?per_page=2" + (f"&cursor={cursor}" if cursor else "")
        body = (await client.get(url, headers=h)).json()
        seen += [c["id"] for c in body["data"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 5
    first = (await client.get(f"{CALLS}?per_page=2&page=1", headers=h)).json()
    assert first["total"] == 5 and len(first["data"]) == 2
    by_agent = (await client.get(f"{CALLS}?agent_id={beta['id']}", headers=h)).json()["data"]
    assert {c["agent_name"] for c in by_agent} == {"Beta caller"} and len(by_agent) == 2
    answered = (await client.get(f"{CALLS}?outcome=completed", headers=h)).json()["data"]
    assert len(answered) == 3
    assert [c["lead_name"] for c in (await client.get(
        f"{CALLS}?q=xavi", headers=h)).json()["data"]] == ["Xavi López"]
    assert len((await client.get(f"{CALLS}?q=beta", headers=h)).json()["data"]) == 2
    assert len((await client.get(f"{CALLS}?q=5552631", headers=h)).json()["data"]) == 1
    assert (await client.get(f"{CALLS}?start_date=2000-01-01&end_date=2000-01-02",
                             headers=h)).json()["data"] == []
    bad = await client.get(f"{CALLS}?outcome=maybe", headers=h)
    assert bad.status_code == 422 and bad.json()["code"] == "INVALID_FILTER"
    assert (await client.get(f"{CALLS}?cursor=junk", headers=h)).status_code == 422
    assert (await client.get(f"{CALLS}?end_date=9999-12-31", headers=h)).status_code == 200
    metrics = (await client.get(f"{CALLS}/metrics?agent_id={alpha['id']}", headers=h)).json()
    assert metrics["total_calls"] == 3 and metrics["pickup_rate"] == 100.0
    overall = (await client.get(f"{CALLS}/metrics", headers=h)).json()
    assert overall["answered_calls"] == 3 and overall["no_answer_calls"] == 2
    assert overall["pickup_rate"] == 60.0 and overall["active_agents"] == 2
    assert {a["agent_name"]: a["total_calls"] for a in overall["by_agent"]} == {
        "Alpha caller": 3, "Beta caller": 2}
    # By the callee's local hour (Los Angeles for these numbers) of when each was made.
    assert sum(b["total"] for b in overall["by_hour"]) == 5
    assert all(0 <= b["hour"] < 24 for b in overall["by_hour"])
    stranger = await make_workspace(client, "History elsewhere")
    assert (await client.get(f"{CALLS}/{seen[0]}", headers=stranger.headers)).status_code == 404
    assert (await client.get(CALLS, headers=stranger.headers)).json()["data"] == []
