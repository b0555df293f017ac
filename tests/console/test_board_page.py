"""The pipeline board over HTTP: columns and counts, a move with its history, CSRF,
roles and visibility."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.console.conftest import ConsoleClient
from tests.console.work import signed_in
from tests.factories import Member, add_member, make_lead, make_workspace
from tests.opportunities.helpers import lead_pipeline


async def _board(client: httpx.AsyncClient, owner: Member) -> tuple[dict[str, Any], str]:
    pipeline = await lead_pipeline(client, owner)
    return pipeline, f"/app/pipelines/{pipeline['id']}/board"


async def test_move_a_card_and_see_its_history(client: httpx.AsyncClient,
                                               console: ConsoleClient) -> None:
    owner = await make_workspace(client, "Board Co")
    lead = await make_lead(client, owner, first_name="Card", last_name="Mover")
    pipeline, url = await _board(client, owner)
    first, second = pipeline["stages"][0], pipeline["stages"][1]
    await console.sign_in(owner.email)
    start = await console.http.get("/app/pipelines")
    assert start.status_code == 307 and start.headers["location"] == url
    page = await console.get(url)
    assert page.status_code == 200 and "Card Mover" in page.text
    assert f'data-stage-id="{first["id"]}"' in page.text and 'draggable="true"' in page.text
    # Without the CSRF token: refused, nothing moves.
    refused = await console.post(f"{url}/move", {"lead_id": lead["id"],
                                                 "stage": second["id"]}, csrf=False)
    assert refused.status_code == 403
    moved = await console.post(f"{url}/move", {"lead_id": lead["id"], "stage": second["id"]})
    assert moved.status_code == 303 and moved.headers["location"] == f"{url}?moved={lead['id']}"
    after = await console.get(moved.headers["location"])
    assert re.search(rf'{re.escape(first["name"])} → {re.escape(second["name"])}', after.text)
    api = (await client.get(f"/api/v1/leads/{lead['id']}/stage-history",
                            headers=owner.headers)).json()
    assert api["data"][0]["to_stage_id"] == second["id"]
    # htmx: the board comes back with the card's history open.
    back = await console.http.post(f"{url}/move", data={
        "lead_id": lead["id"], "stage": first["id"]},
        headers={"HX-Request": "true", "X-CSRF-Token": console.csrf})
    assert back.status_code == 200 and back.text.lstrip().startswith('<div id="board"')
    assert "lead-card moved" in back.text and "data-history" in back.text
    history = await console.get(f"{url}/leads/{lead['id']}/history")
    assert history.text.count("<li>") == 3  # placed in the first stage, moved twice


async def test_roles_and_visibility(client: httpx.AsyncClient, console: ConsoleClient) -> None:
    owner = await make_workspace(client, "Board roles")
    agent = await add_member(client, owner, "agent")
    viewer = await add_member(client, owner, "viewer")
    theirs = await make_lead(client, owner, first_name="Owner's", last_name="Lead")
    mine = await make_lead(client, agent, first_name="Agent's", last_name="Lead")
    pipeline, url = await _board(client, owner)
    target = pipeline["stages"][1]["id"]
    async with signed_in(console, agent) as as_agent:
        page = await as_agent.get(url)
        assert "Agent&#39;s Lead" in page.text and "Owner&#39;s Lead" not in page.text
        resp = await as_agent.post(f"{url}/move", {"lead_id": theirs["id"], "stage": target})
        assert resp.status_code == 404
        ok = await as_agent.post(f"{url}/move", {"lead_id": mine["id"], "stage": target})
        assert ok.status_code == 303
    async with signed_in(console, viewer) as as_viewer:
        page = await as_viewer.get(url)
        assert page.status_code == 200 and 'draggable="true"' not in page.text
        resp = await as_viewer.post(f"{url}/move", {"lead_id": theirs["id"], "stage": target})
        assert resp.status_code == 403
    now = (await client.get(f"/api/v1/leads/{theirs['id']}", headers=owner.headers)).json()
    assert now["version"] == theirs["version"]
    stranger = await make_workspace(client, "Elsewhere")
    async with signed_in(console, stranger) as as_stranger:
        assert (await as_stranger.get(url)).status_code == 404
