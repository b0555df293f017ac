"""Helpers of the duplicates tests: leads with everything a merge moves, and snapshots."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import text

from leadbase.db.session import Database
from tests.factories import Member

LEADS = "/api/v1/leads"


async def attach(client: httpx.AsyncClient, db: Database, member: Member, lead_id: str,
                 listing_ids: list[uuid.UUID], *, activities: int = 2) -> None:
    """Activities (one deleted), a task, a stage move, an opportunity and listing
    interests on the lead."""
    for i in range(activities):
        resp = await client.post("/api/v1/activities", headers=member.headers,
                                 json={"lead_id": lead_id, "type": "note",
                                       "attributes": {"content": f"note {i}"}})
        assert resp.status_code == 201, resp.text
    resp = await client.post("/api/v1/tasks", headers=member.headers,
                             json={"lead_id": lead_id, "title": "Call back"})
    assert resp.status_code == 201, resp.text
    async with db.transaction(member.tenant_id) as session:
        await session.execute(text(
            "UPDATE activities SET deleted_at = now() WHERE id = (SELECT id FROM activities "
            "WHERE lead_id = :l AND type = 'note' ORDER BY id LIMIT 1)"), {"l": lead_id})
        await session.execute(text(
            "INSERT INTO stage_changes (id, tenant_id, lead_id, pipeline_id, to_stage_id) "
            "SELECT gen_random_uuid(), tenant_id, id, pipeline_id, stage_id FROM leads "
            "WHERE id = :l"), {"l": lead_id})
        await session.execute(text(
            "INSERT INTO opportunities (id, tenant_id, name, lead_id, pipeline_id, stage_id, "
            "currency) SELECT gen_random_uuid(), tenant_id, 'Deal', id, pipeline_id, "
            "stage_id, 'USD' FROM leads WHERE id = :l"), {"l": lead_id})
        for listing in listing_ids:
            await session.execute(text(
                "INSERT INTO lead_listings (id, tenant_id, lead_id, listing_id) "
                "VALUES (gen_random_uuid(), :t, :l, :x)"),
                {"t": member.tenant_id, "l": lead_id, "x": listing})


async def listings(db: Database, member: Member, n: int) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(n)]
    async with db.transaction(member.tenant_id) as session:
        for i in ids:
            await session.execute(text(
                "INSERT INTO listings (id, tenant_id, kind, title) "
                "VALUES (:i, :t, 'product', 'Item')"), {"i": i, "t": member.tenant_id})
    return ids


TABLES = ("activities", "tasks", "stage_changes", "opportunities", "lead_listings")


async def snapshot(db: Database, tenant_id: uuid.UUID) -> dict[str, Any]:
    """Every lead's row (less the bookkeeping columns) and the lead of every child row."""
    out: dict[str, Any] = {}
    async with db.transaction(tenant_id) as session:
        rows = (await session.execute(text(
            "SELECT * FROM leads ORDER BY id"))).mappings().all()
        out["leads"] = {str(r["id"]): {k: v for k, v in r.items()
                                       if k not in ("updated_at", "version",
                                                    "last_activity_at")}
                        for r in rows}
        for table in TABLES:
            out[table] = {str(r[0]): str(r[1]) for r in (await session.execute(text(
                f"SELECT id, lead_id FROM {table} ORDER BY id"))).all()}
    return out


async def stage_counts_exact(db: Database, tenant_id: uuid.UUID) -> None:
    zero = uuid.UUID(int=0)
    async with db.transaction(tenant_id) as session:
        kept = {(r[0], r[1]): int(r[2]) for r in (await session.execute(text(
            "SELECT stage_id, owner_key, sum(leads) FROM pipeline_stage_counts "
            "GROUP BY 1, 2 HAVING sum(leads) <> 0"))).all()}
        real = {(r[0], r[1]): int(r[2]) for r in (await session.execute(text(
            "SELECT stage_id, coalesce(owner_id, :z), count(*) FROM leads "
            "WHERE deleted_at IS NULL GROUP BY 1, 2"), {"z": zero})).all()}
    assert kept == real
