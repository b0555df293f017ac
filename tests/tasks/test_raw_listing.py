"""The task lists written as SQL text (``tasks.raw_listing``) answer exactly what the
SQLAlchemy statements of ``tasks.listing`` answer: pages, cursors, totals, for the owner
and for an agent (their own leads' tasks only), deleted leads and tasks left out."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from leadbase.tasks import listing
from tests.factories import Member, add_member, make_lead, make_workspace
from tests.listings.test_listings import make_listing
from tests.tasks.test_tasks import make_task

QUERIES = [
    "", "status=open", "status=open,completed", "tag=VIP", "tag=VIP,Cold&status=open",
    "priority=high", "assignee_id=none", "due_before=2030-01-01T00:00:00Z",
    "due_after=2020-01-01T00:00:00Z", "overdue=true", "title=drive", "title=50%",
    "include_deleted=true", "q=garcia", "q=drive", "q=vip&status=open", "q=nothing",
    "q=zuniga", "sort=-created_at", "sort=due_at", "sort=title,-priority", "sort=-number",
    "q=drive&sort=-position", "page=2&per_page=3", "q=a&page=2&per_page=3",
    "sort=lead_name", "q=drive&sort=lead_name",
]


async def _answers(client: httpx.AsyncClient, member: Member, base: str,
                   query: str) -> list[Any]:
    """Every page of ``query`` followed by cursor (or the page asked), totals included."""
    pages: list[Any] = []
    cursor = None
    for _ in range(30):
        url = f"{base}?{query}" + ("" if "per_page" in query else "&per_page=2") + (
            f"&cursor={cursor}" if cursor else "")
        r = await client.get(url, headers=member.headers)
        assert r.status_code == 200, (query, r.text)
        body = r.json()
        pages.append({k: v for k, v in body.items() if k != "next_cursor"})
        cursor = body["next_cursor"]
        if cursor is None or "page=" in query:
            break
    return pages


@pytest.mark.parametrize("window", [10_000, 2])
async def test_same_answers_as_sqlalchemy(client: httpx.AsyncClient, window: int,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    owner = await make_workspace(client, "Raw tasks")
    agent = await add_member(client, owner, "agent")
    car = await make_listing(client, owner)
    garcia = await make_lead(client, owner, first_name="Lucía", last_name="García")
    mine = await make_lead(client, agent, first_name="Iker", last_name="Zúñiga")
    gone = await make_lead(client, owner, first_name="Ana", last_name="García")
    titles = ["Schedule test drive", "Follow-up call", "Prepare 50% deposit", "Test drive"]
    for i in range(14):
        lead = (garcia, mine, gone)[i % 3]
        member = agent if lead is mine else owner
        task = await make_task(
            client, member, lead, title=titles[i % 4], tag=("VIP", "Cold", None)[i % 3],
            priority=("high", "normal")[i % 2], listing_id=car["id"] if i % 2 else None,
            due_at=("2021-05-01T10:00:00Z" if i % 4 == 0 else
                    "2031-05-01T10:00:00Z" if i % 4 == 1 else None),
            status="completed" if i % 5 == 0 else "open")
        if i % 7 == 3:
            assert (await client.delete(f"/api/v1/tasks/{task['id']}",
                                        headers=member.headers)).status_code == 204
    assert (await client.delete(f"/api/v1/leads/{gone['id']}",
                                headers=owner.headers)).status_code == 204
    monkeypatch.setattr(listing, "SEARCH_WINDOW", window)
    for member in (owner, agent):
        for base in ("/api/v1/tasks", f"/api/v1/listings/{car['id']}/tasks"):
            for query in QUERIES:
                monkeypatch.setattr(listing, "RAW", True)
                fast = await _answers(client, member, base, query)
                monkeypatch.setattr(listing, "RAW", False)
                slow = await _answers(client, member, base, query)
                assert fast == slow, (member.role, base, query)
