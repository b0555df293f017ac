"""Helpers of the opportunity tests: contexts, the default deal pipeline, HTTP creates."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from leadbase.auth.context import Context, Principal
from tests.factories import Member

BASE = "/api/v1/opportunities"


def ctx_of(member: Member, role: str | None = None) -> Context:
    return Context(tenant_id=member.tenant_id, principal=Principal(
        role=role or member.role, tenant_id=member.tenant_id, user_id=member.user_id))


async def deal_pipeline(client: httpx.AsyncClient, member: Member) -> dict[str, Any]:
    resp = await client.get("/api/v1/pipelines?kind=deal", headers=member.headers)
    assert resp.status_code == 200, resp.text
    pipeline: dict[str, Any] = next(p for p in resp.json()["data"] if p["is_default"])
    return pipeline


async def lead_pipeline(client: httpx.AsyncClient, member: Member) -> dict[str, Any]:
    resp = await client.get("/api/v1/pipelines?kind=lead", headers=member.headers)
    assert resp.status_code == 200, resp.text
    pipeline: dict[str, Any] = next(p for p in resp.json()["data"] if p["is_default"])
    return pipeline


async def make_opportunity(client: httpx.AsyncClient, member: Member,
                           **fields: Any) -> dict[str, Any]:
    body = {"name": "Fleet renewal", "value": "50000.00", **fields}
    resp = await client.post(BASE, headers=member.headers, json=body)
    assert resp.status_code == 201, resp.text
    data: dict[str, Any] = resp.json()
    return data


def uid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
