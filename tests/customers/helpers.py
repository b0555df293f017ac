"""Helpers of the customer and conversion tests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.factories import Member

CUSTOMERS = "/api/v1/customers"


async def make_customer(client: httpx.AsyncClient, member: Member, name: str = "Acme Inc",
                        **extra: Any) -> dict[str, Any]:
    resp = await client.post(CUSTOMERS, headers=member.headers, json={"name": name, **extra})
    assert resp.status_code == 201, resp.text
    data: dict[str, Any] = resp.json()
    return data


async def convert(client: httpx.AsyncClient, member: Member, lead_id: str,
                  body: dict[str, Any] | None = None,
                  headers: dict[str, str] | None = None) -> httpx.Response:
    return await client.post(f"/api/v1/leads/{lead_id}/convert",
                             headers={**member.headers, **(headers or {})}, json=body or {})
