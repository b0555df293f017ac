"""The dashboard page over HTTP: the analytics service's figures in the page, bad ranges,
an agent's own leads only, sign-in required."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from tests.console.conftest import ConsoleClient
from tests.console.work import signed_in
from tests.factories import add_member, make_lead, make_workspace

DATA = re.compile(r'<script type="application/json" id="dash-data">(.*?)</script>', re.S)


def figures(html: str) -> dict[str, Any]:
    found = DATA.search(html)
    assert found, "no dashboard data in the page"
    body: dict[str, Any] = json.loads(found.group(1))
    return body


async def test_the_dashboard_carries_its_figures(client: httpx.AsyncClient,
                                                 console: ConsoleClient) -> None:
    owner = await make_workspace(client, "Dash Co")
    agent = await add_member(client, owner, "agent")
    for source in ("web", "web", "fair"):
        await make_lead(client, owner, source=source)
    await make_lead(client, agent, source="agent-own")
    await console.sign_in(owner.email)
    page = await console.get("/app/dashboard")
    assert page.status_code == 200
    data = figures(page.text)
    assert data["leads"]["by_source"]["total"] == 4 and data["imports"] is not None
    assert 'data-chart="by_source"' in page.text and 'data-chart="pipeline"' in page.text
    assert "uplot-1.6.32.iife.min.js" in page.text
    assert "<th scope=\"col\">web</th>" in page.text  # the figures as a table too
    monthly = figures((await console.get("/app/dashboard?bucket=month")).text)
    assert monthly["leads"]["by_source"]["bucket"] == "month"

    bad = await console.get("/app/dashboard?from=2026-05-02&to=2026-05-01")
    assert bad.status_code == 422 and 'id="dash-problem"' in bad.text
    assert (await console.get("/app/dashboard?from=nonsense")).status_code == 422
    assert (await console.get("/app/dashboard?bucket=year")).status_code == 422

    async with signed_in(console, agent) as mine:
        data = figures((await mine.get("/app/dashboard")).text)
    assert [s["key"] for s in data["leads"]["by_source"]["series"]] == ["agent-own"]
    assert data["imports"] is None


async def test_the_dashboard_needs_a_session(console: ConsoleClient) -> None:
    resp = await console.http.get("/app/dashboard")
    assert resp.status_code == 303 and "/app/login" in resp.headers["location"]


ASSET = re.compile(r'(?:src|href)="(/app/static/[^"]+)"')


async def test_pages_ship_under_300_kb_of_assets(client: httpx.AsyncClient,
                                                 console: ConsoleClient) -> None:
    """Every page's scripts and styles together stay under 300 KB (the issue's budget)."""
    owner = await make_workspace(client, "Assets")
    await make_lead(client, owner, source="web")
    await console.sign_in(owner.email)
    pipeline = (await client.get("/api/v1/pipelines?kind=lead", headers=owner.headers)
                ).json()["data"][0]
    for url in ("/app/dashboard", f"/app/pipelines/{pipeline['id']}/board",
                "/app/imports/new", "/app/settings", "/app/settings/users",
                "/app/settings/api-keys"):
        page = await console.get(url)
        assert page.status_code == 200, url
        assets = set(ASSET.findall(page.text))
        sizes = [len((await console.http.get(a)).content) for a in assets]
        assert all(sizes) and sum(sizes) < 300_000, (url, dict(zip(assets, sizes, strict=True)))
