"""Helpers of the assignment tests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.factories import Member, add_member

RULES = "/api/v1/assignment/rules"
SETTINGS = "/api/v1/assignment/settings"
ALWAYS = {"mon": [["00:00", "24:00"]], "tue": [["00:00", "24:00"]],
          "wed": [["00:00", "24:00"]], "thu": [["00:00", "24:00"]],
          "fri": [["00:00", "24:00"]], "sat": [["00:00", "24:00"]],
          "sun": [["00:00", "24:00"]]}


async def agents(client: httpx.AsyncClient, owner: Member, n: int) -> list[Member]:
    return [await add_member(client, owner, "agent") for _ in range(n)]


async def patch_user(client: httpx.AsyncClient, owner: Member, member: Member,
                     **values: Any) -> dict[str, Any]:
    resp = await client.patch(f"/api/v1/users/{member.user_id}", headers=owner.headers,
                              json=values)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def make_rule(client: httpx.AsyncClient, owner: Member, **body: Any) -> dict[str, Any]:
    body.setdefault("name", "Rule")
    resp = await client.post(RULES, headers=owner.headers, json=body)
    assert resp.status_code == 201, resp.text
    rule: dict[str, Any] = resp.json()
    return rule


def members(*people: Member, weights: list[int] | None = None) -> list[dict[str, Any]]:
    return [{"user_id": str(p.user_id), "weight": (weights or [1] * len(people))[i]}
            for i, p in enumerate(people)]


async def auto_assign(client: httpx.AsyncClient, member: Member, lead_id: str,
                      dry_run: bool = False) -> httpx.Response:
    return await client.post(f"/api/v1/leads/{lead_id}/auto-assign"
                             + ("?dry_run=true" if dry_run else ""), headers=member.headers)


async def turn_on(client: httpx.AsyncClient, owner: Member, on: bool = True) -> None:
    resp = await client.put(SETTINGS, headers=owner.headers,
                            json={"auto_assign_new_leads": on})
    assert resp.status_code == 200, resp.text
