"""Manual ordering: a move between two others writes that one row (the midpoint), moves
to either end, ties renumbered, a whole reorder in one call, positions set exactly (a
profile's integer order); and NotYours at the service level."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from leadbase.auth.context import Context, Principal
from leadbase.db.session import Database
from leadbase.kit.errors import NotFound
from leadbase.tasks import service
from leadbase.tasks.schemas import TaskUpdate
from tests.factories import Member, add_member, make_lead, make_workspace
from tests.listings.test_listings import make_listing
from tests.tasks.test_tasks import make_task

BASE = "/api/v1/tasks"


async def _order(client: httpx.AsyncClient, member: Member, listing_id: str) -> list[str]:
    body = (await client.get(f"/api/v1/listings/{listing_id}/tasks", headers=member.headers)
            ).json()
    return [t["title"] for t in body["data"]]


async def _versions(db: Database, tenant_id: uuid.UUID, listing_id: str) -> dict[str, int]:
    async with db.transaction(tenant_id) as session:
        rows = (await session.execute(text(
            "SELECT title, version FROM tasks WHERE listing_id = :l"), {"l": listing_id}))
        return {r[0]: r[1] for r in rows}


async def _setup(client: httpx.AsyncClient) -> tuple[Member, dict[str, Any],
                                                    dict[str, dict[str, Any]]]:
    owner = await make_workspace(client, "Ordering")
    lead = await make_lead(client, owner)
    car = await make_listing(client, owner)
    tasks = {}
    for title in "ABCD":
        tasks[title] = await make_task(client, owner, lead, title=title, listing_id=car["id"])
    return owner, car, tasks


async def test_move_between_two_writes_one_row(client: httpx.AsyncClient,
                                               db: Database) -> None:
    owner, car, t = await _setup(client)
    before = await _versions(db, owner.tenant_id, car["id"])
    resp = await client.post(f"{BASE}/{t['D']['id']}/move", headers=owner.headers,
                             json={"after_id": t["A"]["id"], "before_id": t["B"]["id"]})
    assert resp.status_code == 200, resp.text
    assert resp.json()["position"] == 1.5
    assert await _order(client, owner, car["id"]) == ["A", "D", "B", "C"]
    after = await _versions(db, owner.tenant_id, car["id"])
    assert {k for k in after if after[k] != before[k]} == {"D"}
    # Only one neighbour given: the other is found; to the ends: one step beyond.
    await client.post(f"{BASE}/{t['C']['id']}/move", headers=owner.headers,
                      json={"after_id": t["A"]["id"]})
    assert await _order(client, owner, car["id"]) == ["A", "C", "D", "B"]
    await client.post(f"{BASE}/{t['B']['id']}/move", headers=owner.headers,
                      json={"before_id": t["A"]["id"]})
    assert await _order(client, owner, car["id"]) == ["B", "A", "C", "D"]
    await client.post(f"{BASE}/{t['B']['id']}/move", headers=owner.headers,
                      json={"after_id": t["D"]["id"]})
    assert await _order(client, owner, car["id"]) == ["A", "C", "D", "B"]
    # Many moves into the same gap keep working (numeric positions).
    for _ in range(30):
        await client.post(f"{BASE}/{t['B']['id']}/move", headers=owner.headers,
                          json={"after_id": t["A"]["id"], "before_id": t["C"]["id"]})
        await client.post(f"{BASE}/{t['D']['id']}/move", headers=owner.headers,
                          json={"after_id": t["A"]["id"], "before_id": t["B"]["id"]})
    assert await _order(client, owner, car["id"]) == ["A", "D", "B", "C"]


async def test_bad_moves(client: httpx.AsyncClient) -> None:
    owner, _car, t = await _setup(client)
    lead = await make_lead(client, owner)
    elsewhere = await make_task(client, owner, lead, title="E")
    for body in ({}, {"after_id": t["A"]["id"], "before_id": t["A"]["id"]},
                 {"after_id": t["B"]["id"], "before_id": t["A"]["id"]},
                 {"after_id": elsewhere["id"]}, {"after_id": str(uuid.uuid4())},
                 {"after_id": t["C"]["id"], "before_id": t["C"]["id"]}):
        resp = await client.post(f"{BASE}/{t['C']['id']}/move", headers=owner.headers,
                                 json=body)
        assert resp.status_code == 422, (body, resp.text)
    stale = await client.post(f"{BASE}/{t['C']['id']}/move",
                              headers={**owner.headers, "If-Match": '"9"'},
                              json={"after_id": t["A"]["id"]})
    assert stale.status_code == 412


async def test_ties_are_renumbered(client: httpx.AsyncClient) -> None:
    owner, car, t = await _setup(client)
    for title in "ABC":
        await client.patch(f"{BASE}/{t[title]['id']}", headers=owner.headers,
                           json={"position": 5})
    ordered = await _order(client, owner, car["id"])  # D (4) then the tie by id
    resp = await client.post(f"{BASE}/{t['D']['id']}/move", headers=owner.headers,
                             json={"after_id": t[ordered[1]]["id"],
                                   "before_id": t[ordered[2]]["id"]})
    assert resp.status_code == 200, resp.text
    assert await _order(client, owner, car["id"]) == [ordered[1], "D", ordered[2],
                                                      ordered[3]]


async def test_reorder_and_exact_positions(client: httpx.AsyncClient, db: Database) -> None:
    owner, car, t = await _setup(client)
    ids = [t[k]["id"] for k in "DBCA"]
    resp = await client.post(f"{BASE}/reorder", headers=owner.headers,
                             json={"ids": ids, "listing_id": car["id"]})
    assert resp.status_code == 200 and resp.json() == {"updated": 4}
    assert await _order(client, owner, car["id"]) == ["D", "B", "C", "A"]
    lead = await make_lead(client, owner)
    other = await make_task(client, owner, lead, title="Other")
    resp = await client.post(f"{BASE}/reorder", headers=owner.headers,
                             json={"ids": [*ids, other["id"]], "listing_id": car["id"]})
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "ids.4"
    resp = await client.post(f"{BASE}/reorder", headers=owner.headers,
                             json={"ids": [ids[0], ids[0]]})
    assert resp.status_code == 422
    # A profile's integer order: stored and read back exactly.
    ctx = Context(tenant_id=owner.tenant_id, principal=Principal(
        role="owner", tenant_id=owner.tenant_id, user_id=owner.user_id))
    async with db.transaction(owner.tenant_id) as session:
        await service.set_positions(session, ctx=ctx, listing_id=uuid.UUID(car["id"]),
                                    positions=[(uuid.UUID(t["A"]["id"]), Decimal(1)),
                                               (uuid.UUID(t["B"]["id"]), Decimal(3))])
        row = await service.update_task(session, ctx=ctx, task_id=uuid.UUID(t["C"]["id"]),
                                        body=TaskUpdate(position=Decimal(2)))
        assert row["position"] == 2
    got = (await client.get(f"{BASE}/{t['A']['id']}", headers=owner.headers)).json()
    assert got["position"] == 1
    assert await _order(client, owner, car["id"]) == ["A", "D", "C", "B"]  # A ties D: by id


async def test_not_yours_tells_same_workspace_from_elsewhere(client: httpx.AsyncClient,
                                                             db: Database) -> None:
    owner = await make_workspace(client, "NotYours")
    agent = await add_member(client, owner, "agent")
    other = await add_member(client, owner, "agent")
    theirs = await make_task(client, other, await make_lead(client, other))
    mine = await make_task(client, agent, await make_lead(client, agent))
    stranger = await make_workspace(client, "NotYours elsewhere")
    foreign = await make_task(client, stranger, await make_lead(client, stranger))
    ctx = Context(tenant_id=owner.tenant_id, principal=Principal(
        role="agent", tenant_id=owner.tenant_id, user_id=agent.user_id))
    async with db.transaction(owner.tenant_id) as session:
        assert (await service.get_task(session, ctx=ctx, task_id=uuid.UUID(mine["id"]))
                )["id"] == uuid.UUID(mine["id"])
        with pytest.raises(service.NotYours) as info:
            await service.get_task(session, ctx=ctx, task_id=uuid.UUID(theirs["id"]))
        assert info.value.status == 404 and info.value.code == "TASK_NOT_FOUND"
        with pytest.raises(service.NotYours):
            await service.delete_task(session, ctx=ctx, task_id=uuid.UUID(theirs["id"]),
                                      permanent=True)
        for missing in (foreign["id"], str(uuid.uuid4())):
            with pytest.raises(NotFound) as found:
                await service.get_task(session, ctx=ctx, task_id=uuid.UUID(missing))
            assert not isinstance(found.value, service.NotYours)
