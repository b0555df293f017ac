"""Helpers of the segment tests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.factories import Member

SEGMENTS = "/api/v1/segments"


async def make_segment(client: httpx.AsyncClient, member: Member, name: str,
                       condition: dict[str, Any] | None = None, **extra: Any
                       ) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, **extra}
    if condition is not None:
        body["condition"] = condition
    resp = await client.post(SEGMENTS, headers=member.headers, json=body)
    assert resp.status_code == 201, resp.text
    data: dict[str, Any] = resp.json()
    return data


async def member_ids(client: httpx.AsyncClient, member: Member, segment_id: str,
                     query: str = "") -> list[str]:
    resp = await client.get(f"{SEGMENTS}/{segment_id}/members?per_page=200{query}",
                            headers=member.headers)
    assert resp.status_code == 200, resp.text
    return [r["id"] for r in resp.json()["data"]]


def pred(field: str, op: str, value: Any = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"field": field, "op": op, **extra}
    if value is not None:
        out["value"] = value
    return out
