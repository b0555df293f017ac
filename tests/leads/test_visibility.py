"""One visibility rule: an agent reaches their own leads and nothing else, on every route
that touches leads. The routes come from the application's OpenAPI documents (the
canonical API and every mounted profile), so a new lead route without a probe here fails
:func:`test_every_lead_route_has_a_probe`."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from starlette.routing import Mount

from leadbase.auth.context import Context, Principal
from leadbase.bulk import service as bulk_service
from leadbase.config import Settings
from leadbase.db.session import Database
from leadbase.exports import service as exports_service
from leadbase.kit.errors import Conflict
from leadbase.leads import service as leads_service
from leadbase.leads.repository import Readable, readable
from leadbase.leads.schemas import LeadCreate
from tests.exports.conftest import read_csv
from tests.factories import Member, add_member, make_lead, make_workspace
from tests.imports.conftest import run, upload

LEAD_TAGS = frozenset({"leads", "exports", "imports"})
# Properties of an answer that come from reading leads (the camelCase profiles' too).
LEAD_PROPERTIES = frozenset({"lead_count", "lead_id", "lead_ids", "leads", "leadId"})
LEAD_PARAMETERS = frozenset({"lead_id", "leadId"})


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value.rsplit("/", 1)[-1]
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _reads_leads(op: dict[str, Any], schemas: dict[str, Any]) -> bool:
    """Whether an answer of ``op`` holds a lead property (following ``$ref``s)."""
    seen: set[str] = set()
    todo = list(_refs(op.get("responses", {})))
    while todo:
        name = todo.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        if LEAD_PROPERTIES & set(schemas[name].get("properties", {})):
            return True
        todo.extend(_refs(schemas[name]))
    return False


def _operations(app: FastAPI, prefix: str = "") -> Iterator[tuple[str, str, bool]]:
    """(method, path, touches leads) of every operation of the app and of its mounts."""
    spec = app.openapi()
    schemas = spec.get("components", {}).get("schemas", {})
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            params = {p["name"] for p in op.get("parameters", [])}
            touches = ("leads" in path.split("/") or bool(LEAD_TAGS & set(op.get("tags", [])))
                       or bool(LEAD_PARAMETERS & params) or _reads_leads(op, schemas))
            yield method.upper(), prefix + path, touches
    for route in app.routes:
        if isinstance(route, Mount) and isinstance(route.app, FastAPI):
            yield from _operations(route.app, prefix + route.path)


def lead_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Operations that read or write leads: under a ``leads`` path segment, tagged
    leads/exports/imports, taking a ``lead_id`` (``leadId``), or answering lead data (a
    ``lead_count``, a ``lead_id`` or ``leadId``...)."""
    return {(method, path) for method, path, touches in _operations(app) if touches}


@dataclass
class World:
    client: httpx.AsyncClient
    db: Database
    settings: Settings
    owner: Member
    agent: Member  # who probes
    other: Member  # another agent of the same workspace
    mine: dict[str, Any]
    theirs: dict[str, Any]
    theirs_gone: dict[str, Any]  # deleted

    @property
    def hidden(self) -> tuple[str, str]:
        return self.theirs["id"], self.theirs_gone["id"]

    async def call(self, method: str, url: str, **kw: Any) -> httpx.Response:
        """The agent's request; its answer never names the other agent's leads, unless
        the request named them (an id given is echoed back as not found)."""
        resp = await self.client.request(method, url, headers=self.agent.headers, **kw)
        sent = url + json.dumps(kw.get("json"))
        for lead_id in self.hidden:
            assert lead_id in sent or lead_id not in resp.text, (method, url, resp.text)
        return resp

    async def unchanged(self) -> None:
        for lead in (self.theirs, self.theirs_gone):
            now = await self.client.get(f"/api/v1/leads/{lead['id']}?include_deleted=true",
                                        headers=self.owner.headers)
            assert now.json()["version"] == lead["version"], now.text


Probe = Callable[[World], Awaitable[None]]
LEADS = "/api/v1/leads"


async def _list(w: World) -> None:
    for query in ("", "include_deleted=true", "only_deleted=true",
                  f"owner_id={w.other.user_id}", f"q={w.theirs['email']}", "count=exact"):
        body = (await w.call("GET", f"{LEADS}?{query}")).json()
        assert {r["id"] for r in body["data"]} <= {w.mine["id"]}, query
        assert body["total"] in (0, 1, None), query


async def _create(w: World) -> None:
    for mode in ("error", "update"):
        resp = await w.call("POST", f"{LEADS}?on_duplicate={mode}",
                            json={"email": w.theirs["email"], "company": "Taken"})
        assert resp.status_code == 409 and resp.json()["code"] == "DUPLICATE_LEAD", resp.text
        assert "existing_id" not in resp.json()
    resp = await w.call("POST", LEADS, json={"first_name": "X",
                                             "owner_id": str(w.other.user_id)})
    assert resp.status_code == 403 and resp.json()["code"] == "OWNER_NOT_ALLOWED"


async def _get(w: World) -> None:
    for lead_id in w.hidden:
        for query in ("", "?include_deleted=true"):
            resp = await w.call("GET", f"{LEADS}/{lead_id}{query}")
            assert resp.status_code == 404 and resp.json()["code"] == "LEAD_NOT_FOUND"


async def _patch(w: World) -> None:
    for lead_id in w.hidden:
        resp = await w.call("PATCH", f"{LEADS}/{lead_id}", json={"company": "X"})
        assert resp.status_code == 404
    resp = await w.call("PATCH", f"{LEADS}/{w.mine['id']}",
                        json={"owner_id": str(w.other.user_id)})
    assert resp.status_code == 403


async def _delete(w: World) -> None:
    for lead_id in w.hidden:
        assert (await w.call("DELETE", f"{LEADS}/{lead_id}")).status_code == 404
        assert (await w.call("DELETE", f"{LEADS}/{lead_id}?purge=true")).status_code in (
            403, 404)


async def _restore(w: World) -> None:
    for lead_id in w.hidden:
        assert (await w.call("POST", f"{LEADS}/{lead_id}/restore")).status_code == 404


async def _export(w: World) -> None:
    for query in ("", "include_deleted=true", f"owner_id={w.other.user_id}"):
        resp = await w.call("GET", f"{LEADS}/export?{query}")
        assert resp.status_code == 200
        assert {r["id"] for r in read_csv(resp.content)} <= {w.mine["id"]}, query


async def _bulk(w: World) -> None:
    resp = await w.call("POST", f"{LEADS}/bulk",
                        json={"action": "update", "ids": list(w.hidden),
                              "changes": {"status": "lost"}})
    assert resp.status_code == 200, resp.text
    assert {f["code"] for f in resp.json()["failed"]} == {"LEAD_NOT_FOUND"}
    for action in ("update", "restore"):
        resp = await w.call("POST", f"{LEADS}/bulk", json={
            "action": action, "filter": {"include_deleted": True},
            **({"changes": {"tags_add": ["probe"]}} if action == "update" else {})})
        assert resp.status_code == 202, resp.text
        job_id = uuid.UUID(resp.json()["id"])
        await bulk_service.run_job(w.db, tenant_id=w.owner.tenant_id, job_id=job_id)
        done = (await w.call("GET", f"{LEADS}/bulk/{job_id}")).json()
        assert done["status"] == "completed" and done["matched"] <= 1, done


async def _other_bulk_job(w: World) -> str:
    resp = await w.client.post(f"{LEADS}/bulk", headers=w.other.headers, json={
        "action": "delete", "filter": {"source": "nothing-matches"}})
    assert resp.status_code == 202
    return str(resp.json()["id"])


