"""The scoring model: validation with paths, thresholds, decay, versions, If-Match, audit,
roles and workspaces."""

from __future__ import annotations

import httpx
from sqlalchemy import text

from leadbase.db.session import Database
from tests.factories import add_member, make_workspace
from tests.scoring.helpers import MODEL, RULES, model_body, put_model


async def test_empty_model_then_versions(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    resp = await client.get(MODEL, headers=owner.headers)
    assert resp.status_code == 200 and resp.headers["etag"] == '"0"'
    assert resp.json()["version"] == 0 and resp.json()["rules"] == []
    first = await put_model(client, owner, if_match='"0"')
    assert first.status_code == 200, first.text
    assert first.headers["etag"] == '"1"'
    body = first.json()
    assert body["version"] == 1 and body["thresholds"] == {"hot": 60, "warm": 30}
    assert body["rules"][0]["description"] == "source is website"
    assert body["rules"][3]["points"] == -25
    stale = await put_model(client, owner, if_match='"0"')
    assert stale.status_code == 412 and stale.json()["code"] == "VERSION_MISMATCH"
    for n in range(2, 5):
        resp = await put_model(client, owner, model_body(RULES[:n - 1]), if_match=f'"{n - 1}"')
        assert resp.status_code == 200 and resp.json()["version"] == n
    got = (await client.get(MODEL, headers=owner.headers)).json()
    assert got["version"] == 4 and len(got["rules"]) == 3
    page = (await client.get(f"{MODEL}/versions?per_page=3", headers=owner.headers)).json()
    assert [v["version"] for v in page["data"]] == [4, 3, 2] and page["total"] == 4
    rest = (await client.get(f"{MODEL}/versions?per_page=3&cursor={page['next_cursor']}",
                             headers=owner.headers)).json()
    assert [v["version"] for v in rest["data"]] == [1] and rest["next_cursor"] is None
    assert (await client.get(f"{MODEL}/versions/2", headers=owner.headers)).json()[
        "version"] == 2
    missing = await client.get(f"{MODEL}/versions/9", headers=owner.headers)
    assert missing.status_code == 404
    assert (await client.get(f"{MODEL}/versions?cursor=bad",
                             headers=owner.headers)).status_code == 422
    async with db.transaction(owner.tenant_id) as session:
        audits = (await session.execute(text(
            "SELECT count(*) FROM audit_entries WHERE action = 'scoring.model_updated'")
        )).scalar_one()
    assert audits == 4
    # Another workspace has its own (empty) model and versions.
    other = await make_workspace(client)
    assert (await client.get(MODEL, headers=other.headers)).json()["version"] == 0
    assert (await client.get(f"{MODEL}/versions/2", headers=other.headers)).status_code == 404


async def test_bad_rules_name_their_path(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    rules = [*RULES[:2], {"name": "Bad", "points": 5, "condition": {"all": [
        {"field": "source", "op": "eq", "value": "x"},
        {"field": "source", "op": "eq", "value": 12}]}}]
    resp = await put_model(client, owner, model_body(rules))
    assert resp.status_code == 422 and resp.json()["code"] == "INVALID_RULE"
    assert [e["field"] for e in resp.json()["errors"]] == ["rules[2].condition.all[1].value"]
    rules = [{"name": "Unknown", "points": 5, "condition": {"field": "nope", "op": "eq",
                                                              "value": "x"}},
             {"name": "Self", "points": 5, "condition": {"any": [
                 {"field": "score", "op": "gte", "value": 50}]}}]
    resp = await put_model(client, owner, model_body(rules))
    assert resp.status_code == 422
    assert [e["field"] for e in resp.json()["errors"]] == [
        "rules[0].condition.field", "rules[1].condition.any[0].field"]
    zero = [{"name": "A", "points": 0, "condition": RULES[0]["condition"]},
            {"name": "a", "points": 3, "condition": RULES[0]["condition"]}]
    resp = await put_model(client, owner, model_body(zero))
    assert resp.status_code == 422 and resp.json()["code"] == "INVALID_SCORING_MODEL"
    assert [e["field"] for e in resp.json()["errors"]] == ["rules[0].points", "rules[1].name"]
    assert (await client.get(MODEL, headers=owner.headers)).json()["version"] == 0


async def test_thresholds_and_decay_checked(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    cases = [
        ({"thresholds": {"hot": 40, "warm": 40}}, "thresholds.hot"),
        ({"thresholds": {"hot": 101, "warm": 40}}, "thresholds.hot"),
        ({"decay": {"mode": "half_life"}}, "decay"),
        ({"decay": {"mode": "per_day", "points_per_day": 0}}, "decay.points_per_day"),
        ({"decay": {"mode": "per_day", "points_per_day": 1, "half_life_days": 3}}, "decay"),
        ({"decay": {"mode": "sometimes"}}, "decay.mode"),
        ({"rules": [{"name": "x", "points": 101, "condition": RULES[0]["condition"]}]},
         "rules.0.points"),
        ({"extra": 1}, "extra"),
    ]
    for patch, field in cases:
        resp = await put_model(client, owner, {**model_body(), **patch})
        assert resp.status_code == 422, patch
        assert field in [e["field"] for e in resp.json()["errors"]], (patch, resp.json())
    ok = await put_model(client, owner, model_body(
        decay={"mode": "per_day", "points_per_day": 1.5}))
    assert ok.status_code == 200
    assert ok.json()["decay"] == {"mode": "per_day", "points_per_day": 1.5}


async def test_roles(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    manager = await add_member(client, owner, "manager")
    assert (await put_model(client, manager)).status_code == 200
    for role in ("agent", "viewer"):
        member = await add_member(client, owner, role)
        resp = await put_model(client, member)
        assert resp.status_code == 403 and resp.json()["code"] == "ROLE_REQUIRED"
        assert (await client.get(MODEL, headers=member.headers)).json()["version"] == 1
        assert (await client.get(f"{MODEL}/versions",
                                 headers=member.headers)).status_code == 200
    assert (await client.get(MODEL)).status_code == 401
