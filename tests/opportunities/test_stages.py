"""Stage moves, close won / close lost, reopen, their state errors, events and the stage
history, through HTTP and at the service level."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import text

from leadbase.db.session import Database
from leadbase.kit.errors import AppError
from leadbase.opportunities import stages
from leadbase.opportunities.schemas import (
    CloseLostBody,
    CloseWonBody,
    ReopenBody,
    StageMoveBody,
)
from tests.factories import add_member, make_lead, make_workspace
from tests.opportunities.helpers import BASE, ctx_of, deal_pipeline, make_opportunity


async def _events(db: Database, tenant: uuid.UUID, opp_id: str) -> list[str]:
    async with db.transaction(tenant) as session:
        rows = (await session.execute(text(
            "SELECT type FROM events WHERE entity_id = :o ORDER BY created_at, id"),
            {"o": opp_id})).scalars().all()
    return list(rows)


async def test_moves_close_reopen(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client, "Opp stages")
    lead = await make_lead(client, owner)
    opp = await make_opportunity(client, owner, lead_id=lead["id"], value="1000")
    url = f"{BASE}/{opp['id']}"
    moved = await client.post(f"{url}/stage", headers=owner.headers,
                              json={"stage": "PROPOSAL", "reason": "sent the quote"})
    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert body["opportunity"]["stage"] == "proposal" and body["opportunity"]["version"] == 2
    assert body["opportunity"]["probability"] == 50
    change = body["change"]
    assert change["from_stage"] == "qualified" and change["to_stage"] == "proposal"
    assert change["reason"] == "sent the quote" and change["seconds_in_previous"] >= 0
    assert change["actor_user_id"] == str(owner.user_id)
    same = (await client.post(f"{url}/stage", headers=owner.headers,
                              json={"stage": "proposal"})).json()
    assert same["change"] is None and same["opportunity"]["version"] == 2
    stale = await client.post(f"{url}/stage", headers={**owner.headers, "If-Match": '"1"'},
                              json={"stage": "negotiation"})
    assert stale.status_code == 412
    unknown = await client.post(f"{url}/stage", headers=owner.headers, json={"stage": "new"})
    assert unknown.status_code == 422 and unknown.json()["code"] == "STAGE_NOT_FOUND"

    reopen_open = await client.post(f"{url}/reopen", headers=owner.headers,
                                    json={"reason": "x"})
    assert reopen_open.status_code == 409
    assert reopen_open.json()["code"] == "OPPORTUNITY_NOT_CLOSED"
    won = await client.post(f"{url}/close-won", headers=owner.headers,
                            json={"actual_value": "950.00", "close_date": "2026-12-01"})
    assert won.status_code == 200, won.text
    w = won.json()
    assert w["status"] == "won" and w["stage"] == "closed_won" and w["closed_at"]
    assert w["actual_value"] == "950.00" and w["close_date"] == "2026-12-01"
    assert w["probability"] == 100 and w["weighted_value"] == "1000.00"
    for path, payload in (("close-won", {}), ("close-lost", {"reason": "x"}),
                          ("stage", {"stage": "negotiation"})):
        again = await client.post(f"{url}/{path}", headers=owner.headers, json=payload)
        assert again.status_code == 409 and again.json()["code"] == "OPPORTUNITY_CLOSED", path
    no_reason = await client.post(f"{url}/reopen", headers=owner.headers, json={})
    assert no_reason.status_code == 422
    reopened = await client.post(f"{url}/reopen", headers=owner.headers,
                                 json={"reason": "customer came back"})
    assert reopened.status_code == 200, reopened.text
    r = reopened.json()
    assert r["status"] == "open" and r["stage"] == "proposal"  # where it closed from
    assert r["closed_at"] is None and r["actual_value"] is None
    assert r["reopen_reason"] == "customer came back" and r["reopened_at"]
    lost_no_reason = await client.post(f"{url}/close-lost", headers=owner.headers, json={})
    assert lost_no_reason.status_code == 422
    lost = await client.post(f"{url}/close-lost", headers=owner.headers, json={
        "reason": "price", "competitor": "Initech", "notes": "cheaper offer"})
    assert lost.status_code == 200, lost.text
    lo = lost.json()
    assert lo["status"] == "lost" and lo["stage"] == "closed_lost"
    assert lo["lost_reason"] == "price" and lo["competitor"] == "Initech"
    assert lo["close_notes"] == "cheaper offer" and lo["weighted_value"] == "0.00"
    into_open = await client.post(f"{url}/reopen", headers=owner.headers,
                                  json={"reason": "again", "stage": "closed_won"})
    assert into_open.status_code == 422 and into_open.json()["code"] == "STAGE_NOT_OPEN"
    again = await client.post(f"{url}/reopen", headers=owner.headers,
                              json={"reason": "again", "stage": "negotiation"})
    assert again.json()["stage"] == "negotiation" and again.json()["lost_reason"] is None

    history = (await client.get(f"{url}/stage-history?per_page=2", headers=owner.headers))
    assert history.status_code == 200
    page = history.json()
    assert [h["to_stage"] for h in page["data"]] == ["negotiation", "closed_lost"]
    rest = (await client.get(f"{url}/stage-history?per_page=50&cursor={page['next_cursor']}",
                             headers=owner.headers)).json()
    assert [h["to_stage"] for h in rest["data"]] == ["proposal", "closed_won", "proposal",
                                                     "qualified"]
    assert rest["data"][-1]["from_stage_id"] is None and rest["next_cursor"] is None
    types = await _events(db, owner.tenant_id, opp["id"])
    assert types.count("opportunity.stage_changed") == 5
    for kind in ("created", "won", "lost", "reopened"):
        assert f"opportunity.{kind}" in types
    timeline = (await client.get(f"/api/v1/leads/{lead['id']}/timeline?types="
                                 "opportunity_event&per_page=50", headers=owner.headers)).json()
    assert {e["attributes"]["event"] for e in timeline["data"]} >= {
        "created", "stage_changed", "won", "lost", "reopened"}


async def test_move_into_closing_stages(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client, "Opp move closes")
    opp = await make_opportunity(client, owner, value="80", probability=30)
    url = f"{BASE}/{opp['id']}"
    needs_reason = await client.post(f"{url}/stage", headers=owner.headers,
                                     json={"stage": "closed_lost"})
    assert needs_reason.status_code == 422 and needs_reason.json()["code"] == "REASON_REQUIRED"
    won = (await client.post(f"{url}/stage", headers=owner.headers,
                             json={"stage": "CLOSED_WON"})).json()["opportunity"]
    assert won["status"] == "won" and won["actual_value"] == "80.00" and won["close_date"]
    assert won["probability_is_default"] and won["probability"] == 100
    other = await make_opportunity(client, owner)
    async with db.transaction(owner.tenant_id) as session:
        row, change = await stages.move_stage(
            session, ctx=ctx_of(owner), opportunity_id=uuid.UUID(other["id"]),
            body=StageMoveBody(stage="closed_lost", reason="no budget"))
        assert row["status"] == "lost" and row["lost_reason"] == "no budget"
        assert change is not None and change["to_stage"] == "closed_lost"
        with pytest.raises(AppError) as err:
            await stages.close_lost(session, ctx=ctx_of(owner),
                                    opportunity_id=uuid.UUID(other["id"]),
                                    body=CloseLostBody(reason="again"))
        assert err.value.code == "OPPORTUNITY_CLOSED"
        back = await stages.reopen(session, ctx=ctx_of(owner),
                                   opportunity_id=uuid.UUID(other["id"]),
                                   body=ReopenBody(reason="budget found"))
        assert back["status"] == "open" and back["stage"] == "qualified"
        assert back["value"] == Decimal("50000.00")


async def test_close_won_keeps_its_notes(client: httpx.AsyncClient, db: Database) -> None:
    """Close won takes notes (kept as close_notes, as close lost's); reopening clears
    them."""
    owner = await make_workspace(client, "Opp won notes")
    opp = await make_opportunity(client, owner, value="100")
    won = await client.post(f"{BASE}/{opp['id']}/close-won", headers=owner.headers,
                            json={"notes": "Great negotiation"})
    assert won.status_code == 200, won.text
    assert won.json()["close_notes"] == "Great negotiation"
    long = await client.post(f"{BASE}/{opp['id']}/close-won", headers=owner.headers,
                             json={"notes": "x" * 20_001})
    assert long.status_code == 422
    other = await make_opportunity(client, owner)
    async with db.transaction(owner.tenant_id) as session:
        row = await stages.close_won(session, ctx=ctx_of(owner),
                                     opportunity_id=uuid.UUID(other["id"]),
                                     body=CloseWonBody(notes="signed"))
        assert row["close_notes"] == "signed" and row["status"] == "won"
        back = await stages.reopen(session, ctx=ctx_of(owner),
                                   opportunity_id=uuid.UUID(other["id"]),
                                   body=ReopenBody(reason="again"))
        assert back["close_notes"] is None


async def test_stage_roles_and_workspaces(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Opp stage roles")
    stranger = await make_workspace(client, "Opp stage roles other")
    agent = await add_member(client, owner, "agent")
    viewer = await add_member(client, owner, "viewer")
    opp = await make_opportunity(client, owner)
    mine = await make_opportunity(client, agent)
    for member in (stranger, agent):
        for path, body in (("stage", {"stage": "proposal"}), ("close-won", {}),
                           ("close-lost", {"reason": "x"}), ("reopen", {"reason": "x"})):
            resp = await client.post(f"{BASE}/{opp['id']}/{path}", headers=member.headers,
                                     json=body)
            assert resp.status_code == 404, (member.role, path, resp.text)
        history = await client.get(f"{BASE}/{opp['id']}/stage-history",
                                   headers=member.headers)
        assert history.status_code == 404
    resp = await client.post(f"{BASE}/{mine['id']}/stage", headers=agent.headers,
                             json={"stage": "negotiation"})
    assert resp.status_code == 200
    resp = await client.post(f"{BASE}/{mine['id']}/close-won", headers=viewer.headers, json={})
    assert resp.status_code == 403
    stranger_stage = (await deal_pipeline(client, stranger))["stages"][1]["id"]
    resp = await client.post(f"{BASE}/{mine['id']}/stage", headers=agent.headers,
                             json={"stage": stranger_stage})
    assert resp.status_code == 422 and resp.json()["code"] == "STAGE_NOT_FOUND"


async def test_deleting_a_deal_stage(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Opp stage delete")
    pipeline = await deal_pipeline(client, owner)
    by_code = {s["code"]: s for s in pipeline["stages"]}
    opp = await make_opportunity(client, owner, stage="proposal")
    purl = f"/api/v1/pipelines/{pipeline['id']}/stages/{by_code['proposal']['id']}"
    refused = await client.delete(purl, headers=owner.headers)
    assert refused.status_code == 409 and refused.json()["code"] == "STAGE_NOT_EMPTY"
    wrong = await client.delete(f"{purl}?move_to=closed_won", headers=owner.headers)
    assert wrong.status_code == 422 and wrong.json()["code"] == "INVALID_MOVE_TO"
    category = await client.patch(purl, headers=owner.headers, json={"category": "won"})
    assert category.status_code == 409 and category.json()["code"] == "STAGE_CATEGORY_IN_USE"
    ok = await client.delete(f"{purl}?move_to=negotiation", headers=owner.headers)
    assert ok.status_code in (200, 204), ok.text
    got = (await client.get(f"{BASE}/{opp['id']}", headers=owner.headers)).json()
    assert got["stage"] == "negotiation" and got["version"] == 2
    history = (await client.get(f"{BASE}/{opp['id']}/stage-history",
                                headers=owner.headers)).json()["data"]
    assert history[0]["to_stage"] == "negotiation"
    assert history[0]["reason"] == "stage proposal deleted"


async def test_deleting_a_deal_pipeline_with_opportunities(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Opp pipeline delete")
    resp = await client.post("/api/v1/pipelines", headers=owner.headers, json={
        "name": "Enterprise", "kind": "deal",
        "stages": [{"name": "Open", "code": "open"},
                   {"name": "Won", "code": "won", "category": "won", "probability": 100}]})
    assert resp.status_code == 201, resp.text
    pipeline = resp.json()
    opp = await make_opportunity(client, owner, pipeline_id=pipeline["id"])
    assert opp["stage"] == "open" and opp["pipeline_id"] == pipeline["id"]
    no_lost = await client.post(f"{BASE}/{opp['id']}/close-lost", headers=owner.headers,
                                json={"reason": "x"})
    assert no_lost.status_code == 409 and no_lost.json()["code"] == "NO_LOST_STAGE"
    refused = await client.delete(f"/api/v1/pipelines/{pipeline['id']}", headers=owner.headers)
    assert refused.status_code == 409 and refused.json()["code"] == "PIPELINE_NOT_EMPTY"
