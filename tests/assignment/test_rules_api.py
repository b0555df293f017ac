"""Assignment rules through HTTP: CRUD, order, validation (INVALID_RULE with paths),
If-Match, audit, roles and other workspaces' ids."""

from __future__ import annotations

import uuid

import httpx

from leadbase.db.session import Database
from tests.assignment.helpers import RULES, agents, make_rule, members
from tests.auth.helpers import assert_problem, scalar
from tests.factories import add_member, make_workspace


async def test_create_read_update_delete(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    a, b = await agents(client, owner, 2)
    rule = await make_rule(client, owner, name="Web", strategy="round_robin",
                           members=members(a, b),
                           condition={"field": "source", "op": "eq", "value": "website"})
    assert rule["position"] == 0 and rule["version"] == 1 and rule["enabled"]
    assert rule["description"] and "website" in rule["description"]
    assert [m["user_id"] for m in rule["members"]] == [str(a.user_id), str(b.user_id)]
    url = f"{RULES}/{rule['id']}"
    got = await client.get(url, headers=owner.headers)
    assert got.status_code == 200 and got.json() == rule and got.headers["etag"] == '"1"'
    stale = await client.patch(url, headers={**owner.headers, "If-Match": '"9"'},
                               json={"name": "X"})
    assert_problem(stale, 412, "VERSION_MISMATCH")
    resp = await client.patch(url, headers={**owner.headers, "If-Match": '"1"'},
                              json={"strategy": "weighted",
                                    "members": members(a, b, weights=[3, 1])})
    assert resp.status_code == 200, resp.text
    assert resp.json()["strategy"] == "weighted" and resp.json()["version"] == 2
    assert [m["weight"] for m in resp.json()["members"]] == [3, 1]
    actions = await scalar(db, owner.tenant_id, "SELECT array_agg(action ORDER BY created_at) "
                           "FROM audit_entries WHERE entity_id = :e", e=rule["id"])
    assert actions == ["assignment_rule.created", "assignment_rule.updated"]
    assert_problem(await client.delete(url, headers={**owner.headers, "If-Match": '"1"'}),
                   412, "VERSION_MISMATCH")
    assert (await client.delete(url, headers=owner.headers)).status_code == 204
    assert_problem(await client.get(url, headers=owner.headers), 404,
                   "ASSIGNMENT_RULE_NOT_FOUND")


async def test_order_positions_and_reorder(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    (a,) = await agents(client, owner, 1)
    one = await make_rule(client, owner, name="one", strategy="specific_user",
                          members=members(a))
    two = await make_rule(client, owner, name="two", strategy="specific_user",
                          members=members(a))
    first = await make_rule(client, owner, name="first", strategy="specific_user",
                            members=members(a), position=0)
    listing = (await client.get(RULES, headers=owner.headers)).json()
    assert [r["name"] for r in listing["data"]] == ["first", "one", "two"]
    assert [r["position"] for r in listing["data"]] == [0, 1, 2]
    resp = await client.post(f"{RULES}/reorder", headers=owner.headers,
                             json={"rule_ids": [two["id"], first["id"], one["id"]]})
    assert resp.status_code == 200, resp.text
    assert [r["name"] for r in resp.json()["data"]] == ["two", "first", "one"]
    bad = await client.post(f"{RULES}/reorder", headers=owner.headers,
                            json={"rule_ids": [two["id"], first["id"]]})
    assert_problem(bad, 422, "INVALID_ORDER")
    assert (await client.delete(f"{RULES}/{first['id']}", headers=owner.headers)
            ).status_code == 204
    listing = (await client.get(RULES, headers=owner.headers)).json()
    assert [(r["name"], r["position"]) for r in listing["data"]] == [("two", 0), ("one", 1)]


async def test_bad_rules_name_the_place(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    other = await make_workspace(client)
    (a,) = await agents(client, owner, 1)
    viewer = await add_member(client, owner, "viewer")
    stranger = await add_member(client, other, "agent")
    cases = [
        ({"strategy": "round_robin", "members": members(a),
          "condition": {"all": [{"field": "source", "op": "eq", "value": "web"},
                                {"field": "nope", "op": "eq", "value": 1}]}},
         "condition.all[1].field"),
        ({"strategy": "round_robin", "members": members(a),
          "condition": {"field": "score", "op": "gt", "value": "high"}}, "condition.value"),
        ({"strategy": "round_robin", "members": members(a, stranger)}, "members[1].user_id"),
        ({"strategy": "round_robin", "members": members(viewer)}, "members[0].user_id"),
        ({"strategy": "round_robin", "members": members(a, a)}, "members[1].user_id"),
        ({"strategy": "round_robin", "members": []}, "members"),
        ({"strategy": "specific_user", "members": members(a, viewer)}, "members"),
        ({"strategy": "territory", "members": []}, "territory"),
        ({"strategy": "territory", "territory": {"field": "nope", "entries": [
            {"values": ["ES"], "user_ids": [str(a.user_id)]}]}}, "territory.field"),
        ({"strategy": "territory", "territory": {"field": "score", "entries": [
            {"values": ["x"], "user_ids": [str(a.user_id)]}]}}, "territory.entries[0].values[0]"),
        ({"strategy": "round_robin", "members": members(a), "fallback": "user"},
         "fallback_user_id"),
        ({"strategy": "round_robin", "members": members(a), "fallback": "user",
          "fallback_user_id": str(stranger.user_id)}, "fallback_user_id"),
    ]
    for body, field in cases:
        resp = await client.post(RULES, headers=owner.headers, json={"name": "R", **body})
        problem = assert_problem(resp, 422, "INVALID_RULE")
        assert field in [e["field"] for e in problem["errors"]], (body, problem)
    resp = await client.post(RULES, headers=owner.headers,
                             json={"name": "R", "strategy": "magic", "members": []})
    assert_problem(resp, 422, "VALIDATION_ERROR")
    assert (await client.get(RULES, headers=owner.headers)).json()["total"] == 0


async def test_roles_and_other_workspaces(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    other = await make_workspace(client)
    (a,) = await agents(client, owner, 1)
    manager = await add_member(client, owner, "manager")
    viewer = await add_member(client, owner, "viewer")
    rule = await make_rule(client, manager, strategy="specific_user", members=members(a))
    body = {"name": "R", "strategy": "specific_user", "members": members(a)}
    for who in (a, viewer):
        assert_problem(await client.get(RULES, headers=who.headers), 403, "ROLE_REQUIRED")
        assert_problem(await client.post(RULES, headers=who.headers, json=body), 403,
                       "ROLE_REQUIRED")
        assert_problem(await client.patch(f"{RULES}/{rule['id']}", headers=who.headers,
                                          json={"name": "x"}), 403, "ROLE_REQUIRED")
    for method in ("GET", "PATCH", "DELETE"):
        resp = await client.request(method, f"{RULES}/{rule['id']}", headers=other.headers,
                                    json={"name": "x"} if method == "PATCH" else None)
        assert_problem(resp, 404, "ASSIGNMENT_RULE_NOT_FOUND")
    assert_problem(await client.get(f"{RULES}/{uuid.uuid4()}", headers=owner.headers), 404)
    assert (await client.get("/api/v1/assignment/settings", headers=viewer.headers)
            ).status_code == 200
    assert_problem(await client.put("/api/v1/assignment/settings", headers=a.headers,
                                    json={"auto_assign_new_leads": True}), 403)


async def test_territory_members_are_derived(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    a, b = await agents(client, owner, 2)
    rule = await make_rule(client, owner, strategy="territory", territory={
        "field": "country", "entries": [
            {"values": ["ES", "PT"], "user_ids": [str(a.user_id)]},
            {"values": ["FR"], "user_ids": [str(b.user_id), str(a.user_id)]}]})
    assert [m["user_id"] for m in rule["members"]] == [str(a.user_id), str(b.user_id)]
    assert rule["territory"]["field"] == "country"
