"""Listing leads: filters, search, sorting, page and cursor pagination, totals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from leadbase.app import create_app
from leadbase.db.session import Database
from tests.conftest import make_settings
from tests.factories import Member, add_member, make_lead, make_workspace


async def _ids(client: httpx.AsyncClient, member: Member, query: str) -> list[str]:
    resp = await client.get(f"/api/v1/leads?{query}", headers=member.headers)
    assert resp.status_code == 200, resp.text
    return [r["id"] for r in resp.json()["data"]]


@pytest.fixture
async def seeded(client: httpx.AsyncClient) -> dict[str, Any]:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    leads = {
        "garcia": await make_lead(client, owner, first_name="José", last_name="García",
                                  phone="415-555-2672", tags=["vip", "buyer"], source="web",
                                  status="new", company="Acme"),
        "smith": await make_lead(client, owner, first_name="John", last_name="Smith",
                                 tags=["seller"], source="referral", status="contacted",
                                 owner_id=str(agent.user_id), company=None),
        "nunez": await make_lead(client, owner, first_name="Iñigo", last_name="Núñez",
                                 email="inigo@correo.example.org", tags=["buyer"],
                                 status="qualified",
                                 company="Zeta 100%"),
        "plain": await make_lead(client, owner, first_name="Pat", last_name=None,
                                 status="lost", company="Beta"),
    }
    return {"owner": owner, "agent": agent, "leads": leads}


async def test_filters(client: httpx.AsyncClient, seeded: dict[str, Any]) -> None:
    owner, agent, leads = seeded["owner"], seeded["agent"], seeded["leads"]
    ids = {k: v["id"] for k, v in leads.items()}
    assert set(await _ids(client, owner, "status=new,qualified")) == {ids["garcia"], ids["nunez"]}
    assert await _ids(client, owner, f"owner_id={agent.user_id}") == [ids["smith"]]
    assert set(await _ids(client, owner, "owner_id=none")) == {ids["garcia"], ids["nunez"],
                                                               ids["plain"]}
    assert set(await _ids(client, owner, f"owner_id=none,{agent.user_id}")) == set(ids.values())
    assert set(await _ids(client, owner, "tags=vip,seller")) == {ids["garcia"], ids["smith"]}
    assert await _ids(client, owner, "source=referral") == [ids["smith"]]
    assert await _ids(client, owner, "status=lost&tags=buyer") == []
    everything = set(ids.values())
    assert set(await _ids(client, owner, "score_gte=0&score_lte=0")) == everything
    assert await _ids(client, owner, "score_gte=1") == []
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    params = httpx.QueryParams({"created_after": future})
    assert await _ids(client, owner, str(params)) == []
    params = httpx.QueryParams({"created_after": past, "created_before": future})
    assert set(await _ids(client, owner, str(params))) == everything
    params = httpx.QueryParams({"updated_after": past})
    assert set(await _ids(client, owner, str(params))) == everything
    assert set(await _ids(client, owner, f"list_id={leads['garcia']['list_id']}")) == everything


async def test_search_is_accent_and_case_insensitive(client: httpx.AsyncClient,
                                                     seeded: dict[str, Any]) -> None:
    owner, leads = seeded["owner"], seeded["leads"]
    assert await _ids(client, owner, "q=garcia") == [leads["garcia"]["id"]]
    assert await _ids(client, owner, "q=GARCÍA") == [leads["garcia"]["id"]]
    assert await _ids(client, owner, "q=nunez") == [leads["nunez"]["id"]]
    assert await _ids(client, owner, "q=5552672") == [leads["garcia"]["id"]]
    assert await _ids(client, owner, "q=correo.example") == [leads["nunez"]["id"]]
    assert await _ids(client, owner, "q=acme") == [leads["garcia"]["id"]]
    # LIKE wildcards are literals.
    assert await _ids(client, owner, "q=100%25") == [leads["nunez"]["id"]]
    assert await _ids(client, owner, "q=%25%25") == []
    assert await _ids(client, owner, "q=zzzz") == []


async def test_bad_filters(client: httpx.AsyncClient, seeded: dict[str, Any]) -> None:
    owner = seeded["owner"]
    for query, code in (("status=won", "INVALID_FILTER"), ("owner_id=abc", "INVALID_FILTER"),
                        ("score_gte=101", "VALIDATION_ERROR"),
                        ("created_after=yesterday", "VALIDATION_ERROR"),
                        ("per_page=201", "VALIDATION_ERROR"), ("per_page=0", "VALIDATION_ERROR"),
                        ("page=0", "VALIDATION_ERROR"), ("sort=password", "INVALID_SORT"),
                        ("cursor=bogus", "INVALID_CURSOR"), ("count=maybe", "VALIDATION_ERROR")):
        resp = await client.get(f"/api/v1/leads?{query}", headers=owner.headers)
        assert resp.status_code == 422, query
        assert resp.json()["code"] == code, query


async def test_sorting(client: httpx.AsyncClient, seeded: dict[str, Any]) -> None:
    owner, leads = seeded["owner"], seeded["leads"]
    ids = {k: v["id"] for k, v in leads.items()}
    newest_first = await _ids(client, owner, "")
    assert newest_first == [ids["plain"], ids["nunez"], ids["smith"], ids["garcia"]]
    assert await _ids(client, owner, "sort=created_at") == newest_first[::-1]
    # NULLs last in both directions.
    assert await _ids(client, owner, "sort=last_name") == [ids["garcia"], ids["nunez"],
                                                           ids["smith"], ids["plain"]]
    assert await _ids(client, owner, "sort=-last_name") == [ids["smith"], ids["nunez"],
                                                            ids["garcia"], ids["plain"]]
    assert await _ids(client, owner, "sort=status,-created_at") == [
        ids["smith"], ids["plain"], ids["garcia"], ids["nunez"]]


async def test_deleted_leads(client: httpx.AsyncClient, seeded: dict[str, Any]) -> None:
    owner, leads = seeded["owner"], seeded["leads"]
    await client.delete(f"/api/v1/leads/{leads['plain']['id']}", headers=owner.headers)
    assert leads["plain"]["id"] not in await _ids(client, owner, "")
    assert leads["plain"]["id"] in await _ids(client, owner, "include_deleted=true")
    assert await _ids(client, owner, "only_deleted=true") == [leads["plain"]["id"]]


async def test_agents_list_only_their_leads(client: httpx.AsyncClient,
                                            seeded: dict[str, Any]) -> None:
    agent, leads = seeded["agent"], seeded["leads"]
    assert await _ids(client, agent, "") == [leads["smith"]["id"]]
    assert await _ids(client, agent, "owner_id=none") == []


async def test_workspaces_do_not_mix(client: httpx.AsyncClient, seeded: dict[str, Any]) -> None:
    stranger = await make_workspace(client)
    await make_lead(client, stranger, last_name="García")
    assert len(await _ids(client, stranger, "q=garcia")) == 1
    assert len(await _ids(client, seeded["owner"], "q=garcia")) == 1


async def _walk(client: httpx.AsyncClient, member: Member, sort: str) -> list[str]:
    seen: list[str] = []
    cursor = None
    for _ in range(50):
        params: dict[str, Any] = {"per_page": 3, "sort": sort}
        if cursor:
            params["cursor"] = cursor
        resp = await client.get("/api/v1/leads", headers=member.headers, params=params)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        seen += [r["id"] for r in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen
        assert body["page"] is None or not seen[:-3]
    raise AssertionError("cursor walk did not end")


async def test_cursor_pagination_visits_every_row_once(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    for i in range(11):
        await make_lead(client, owner, first_name=f"L{i}",
                        company=None if i % 3 == 0 else f"Co {i % 4}",
                        status=["new", "contacted"][i % 2])
    everything = await _ids(client, owner, "per_page=200")
    for sort in ("-created_at", "created_at", "company", "-company", "status,-company",
                 "-status,company,created_at", "number"):
        walked = await _walk(client, owner, sort)
        assert len(walked) == 11, sort
        assert set(walked) == set(everything), sort
        by_offset: list[str] = []
        for page in range(1, 5):
            by_offset += await _ids(client, owner, f"per_page=3&page={page}&sort={sort}")
        assert walked == by_offset, sort


async def test_cursor_belongs_to_its_sort(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    for i in range(3):
        await make_lead(client, owner, first_name=f"C{i}")
    first = (await client.get("/api/v1/leads?per_page=1", headers=owner.headers)).json()
    assert first["total"] == 3 and first["page"] == 1
    resp = await client.get(f"/api/v1/leads?per_page=1&sort=company&cursor={first['next_cursor']}",
                            headers=owner.headers)
    assert resp.status_code == 422 and resp.json()["code"] == "INVALID_CURSOR"
    resp = await client.get(f"/api/v1/leads?per_page=1&cursor={first['next_cursor']}",
                            headers=owner.headers)
    assert resp.status_code == 200 and resp.json()["page"] is None


async def test_totals(client: httpx.AsyncClient, db: Database, tmp_path: Any) -> None:
    app: FastAPI = create_app(make_settings(tmp_path, count_exact_limit=4), database=db,
                              run_worker=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as small:
        owner = await make_workspace(small)
        for i in range(7):
            await make_lead(small, owner, first_name=f"T{i}")
        auto = (await small.get("/api/v1/leads?per_page=2", headers=owner.headers)).json()
        assert auto["total_is_estimate"] is True and auto["total"] >= 5
        exact = (await small.get("/api/v1/leads?per_page=2&count=exact",
                                 headers=owner.headers)).json()
        assert exact["total"] == 7 and exact["total_is_estimate"] is False
        none = (await small.get("/api/v1/leads?per_page=2&count=none",
                                headers=owner.headers)).json()
        assert none["total"] is None
        few = (await small.get("/api/v1/leads?per_page=2&status=new",
                               headers=owner.headers)).json()
        assert few["total"] >= 5


async def test_estimated_totals_with_multi_value_filters(db: Database, tmp_path: Any) -> None:
    app: FastAPI = create_app(make_settings(tmp_path, count_exact_limit=2), database=db,
                              run_worker=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as small:
        owner = await make_workspace(small)
        for i in range(5):
            await make_lead(small, owner, first_name=f"E{i}", status=["new", "contacted"][i % 2],
                            source=["web", "ads"][i % 2])
        for query in ("status=new,contacted", "source=web,ads", "status=new,contacted&tags=a,b",
                      f"owner_id=none,{owner.user_id}"):
            resp = await small.get(f"/api/v1/leads?per_page=1&{query}", headers=owner.headers)
            assert resp.status_code == 200, (query, resp.text)
