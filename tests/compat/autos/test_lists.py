"""Lists: search, every filter and sort, their combinations, the bounds (``limit``,
``offset``, ``X-Total-Count``), and one lead per person however the contact is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from leadbase.app import create_app
from leadbase.db.session import Database
from tests.compat.autos.helpers import BASE, World, call, make_car, make_world, ok, post_lead
from tests.conftest import make_settings


async def _fleet(client: httpx.AsyncClient) -> tuple[World, dict[str, Any], list[dict[str, Any]]]:
    w = await make_world(client)
    dacia = await make_car(client, w.owner, make="Dacia", model="Logan", overviewYear=2019)
    rows = [
        (w.car, "Follow up call about financing", "John Smith", "+212-600-123456",
         "Hot Lead", "NEW", 2),
        (w.car, "Schedule test drive", "Jane Doe", "jane.doe@email.com", "Test Drive",
         "COMPLETED", 1),
        (dacia, "Prepare sales documents", "Legal Department", "legal@dealership.com",
         "Documentation", "NEW", 3),
        (dacia, "Call back Tuesday", "Sara Alami", "sara.alami@email.com", "Hot Lead",
         "NOT_NEEDED", 0),
    ]
    made = [await post_lead(client, w.owner, car["id"], action=a, targetName=n,
                            targetInfo=i, tag=t, status=s, order=o)
            for car, a, n, i, t, s, o in rows]
    return w, dacia, made


def actions(found: list[dict[str, Any]]) -> list[str]:
    return [r["action"] for r in found]


async def test_search_filters_and_sorts(client: httpx.AsyncClient) -> None:
    w, dacia, made = await _fleet(client)

    async def get(**params: Any) -> list[str]:
        return actions(await ok(client, "GET", "/leads", w.owner, **params))

    # Default: by order ascending.
    assert await get() == ["Call back Tuesday", "Schedule test drive",
                           "Follow up call about financing", "Prepare sales documents"]
    # search: over action, targetName and tag, any case, any part.
    assert await get(search="CALL") == ["Call back Tuesday", "Follow up call about financing"]
    assert await get(search="jane") == ["Schedule test drive"]
    assert await get(search="documentation") == ["Prepare sales documents"]
    assert await get(search="nothing like it") == []
    # Filters, and their combinations.
    assert await get(status="NEW") == ["Follow up call about financing",
                                       "Prepare sales documents"]
    assert await get(tag="Hot Lead") == ["Call back Tuesday", "Follow up call about financing"]
    assert await get(targetName="Sara Alami") == ["Call back Tuesday"]
    assert await get(action="Schedule test drive") == ["Schedule test drive"]
    assert await get(carId=dacia["id"]) == ["Call back Tuesday", "Prepare sales documents"]
    assert await get(carId=dacia["id"], status="NEW") == ["Prepare sales documents"]
    assert await get(search="call", tag="Hot Lead", status="NEW") == [
        "Follow up call about financing"]
    assert await get(search="call", carId=w.car["id"]) == ["Follow up call about financing"]
    # Sorts.
    assert await get(sortBy="action") == sorted(await get())
    assert await get(sortBy="action", sortOrder="desc") == sorted(await get(), reverse=True)
    assert await get(sortBy="targetName") == ["Schedule test drive",
                                              "Follow up call about financing",
                                              "Prepare sales documents", "Call back Tuesday"]
    assert await get(sortBy="createdAt") == [m["action"] for m in made]
    assert await get(sortBy="createdAt", sortOrder="desc") == [m["action"] for m in made][::-1]
    assert await get(sortBy="order", sortOrder="desc") == (await get())[::-1]
    by_status = await ok(client, "GET", "/leads", w.owner, sortBy="status")
    # By the canonical statuses: completed, not_needed, open.
    assert [r["status"] for r in by_status] == ["COMPLETED", "NOT_NEEDED", "NEW", "NEW"]
    assert await get(sortBy="status", tag="Hot Lead", sortOrder="desc") == [
        "Follow up call about financing", "Call back Tuesday"]
    # The same on a car's list and on a status's list.
    found = await ok(client, "GET", f"/leads/car/{dacia['id']}", w.owner, search="legal")
    assert actions(found) == ["Prepare sales documents"]
    found = await ok(client, "GET", "/leads/status/NEW", w.owner, sortBy="order",
                     sortOrder="desc")
    assert actions(found) == ["Prepare sales documents", "Follow up call about financing"]


async def test_bounds_and_total(client: httpx.AsyncClient) -> None:
    w, _, _ = await _fleet(client)
    resp = await call(client, "GET", "/leads", w.owner)
    assert resp.headers["x-total-count"] == "4"
    resp = await call(client, "GET", "/leads", w.owner, limit=2)
    assert len(resp.json()) == 2 and resp.headers["x-total-count"] == "4"
    everything = await ok(client, "GET", "/leads", w.owner)
    page2 = await call(client, "GET", "/leads", w.owner, limit=2, offset=2)
    assert page2.json() == everything[2:]
    beyond = await call(client, "GET", "/leads", w.owner, offset=10)
    assert beyond.json() == [] and beyond.headers["x-total-count"] == "4"
    filtered = await call(client, "GET", "/leads", w.owner, tag="Hot Lead", limit=1)
    assert filtered.headers["x-total-count"] == "2" and len(filtered.json()) == 1
    spec = (await client.get(BASE + "/openapi.json")).json()
    limit = next(p for p in spec["paths"]["/leads"]["get"]["parameters"]
                 if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 200 and limit["schema"]["default"] == 100


async def test_one_person_one_lead(client: httpx.AsyncClient) -> None:
    """Two leads (tasks) about ``+212-600-123456`` and ``+212600123456`` are about one
    person: one lead in the canonical API, each task answering its contact as sent."""
    w = await make_world(client)
    one = await post_lead(client, w.owner, w.car["id"], action="Call",
                          targetName="Ahmed Benali", targetInfo="+212-600-123456")
    two = await post_lead(client, w.owner, w.car["id"], action="Test drive",
                          targetName="Ahmed Benali", targetInfo="+212600123456")
    assert (one["targetInfo"], two["targetInfo"]) == ("+212-600-123456", "+212600123456")
    people = (await client.get("/api/v1/leads", headers=w.headers,
                               params={"count": "exact"})).json()
    assert people["total"] == 1
    person = people["data"][0]
    assert (person["first_name"], person["last_name"], person["phone"]) == (
        "Ahmed", "Benali", "+212600123456")
    # A new contact that no lead has becomes the person's (the task keeps it as sent);
    # one of another person is refused.
    moved = await ok(client, "PATCH", f"/leads/{two['id']}", w.owner,
                     {"targetInfo": "Ahmed.B@Email.com", "targetName": "Ahmed B"})
    assert moved["targetInfo"] == "Ahmed.B@Email.com" and moved["targetName"] == "Ahmed B"
    people = (await client.get("/api/v1/leads", headers=w.headers,
                               params={"count": "exact"})).json()
    assert people["total"] == 1
    assert (people["data"][0]["email"], people["data"][0]["phone"]) == (
        "ahmed.b@email.com", "+212600123456")
    assert (await ok(client, "GET", f"/leads/{one['id']}", w.owner))["targetName"] == \
        "Ahmed B"
    await post_lead(client, w.owner, w.car["id"], targetInfo="sara@email.com",
                    targetName="Sara")
    resp = await call(client, "PATCH", f"/leads/{one['id']}", w.owner,
                      {"targetInfo": "SARA@email.com"})
    assert resp.status_code == 400 and resp.json()["code"] == "VALIDATION_ERROR"
    assert resp.json()["errors"][0]["field"] == "targetInfo"


async def test_target_name_is_the_persons_name(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    one = await post_lead(client, w.owner, w.car["id"], targetName="Sara Alami",
                          targetInfo="sara.alami@email.com")
    two = await post_lead(client, w.owner, w.car["id"], targetName="Sara",
                          targetInfo="SARA.ALAMI@email.com")
    # The person was found: the name she has, not the one sent the second time.
    assert two["targetName"] == "Sara Alami"
    renamed = await ok(client, "PATCH", f"/leads/{one['id']}", w.owner,
                       {"targetName": "Sara Alami Idrissi"})
    assert renamed["targetName"] == "Sara Alami Idrissi"
    assert (await ok(client, "GET", f"/leads/{two['id']}", w.owner))["targetName"] == \
        "Sara Alami Idrissi"


async def test_tasks_of_the_canonical_api(client: httpx.AsyncClient) -> None:
    """A task cancelled through ``/api/v1/tasks`` answers NOT_NEEDED; one filed there (no
    targetInfo as sent) answers the person's phone or email; a fractional rank its floor."""
    w = await make_world(client)
    lead = await post_lead(client, w.owner, w.car["id"], order=1)
    resp = await client.patch(f"/api/v1/tasks/{lead['id']}", headers=w.headers,
                              json={"status": "cancelled"})
    assert resp.status_code == 200, resp.text
    assert (await ok(client, "GET", f"/leads/{lead['id']}", w.owner))["status"] == "NOT_NEEDED"
    assert [r["id"] for r in await ok(client, "GET", "/leads/status/NOT_NEEDED",
                                      w.owner)] == [lead["id"]]
    assert await ok(client, "GET", "/leads", w.owner, status="NEW") == []
    person = (await client.get("/api/v1/leads", headers=w.headers)).json()["data"][0]
    resp = await client.post("/api/v1/tasks", headers=w.headers, json={
        "lead_id": person["id"], "listing_id": w.car["id"], "title": "Canonical",
        "position": "1.5"})
    assert resp.status_code == 201, resp.text
    found = await ok(client, "GET", f"/leads/{resp.json()['id']}", w.owner)
    assert (found["targetInfo"], found["targetName"], found["order"], found["status"]) == (
        "+212600123456", "John Smith", 1, "NEW")
    listed = await ok(client, "GET", f"/leads/car/{w.car['id']}", w.owner)
    assert [r["action"] for r in listed] == ["Follow up call", "Canonical"]


async def test_totals_beyond_the_exact_limit(db: Database, tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, count_exact_limit=2), database=db,
                     run_worker=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        w, _, _ = await _fleet(client)
        resp = await call(client, "GET", "/leads", w.owner, limit=1)
        assert resp.headers["x-total-count"] == "3"  # at least 3: the cap + 1
        assert resp.headers["x-total-count-estimated"] == "true"
        resp = await call(client, "GET", "/leads", w.owner, limit=1, tag="Hot Lead")
        assert resp.headers["x-total-count"] == "2"
        assert "x-total-count-estimated" not in resp.headers
