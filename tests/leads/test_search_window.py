"""``q=`` searches walked through a bounded window first: the same pages as a plain query,
whichever way a page is found (in the window, or from all the matches)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from leadbase.db import raw
from leadbase.leads import listing
from tests.factories import Member, make_lead, make_workspace, walk_leads


async def _walk(client: httpx.AsyncClient, owner: Member, query: str) -> list[str]:
    return await walk_leads(client, owner, query, per_page=2, pages=30)


async def test_pages_do_not_depend_on_the_window(client: httpx.AsyncClient,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    owner = await make_workspace(client)
    leads: list[dict[str, Any]] = []
    # Old leads named Rare, then many recent Common ones (newest first in the default sort).
    for i in range(4):
        leads.append(await make_lead(client, owner, first_name=f"Rare {i}", last_name="Zed"))
    for i in range(7):
        leads.append(await make_lead(client, owner, first_name=f"Common {i}",
                                     last_name="Zed" if i % 2 else "Other"))
    newest_first = [x["id"] for x in reversed(leads)]

    def expected(word: str) -> list[str]:
        return [i for i in newest_first
                if word in next(x for x in leads if x["id"] == i)["first_name"].lower()
                or word in next(x for x in leads if x["id"] == i)["last_name"].lower()]

    used: dict[str, int] = {"window": 0, "matches": 0}
    for name, key in (("search_window_query", "window"), ("search_matches_query", "matches")):
        original = getattr(listing, name)

        def counted(*args: Any, _original: Any = original, _key: str = key) -> Any:
            used[_key] += 1
            return _original(*args)

        monkeypatch.setattr(listing, name, counted)
    # The list's own filters run as SQL text on the raw driver (leads.raw_listing).
    fetch_all = raw.fetch_all

    async def counted_sql(session: Any, sql: str, params: Any) -> Any:
        if "AS recent" in sql:
            used["window"] += 1
        elif sql.startswith("WITH matches"):
            used["matches"] += 1
        return await fetch_all(session, sql, params)

    monkeypatch.setattr(raw, "fetch_all", counted_sql)
    for window in (3, 10_000):  # a window the rare leads are beyond, and a big one
        monkeypatch.setattr(listing, "SEARCH_WINDOW", window)
        for word in ("rare", "common", "zed", "nothing"):
            assert await _walk(client, owner, f"q={word}") == expected(word), (window, word)
            assert await _walk(client, owner, f"q={word}&sort=created_at") == \
                list(reversed(expected(word))), (window, word)
            first = (await client.get(f"/api/v1/leads?q={word}&per_page=3",
                                      headers=owner.headers)).json()
            assert [r["id"] for r in first["data"]] == expected(word)[:3]
    # On a table this small the planner walks (no trigram index): both ways were taken.
    assert used["window"] and used["matches"], used