async def _bulk_jobs(w: World) -> None:
    theirs = await _other_bulk_job(w)
    listed = (await w.call("GET", f"{LEADS}/bulk")).json()
    assert theirs not in {j["id"] for j in listed["data"]}
    assert (await w.call("GET", f"{LEADS}/bulk/{theirs}")).status_code == 404
    assert (await w.call("POST", f"{LEADS}/bulk/{theirs}/cancel")).status_code == 404


async def _export_job(w: World) -> None:
    resp = await w.call("POST", "/api/v1/exports",
                        json={"filters": {"include_deleted": True}})
    assert resp.status_code == 202, resp.text
    job = resp.json()
    assert await exports_service.run_job(
        w.db, tenant_id=w.owner.tenant_id, job_id=uuid.UUID(job["id"]),
        data_dir=w.settings.resolved_data_dir()) == "completed"
    got = await w.call("GET", f"/api/v1/exports/{job['id']}/download")
    assert got.status_code == 200
    assert {r["id"] for r in read_csv(got.content)} == {w.mine["id"]}


async def _export_jobs(w: World) -> None:
    resp = await w.client.post("/api/v1/exports", headers=w.other.headers, json={})
    theirs = resp.json()["id"]
    listed = (await w.call("GET", "/api/v1/exports")).json()
    assert theirs not in {j["id"] for j in listed["data"]}
    for method, path in (("GET", ""), ("POST", "/cancel"), ("GET", "/download")):
        resp = await w.call(method, f"/api/v1/exports/{theirs}{path}")
        assert resp.status_code == 404, path


async def _imports(w: World) -> None:
    """Imports match and merge rows into any lead of the workspace: not for agents."""
    resp = await w.call("POST", "/api/v1/imports", data={"on_duplicate": "update"},
                        files={"file": ("a.csv", f"email\n{w.theirs['email']}\n".encode())})
    assert resp.status_code == 403, resp.text
    job_id = uuid.uuid4()
    for method, path in (("GET", ""), ("GET", f"/{job_id}"), ("POST", f"/{job_id}/cancel"),
                         ("GET", f"/{job_id}/errors")):
        assert (await w.call(method, f"/api/v1/imports{path}")).status_code == 403, path


async def _lists(w: World) -> None:
    """A list's ``lead_count`` counts the leads the caller may read."""
    lists = (await w.call("GET", "/api/v1/lists")).json()["data"]
    default = next(x for x in lists if x["is_default"])
    assert default["lead_count"] == 1
    got = await w.call("GET", f"/api/v1/lists/{default['id']}")
    assert got.json()["lead_count"] == 1
    assert (await w.call("POST", "/api/v1/lists", json={"name": "Mine"})).status_code == 403
    assert (await w.call("PATCH", f"/api/v1/lists/{default['id']}",
                         json={"description": "x"})).status_code == 403


async def _campaigns(w: World) -> None:
    """The fields profile's campaigns (lists) and their ``lead_count``, the same way."""
    base = "/compat/fields/campaigns"
    default = next(c for c in (await w.call("GET", base)).json() if c["is_default"])
    assert default["lead_count"] == 1
    assert (await w.call("GET", f"{base}/{default['id']}")).json()["lead_count"] == 1
    assert (await w.call("POST", base, json={"name": "Mine"})).status_code == 403
    assert (await w.call("PUT", f"{base}/{default['id']}",
                         json={"name": "Renamed"})).status_code == 403


ACTIVITIES = "/api/v1/activities"


async def _their_activity(w: World, **body: Any) -> dict[str, Any]:
    resp = await w.client.post(ACTIVITIES, headers=w.other.headers, json={
        "type": "meeting", "lead_id": w.theirs["id"],
        "scheduled_for": "2031-01-01T10:00:00Z", **body})
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


async def _activities(w: World) -> None:
    """Activities are reachable through their lead: an agent's own leads only."""
    theirs = await _their_activity(w)
    mine = await w.call("POST", ACTIVITIES, json={"type": "note", "lead_id": w.mine["id"],
                                                  "attributes": {"content": "mine"}})
    assert mine.status_code == 201, mine.text
    for query in ("", f"lead_id={w.theirs['id']}", f"author_id={w.other.user_id}",
                  "status=scheduled", "type=meeting"):
        body = (await w.call("GET", f"{ACTIVITIES}?{query}")).json()
        assert {a["lead_id"] for a in body["data"]} <= {w.mine["id"]}, query
    for method, kw in (("GET", {}), ("PATCH", {"json": {"description": "x"}}),
                       ("DELETE", {})):
        resp = await w.call(method, f"{ACTIVITIES}/{theirs['id']}", **kw)
        assert resp.status_code == 404 and resp.json()["code"] == "ACTIVITY_NOT_FOUND"
    for lead_id in w.hidden:
        resp = await w.call("POST", ACTIVITIES, json={"type": "note", "lead_id": lead_id,
                                                      "attributes": {"content": "x"}})
        assert resp.status_code == 404 and resp.json()["code"] == "LEAD_NOT_FOUND"


async def _agenda(w: World) -> None:
    await _their_activity(w)
    for path in ("upcoming", "recent"):
        body = (await w.call("GET", f"{ACTIVITIES}/{path}")).json()
        assert body["data"] == [], path
        resp = await w.call("GET", f"{ACTIVITIES}/{path}?user_id={w.other.user_id}")
        assert resp.status_code == 403, path


async def _timeline(w: World) -> None:
    await _their_activity(w)
    for lead_id in w.hidden:
        resp = await w.call("GET", f"{LEADS}/{lead_id}/timeline")
        assert resp.status_code == 404 and resp.json()["code"] == "LEAD_NOT_FOUND"
    resp = await w.call("GET", f"{LEADS}/{w.mine['id']}/timeline?types=change")
    assert resp.status_code == 200 and len(resp.json()["data"]) == 1


async def _stage(w: World) -> None:
    for lead_id in w.hidden:
        resp = await w.call("POST", f"{LEADS}/{lead_id}/stage", json={"stage": "won"})
        assert resp.status_code == 404 and resp.json()["code"] == "LEAD_NOT_FOUND"
        resp = await w.call("GET", f"{LEADS}/{lead_id}/stage-history")
        assert resp.status_code == 404
    assert (await w.call("GET", f"{LEADS}/{w.mine['id']}/stage-history")).status_code == 200


async def _board(w: World) -> None:
    """An agent's board holds and counts their own leads; metrics (workspace-wide) are
    refused."""
    pipelines = (await w.call("GET", "/api/v1/pipelines?kind=lead")).json()["data"]
    url = f"/api/v1/pipelines/{pipelines[0]['id']}"
    board = (await w.call("GET", f"{url}/board")).json()
    assert sum(c["count"] for c in board["stages"]) == 1
    assert {r["id"] for c in board["stages"] for r in c["leads"]["data"]} == {w.mine["id"]}
    for column in board["stages"]:
        page = await w.call("GET", f"{url}/board/stages/{column['stage']['id']}")
        assert {r["id"] for r in page.json()["data"]} <= {w.mine["id"]}
    assert (await w.call("GET", f"{url}/metrics")).status_code == 403


