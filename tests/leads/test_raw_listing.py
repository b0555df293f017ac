"""The lead listings written as SQL text (``leads.raw_listing``) answer exactly what the
SQLAlchemy statements of ``leads.listing`` answer: pages, cursors, totals."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from leadbase.leads import raw_listing
from tests.factories import Member, make_lead, make_workspace

QUERIES = [
    "", "status=new", "status=new,qualified", "tags=vip", "tags=vip,eu&status=new",
    "source=web", "source=web,fair", "score_gte=10&score_lte=60", "owner_id=none",
    "q=zed", "q=ana&tags=vip", "q=nothing", "include_deleted=true", "only_deleted=true",
    "created_after=2000-01-01T00:00:00Z", "sort=last_name", "sort=-score,first_name",
    "sort=created_at&status=contacted", "count=exact&tags=eu", "page=2&per_page=3",
]


async def _answers(client: httpx.AsyncClient, owner: Member, query: str) -> list[Any]:
    """Every page of ``query`` followed by cursor (or the page asked), totals included."""
    pages: list[Any] = []
    cursor = None
    for _ in range(20):
        url = f"/api/v1/leads?{query}" + ("" if "per_page" in query else "&per_page=2") + (
            f"&cursor={cursor}" if cursor else "")
        r = await client.get(url, headers=owner.headers)
        assert r.status_code == 200, (query, r.text)
        body = r.json()
        pages.append({k: v for k, v in body.items() if k != "next_cursor"})
        cursor = body["next_cursor"]
        if cursor is None or "page=" in query:
            break
    return pages


async def test_same_answers_as_sqlalchemy(client: httpx.AsyncClient,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    owner = await make_workspace(client)
    for i, (status, tags, source) in enumerate([
            ("new", ["vip"], "web"), ("qualified", ["eu"], "fair"), ("new", ["vip", "eu"], None),
            ("contacted", [], "web"), ("new", ["eu"], "fair"), ("lost", ["vip"], None),
            ("contacted", ["vip"], "web")]):
        lead = await make_lead(client, owner, status=status, tags=tags, source=source,
                               first_name=f"Ana {i}" if i % 2 else None,
                               last_name="Zed" if i % 3 else f"Other {i}")
        if i == 5:
            r = await client.delete(f"/api/v1/leads/{lead['id']}", headers=owner.headers)
            assert r.status_code == 204
    fast = {q: await _answers(client, owner, q) for q in QUERIES}
    used: list[str] = []
    original = raw_listing.page

    def counted(*args: Any) -> Any:
        used.append("page")
        return original(*args)

    monkeypatch.setattr(raw_listing, "page", counted)
    assert fast == {q: await _answers(client, owner, q) for q in QUERIES}
    assert used  # the fast path was taken
    for name in ("page", "count", "estimate"):
        monkeypatch.setattr(raw_listing, name, lambda *a, **k: None)
    slow = {q: await _answers(client, owner, q) for q in QUERIES}
    assert fast == slow
    assert any(page["data"] for pages in fast.values() for page in pages)
