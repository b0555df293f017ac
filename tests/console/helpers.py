"""Data for the console tests, made through the API (tests.factories)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.factories import Member


async def masked_field(client: httpx.AsyncClient, owner: Member, *,
                       section: str = "Vehicle") -> dict[str, Any]:
    """A ``Patente`` field (mask ``AAA-###``) in a section of the default list."""
    resp = await client.post("/api/v1/field-sections", headers=owner.headers,
                             json={"name": section})
    assert resp.status_code == 201, resp.text
    resp = await client.post("/api/v1/fields", headers=owner.headers, json={
        "name": "Patente", "code": "Patente", "type": "STRING", "input_mask": "AAA-###",
        "section_id": resp.json()["id"]})
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def task(client: httpx.AsyncClient, member: Member, lead_id: str,
               title: str) -> dict[str, Any]:
    resp = await client.post("/api/v1/tasks", headers=member.headers,
                             json={"lead_id": lead_id, "title": title})
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body