async def _listing_links(w: World) -> None:
    """A lead's listings and a listing's leads follow the lead's visibility."""
    resp = await w.client.post("/api/v1/listings", headers=w.owner.headers,
                               json={"kind": "vehicle", "title": "Probe car"})
    listing_id = resp.json()["id"]
    for lead in (w.theirs, w.mine):
        linked = await w.client.post(f"{LEADS}/{lead['id']}/listings", headers=w.owner.headers,
                                     json={"listing_id": listing_id})
        assert linked.status_code == 201, linked.text
    for lead_id in w.hidden:
        base = f"{LEADS}/{lead_id}/listings"
        assert (await w.call("GET", base)).status_code == 404
        assert (await w.call("POST", base, json={"listing_id": listing_id})).status_code == 404
        assert (await w.call("PATCH", f"{base}/{listing_id}",
                             json={"interest": "high"})).status_code == 404
        assert (await w.call("DELETE", f"{base}/{listing_id}")).status_code == 404
    mine = (await w.call("GET", f"{LEADS}/{w.mine['id']}/listings")).json()["data"]
    assert [r["listing_id"] for r in mine] == [listing_id]
    leads = (await w.call("GET", f"/api/v1/listings/{listing_id}/leads")).json()["data"]
    assert [r["lead_id"] for r in leads] == [w.mine["id"]]


async def _tasks(w: World) -> None:
    """Tasks follow their lead: an agent reaches their own leads' tasks only."""
    car = (await w.client.post("/api/v1/listings", headers=w.owner.headers,
                               json={"kind": "vehicle", "title": "Task car"})).json()["id"]
    made = {}
    for name, member, lead in (("theirs", w.other, w.theirs), ("mine", w.agent, w.mine)):
        resp = await w.client.post("/api/v1/tasks", headers=member.headers, json={
            "lead_id": lead["id"], "listing_id": car, "title": f"Call {name}"})
        assert resp.status_code == 201, resp.text
        made[name] = resp.json()["id"]
    theirs, mine = made["theirs"], made["mine"]
    for query in ("", f"lead_id={w.theirs['id']}", f"q={w.theirs['email']}",
                  f"listing_id={car}", "include_deleted=true", f"assignee_id={w.other.user_id}"):
        body = (await w.call("GET", f"/api/v1/tasks?{query}")).json()
        assert {t["id"] for t in body["data"]} <= {mine}, query
    listed = (await w.call("GET", f"/api/v1/listings/{car}/tasks")).json()["data"]
    assert [t["id"] for t in listed] == [mine]
    for method, path, kw in (("GET", "", {}), ("PATCH", "", {"json": {"title": "x"}}),
                             ("DELETE", "", {}), ("DELETE", "?permanent=true", {}),
                             ("POST", "/move", {"json": {"after_id": mine}})):
        resp = await w.call(method, f"/api/v1/tasks/{theirs}{path}", **kw)
        assert resp.status_code == 404 and resp.json()["code"] == "TASK_NOT_FOUND", resp.text
    resp = await w.call("POST", f"/api/v1/tasks/{mine}/move", json={"after_id": theirs})
    assert resp.status_code == 422
    for lead_id in w.hidden:
        resp = await w.call("POST", "/api/v1/tasks", json={"lead_id": lead_id, "title": "x"})
        assert resp.status_code == 422 and resp.json()["code"] == "TASK_LEAD_NOT_FOUND"
    resp = await w.call("POST", "/api/v1/tasks/reorder", json={"ids": [mine, theirs]})
    assert resp.status_code == 422
    still = await w.client.get(f"/api/v1/tasks/{theirs}", headers=w.owner.headers)
    assert still.json()["version"] == 1 and still.json()["title"] == "Call theirs"


async def _opportunities(w: World) -> None:
    """Opportunities: an agent reaches its own and those of its own leads; another
    agent's lead is never named, not even on a deal the agent was given."""
    base = "/api/v1/opportunities"
    made = {}
    for name, member, lead in (("theirs", w.other, w.theirs), ("mine", w.agent, w.mine)):
        resp = await w.client.post(base, headers=member.headers, json={
            "name": f"Deal {name}", "value": "10", "lead_id": lead["id"]})
        assert resp.status_code == 201, resp.text
        made[name] = resp.json()["id"]
    given = (await w.client.post(base, headers=w.owner.headers, json={
        "name": "Given", "value": "5", "lead_id": w.theirs["id"],
        "owner_id": str(w.agent.user_id)})).json()["id"]
    for query in ("", f"lead_id={w.theirs['id']}", "q=Deal", f"owner_id={w.other.user_id}"):
        body = (await w.call("GET", f"{base}?{query}")).json()
        assert {o["id"] for o in body["data"]} <= {made["mine"], given}, query
    got = (await w.call("GET", f"{base}/{given}")).json()
    assert got["lead_id"] is None
    theirs = made["theirs"]
    for method, path, kw in (("GET", "", {}), ("PATCH", "", {"json": {"name": "x"}}),
                             ("DELETE", "", {}), ("POST", "/stage", {"json": {"stage": "x"}}),
                             ("POST", "/close-won", {"json": {}}),
                             ("POST", "/close-lost", {"json": {"reason": "x"}}),
                             ("POST", "/reopen", {"json": {"reason": "x"}}),
                             ("GET", "/activities", {}),
                             ("POST", "/activities", {"json": {"type": "note", "attributes":
                                                               {"content": "x"}}}),
                             ("POST", "/follow-ups", {"json": {
                                 "type": "call", "scheduled_for": "2031-01-01T00:00:00Z"}})):
        resp = await w.call(method, f"{base}/{theirs}{path}", **kw)
        assert resp.status_code == 404, (method, path, resp.text)
    for lead_id in w.hidden:
        resp = await w.call("POST", base, json={"name": "x", "value": "1", "lead_id": lead_id})
        assert resp.status_code == 422 and resp.json()["code"] == "OPPORTUNITY_LEAD_NOT_FOUND"
        resp = await w.call("PATCH", f"{base}/{made['mine']}", json={"lead_id": lead_id})
        assert resp.status_code == 422
    await w.call("POST", f"{base}/{given}/follow-ups", json={
        "type": "call", "scheduled_for": "2031-01-01T00:00:00Z"})
    await w.call("GET", f"{base}/activities/upcoming")
    await w.call("GET", f"{base}/{given}/activities")
    await w.call("POST", f"{base}/{given}/stage", json={"stage": "proposal"})


async def _autos(w: World) -> None:
    """The autos profile: its leads are tasks about leads; an agent reaches those about
    their own leads only (403 UNAUTHORIZED_LEAD_ACCESS for another agent's)."""
    base = "/compat/autos/v1"
    car = (await w.client.post(f"{base}/cars", headers=w.owner.headers, json={
        "make": "Honda", "model": "Civic", "overviewYear": 2021})).json()["id"]
    made = {}
    for name, member, lead in (("theirs", w.other, w.theirs), ("mine", w.agent, w.mine)):
        resp = await w.client.post(f"{base}/leads/car/{car}", headers=member.headers, json={
            "action": f"Call {name}", "targetName": "X", "targetInfo": lead["email"]})
        assert resp.status_code == 201, resp.text
        made[name] = resp.json()["id"]
    theirs, mine = made["theirs"], made["mine"]
    for path in ("/leads", f"/leads/car/{car}", "/leads/status/NEW",
                 f"/leads?search={w.theirs['email']}", f"/leads?carId={car}"):
        found = (await w.call("GET", base + path)).json()
        assert {r["id"] for r in found} <= {mine}, path
    for method, path, kw in (("GET", "", {}), ("PATCH", "", {"json": {"note": "x"}}),
                             ("PATCH", "/order", {"json": {"order": 3}}), ("DELETE", "", {})):
        resp = await w.call(method, f"{base}/leads/{theirs}{path}", **kw)
        assert resp.status_code == 403, resp.text
        assert resp.json()["code"] == "UNAUTHORIZED_LEAD_ACCESS"
    resp = await w.call("PATCH", f"{base}/leads/car/{car}/reorder",
                        json={"leadOrders": [{"id": mine, "order": 1}, {"id": theirs, "order": 2}]})
    assert resp.status_code == 403, resp.text
    for lead in (w.theirs, w.theirs_gone):
        if lead.get("email"):
            resp = await w.call("POST", f"{base}/leads/car/{car}", json={
                "action": "x", "targetName": "x", "targetInfo": lead["email"]})
            assert resp.status_code in (201, 403), resp.text
            if resp.status_code == 201:  # the deleted lead's contact names nobody now
                assert lead is w.theirs_gone
    still = await w.client.get(f"/api/v1/tasks/{theirs}", headers=w.owner.headers)
    assert still.json()["version"] == 1 and still.json()["title"] == "Call theirs"


