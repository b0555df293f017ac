"""POST /api/v1/leads/bulk by ids: every action, per-lead validation, tenants, roles."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.factories import Member, add_member, make_lead, make_workspace


async def _bulk(client: httpx.AsyncClient, member: Member, body: dict[str, Any],
                **headers: str) -> httpx.Response:
    return await client.post("/api/v1/leads/bulk", headers={**member.headers, **headers},
                             json=body)


async def _get(client: httpx.AsyncClient, member: Member, lead_id: str,
               deleted: bool = False) -> dict[str, Any]:
    resp = await client.get(f"/api/v1/leads/{lead_id}?include_deleted={str(deleted).lower()}",
                            headers=member.headers)
    assert resp.status_code == 200, resp.text
    data: dict[str, Any] = resp.json()
    return data


async def test_update_status_tags_and_fields(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    resp = await client.post("/api/v1/fields", headers=owner.headers,
                             json={"name": "Edad", "type": "INT"})
    assert resp.status_code == 201
    a = await make_lead(client, owner, tags=["old", "keep"])
    b = await make_lead(client, owner, tags=["keep"], status="contacted")
    resp = await _bulk(client, owner, {"action": "update", "ids": [a["id"], b["id"], a["id"]],
                                       "changes": {"status": "contacted", "tags_add": ["new"],
                                                   "tags_remove": ["old"],
                                                   "fields": {"Edad": "42"}}})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["matched"], body["updated"], body["unchanged"], body["failed"]) == (2, 2, 0, [])
    assert body["status"] == "completed" and body["mode"] == "ids"
    one, two = await _get(client, owner, a["id"]), await _get(client, owner, b["id"])
    assert one["status"] == "contacted" and one["tags"] == ["keep", "new"]
    assert two["tags"] == ["keep", "new"] and one["fields"] == {"Edad": 42}
    # The same again changes nothing.
    again = (await _bulk(client, owner, {"action": "update", "ids": [a["id"]],
                                         "changes": {"tags_add": ["new"]}})).json()
    assert (again["updated"], again["unchanged"]) == (0, 1)
    # Audit: one entry per lead (as single updates) plus one for the operation.
    log = (await client.get("/api/v1/audit-log?per_page=50", headers=owner.headers)).json()
    actions = [e["action"] for e in log["data"]]
    assert actions.count("leads.bulk_update") == 2 and actions.count("lead.updated") == 2
    got = await client.get(f"/api/v1/leads/bulk/{body['id']}", headers=owner.headers)
    assert got.status_code == 200 and got.json()["updated"] == 2


async def test_each_lead_is_validated_and_failures_do_not_stop_others(
        client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    await client.post("/api/v1/fields", headers=owner.headers,
                      json={"name": "Edad", "type": "INT"})
    good = await make_lead(client, owner)
    anonymous = await make_lead(client, owner, first_name=None, last_name=None,
                                email=None, phone="+14155552671")
    taken = await make_lead(client, owner, email="taken@example.com")
    missing = str(uuid.uuid4())
    resp = await _bulk(client, owner, {"action": "update",
                                       "ids": [good["id"], missing, anonymous["id"], taken["id"]],
                                       "changes": {"fields": {"Edad": "veinte"}}})
    body = resp.json()
    assert resp.status_code == 200
    assert body["matched"] == 4 and body["updated"] == 0
    codes = {f["id"]: f["code"] for f in body["failed"]}
    assert codes[missing] == "LEAD_NOT_FOUND"
    assert codes[good["id"]] == codes[taken["id"]] == "INVALID_FIELD_VALUE"
    assert all(f["message"] for f in body["failed"])
    # A valid change next to invalid ones: the valid lead is updated, the rest reported.
    resp = await _bulk(client, owner, {"action": "update", "ids": [good["id"], missing],
                                       "changes": {"status": "qualified"}})
    body = resp.json()
    assert body["updated"] == 1 and [f["id"] for f in body["failed"]] == [missing]
    assert (await _get(client, owner, good["id"]))["status"] == "qualified"
    # Unassigning and a status change on a phone-only lead.
    resp = await _bulk(client, owner, {"action": "update", "ids": [anonymous["id"]],
                                       "changes": {"status": "lost", "owner_id": None}})
    assert resp.json()["updated"] == 1
    unknown_owner = str(uuid.uuid4())
    resp = await _bulk(client, owner, {"action": "update", "ids": [good["id"]],
                                       "changes": {"owner_id": unknown_owner}})
    assert resp.json()["failed"][0]["code"] == "OWNER_NOT_FOUND"


async def test_delete_and_restore(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    a = await make_lead(client, owner)
    b = await make_lead(client, owner)
    resp = await _bulk(client, owner, {"action": "delete", "ids": [a["id"], b["id"]]})
    assert resp.json()["updated"] == 2
    assert (await client.get(f"/api/v1/leads/{a['id']}", headers=owner.headers)
            ).status_code == 404
    again = (await _bulk(client, owner, {"action": "delete", "ids": [a["id"]]})).json()
    assert again["failed"][0]["code"] == "LEAD_NOT_FOUND"
    # b's email is taken by a new lead: b cannot come back, a can.
    await make_lead(client, owner, email=b["email"])
    resp = await _bulk(client, owner, {"action": "restore", "ids": [a["id"], b["id"]]})
    body = resp.json()
    assert body["updated"] == 1
    assert body["failed"] == [{"id": b["id"], "code": "DUPLICATE_LEAD",
                               "message": "A lead with this email already exists."}]
    assert (await _get(client, owner, a["id"]))["deleted_at"] is None
    assert (await _get(client, owner, b["id"], deleted=True))["deleted_at"] is not None


async def test_other_workspace_ids_are_not_found_and_untouched(
        client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    stranger = await make_workspace(client)
    theirs = await make_lead(client, stranger, tags=["theirs"])
    mine = await make_lead(client, owner)
    for action, changes in (("update", {"status": "lost", "tags_add": ["x"]}),
                            ("delete", None), ("restore", None)):
        body: dict[str, Any] = {"action": action, "ids": [theirs["id"], mine["id"]]}
        if changes:
            body["changes"] = changes
        resp = await _bulk(client, owner, body)
        assert resp.status_code == 200, resp.text
        failed = {f["id"]: f["code"] for f in resp.json()["failed"]}
        assert failed[theirs["id"]] == "LEAD_NOT_FOUND"
    after = await _get(client, stranger, theirs["id"])
    assert after["version"] == theirs["version"] and after["tags"] == ["theirs"]
    assert after["status"] == "new" and after["deleted_at"] is None
    # Nor can the stranger read the owner's bulk operation.
    op = (await _bulk(client, owner, {"action": "delete", "ids": [mine["id"]]})).json()
    resp = await client.get(f"/api/v1/leads/bulk/{op['id']}", headers=stranger.headers)
    assert resp.status_code == 404 and resp.json()["code"] == "BULK_JOB_NOT_FOUND"


async def test_roles(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    viewer = await add_member(client, owner, "viewer")
    own = await make_lead(client, agent)
    others = await make_lead(client, owner)
    resp = await _bulk(client, viewer, {"action": "delete", "ids": [own["id"]]})
    assert resp.status_code == 403 and resp.json()["code"] == "ROLE_REQUIRED"
    resp = await _bulk(client, agent, {"action": "update", "ids": [own["id"], others["id"]],
                                       "changes": {"status": "contacted"}})
    body = resp.json()
    assert body["updated"] == 1
    assert body["failed"] == [{"id": others["id"], "code": "LEAD_NOT_FOUND",
                               "message": "Lead not found."}]
    assert (await _get(client, owner, others["id"]))["status"] == "new"
    resp = await _bulk(client, agent, {"action": "update", "ids": [own["id"]],
                                       "changes": {"owner_id": str(owner.user_id)}})
    assert resp.json()["failed"][0]["code"] == "OWNER_NOT_ALLOWED"
    # An agent reads their own bulk operations only.
    mine = (await _bulk(client, agent, {"action": "delete", "ids": [own["id"]]})).json()
    theirs = (await _bulk(client, owner, {"action": "delete", "ids": [others["id"]]})).json()
    assert (await client.get(f"/api/v1/leads/bulk/{mine['id']}",
                             headers=agent.headers)).status_code == 200
    assert (await client.get(f"/api/v1/leads/bulk/{theirs['id']}",
                             headers=agent.headers)).status_code == 404
    listed = (await client.get("/api/v1/leads/bulk", headers=agent.headers)).json()
    assert mine["id"] in [j["id"] for j in listed["data"]]
    assert theirs["id"] not in [j["id"] for j in listed["data"]]
    everything = (await client.get("/api/v1/leads/bulk", headers=owner.headers)).json()
    assert {mine["id"], theirs["id"]} <= {j["id"] for j in everything["data"]}


@pytest.mark.parametrize(("body", "code"), [
    ({"action": "delete"}, "BULK_TARGET_REQUIRED"),
    ({"action": "delete", "ids": []}, "BULK_TARGET_REQUIRED"),
    ({"action": "delete", "ids": [str(uuid.uuid4())], "filter": {}}, "BULK_TARGET_REQUIRED"),
    ({"action": "update", "ids": [str(uuid.uuid4())]}, "EMPTY_UPDATE"),
    ({"action": "update", "ids": [str(uuid.uuid4())], "changes": {}}, "EMPTY_UPDATE"),
    ({"action": "delete", "ids": [str(uuid.uuid4())], "changes": {"status": "new"}},
     "BULK_CHANGES_NOT_ALLOWED"),
    ({"action": "purge", "ids": [str(uuid.uuid4())]}, "VALIDATION_ERROR"),
    ({"action": "update", "ids": [str(uuid.uuid4())], "changes": {"status": "nope"}},
     "VALIDATION_ERROR"),
    ({"action": "update", "ids": [str(uuid.uuid4())], "changes": {"tenant_id": "x"}},
     "VALIDATION_ERROR"),
    ({"action": "update", "filter": {"status": "nope"}, "changes": {"status": "new"}},
     "INVALID_FILTER"),
])
async def test_bad_requests(client: httpx.AsyncClient, body: dict[str, Any], code: str) -> None:
    owner = await make_workspace(client)
    resp = await _bulk(client, owner, body)
    assert resp.status_code == 422, resp.text
    assert resp.json()["code"] == code


async def test_more_than_10000_ids_is_422(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    lead = await make_lead(client, owner)
    ids = [lead["id"]] + [str(uuid.uuid4()) for _ in range(10_000)]
    resp = await _bulk(client, owner, {"action": "delete", "ids": ids})
    assert resp.status_code == 422 and resp.json()["code"] == "BULK_TOO_MANY_IDS"
    assert (await _get(client, owner, lead["id"]))["deleted_at"] is None


async def test_idempotency_key(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    lead = await make_lead(client, owner)
    body = {"action": "update", "ids": [lead["id"]], "changes": {"tags_add": ["once"]}}
    first = await _bulk(client, owner, body, **{"Idempotency-Key": "bulk-1"})
    again = await _bulk(client, owner, body, **{"Idempotency-Key": "bulk-1"})
    assert first.json() == again.json() and again.headers["idempotency-replayed"] == "true"
    assert (await _get(client, owner, lead["id"]))["version"] == lead["version"] + 1
