"""Helpers of the activities tests: logging activities and reading a lead's clocks."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import text

from leadbase.db.session import Database
from tests.factories import Member

ACTIVITIES = "/api/v1/activities"


async def log(client: httpx.AsyncClient, member: Member, lead: dict[str, Any], type: str,
              expect: int = 201, **body: Any) -> dict[str, Any]:
    resp = await client.post(ACTIVITIES, headers=member.headers,
                             json={"type": type, "lead_id": lead["id"], **body})
    assert resp.status_code == expect, resp.text
    data: dict[str, Any] = resp.json()
    return data


async def clocks(db: Database, tenant_id: uuid.UUID, lead_id: str) -> tuple[Any, Any]:
    """The lead's (last_activity_at, last_contacted_at)."""
    async with db.transaction(tenant_id) as session:
        row = (await session.execute(text(
            "SELECT last_activity_at, last_contacted_at FROM leads WHERE id = :i"),
            {"i": lead_id})).one()
    return row[0], row[1]


async def timeline(client: httpx.AsyncClient, member: Member, lead_id: str,
                   query: str = "") -> list[dict[str, Any]]:
    """Every entry of the lead's timeline, walked page by page (per_page=3)."""
    entries: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        url = f"/api/v1/leads/{lead_id}/timeline?per_page=3&{query}" + (
            f"&cursor={cursor}" if cursor else "")
        resp = await client.get(url, headers=member.headers)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        entries += body["data"]
        cursor = body["next_cursor"]
        if cursor is None:
            return entries
    raise AssertionError("timeline walk did not end")
