"""Probability from history: the stage default below the minimum sample, the won share of
the closed deals that passed the stage beyond it, storing it (audited, versioned), and
roles, other workspaces, closed opportunities and idempotent repeats."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from leadbase.db.session import Database
from leadbase.kit.errors import Conflict, NotFound
from leadbase.opportunities import views
from tests.factories import Member, add_member, make_workspace
from tests.opportunities.helpers import BASE, ctx_of, make_opportunity


async def closed_through_proposal(client: httpx.AsyncClient, member: Member, won: int,
                                  lost: int) -> list[dict[str, Any]]:
    made = []
    for i in range(won + lost):
        opp = await make_opportunity(client, member, value="100.00")
        url = f"{BASE}/{opp['id']}"
        assert (await client.post(f"{url}/stage", headers=member.headers,
                                  json={"stage": "proposal"})).status_code == 200
        if i < won:
            resp = await client.post(f"{url}/close-won", headers=member.headers, json={})
        else:
            resp = await client.post(f"{url}/close-lost", headers=member.headers,
                                     json={"reason": "price"})
        assert resp.status_code == 200, resp.text
        made.append(opp)
    return made


def calc(opp_id: str) -> str:
    return f"{BASE}/{opp_id}/calculate-probability"


async def test_probability_from_history(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client, "Probability")
    other = await make_workspace(client, "Probability other")
    target = await make_opportunity(client, owner, value="1000.00", stage="proposal")
    await closed_through_proposal(client, owner, won=5, lost=2)
    # Closed without passing the proposal stage: not in its sample.
    skipped = await make_opportunity(client, owner)
    await client.post(f"{BASE}/{skipped['id']}/close-lost", headers=owner.headers,
                      json={"reason": "no budget"})
    # Another workspace's history never counts.
    await closed_through_proposal(client, other, won=6, lost=0)
    resp = await client.post(calc(target["id"]), headers=owner.headers, json={})
    assert resp.status_code == 200, resp.text
    thin = resp.json()
    assert thin["method"] == "stage_default" and thin["probability"] == 50
    assert (thin["sample_size"], thin["won"], thin["lost"]) == (7, 5, 2)
    assert thin["stage_default"] == 50 and thin["min_sample"] == views.MIN_SAMPLE
    assert thin["stored"] is False and thin["opportunity"] is None
    # No body at all is the same as {}.
    assert (await client.post(calc(target["id"]), headers=owner.headers)).json()[
        "probability"] == 50
    deleted = await closed_through_proposal(client, owner, won=3, lost=3)
    assert (await client.delete(f"{BASE}/{deleted[-1]['id']}", headers=owner.headers)
            ).status_code == 204  # a deleted deal leaves the sample
    rich = (await client.post(calc(target["id"]), headers=owner.headers, json={})).json()
    assert rich["method"] == "history"
    assert (rich["sample_size"], rich["won"], rich["lost"]) == (12, 8, 4)
    assert rich["probability"] == 67  # 66.67 rounded
    # The qualified stage: every deal passed it (its creation), the skipped one too.
    fresh = await make_opportunity(client, owner)
    async with db.transaction(owner.tenant_id) as session:
        q = await views.calculate_probability(session, ctx=ctx_of(owner),
                                              opportunity_id=uuid.UUID(fresh["id"]))
    assert (q["won"], q["lost"], q["method"]) == (8, 5, "history")
    assert q["probability"] == 62  # 61.5 half up
    # Nothing was stored.
    after = (await client.get(f"{BASE}/{target['id']}", headers=owner.headers)).json()
    assert after["probability_is_default"] and after["version"] == target["version"]


async def test_store_roles_and_bad_input(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client, "Probability store")
    other = await make_workspace(client, "Probability store other")
    agent = await add_member(client, owner, "agent")
    viewer = await add_member(client, owner, "viewer")
    target = await make_opportunity(client, owner, value="1000.00", stage="proposal")
    await closed_through_proposal(client, owner, won=9, lost=1)
    stale = await client.post(calc(target["id"]), headers={**owner.headers, "If-Match": '"9"'},
                              json={"store": True})
    assert stale.status_code == 412
    key = {"Idempotency-Key": "calc-1"}
    resp = await client.post(calc(target["id"]), headers={**owner.headers, **key},
                             json={"store": True})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["probability"] == 90 and body["stored"] is True
    assert body["opportunity"]["probability"] == 90
    assert not body["opportunity"]["probability_is_default"]
    assert body["opportunity"]["version"] == target["version"] + 1
    assert body["opportunity"]["weighted_value"] == "900.00"
    again = await client.post(calc(target["id"]), headers={**owner.headers, **key},
                              json={"store": True})
    assert again.json() == body
    read = (await client.get(f"{BASE}/{target['id']}", headers=owner.headers)).json()
    assert read["version"] == target["version"] + 1
    async with db.transaction(owner.tenant_id) as session:
        audited = (await session.execute(text(
            "SELECT count(*) FROM audit_entries WHERE entity_id = :o "
            "AND action = 'opportunity.updated'"), {"o": target["id"]})).scalar()
    assert audited == 1
    # The pipeline view weighs it with its own probability now.
    view = (await client.get(f"{BASE}/pipeline", headers=owner.headers)).json()
    proposal = next(c for c in view["stages"] if c["stage"]["code"] == "proposal")
    assert proposal["weighted_value"] == "900.00"
    # Closed ones, others' ids, roles.
    won = await make_opportunity(client, owner)
    await client.post(f"{BASE}/{won['id']}/close-won", headers=owner.headers, json={})
    closed = await client.post(calc(won["id"]), headers=owner.headers, json={})
    assert closed.status_code == 409 and closed.json()["code"] == "OPPORTUNITY_CLOSED"
    for member in (other, agent):
        resp = await client.post(calc(target["id"]), headers=member.headers, json={})
        assert resp.status_code == 404 and resp.json()["code"] == "OPPORTUNITY_NOT_FOUND"
    assert (await client.post(calc(target["id"]), headers=viewer.headers,
                              json={})).status_code == 403
    assert (await client.post(calc(str(uuid.uuid4())), headers=owner.headers,
                              json={})).status_code == 404
    assert (await client.post(calc(target["id"]), headers=owner.headers,
                              json={"store": "maybe"})).status_code == 422
    assert (await client.post(calc(target["id"]), headers=owner.headers,
                              json={"stor": True})).status_code == 422
    mine = await make_opportunity(client, agent)
    own = await client.post(calc(mine["id"]), headers=agent.headers, json={"store": True})
    assert own.status_code == 200 and own.json()["method"] == "history"
    with pytest.raises(NotFound):
        async with db.transaction(other.tenant_id) as session:
            await views.calculate_probability(session, ctx=ctx_of(other),
                                              opportunity_id=uuid.UUID(target["id"]))
    with pytest.raises(Conflict):
        async with db.transaction(owner.tenant_id) as session:
            await views.calculate_probability(session, ctx=ctx_of(owner),
                                              opportunity_id=uuid.UUID(won["id"]), store=True)
