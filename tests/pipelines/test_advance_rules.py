"""Auto-advance rules of a stage: create (rule and target checked), order, If-Match, audit,
Idempotency-Key, roles, deal pipelines and other workspaces."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.factories import Member, add_member, make_workspace
from tests.pipelines.conftest import PIPELINES, default_pipeline, pipelines, stage_id

ALWAYS = {"field": "score", "op": "gte", "value": 0}


def rules_url(pipeline: dict[str, Any], stage: str) -> str:
    return f"{PIPELINES}/{pipeline['id']}/stages/{stage_id(pipeline, stage)}/advance-rules"


async def add_rule(client: httpx.AsyncClient, member: Member, pipeline: dict[str, Any],
                   stage: str, target: str, name: str,
                   condition: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    resp = await client.post(rules_url(pipeline, stage), headers=member.headers, json={
        "name": name, "condition": condition or ALWAYS, "target_stage": target, **extra})
    assert resp.status_code == 201, resp.text
    data: dict[str, Any] = resp.json()
    return data


async def test_create_list_and_order(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    p = await default_pipeline(client, owner)
    url = rules_url(p, "new")
    first = await add_rule(client, owner, p, "new", "contacted", "Called",
                           {"field": "activities.call", "op": "gte", "value": 1,
                            "within_days": 7})
    assert first["target_stage"] == "contacted" and first["position"] == 0
    assert first["stage_id"] == stage_id(p, "new") and first["enabled"]
    assert first["summary"] and first["problems"] is None
    second = await add_rule(client, owner, p, "new", stage_id(p, "qualified"), "Hot",
                            {"field": "score", "op": "gte", "value": 80})
    top = await add_rule(client, owner, p, "new", "lost", "Do not contact",
                         {"field": "do_not_contact", "op": "eq", "value": True}, position=0)
    listing = (await client.get(url, headers=owner.headers)).json()
    assert [r["name"] for r in listing["data"]] == ["Do not contact", "Called", "Hot"]
    assert [r["position"] for r in listing["data"]] == [0, 1, 2] and listing["total"] == 3
    # Move "Hot" first; If-Match on the rule's version.
    rule_url = f"{url}/{second['id']}"
    stale = await client.patch(rule_url, headers={**owner.headers, "If-Match": '"9"'},
                               json={"position": 0})
    assert stale.status_code == 412
    moved = await client.patch(rule_url, headers={**owner.headers, "If-Match": '"1"'},
                               json={"position": 0, "name": "Very hot"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["version"] == 2 and moved.headers["etag"] == '"2"'
    listing = (await client.get(url, headers=owner.headers)).json()
    assert [r["name"] for r in listing["data"]] == ["Very hot", "Do not contact", "Called"]
    got = await client.get(f"{url}/{first['id']}", headers=owner.headers)
    assert got.status_code == 200 and got.json()["position"] == 2
    # Delete closes the gap.
    assert (await client.delete(f"{url}/{top['id']}", headers=owner.headers)).status_code == 204
    listing = (await client.get(url, headers=owner.headers)).json()
    assert [(r["name"], r["position"]) for r in listing["data"]] == [("Very hot", 0),
                                                                    ("Called", 1)]
    gone = await client.get(f"{url}/{top['id']}", headers=owner.headers)
    assert gone.status_code == 404 and gone.json()["code"] == "ADVANCE_RULE_NOT_FOUND"
    log = (await client.get(f"/api/v1/audit-log?entity_id={second['id']}",
                            headers=owner.headers)).json()
    assert [e["action"] for e in log["data"]] == ["advance_rule.updated",
                                                 "advance_rule.created"]


async def test_bad_rules_and_targets(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    p = await default_pipeline(client, owner)
    url = rules_url(p, "new")
    bad = await client.post(url, headers=owner.headers, json={
        "name": "Bad", "target_stage": "contacted",
        "condition": {"all": [ALWAYS, {"field": "score", "op": "contains", "value": 1}]}})
    assert bad.status_code == 422 and bad.json()["code"] == "INVALID_RULE"
    assert bad.json()["errors"][0]["field"].startswith("condition.all[1]")
    deal = next(x for x in await pipelines(client, owner, "deal"))
    other = (await client.post(PIPELINES, headers=owner.headers, json={
        "name": "Partners", "stages": [{"name": "Intro"}, {"name": "Signed"}]})).json()
    for target, why in (("new", "the rule's own stage"), ("nope", "no such stage"),
                        (str(other["stages"][0]["id"]), "no such stage"),
                        (str(deal["stages"][0]["id"]), "no such stage")):
        resp = await client.post(url, headers=owner.headers, json={
            "name": "X", "condition": ALWAYS, "target_stage": target})
        assert resp.status_code == 422 and resp.json()["code"] == "INVALID_TARGET_STAGE"
        assert resp.json()["errors"] == [{"field": "target_stage", "message": why}]
    rule = await add_rule(client, owner, p, "new", "contacted", "Ok")
    patch = await client.patch(f"{url}/{rule['id']}", headers=owner.headers,
                               json={"target_stage": "new"})
    assert patch.status_code == 422
    for body in ({}, {"name": None}, {"enabled": None}, {"stage_id": str(uuid.uuid4())}):
        refused = await client.patch(f"{url}/{rule['id']}", headers=owner.headers, json=body)
        assert refused.status_code == 422, body
    # A deal pipeline holds no leads; a stage of another pipeline is not this one's.
    deal_url = f"{PIPELINES}/{deal['id']}/stages/{deal['stages'][0]['id']}/advance-rules"
    assert (await client.get(deal_url, headers=owner.headers)).status_code == 404
    mixed = f"{PIPELINES}/{p['id']}/stages/{other['stages'][0]['id']}/advance-rules"
    resp = await client.get(mixed, headers=owner.headers)
    assert resp.status_code == 404 and resp.json()["code"] == "STAGE_NOT_FOUND"
    # At most 20 per stage.
    for i in range(19):
        await add_rule(client, owner, p, "new", "contacted", f"R{i}")
    full = await client.post(url, headers=owner.headers, json={
        "name": "21st", "condition": ALWAYS, "target_stage": "contacted"})
    assert full.status_code == 409 and full.json()["code"] == "TOO_MANY_RULES"


async def test_idempotency_roles_and_other_workspaces(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    p = await default_pipeline(client, owner)
    url = rules_url(p, "new")
    headers = {**owner.headers, "Idempotency-Key": "rule-1"}
    body = {"name": "Once", "condition": ALWAYS, "target_stage": "contacted"}
    first = await client.post(url, headers=headers, json=body)
    again = await client.post(url, headers=headers, json=body)
    assert first.json()["id"] == again.json()["id"]
    assert again.headers["idempotency-replayed"] == "true"
    rule = first.json()
    manager = await add_member(client, owner, "manager")
    await add_rule(client, manager, p, "new", "qualified", "By a manager")
    for role in ("agent", "viewer"):
        member = await add_member(client, owner, role)
        assert (await client.get(url, headers=member.headers)).json()["total"] == 2
        writes = [
            await client.post(url, headers=member.headers, json=body),
            await client.patch(f"{url}/{rule['id']}", headers=member.headers,
                               json={"name": "x"}),
            await client.delete(f"{url}/{rule['id']}", headers=member.headers),
        ]
        assert [w.status_code for w in writes] == [403, 403, 403]
    stranger = await make_workspace(client)
    for resp in (
        await client.get(url, headers=stranger.headers),
        await client.get(f"{url}/{rule['id']}", headers=stranger.headers),
        await client.post(url, headers=stranger.headers, json=body),
        await client.patch(f"{url}/{rule['id']}", headers=stranger.headers,
                           json={"name": "x"}),
        await client.delete(f"{url}/{rule['id']}", headers=stranger.headers),
    ):
        assert resp.status_code == 404 and resp.json()["code"] == "PIPELINE_NOT_FOUND"
    # Their own pipeline does not reach this rule either.
    theirs = await default_pipeline(client, stranger)
    foreign = f"{rules_url(theirs, 'new')}/{rule['id']}"
    resp = await client.get(foreign, headers=stranger.headers)
    assert resp.status_code == 404 and resp.json()["code"] == "ADVANCE_RULE_NOT_FOUND"
