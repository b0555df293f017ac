"""The bounded q= search (tasks.listing): the window and the gathered matches answer the
same pages, whatever the window's size; counts are exact up to the cap."""

from __future__ import annotations

import httpx
import pytest

from leadbase.tasks import listing
from tests.factories import make_lead, make_workspace
from tests.listings.test_listings import make_listing
from tests.tasks.test_tasks import make_task

QUERIES = ("drive", "garcia", "zzz", "call", "Hot")


async def _walk(client: httpx.AsyncClient, headers: dict[str, str], query: str) -> list[str]:
    ids: list[str] = []
    url = f"/api/v1/tasks?{query}&per_page=2"
    while url:
        body = (await client.get(url, headers=headers)).json()
        ids += [t["id"] for t in body["data"]]
        cursor = body["next_cursor"]
        url = f"/api/v1/tasks?{query}&per_page=2&cursor={cursor}" if cursor else ""
    return ids


@pytest.mark.parametrize(("window", "gather_limit"), [(10_000, 5000), (10_000, -1), (3, -1),
                                                     (1, -1)])
async def test_window_and_gather_agree(client: httpx.AsyncClient, window: int,
                                       gather_limit: int,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    owner = await make_workspace(client, "Search")
    car = await make_listing(client, owner)
    garcia = await make_lead(client, owner, first_name="Lucía", last_name="García")
    other = await make_lead(client, owner, first_name="Ahmed", last_name="Benali")
    expected: dict[str, list[str]] = {q: [] for q in QUERIES}
    for i in range(9):
        lead = garcia if i % 3 == 0 else other
        title = ("Schedule test drive", "Follow-up call", "Prepare documents")[i % 3]
        task = await make_task(client, owner, lead, title=title, listing_id=car["id"],
                               tag="Hot Lead" if i % 4 == 0 else None)
        text = f"{title} {'Hot Lead' if i % 4 == 0 else ''} {lead['first_name']} " \
               f"{lead['last_name']}".lower().replace("í", "i")
        for q in QUERIES:
            if q.lower() in text:
                expected[q].append(task["id"])
    monkeypatch.setattr(listing, "SEARCH_WINDOW", window)
    monkeypatch.setattr(listing, "GATHER_LIMIT", gather_limit)  # -1: every term walks
    for q in QUERIES:
        for scope in ("", f"&listing_id={car['id']}"):
            assert await _walk(client, owner.headers, f"q={q}{scope}") == expected[q], (q, scope)
            first = (await client.get(f"/api/v1/tasks?q={q}{scope}&per_page=2",
                                      headers=owner.headers)).json()
            if not first["total_is_estimate"]:
                assert first["total"] == len(expected[q]), (q, scope, first)


async def _found(client: httpx.AsyncClient, headers: dict[str, str], query: str) -> list[str]:
    resp = await client.get(f"/api/v1/tasks?{query}", headers=headers)
    assert resp.status_code == 200, resp.text
    return [t["id"] for t in resp.json()["data"]]


async def test_the_search_follows_the_lead(client: httpx.AsyncClient) -> None:
    """``q=`` reads the lead's text from the task's own ``search_text`` (migration 0020):
    a rename of the lead, a change of its email, and a task deleted meanwhile follow."""
    owner = await make_workspace(client, "Search")
    lead = await make_lead(client, owner, first_name="Lucía", last_name="García",
                           email="lucia.garcia@example.com")
    other = await make_lead(client, owner, first_name="Ahmed", last_name="Benali")
    task = await make_task(client, owner, lead, title="Schedule test drive", tag="VIP")
    gone = await make_task(client, owner, lead, title="Old follow-up")
    await make_task(client, owner, other, title="Schedule test drive")
    h = owner.headers
    assert await _found(client, h, "q=garcia") == [task["id"], gone["id"]]
    assert await _found(client, h, "q=vip") == [task["id"]]
    assert await _found(client, h, "q=lucia.garcia@") == [task["id"], gone["id"]]
    # No match across the task's part and the lead's ("vip" then "lucia").
    assert await _found(client, h, "q=vip lucia") == []
    assert (await client.delete(f"/api/v1/tasks/{gone['id']}",
                                headers=h)).status_code == 204
    resp = await client.patch(f"/api/v1/leads/{lead['id']}", headers=h, json={
        "last_name": "Zúñiga", "email": "lucia.z@example.com"})
    assert resp.status_code == 200, resp.text
    assert await _found(client, h, "q=garcia") == []
    assert await _found(client, h, "q=zuniga") == [task["id"]]
    assert await _found(client, h, "q=lucia.z@") == [task["id"]]
    assert await _found(client, h, "q=zuniga&include_deleted=true") == [task["id"], gone["id"]]
    # A task's own text changes with it, the lead's part stays.
    resp = await client.patch(f"/api/v1/tasks/{task['id']}", headers=h,
                              json={"title": "Send financing offer"})
    assert resp.status_code == 200, resp.text
    assert await _found(client, h, "q=financing zu") == []  # not across the parts
    assert await _found(client, h, "q=financing") == [task["id"]]
    assert await _found(client, h, "q=zuniga") == [task["id"]]