CRM = "/compat/crm/v1"


def _crm_id(prefix: str, value: Any) -> str:
    return prefix + uuid.UUID(str(value)).hex


def _crm_caller(w: World) -> tuple[list[str], Callable[..., Awaitable[httpx.Response]]]:
    """The hidden leads' crm ids (``lead_…``), and the agent's request that checks its
    answer names none of them (in either form) unless the request did."""
    hidden = [_crm_id("lead_", i) for i in w.hidden]

    async def call(method: str, url: str, **kw: Any) -> httpx.Response:
        resp = await w.call(method, url, **kw)
        sent = url + json.dumps(kw.get("json"))
        for lead_id in hidden:
            assert lead_id in sent or lead_id not in resp.text, (method, url, resp.text)
        return resp

    return hidden, call


async def _crm(w: World) -> None:
    """The crm profile: an agent's lists, exports, scores and bulk updates reach their own
    leads only; another agent's lead is a 404 (the document's "Lead lead_… not found"),
    and the manager-only routes a 403."""
    base = "/compat/crm/v1/leads"
    hidden, call = _crm_caller(w)
    mine = "lead_" + uuid.UUID(w.mine["id"]).hex
    other_agent = "agent_" + w.other.user_id.hex

    for path in ("", "?status=NEW", "/assignment/unassigned",
                 f"/assignment/by-agent/{other_agent}", "/scoring/hot?threshold=0",
                 "/scoring/cold?threshold=100", "/export?format=csv"):
        resp = await call("GET", base + path)
        assert resp.status_code == 200, resp.text
    for lead_id in hidden:
        for method, path, kw in (("GET", "", {}), ("PUT", "", {"json": {"notes": "x"}}),
                                 ("DELETE", "", {}), ("POST", "/calculate-score", {}),
                                 ("POST", "/update-score", {})):
            resp = await call(method, f"{base}/{lead_id}{path}", **kw)
            assert resp.status_code in (404, 409), resp.text
            assert resp.status_code == 404 or resp.json()["code"] == "SCORING_MODEL_MISSING"
        for path, body in (("/assign", {"agentId": None}), ("/auto-assign", None),
                           ("/reassign", {"fromAgentId": other_agent, "toAgentId": None})):
            resp = await call("POST", f"{base}/{lead_id}{path}", json=body)
            assert resp.status_code == 403, resp.text
    resp = await call("POST", f"{base}/bulk-update",
                      json={"leadIds": [mine, *hidden], "updates": {"status": "CONTACTED"}})
    assert resp.status_code == 200 and resp.json()["failed"] == 2, resp.text
    assert (await call("POST", f"{base}/scoring/recalculate-all")).status_code == 403
    resp = await call("POST", f"{base}/import",
                      files={"file": ("l.csv", f"email\n{w.theirs['email']}\n".encode())})
    assert resp.status_code == 403, resp.text  # imports need a manager


async def _crm_conversion(w: World) -> None:
    """The crm profile's conversion: another agent's lead is not found, and nothing of it
    changes."""
    hidden, call = _crm_caller(w)
    for lead_id in hidden:
        for method, path, body in (("POST", "convert", {"createOpportunity": True}),
                                   ("GET", "can-convert", None), ("POST", "qualify", None),
                                   ("POST", "unqualify", {"reason": "x"})):
            resp = await call(method, f"{CRM}/leads/{lead_id}/{path}", json=body)
            assert resp.status_code == 404, resp.text
            assert resp.json()["message"] == f"Lead {lead_id} not found"
    mine = _crm_id("lead_", w.mine["id"])
    assert (await call("GET", f"{CRM}/leads/{mine}/can-convert")).status_code == 200


async def _crm_deals(w: World) -> tuple[str, str, str]:
    """(the other agent's deal on their lead, a deal on that lead given to the agent,
    the agent's own deal) as crm ids."""
    base = "/api/v1/opportunities"
    theirs = (await w.client.post(base, headers=w.other.headers, json={
        "name": "Theirs", "value": "10", "lead_id": w.theirs["id"],
        "expected_close_date": str(date.today())})).json()["id"]
    given = (await w.client.post(base, headers=w.owner.headers, json={
        "name": "Given", "value": "5", "lead_id": w.theirs["id"], "owner_id":
        str(w.agent.user_id), "expected_close_date": str(date.today())})).json()["id"]
    mine = (await w.client.post(base, headers=w.agent.headers, json={
        "name": "Mine", "lead_id": w.mine["id"]})).json()["id"]
    return _crm_id("opp_", theirs), _crm_id("opp_", given), _crm_id("opp_", mine)


async def _crm_opportunities(w: World) -> None:
    """The crm profile's opportunities: an agent reaches its own deals and its leads'
    ones; a deal given to it on another agent's lead names no lead (``leadId`` null,
    checked on every answer by the caller)."""
    hidden, call = _crm_caller(w)
    theirs, given, mine = await _crm_deals(w)
    base = f"{CRM}/opportunities"
    await w.client.post(f"{base}/{theirs}/schedule-follow-up", headers=w.other.headers,
                        json={"scheduledFor": "2031-01-01T00:00:00Z"})
    for path in ("", "?stage=QUALIFIED", f"?agentId={_crm_id('agent_', w.other.user_id)}",
                 "/pipeline/view", "/pipeline/by-stage/QUALIFIED", "/pipeline/stale?days=0",
                 "/activities/upcoming", f"/{given}", f"/{given}/activities"):
        resp = await call("GET", base + path)
        assert resp.status_code == 200 and theirs not in resp.text, (path, resp.text)
    assert (await call("GET", f"{base}/{given}")).json()["leadId"] is None
    for path, body in (("/activities", {"type": "NOTE", "content": "x"}),
                       ("/schedule-follow-up", {"scheduledFor": "2031-01-01T00:00:00Z"}),
                       ("/move-stage", {"stage": "PROPOSAL"}), ("/update-probability", None),
                       ("/close-won", {"actualValue": 5}), ("/reopen", {"reason": "x"}),
                       ("/close-lost", {"reason": "x"})):
        resp = await call("POST", f"{base}/{given}{path}", json=body)
        assert resp.status_code in (200, 201), (path, resp.text)
        assert resp.json()["leadId"] is None, path
    resp = await call("PUT", f"{base}/{given}", json={"notes": "x"})
    assert resp.status_code == 200 and resp.json()["leadId"] is None
    for method, path, body in (("GET", "", None), ("PUT", "", {"notes": "x"}),
                               ("POST", "/move-stage", {"stage": "PROPOSAL"}),
                               ("POST", "/close-won", {}), ("POST", "/close-lost",
                                                           {"reason": "x"}),
                               ("POST", "/reopen", {"reason": "x"}),
                               ("POST", "/update-probability", None),
                               ("GET", "/activities", None),
                               ("POST", "/activities", {"type": "CALL"}),
                               ("POST", "/schedule-follow-up",
                                {"scheduledFor": "2031-01-01T00:00:00Z"})):
        resp = await call(method, f"{base}/{theirs}{path}", json=body)
        assert resp.status_code == 404, (method, path, resp.text)
    for lead_id in hidden:
        resp = await call("POST", base, json={"name": "x", "leadId": lead_id})
        assert resp.status_code == 404 and resp.json()["message"] == f"Lead {lead_id} not found"
        resp = await call("PUT", f"{base}/{mine}", json={"leadId": lead_id})
        assert resp.status_code == 404, resp.text


