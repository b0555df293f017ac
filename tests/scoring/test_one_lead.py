"""One lead's score: the breakdown in words, the recompute, decay, cap, no lead.updated."""

from __future__ import annotations

import httpx
from sqlalchemy import text

from leadbase.db.session import Database
from tests.factories import make_lead, make_workspace
from tests.scoring.helpers import log_calls, model_body, put_model, score


async def test_recompute_one_lead_with_words(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    assert (await put_model(client, owner)).status_code == 200
    lead = await make_lead(client, owner, source="website", tags=["vip"])
    await log_calls(client, owner, lead["id"], 2)
    got = await score(client, owner, lead["id"], recompute=True)
    assert got["score"] == 85 and got["temperature"] == "hot"
    items = got["breakdown"]["items"]
    assert [i["why"] for i in items] == ["source is website: +15", "has tag vip: +40",
                                         "2 or more calls: +30"]
    assert [i["rule"] for i in items] == ["From the website", "VIP", "Called twice"]
    assert got["breakdown"]["model_version"] == 1 and got["breakdown"]["computed_at"]
    assert sum(i["points"] for i in items) == got["score"]
    again = await score(client, owner, lead["id"])
    assert again == got
    read = (await client.get(f"/api/v1/leads/{lead['id']}", headers=owner.headers)).json()
    assert read["score"] == 85 and read["temperature"] == "hot"
    assert read["version"] == lead["version"]  # a score is not an edit
    async with db.transaction(owner.tenant_id) as session:
        kinds = (await session.execute(text(
            "SELECT type FROM events WHERE entity_id = :i ORDER BY created_at"),
            {"i": lead["id"]})).scalars().all()
    assert "lead.score_changed" in kinds and kinds.count("lead.updated") == 0


async def test_cap_and_decay_in_words(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    rules = [{"name": "Big", "points": 80, "condition": {"field": "source", "op": "eq",
                                                         "value": "website"}},
             {"name": "Bigger", "points": 40, "condition": {"field": "tags", "op": "contains",
                                                            "value": "vip"}}]
    body = model_body(rules, decay={"mode": "half_life", "half_life_days": 21})
    assert (await put_model(client, owner, body)).status_code == 200
    lead = await make_lead(client, owner, source="website", tags=["vip"])
    async with db.transaction(owner.tenant_id) as session:
        await session.execute(text("UPDATE leads SET created_at = now() - interval '21 days 1 "
                                   "hour', last_activity_at = NULL WHERE id = :i"),
                              {"i": lead["id"]})
    got = await score(client, owner, lead["id"], recompute=True)
    whys = [i["why"] for i in got["breakdown"]["items"]]
    assert whys[-2:] == ["capped at 100: -20", "no activity for 21 days: -50"]
    assert got["score"] == 50 and got["temperature"] == "warm"
    per_day = model_body(rules[:1], decay={"mode": "per_day", "points_per_day": 2.5})
    assert (await put_model(client, owner, per_day)).status_code == 200
    got = await score(client, owner, lead["id"], recompute=True)
    assert [i["why"] for i in got["breakdown"]["items"]] == [
        "source is website: +80", "no activity for 21 days: -53"]
    assert got["score"] == 27 and got["breakdown"]["model_version"] == 2
