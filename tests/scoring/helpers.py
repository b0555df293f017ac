"""Helpers of the scoring tests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.factories import Member

MODEL = "/api/v1/scoring/model"

RULES: list[dict[str, Any]] = [
    {"name": "From the website", "points": 15,
     "condition": {"field": "source", "op": "eq", "value": "website"}},
    {"name": "VIP", "points": 40,
     "condition": {"field": "tags", "op": "contains", "value": "vip"}},
    {"name": "Called twice", "points": 30,
     "condition": {"field": "activities.call", "op": "gte", "value": 2}},
    {"name": "Competitor", "points": -25,
     "condition": {"field": "tags", "op": "contains", "value": "competitor"}},
]


def model_body(rules: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    return {"rules": RULES if rules is None else rules,
            "thresholds": {"hot": 60, "warm": 30}, **extra}


async def put_model(client: httpx.AsyncClient, member: Member, body: dict[str, Any] | None = None,
                    if_match: str | None = None) -> httpx.Response:
    headers = dict(member.headers)
    if if_match is not None:
        headers["If-Match"] = if_match
    return await client.put(MODEL, headers=headers, json=body or model_body())


async def log_calls(client: httpx.AsyncClient, member: Member, lead_id: str, n: int) -> None:
    for _ in range(n):
        resp = await client.post("/api/v1/activities", headers=member.headers,
                                 json={"lead_id": lead_id, "type": "call"})
        assert resp.status_code == 201, resp.text


async def score(client: httpx.AsyncClient, member: Member, lead_id: str,
                recompute: bool = False) -> dict[str, Any]:
    url = f"/api/v1/leads/{lead_id}/score"
    resp = await (client.post(url, headers=member.headers) if recompute
                  else client.get(url, headers=member.headers))
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body