async def _crm_activities(w: World) -> None:
    """The crm profile's activities: reachable through their lead (the agent's own) or a
    deal it reaches, where another agent's lead is never named."""
    hidden, call = _crm_caller(w)
    _theirs, given, _mine = await _crm_deals(w)
    theirs = _crm_id("act_", (await _their_activity(w))["id"])
    base = f"{CRM}/activities"
    for query in ("", f"?leadId={hidden[0]}", "?type=MEETING"):
        resp = await call("GET", base + query)
        assert resp.status_code in (200, 404) and theirs not in resp.text, query
    export = await call("GET", f"{base}/export")
    assert export.status_code == 200
    for method, kw in (("GET", {}), ("PUT", {"json": {"description": "x"}}), ("DELETE", {})):
        resp = await call(method, f"{base}/{theirs}", **kw)
        assert resp.status_code == 404 and resp.json()["message"] == \
            f"Activity {theirs} not found"
    for lead_id in hidden:
        assert (await call("GET", f"{base}/timeline/lead/{lead_id}")).status_code == 404
        assert (await call("GET", f"{base}/export?leadId={lead_id}")).status_code in (200,
                                                                                      404)
        for path in ("", "/log-call", "/log-email", "/log-meeting", "/log-note", "/log-task",
                     "/log-demo", "/log-proposal", "/log-document"):
            body = {"leadId": lead_id, **({"type": "CALL"} if not path else {}),
                    **({"content": "x"} if path == "/log-note" else {}),
                    **({"title": "x"} if path in ("/log-task", "/log-proposal",
                                                  "/log-document") else {})}
            resp = await call("POST", base + path, json=body)
            assert resp.status_code == 404, (path, resp.text)
        resp = await call("POST", f"{base}/log-proposal",
                          json={"opportunityId": given, "leadId": lead_id, "title": "x"})
        assert resp.status_code == 400, resp.text  # not told whether it is the deal's lead
    made = await call("POST", f"{base}/log-proposal", json={"opportunityId": given,
                                                            "title": "Quote"})
    assert made.status_code == 201 and made.json()["leadId"] is None, made.text
    act = made.json()["id"]
    for method, kw in (("GET", {}), ("PUT", {"json": {"description": "y"}})):
        resp = await call(method, f"{base}/{act}", **kw)
        assert resp.status_code in (200, 404), resp.text


async def _scoring(w: World) -> None:
    """A lead's score: read and recomputed only on the agent's own leads; the preview of
    a draft model (workspace figures) is for managers."""
    model = {"rules": [{"name": "Vis", "points": 50,
                        "condition": {"field": "source", "op": "eq", "value": "vis"}}]}
    assert (await w.client.put("/api/v1/scoring/model", headers=w.owner.headers,
                               json=model)).status_code == 200
    for lead_id in w.hidden:
        for method in ("GET", "POST"):
            resp = await w.call(method, f"{LEADS}/{lead_id}/score")
            assert resp.status_code == 404 and resp.json()["code"] == "LEAD_NOT_FOUND"
    mine = await w.call("POST", f"{LEADS}/{w.mine['id']}/score")
    assert mine.status_code == 200 and mine.json()["score"] == 50
    resp = await w.call("POST", "/api/v1/scoring/preview", json=model)
    assert resp.status_code == 403
async def _segments(w: World) -> None:
    """Segments: an agent's members, counts and previews hold their own leads only; the
    member list is the managers' to change."""
    seg = "/api/v1/segments"
    static = (await w.client.post(seg, headers=w.owner.headers, json={
        "name": "Picked", "kind": "static",
        "lead_ids": [w.mine["id"], w.theirs["id"]]})).json()
    dynamic = (await w.client.post(seg, headers=w.owner.headers, json={
        "name": "Vis", "condition": {"field": "source", "op": "eq", "value": "vis"}})).json()
    for s in (static, dynamic):
        body = (await w.call("GET", f"{seg}/{s['id']}/members?include_deleted=true")).json()
        assert [r["id"] for r in body["data"]] == [w.mine["id"]]
        count = (await w.call("GET", f"{seg}/{s['id']}/count?exact=true")).json()
        assert count["count"] == 1
        listed = (await w.call("GET", f"{LEADS}?segment_id={s['id']}")).json()
        assert [r["id"] for r in listed["data"]] == [w.mine["id"]]
    preview = (await w.call("POST", f"{seg}/preview", json={
        "condition": {"field": "source", "op": "eq", "value": "vis"}})).json()
    assert preview["count"] == 1 and [r["id"] for r in preview["data"]] == [w.mine["id"]]
    for lead_id in w.hidden:
        resp = await w.call("DELETE", f"{seg}/{static['id']}/members/{lead_id}")
        assert resp.status_code == 403, resp.text
    members = (await w.client.get(f"{seg}/{static['id']}/members",
                                  headers=w.owner.headers)).json()
    assert {r["id"] for r in members["data"]} == {w.mine["id"], w.theirs["id"]}


async def _auto_advance(w: World) -> None:
    """Auto-advance: another agent's lead is not found, dry run or not."""
    pipeline = (await w.client.get("/api/v1/pipelines?kind=lead",
                                   headers=w.owner.headers)).json()["data"][0]
    new = next(s["id"] for s in pipeline["stages"] if s["code"] == "new")
    resp = await w.client.post(
        f"/api/v1/pipelines/{pipeline['id']}/stages/{new}/advance-rules",
        headers=w.owner.headers, json={"name": "Go", "target_stage": "contacted",
                                       "condition": {"field": "score", "op": "gte",
                                                     "value": 0}})
    assert resp.status_code == 201, resp.text
    for lead_id in w.hidden:
        for query in ("", "?dry_run=true"):
            resp = await w.call("POST", f"{LEADS}/{lead_id}/auto-advance{query}")
            assert resp.status_code == 404 and resp.json()["code"] == "LEAD_NOT_FOUND"
    mine = (await w.call("POST", f"{LEADS}/{w.mine['id']}/auto-advance")).json()
    assert mine["moved"] and mine["lead"]["stage"] == "contacted"


AUTOS = "/compat/autos/v1/leads"
async def _assignment(w: World) -> None:
    """Assigning needs a manager: an agent is refused on any lead, theirs or not."""
    for lead_id in (w.mine["id"], *w.hidden):
        for path, body in (("assign", {"user_id": str(w.agent.user_id)}), ("auto-assign", {}),
                           ("auto-assign?dry_run=true", {})):
            resp = await w.call("POST", f"{LEADS}/{lead_id}/{path}", json=body)
            assert resp.status_code == 403 and resp.json()["code"] == "ROLE_REQUIRED"


async def _conversion(w: World) -> None:
    """Qualification and conversion: another agent's lead is not found; the reasons
    report counts the agent's own leads only."""
    for lead_id in w.hidden:
        for method, path, body in (("POST", "qualify", None),
                                   ("POST", "unqualify", {"reason": "x"}),
                                   ("GET", "can-convert", None), ("POST", "convert", {})):
            resp = await w.call(method, f"{LEADS}/{lead_id}/{path}", json=body)
            assert resp.status_code == 404 and resp.json()["code"] == "LEAD_NOT_FOUND"
    theirs = await make_lead(w.client, w.owner, owner_id=str(w.other.user_id))
    await w.client.post(f"{LEADS}/{theirs['id']}/unqualify", headers=w.owner.headers,
                        json={"reason": "Not ours"})
    report = (await w.call("GET", f"{LEADS}/unqualified-reasons")).json()
    assert report["total"] == 0 and report["reasons"] == []


