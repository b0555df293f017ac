"""Pipelines and stages through HTTP: CRUD, validation, defaults, roles, tenancy,
If-Match, idempotency."""

from __future__ import annotations

import uuid

import httpx

from tests.factories import add_member, make_lead, make_workspace
from tests.pipelines.conftest import PIPELINES, default_pipeline, move, pipelines, stage_id

BODY = {"name": "Inbound", "stages": [
    {"name": "Fresh", "probability": 10},
    {"name": "Call booked", "code": "booked", "probability": 30},
    {"name": "Signed", "probability": 100, "category": "won"},
    {"name": "Gone", "category": "lost", "rot_days": 30}]}


async def test_new_workspaces_have_default_pipelines(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    lead = await default_pipeline(client, owner)
    deal = await default_pipeline(client, owner, "deal")
    assert [s["code"] for s in lead["stages"]] == ["new", "contacted", "qualified",
                                                   "proposal", "won", "lost"]
    assert [s["position"] for s in lead["stages"]] == list(range(6))
    assert deal["kind"] == "deal" and deal["stages"][-1]["category"] == "lost"
    made = await make_lead(client, owner)
    assert made["pipeline_id"] == lead["id"] and made["stage"] == "new"
    assert made["stage_id"] == stage_id(lead, "new")
    assert made["stage_entered_at"] is not None


async def test_create_get_update_delete(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    resp = await client.post(PIPELINES, headers=owner.headers, json=BODY)
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert [s["code"] for s in created["stages"]] == ["fresh", "booked", "signed", "gone"]
    assert created["stages"][3]["rot_days"] == 30 and not created["is_default"]
    assert resp.headers["etag"] == '"1"'
    url = f"{PIPELINES}/{created['id']}"
    got = await client.get(url, headers=owner.headers)
    assert got.json() == created
    # If-Match
    stale = await client.patch(url, headers={**owner.headers, "If-Match": '"7"'},
                               json={"name": "X"})
    assert stale.status_code == 412 and stale.json()["code"] == "VERSION_MISMATCH"
    resp = await client.patch(url, headers={**owner.headers, "If-Match": '"1"'},
                              json={"name": "Inbound 2", "description": "web"})
    assert resp.status_code == 200 and resp.json()["version"] == 2
    # Making it the default moves the flag.
    old = await default_pipeline(client, owner)
    resp = await client.patch(url, headers=owner.headers, json={"is_default": True})
    assert resp.json()["is_default"]
    assert (await default_pipeline(client, owner))["id"] == created["id"]
    again = (await client.get(f"{PIPELINES}/{old['id']}", headers=owner.headers)).json()
    assert not again["is_default"]
    # The default cannot be deleted; the other one (empty) can.
    resp = await client.delete(url, headers=owner.headers)
    assert resp.status_code == 409 and resp.json()["code"] == "DEFAULT_PIPELINE"
    await client.patch(f"{PIPELINES}/{old['id']}", headers=owner.headers,
                       json={"is_default": True})
    assert (await client.delete(url, headers=owner.headers)).status_code == 204
    assert (await client.get(url, headers=owner.headers)).status_code == 404


async def test_a_pipeline_holding_leads_is_not_deleted(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    other = (await client.post(PIPELINES, headers=owner.headers, json=BODY)).json()
    lead = await make_lead(client, owner, pipeline_id=other["id"])
    assert lead["stage"] == "fresh" and lead["pipeline_id"] == other["id"]
    resp = await client.delete(f"{PIPELINES}/{other['id']}", headers=owner.headers)
    assert resp.status_code == 409 and resp.json()["code"] == "PIPELINE_NOT_EMPTY"


async def test_validation(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    bad = [
        ({"name": "x", "stages": []}, "stages"),
        ({"name": "", "stages": [{"name": "a"}]}, "name"),
        ({"name": "x", "kind": "opportunity", "stages": [{"name": "a"}]}, "kind"),
        ({"name": "x", "stages": [{"name": "a", "probability": 101}]}, "stages.0.probability"),
        ({"name": "x", "stages": [{"name": "a", "category": "maybe"}]}, "stages.0.category"),
        ({"name": "x", "stages": [{"name": "a", "code": "Not A Slug"}]}, "stages.0.code"),
        ({"name": "x", "stages": [{"name": "a", "rot_days": 0}]}, "stages.0.rot_days"),
        ({"name": "x", "stages": [{"name": "a"}], "tenant_id": str(uuid.uuid4())},
         "tenant_id"),
        ({"name": "x", "stages": [{"name": "A"}, {"name": "a"}]}, "stages.1.code"),
    ]
    for body, field in bad:
        resp = await client.post(PIPELINES, headers=owner.headers, json=body)
        assert resp.status_code == 422, (body, resp.text)
        assert field in {e["field"] for e in resp.json()["errors"]}, (field, resp.text)
    resp = await client.get(f"{PIPELINES}?kind=other", headers=owner.headers)
    assert resp.status_code == 422


async def test_stages_add_rename_reorder(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    p = (await client.post(PIPELINES, headers=owner.headers, json=BODY)).json()
    url = f"{PIPELINES}/{p['id']}"
    resp = await client.post(f"{url}/stages", headers=owner.headers,
                             json={"name": "Demo done", "position": 2, "probability": 50})
    assert resp.status_code == 201, resp.text
    assert [s["code"] for s in resp.json()["stages"]] == ["fresh", "booked", "demo_done",
                                                          "signed", "gone"]
    taken = await client.post(f"{url}/stages", headers=owner.headers,
                              json={"name": "Again", "code": "booked"})
    assert taken.status_code == 409 and taken.json()["code"] == "STAGE_CODE_TAKEN"
    booked = stage_id(p, "booked")
    version = resp.json()["version"]
    resp = await client.patch(f"{url}/stages/{booked}",
                              headers={**owner.headers, "If-Match": f'"{version}"'},
                              json={"name": "Meeting booked", "probability": 35})
    assert resp.status_code == 200, resp.text
    stage = next(s for s in resp.json()["stages"] if s["id"] == booked)
    assert stage["name"] == "Meeting booked" and stage["code"] == "booked"
    stale = await client.patch(f"{url}/stages/{booked}",
                               headers={**owner.headers, "If-Match": f'"{version}"'},
                               json={"name": "Again"})
    assert stale.status_code == 412
    # The code changes while unused; not once a lead was in the stage.
    resp = await client.patch(f"{url}/stages/{booked}", headers=owner.headers,
                              json={"code": "meeting"})
    assert resp.status_code == 200
    lead = await make_lead(client, owner, pipeline_id=p["id"], stage="meeting")
    assert lead["stage"] == "meeting"
    resp = await client.patch(f"{url}/stages/{booked}", headers=owner.headers,
                              json={"code": "meet"})
    assert resp.status_code == 409 and resp.json()["code"] == "STAGE_CODE_IN_USE"
    # Reorder
    ids = [s["id"] for s in (await client.get(url, headers=owner.headers)).json()["stages"]]
    resp = await client.post(f"{url}/stages/reorder", headers=owner.headers,
                             json={"stage_ids": list(reversed(ids))})
    assert resp.status_code == 200
    assert [s["id"] for s in resp.json()["stages"]] == list(reversed(ids))
    assert [s["position"] for s in resp.json()["stages"]] == list(range(len(ids)))
    resp = await client.post(f"{url}/stages/reorder", headers=owner.headers,
                             json={"stage_ids": ids[:2]})
    assert resp.status_code == 422 and resp.json()["code"] == "INVALID_STAGE_ORDER"


async def test_delete_stage_with_move_to(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    p = await default_pipeline(client, owner)
    url = f"{PIPELINES}/{p['id']}"
    leads = [await make_lead(client, owner) for _ in range(3)]
    for lead in leads[:2]:
        assert (await move(client, owner, lead["id"], "contacted")).status_code == 200
    contacted = stage_id(p, "contacted")
    resp = await client.delete(f"{url}/stages/{contacted}", headers=owner.headers)
    assert resp.status_code == 409 and resp.json()["code"] == "STAGE_NOT_EMPTY"
    resp = await client.delete(f"{url}/stages/{contacted}?move_to=nowhere",
                               headers=owner.headers)
    assert resp.status_code == 422 and resp.json()["code"] == "INVALID_MOVE_TO"
    resp = await client.delete(f"{url}/stages/{contacted}?move_to=qualified",
                               headers=owner.headers)
    assert resp.status_code == 200, resp.text
    assert "contacted" not in [s["code"] for s in resp.json()["stages"]]
    assert [s["position"] for s in resp.json()["stages"]] == list(range(5))
    for lead in leads[:2]:
        now = (await client.get(f"/api/v1/leads/{lead['id']}", headers=owner.headers)).json()
        assert now["stage"] == "qualified"
        history = (await client.get(f"/api/v1/leads/{lead['id']}/stage-history",
                                    headers=owner.headers)).json()["data"]
        assert [(h["from_stage"], h["to_stage"]) for h in history] == [
            ("contacted", "qualified"), ("new", "contacted"), (None, "new")]
    board = (await client.get(f"{url}/board", headers=owner.headers)).json()
    assert {c["stage"]["code"]: c["count"] for c in board["stages"]} == {
        "new": 1, "qualified": 2, "proposal": 0, "won": 0, "lost": 0}
    # An empty stage goes without move_to.
    resp = await client.delete(f"{url}/stages/{stage_id(p, 'proposal')}",
                               headers=owner.headers)
    assert resp.status_code == 200


async def test_roles_and_other_workspaces(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    p = await default_pipeline(client, owner)
    url = f"{PIPELINES}/{p['id']}"
    for role in ("viewer", "agent"):
        member = await add_member(client, owner, role)
        assert (await client.get(url, headers=member.headers)).status_code == 200
        assert len(await pipelines(client, member)) == 1
        for method, path, body in (("POST", PIPELINES, BODY), ("PATCH", url, {"name": "x"}),
                                   ("DELETE", url, None),
                                   ("POST", f"{url}/stages", {"name": "x"}),
                                   ("DELETE", f"{url}/stages/{stage_id(p, 'won')}", None)):
            resp = await client.request(method, path, headers=member.headers, json=body)
            assert resp.status_code == 403, (role, method, path, resp.text)
            assert resp.json()["code"] == "ROLE_REQUIRED"
    manager = await add_member(client, owner, "manager")
    resp = await client.post(PIPELINES, headers=manager.headers, json=BODY)
    assert resp.status_code == 201
    stranger = await make_workspace(client)
    for method, path, body in (("GET", url, None), ("PATCH", url, {"name": "x"}),
                               ("DELETE", url, None), ("GET", f"{url}/board", None),
                               ("GET", f"{url}/metrics", None),
                               ("POST", f"{url}/stages", {"name": "x"}),
                               ("PATCH", f"{url}/stages/{stage_id(p, 'won')}", {"name": "x"})):
        resp = await client.request(method, path, headers=stranger.headers, json=body)
        assert resp.status_code == 404, (method, path, resp.text)
        assert resp.json()["code"] == "PIPELINE_NOT_FOUND"
    resp = await client.patch(f"{url}/stages/{uuid.uuid4()}", headers=owner.headers,
                              json={"name": "x"})
    assert resp.status_code == 404 and resp.json()["code"] == "STAGE_NOT_FOUND"


async def test_idempotent_create(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    h = {**owner.headers, "Idempotency-Key": "pipe-1"}
    first = await client.post(PIPELINES, headers=h, json=BODY)
    again = await client.post(PIPELINES, headers=h, json=BODY)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert len(await pipelines(client, owner)) == 2
    other = await client.post(PIPELINES, headers=h, json={**BODY, "name": "Other"})
    assert other.status_code == 422
