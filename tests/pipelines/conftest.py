"""Helpers of the pipeline tests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.factories import Member

PIPELINES = "/api/v1/pipelines"


async def pipelines(client: httpx.AsyncClient, member: Member, kind: str = "lead"
                    ) -> list[dict[str, Any]]:
    resp = await client.get(f"{PIPELINES}?kind={kind}", headers=member.headers)
    assert resp.status_code == 200, resp.text
    data: list[dict[str, Any]] = resp.json()["data"]
    return data


async def default_pipeline(client: httpx.AsyncClient, member: Member,
                           kind: str = "lead") -> dict[str, Any]:
    return next(p for p in await pipelines(client, member, kind) if p["is_default"])


async def move(client: httpx.AsyncClient, member: Member, lead_id: str, stage: str,
               **extra: Any) -> httpx.Response:
    return await client.post(f"/api/v1/leads/{lead_id}/stage", headers=member.headers,
                             json={"stage": stage, **extra})


def stage_id(pipeline: dict[str, Any], code: str) -> str:
    return str(next(s["id"] for s in pipeline["stages"] if s["code"] == code))