async def _analytics(w: World) -> None:
    """The dashboard's figures count the agent's own leads (and their timelines) only."""
    await w.client.post("/api/v1/activities", headers=w.other.headers, json={
        "type": "note", "lead_id": w.theirs["id"], "attributes": {"content": "theirs"}})
    mine = (await w.call("GET", "/api/v1/activities?lead_id=" + w.mine["id"])).json()
    by_source = (await w.call("GET", "/api/v1/analytics/leads/by-source")).json()
    assert by_source["total"] == 1 and by_source["series"][0]["key"] == "vis"
    assert (await w.call("GET", "/api/v1/analytics/leads/funnel")).json()["total"] == 1
    acts = (await w.call("GET", "/api/v1/analytics/activities")).json()
    assert acts["total"] == len(mine["data"]) and "note" not in {
        s["key"] for s in acts["series"]}
    board = (await w.call("GET", "/api/v1/analytics/dashboard")).json()
    assert board["leads"]["by_source"]["total"] == 1
    assert board["leads"]["funnel"]["total"] == 1
    assert board["activities"]["total"] == acts["total"] and board["imports"] is None


async def _customer_views(w: World) -> None:
    """A customer's timeline and opportunities shown to an agent hold its own leads'
    entries and deals only (a colleague's contact of the same customer stays out)."""
    customer = (await w.client.post("/api/v1/customers", headers=w.owner.headers, json={
        "name": "Shared Co", "owner_id": str(w.agent.user_id)})).json()
    theirs = await make_lead(w.client, w.owner, owner_id=str(w.other.user_id))
    for lead in (w.mine, theirs):
        resp = await w.client.post(f"{LEADS}/{lead['id']}/convert", headers=w.owner.headers,
                                   json={"customer": {"id": customer["id"]},
                                         "create_opportunity": True})
        assert resp.status_code == 200, resp.text
    url = f"/api/v1/customers/{customer['id']}"
    for sub in ("timeline", "opportunities", "contacts"):
        resp = await w.call("GET", f"{url}/{sub}")
        assert resp.status_code == 200 and resp.json()["data"], resp.text
        assert theirs["id"] not in resp.text, sub


async def _duplicates(w: World) -> None:
    """Candidates are among the agent's own leads (another agent's lead with the same
    phone is never offered); merges and unmerges of another agent's leads are 404; the
    workspace's groups and scans need a manager."""
    twin = await w.client.post(f"{LEADS}?on_duplicate=allow", headers=w.agent.headers,
                               json={"first_name": "Twin", "phone": w.theirs["phone"]})
    assert twin.status_code == 201, twin.text
    found = await w.call("GET", f"{LEADS}/{twin.json()['id']}/duplicates")
    assert found.status_code == 200 and found.json()["data"] == []
    for lead_id in w.hidden:
        resp = await w.call("GET", f"{LEADS}/{lead_id}/duplicates")
        assert resp.status_code == 404 and resp.json()["code"] == "LEAD_NOT_FOUND"
        for a, b in ((w.mine["id"], lead_id), (lead_id, w.mine["id"])):
            resp = await w.call("POST", f"{LEADS}/{a}/merge", json={"other_ids": [b]})
            assert resp.status_code == 404 and resp.json()["code"] == "LEAD_NOT_FOUND"
        resp = await w.call("POST", f"{LEADS}/{lead_id}/unmerge", json={})
        assert resp.status_code == 404
    scan = f"{LEADS}/duplicates/scans/{uuid.uuid4()}"
    for method, url in (("GET", f"{LEADS}/duplicates"), ("POST", f"{LEADS}/duplicates/scan"),
                        ("GET", f"{LEADS}/duplicates/scans"), ("GET", scan),
                        ("POST", f"{scan}/cancel")):
        resp = await w.call(method, url)
        assert resp.status_code == 403 and resp.json()["code"] == "ROLE_REQUIRED", url


async def _opportunity_views(w: World) -> None:
    """The opportunity views: an agent's rows are its own deals and its leads' ones; a deal
    given to it on another agent's lead names no lead (``w.call`` checks every answer)."""
    base = "/api/v1/opportunities"
    theirs = (await w.client.post(base, headers=w.other.headers, json={
        "name": "Theirs", "value": "10", "lead_id": w.theirs["id"],
        "expected_close_date": str(date.today())})).json()["id"]
    given = (await w.client.post(base, headers=w.owner.headers, json={
        "name": "Given", "value": "5", "lead_id": w.theirs["id"], "owner_id":
        str(w.agent.user_id), "expected_close_date": str(date.today())})).json()["id"]
    for url in ("/pipeline", "/pipeline/stages/qualified", "/stale?days=0", "/forecast",
                f"/forecast/months/{date.today():%Y-%m}"):
        text = (await w.call("GET", base + url)).text
        assert theirs not in text and given in text, url
    got = (await w.call("POST", f"{base}/{given}/calculate-probability",
                        json={"store": True})).json()
    assert got["opportunity"]["lead_id"] is None
    assert (await w.call("POST", f"{base}/{theirs}/calculate-probability",
                         json={})).status_code == 404


async def _dialer(w: World) -> None:
    """The dial queue and the calls: an agent reaches the tasks and calls of its own leads
    only (another agent's lead queued and called by the owner stays out of sight)."""
    from leadbase.calls import scheduler
    from tests.calls.helpers import NOON_NY, make_agent

    agent = await make_agent(w.client, w.owner)
    queued = await w.client.post("/api/v1/dial-tasks", headers=w.owner.headers, json={
        "agent_id": agent["id"], "lead_id": w.theirs["id"]})
    assert queued.status_code == 201, queued.text
    task_id = queued.json()["id"]
    async with w.db.transaction(w.owner.tenant_id) as session:
        placed = await scheduler.tick_workspace(session, tenant_id=w.owner.tenant_id,
                                                now=NOON_NY)
    (call_id,) = placed.placed
    for query in ("", f"?agent_id={agent['id']}", f"?lead_id={w.theirs['id']}"):
        body = (await w.call("GET", f"/api/v1/dial-tasks{query}")).json()
        assert body["data"] == [], query
    for method, suffix in (("GET", ""), ("PATCH", ""), ("POST", "/call-now")):
        resp = await w.call(method, f"/api/v1/dial-tasks/{task_id}{suffix}",
                            json={"due_at": None} if method == "PATCH" else None)
        assert resp.status_code == 404 and resp.json()["code"] == "DIAL_TASK_NOT_FOUND"
    for lead_id in w.hidden:
        resp = await w.call("POST", "/api/v1/dial-tasks",
                            json={"agent_id": agent["id"], "lead_id": lead_id})
        assert resp.status_code == 422 and resp.json()["code"] == "DIAL_TASK_LEAD_NOT_FOUND"
    for query in ("", "?q=4155550123", f"?agent_id={agent['id']}"):
        body = (await w.call("GET", f"/api/v1/calls{query}")).json()
        assert body["data"] == [] and body["total"] in (0, None), query
    resp = await w.call("GET", f"/api/v1/calls/{call_id}")
    assert resp.status_code == 404 and resp.json()["code"] == "CALL_NOT_FOUND"
    metrics = (await w.call("GET", "/api/v1/calls/metrics")).json()
    assert metrics["total_calls"] == 0


