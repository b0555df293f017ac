"""``/api/v1/rules``: the fields of a workspace's rules and checking a rule through HTTP,
with roles and other workspaces; ``load_facts`` against PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from leadbase.db.session import Database
from leadbase.rules import load_catalog, load_facts, matches, parse
from tests.factories import add_member, make_lead, make_workspace

pytestmark = pytest.mark.asyncio(loop_scope="session")
RULES = "/api/v1/rules"


async def test_fields_lists_builtin_custom_and_counts(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    resp = await client.post("/api/v1/fields", headers=owner.headers,
                             json={"code": "Edad", "name": "Edad", "type": "INT"})
    assert resp.status_code == 201, resp.text
    resp = await client.get(f"{RULES}/fields", headers=owner.headers)
    assert resp.status_code == 200
    by_name = {f["field"]: f for f in resp.json()["data"]}
    assert by_name["fields.Edad"]["kind"] == "int" and "gte" in by_name["fields.Edad"]["ops"]
    assert by_name["status"]["choices"] == sorted(by_name["status"]["choices"])
    assert by_name["activities.call"]["takes_within_days"] is True
    assert "contains" in by_name["tags"]["ops"]
    assert by_name["tasks.overdue"]["kind"] == "count"


async def test_check_counts_what_the_user_can_read(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    viewer = await add_member(client, owner, "viewer")
    await make_lead(client, owner, source="website", tags=["vip"])
    await make_lead(client, owner, source="website", owner_id=str(agent.user_id))
    await make_lead(client, owner, source="ads")
    rule = {"all": [{"field": "source", "op": "eq", "value": "website"}]}
    for member, expected in ((owner, 2), (agent, 1), (viewer, 2)):
        resp = await client.post(f"{RULES}/check", headers=member.headers,
                                 json={"condition": rule})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["count"] == expected, member.role
        assert body["description"] == "source is website"
        assert body["count_is_capped"] is False
    resp = await client.post(f"{RULES}/check", headers=owner.headers, json={"condition": {
        "not": {"field": "tags", "op": "contains", "value": "vip"}}})
    assert resp.json()["count"] == 2


async def test_check_refuses_bad_rules_with_paths(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    resp = await client.post(f"{RULES}/check", headers=owner.headers, json={"condition": {
        "any": [{"field": "score", "op": "gte", "value": 10},
                {"field": "score", "op": "gte", "value": "ten"}]}})
    assert resp.status_code == 422
    body = resp.json()
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert body["code"] == "INVALID_RULE"
    assert body["errors"] == [{"field": "condition.any[1].value",
                               "message": "a whole number"}]
    resp = await client.post(f"{RULES}/check", headers=owner.headers, json={})
    assert resp.status_code == 422


async def test_other_workspaces_ids_are_refused(client: httpx.AsyncClient) -> None:
    mine, theirs = await make_workspace(client), await make_workspace(client)
    pipes = (await client.get("/api/v1/pipelines?kind=lead", headers=theirs.headers)).json()
    their_stage = pipes["data"][0]["stages"][0]["id"]
    for field, value in (("stage", their_stage), ("owner", str(theirs.user_id)),
                         ("pipeline", pipes["data"][0]["id"])):
        resp = await client.post(f"{RULES}/check", headers=mine.headers, json={
            "condition": {"field": field, "op": "eq", "value": value}})
        assert resp.status_code == 422, field
        assert "of this workspace" in resp.json()["errors"][0]["message"]


async def test_unauthenticated(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"{RULES}/fields")).status_code == 401


async def test_load_facts_counts_like_sql(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    lead = await make_lead(client, owner)
    other = await make_lead(client, owner)
    now = datetime.now(UTC)
    for days, kind in ((1, "call"), (3, "call"), (40, "call"), (2, "note")):
        resp = await client.post("/api/v1/activities", headers=owner.headers, json={
            "lead_id": lead["id"], "type": kind,
            "occurred_at": (now - timedelta(days=days)).isoformat(),
            **({"attributes": {"content": "x"}} if kind == "note" else {})})
        assert resp.status_code == 201, resp.text
    resp = await client.post("/api/v1/tasks", headers=owner.headers, json={
        "lead_id": lead["id"], "title": "Call back",
        "due_at": (now - timedelta(days=1)).isoformat()})
    assert resp.status_code == 201, resp.text
    async with db.transaction(owner.tenant_id) as session:
        catalog = await load_catalog(session, tenant_id=owner.tenant_id)
        rule = parse({"all": [
            {"field": "activities.call", "op": "eq", "value": 2, "within_days": 7},
            {"field": "activities.call", "op": "eq", "value": 3},
            {"field": "activities.note", "op": "gte", "value": 1},
            {"field": "tasks.overdue", "op": "eq", "value": 1}]}, catalog)
        ids = [uuid.UUID(lead["id"]), uuid.UUID(other["id"])]
        facts = await load_facts(session, tenant_id=owner.tenant_id, lead_ids=ids,
                                 needs=rule.needs, now=now)
    got = {str(k): matches(rule, f, now=now) for k, f in facts.items()}
    assert got == {lead["id"]: True, other["id"]: False}
    counts = facts[uuid.UUID(lead["id"])].counts
    assert counts[("activities", "call", 7)] == 2
    assert counts[("tasks", "overdue", None)] == 1


async def test_code_list_values_are_checked_and_matched(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    resp = await client.post("/api/v1/code-lists", headers=owner.headers, json={
        "name": "Intereses", "items": [{"code": "auto", "label": "Auto"},
                                       {"code": "moto", "label": "Moto"}]})
    assert resp.status_code == 201, resp.text
    code_list = resp.json()["id"]
    for name, subtype in (("Intereses", "SELECTOR_MULTIPLE"), ("Principal", "SELECTOR_SINGLE")):
        resp = await client.post("/api/v1/fields", headers=owner.headers, json={
            "name": name, "type": "SELECTOR", "subtype": subtype, "code_list_id": code_list})
        assert resp.status_code == 201, resp.text
    await make_lead(client, owner, fields={"Intereses": ["auto", "moto"], "Principal": "moto"})
    await make_lead(client, owner, fields={"Intereses": ["auto"]})
    for condition, count in (
            ({"field": "fields.Intereses", "op": "contains", "value": ["moto"]}, 1),
            ({"field": "fields.Intereses", "op": "in", "value": ["auto", "moto"]}, 2),
            ({"field": "fields.Principal", "op": "eq", "value": "moto"}, 1),
            ({"field": "fields.Principal", "op": "missing"}, 1)):
        resp = await client.post(f"{RULES}/check", headers=owner.headers,
                                 json={"condition": condition})
        assert resp.status_code == 200, resp.text
        assert resp.json()["count"] == count, condition
    for condition, path in (
            ({"field": "fields.Intereses", "op": "contains", "value": ["casa"]},
             "condition.value[0]"),
            ({"field": "fields.Principal", "op": "in", "value": ["moto", "casa"]},
             "condition.value[1]")):
        resp = await client.post(f"{RULES}/check", headers=owner.headers,
                                 json={"condition": condition})
        assert resp.status_code == 422
        assert resp.json()["errors"][0]["field"] == path
        assert "'casa' is not a code" in resp.json()["errors"][0]["message"]