PROBES: dict[tuple[str, str], Probe] = {
    ("GET", f"{LEADS}/{{lead_id}}/score"): _scoring,
    ("POST", f"{LEADS}/{{lead_id}}/score"): _scoring,
    ("POST", "/api/v1/scoring/preview"): _scoring,
    ("POST", f"{LEADS}/{{lead_id}}/assign"): _assignment,
    ("POST", f"{LEADS}/{{lead_id}}/auto-assign"): _assignment,
    ("POST", f"{LEADS}/{{lead_id}}/stage"): _stage,
    ("GET", f"{LEADS}/{{lead_id}}/stage-history"): _stage,
    ("GET", "/api/v1/pipelines/{pipeline_id}/board"): _board,
    ("GET", "/api/v1/pipelines/{pipeline_id}/metrics"): _board,
    ("POST", f"{LEADS}/{{lead_id}}/auto-advance"): _auto_advance,
    ("DELETE", "/api/v1/segments/{segment_id}/members/{lead_id}"): _segments,
    ("GET", LEADS): _list,
    **{route: _duplicates for route in (
        ("GET", f"{LEADS}/{{lead_id}}/duplicates"), ("POST", f"{LEADS}/{{lead_id}}/merge"),
        ("POST", f"{LEADS}/{{lead_id}}/unmerge"), ("GET", f"{LEADS}/duplicates"),
        ("POST", f"{LEADS}/duplicates/scan"), ("GET", f"{LEADS}/duplicates/scans"),
        ("GET", f"{LEADS}/duplicates/scans/{{scan_id}}"),
        ("POST", f"{LEADS}/duplicates/scans/{{scan_id}}/cancel"))},
    ("POST", LEADS): _create,
    ("GET", f"{LEADS}/{{lead_id}}"): _get,
    ("PATCH", f"{LEADS}/{{lead_id}}"): _patch,
    ("DELETE", f"{LEADS}/{{lead_id}}"): _delete,
    ("POST", f"{LEADS}/{{lead_id}}/restore"): _restore,
    ("GET", f"{LEADS}/export"): _export,
    ("POST", f"{LEADS}/bulk"): _bulk,
    ("GET", f"{LEADS}/bulk"): _bulk_jobs,
    ("GET", f"{LEADS}/bulk/{{bulk_id}}"): _bulk_jobs,
    ("POST", f"{LEADS}/bulk/{{bulk_id}}/cancel"): _bulk_jobs,
    ("POST", "/api/v1/exports"): _export_job,
    ("GET", "/api/v1/exports"): _export_jobs,
    ("GET", "/api/v1/exports/{export_id}"): _export_jobs,
    ("POST", "/api/v1/exports/{export_id}/cancel"): _export_jobs,
    ("GET", "/api/v1/exports/{export_id}/download"): _export_job,
    ("POST", "/api/v1/imports"): _imports,
    ("GET", "/api/v1/imports"): _imports,
    ("GET", "/api/v1/imports/{import_id}"): _imports,
    ("POST", "/api/v1/imports/{import_id}/cancel"): _imports,
    ("GET", "/api/v1/imports/{import_id}/errors"): _imports,
    ("GET", "/api/v1/lists"): _lists,
    ("POST", "/api/v1/lists"): _lists,
    ("GET", "/api/v1/lists/{list_id}"): _lists,
    ("PATCH", "/api/v1/lists/{list_id}"): _lists,
    ("GET", "/compat/fields/campaigns"): _campaigns,
    ("POST", "/compat/fields/campaigns"): _campaigns,
    ("GET", "/compat/fields/campaigns/{id}"): _campaigns,
    ("PUT", "/compat/fields/campaigns/{id}"): _campaigns,
    ("GET", f"{LEADS}/{{lead_id}}/timeline"): _timeline,
    ("POST", ACTIVITIES): _activities,
    ("GET", ACTIVITIES): _activities,
    ("GET", f"{ACTIVITIES}/{{activity_id}}"): _activities,
    ("PATCH", f"{ACTIVITIES}/{{activity_id}}"): _activities,
    ("GET", f"{ACTIVITIES}/upcoming"): _agenda,
    ("GET", f"{ACTIVITIES}/recent"): _agenda,


    ("GET", f"{LEADS}/{{lead_id}}/listings"): _listing_links,
    ("POST", f"{LEADS}/{{lead_id}}/listings"): _listing_links,
    ("PATCH", f"{LEADS}/{{lead_id}}/listings/{{listing_id}}"): _listing_links,
    ("DELETE", f"{LEADS}/{{lead_id}}/listings/{{listing_id}}"): _listing_links,
    ("GET", "/api/v1/listings/{listing_id}/leads"): _listing_links,
    **{("POST", f"{LEADS}/{{lead_id}}/{p}"): _conversion
       for p in ("qualify", "unqualify", "convert")},
    ("GET", f"{LEADS}/{{lead_id}}/can-convert"): _conversion,
    ("GET", f"{LEADS}/unqualified-reasons"): _conversion,
    **{("GET", f"/api/v1/analytics/{p}"): _analytics
       for p in ("leads/by-source", "leads/funnel", "dashboard")},
    ("GET", "/api/v1/customers/{customer_id}/timeline"): _customer_views,
    ("GET", "/api/v1/customers/{customer_id}/opportunities"): _customer_views,
    ("GET", "/api/v1/tasks"): _tasks,
    ("POST", "/api/v1/tasks"): _tasks,
    ("GET", "/api/v1/tasks/{task_id}"): _tasks,
    ("PATCH", "/api/v1/tasks/{task_id}"): _tasks,
    ("POST", "/api/v1/tasks/{task_id}/move"): _tasks,
    ("GET", "/api/v1/listings/{listing_id}/tasks"): _tasks,
    **{route: _opportunities for route in (
        ("GET", "/api/v1/opportunities"), ("POST", "/api/v1/opportunities"),
        ("GET", "/api/v1/opportunities/{opportunity_id}"),
        ("PATCH", "/api/v1/opportunities/{opportunity_id}"),
        ("POST", "/api/v1/opportunities/{opportunity_id}/stage"),
        ("POST", "/api/v1/opportunities/{opportunity_id}/close-won"),
        ("POST", "/api/v1/opportunities/{opportunity_id}/close-lost"),
        ("POST", "/api/v1/opportunities/{opportunity_id}/reopen"),
        ("GET", "/api/v1/opportunities/{opportunity_id}/activities"),
        ("POST", "/api/v1/opportunities/{opportunity_id}/activities"),
        ("POST", "/api/v1/opportunities/{opportunity_id}/follow-ups"),
        ("GET", "/api/v1/opportunities/activities/upcoming"))},
    **{route: _opportunity_views for route in (
        ("GET", "/api/v1/opportunities/pipeline"),
        ("GET", "/api/v1/opportunities/pipeline/stages/{stage}"),
        ("GET", "/api/v1/opportunities/stale"), ("GET", "/api/v1/opportunities/forecast"),
        ("GET", "/api/v1/opportunities/forecast/months/{month}"),
        ("POST", "/api/v1/opportunities/{opportunity_id}/calculate-probability"))},
    **{route: _dialer for route in (
        ("GET", "/api/v1/dial-tasks"), ("POST", "/api/v1/dial-tasks"),
        ("GET", "/api/v1/dial-tasks/{task_id}"), ("PATCH", "/api/v1/dial-tasks/{task_id}"),
        ("POST", "/api/v1/dial-tasks/{task_id}/call-now"), ("GET", "/api/v1/calls"),
        ("GET", "/api/v1/calls/{call_id}"))},


    **{("GET" if m == "G" else "POST" if m == "P" else "PUT" if m == "U" else "DELETE",
        "/compat/crm/v1/leads" + path): _crm for m, path in (
        ("G", ""), ("P", ""), ("G", "/{id}"), ("U", "/{id}"), ("D", "/{id}"),
        ("G", "/assignment/by-agent/{agentId}"), ("G", "/assignment/unassigned"),
        ("G", "/export"), ("G", "/scoring/cold"), ("G", "/scoring/hot"),
        ("P", "/bulk-update"), ("P", "/import"), ("P", "/scoring/recalculate-all"),
        ("P", "/{id}/assign"), ("P", "/{id}/auto-assign"), ("P", "/{id}/calculate-score"),
        ("P", "/{id}/reassign"), ("P", "/{id}/update-score"))},
    **{(m, f"{CRM}/leads/{{id}}/{p}"): _crm_conversion for m, p in (
        ("POST", "convert"), ("GET", "can-convert"), ("POST", "qualify"),
        ("POST", "unqualify"))},
    **{(m, f"{CRM}/opportunities{p}"): _crm_opportunities for m, p in (
        ("GET", ""), ("POST", ""), ("GET", "/{id}"), ("PUT", "/{id}"),
        ("GET", "/activities/upcoming"), ("GET", "/pipeline/by-stage/{stage}"),
        ("GET", "/pipeline/stale"), ("GET", "/pipeline/view"), ("GET", "/{id}/activities"),
        ("POST", "/{id}/activities"), ("POST", "/{id}/close-lost"),
        ("POST", "/{id}/close-won"), ("POST", "/{id}/move-stage"), ("POST", "/{id}/reopen"),
        ("POST", "/{id}/schedule-follow-up"), ("POST", "/{id}/update-probability"))},
    **{(m, f"{CRM}/activities{p}"): _crm_activities for m, p in (
        ("GET", ""), ("POST", ""), ("GET", "/export"), ("GET", "/timeline/lead/{leadId}"),
        ("GET", "/{id}"), ("PUT", "/{id}"), ("POST", "/log-call"), ("POST", "/log-demo"),
        ("POST", "/log-document"), ("POST", "/log-email"), ("POST", "/log-meeting"),
        ("POST", "/log-note"), ("POST", "/log-proposal"), ("POST", "/log-task"))},
    **{route: _autos for route in (
        ("GET", AUTOS), ("GET", f"{AUTOS}/{{id}}"), ("PATCH", f"{AUTOS}/{{id}}"),
        ("DELETE", f"{AUTOS}/{{id}}"), ("PATCH", f"{AUTOS}/{{id}}/order"),
        ("GET", f"{AUTOS}/car/{{carId}}"), ("POST", f"{AUTOS}/car/{{carId}}"),
        ("PATCH", f"{AUTOS}/car/{{carId}}/reorder"), ("GET", f"{AUTOS}/status/{{status}}"))},
}


def test_every_lead_route_has_a_probe(app: FastAPI) -> None:
    routes = lead_routes(app)
    missing = sorted(routes - set(PROBES))
    assert not missing, f"lead routes without a visibility probe in {__name__}: {missing}"
    gone = sorted(set(PROBES) - routes)
    assert not gone, f"probes of routes that no longer exist: {gone}"


@pytest.mark.parametrize("route", sorted(PROBES), ids=lambda r: f"{r[0]} {r[1]}")
async def test_another_agents_lead_is_unreachable(client: httpx.AsyncClient, db: Database,
                                                  settings: Settings,
                                                  route: tuple[str, str]) -> None:
    owner = await make_workspace(client, "Visibility")
    agent = await add_member(client, owner, "agent")
    other = await add_member(client, owner, "agent")
    mine = await make_lead(client, agent, source="vis")
    theirs = await make_lead(client, other, source="vis", phone="+14155550123")
    gone = await make_lead(client, other, source="vis")
    assert (await client.delete(f"{LEADS}/{gone['id']}",
                                headers=other.headers)).status_code == 204
    gone = (await client.get(f"{LEADS}/{gone['id']}?include_deleted=true",
                             headers=owner.headers)).json()
    world = World(client=client, db=db, settings=settings, owner=owner, agent=agent,
                  other=other, mine=mine, theirs=theirs, theirs_gone=gone)
    await PROBES[route](world)
    await world.unchanged()


async def test_an_agent_never_merges_into_another_agents_lead(client: httpx.AsyncClient,
                                                              db: Database) -> None:
    """Service level: on_duplicate=update by an agent whose duplicate is another agent's
    lead is a 409 that names no lead (it used to merge into that lead)."""
    owner = await make_workspace(client, "Merge")
    agent = await add_member(client, owner, "agent")
    other = await add_member(client, owner, "agent")
    theirs = await make_lead(client, other, company="Theirs")
    ctx = Context(tenant_id=owner.tenant_id, principal=Principal(
        role="agent", tenant_id=owner.tenant_id, user_id=agent.user_id))
    async with db.transaction(owner.tenant_id) as session:
        with pytest.raises(Conflict) as info:
            await leads_service.create_lead(session, ctx=ctx, body=LeadCreate(
                email=theirs["email"], company="Mine now"), on_duplicate="update")
    assert info.value.code == "DUPLICATE_LEAD" and "existing_id" not in info.value.extra
    now = (await client.get(f"{LEADS}/{theirs['id']}", headers=owner.headers)).json()
    assert now["company"] == "Theirs" and now["version"] == theirs["version"]


async def test_the_readable_set_comes_from_the_principal() -> None:
    tenant, user = uuid.uuid4(), uuid.uuid4()

    def scope(role: str, user_id: uuid.UUID | None) -> Readable:
        return readable(Context(tenant_id=tenant, principal=Principal(
            role=role, tenant_id=tenant, user_id=user_id)))

    for role in ("viewer", "manager", "admin", "owner"):
        assert scope(role, user) == Readable(tenant) and scope(role, user).holds_owner(None)
    agent = scope("agent", user)
    assert agent == Readable(tenant, own=True, owner_id=user)
    assert agent.holds_owner(user) and not agent.holds_owner(uuid.uuid4())
    assert agent.default_owner == user and agent.sql()[1] == (tenant, user)
    keyless = scope("agent", None)  # an API key with the role agent: no user, no lead
    assert not keyless.holds_owner(None) and "false" in keyless.sql()[0]


async def test_an_agent_api_key_reaches_no_lead(client: httpx.AsyncClient) -> None:
    """A key with the role agent has no user to own leads: it used to list every lead of
    the workspace, and to read the unassigned ones."""
    owner = await make_workspace(client, "Keys")
    unassigned = await make_lead(client, owner)
    key = (await client.post("/api/v1/api-keys", headers=owner.headers,
                             json={"name": "agent key", "role": "agent"})).json()
    h = {"Authorization": f"Bearer {key['secret']}"}
    listed = await client.get(LEADS, headers=h)
    assert listed.status_code == 200 and listed.json()["data"] == []
    assert (await client.get(f"{LEADS}/{unassigned['id']}", headers=h)).status_code == 404


async def test_an_import_runs_only_for_the_whole_workspace(client: httpx.AsyncClient,
                                                           db: Database,
                                                           settings: Settings) -> None:
    """Service level: an import matches and merges rows into any lead of the workspace,
    so a job whose actor reads only their own leads fails before touching one."""
    owner = await make_workspace(client, "Import scope")
    agent = await add_member(client, owner, "agent")
    lead = await make_lead(client, owner, company="Before")
    resp = await upload(client, owner, f"email,company\n{lead['email']},After\n".encode(),
                        on_duplicate="update")
    assert resp.status_code == 202, resp.text
    job_id = resp.json()["id"]
    async with db.transaction(owner.tenant_id) as session:
        await session.execute(text("UPDATE import_jobs SET actor = CAST(:a AS jsonb) "
                                   "WHERE id = :i"), {
            "a": json.dumps({"role": "agent", "user_id": str(agent.user_id)}), "i": job_id})
    done = await run(client, owner, db, settings, resp.json())
    assert done["status"] == "failed" and done["error_code"] == "ROLE_REQUIRED", done
    now = (await client.get(f"{LEADS}/{lead['id']}", headers=owner.headers)).json()
    assert now["company"] == "Before"
