"""The outbox drain: every event reaches its handlers once, also with several workers."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db.session import Database
from leadbase.events import handlers
from leadbase.events import service as events_service
from tests.factories import make_lead, make_workspace


async def test_drain_delivers_each_event_once(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    seen: list[tuple[str, Any]] = []

    async def record(session: AsyncSession, event: dict[str, Any]) -> None:
        if event["tenant_id"] == owner.tenant_id:
            # Handlers run inside the event's workspace.
            tenant = (await session.execute(text("SELECT id FROM tenants"))).scalars().all()
            assert owner.tenant_id in tenant
            seen.append((event["type"], event["entity_id"]))

    handlers.on("lead.created")(record)
    handlers.on("lead.updated")(record)
    try:
        lead = await make_lead(client, owner)
        await client.patch(f"/api/v1/leads/{lead['id']}", headers=owner.headers,
                           json={"company": "X"})
        counts = await asyncio.gather(events_service.drain(db), events_service.drain(db))
        assert sum(counts) >= 2
        assert sorted(t for t, _ in seen) == ["lead.created", "lead.updated"]
        await events_service.drain(db)
        assert len(seen) == 2
    finally:
        for kind in ("lead.created", "lead.updated"):
            handlers._handlers[kind].remove(record)
    async with db.transaction(owner.tenant_id) as session:
        pending = (await session.execute(text(
            "SELECT count(*) FROM events WHERE processed_at IS NULL"))).scalar()
    assert pending == 0


async def test_failing_handler_is_retried_with_backoff(client: httpx.AsyncClient,
                                                      db: Database) -> None:
    await events_service.drain(db)
    owner = await make_workspace(client)
    calls: list[str] = []

    async def explode(session: AsyncSession, event: dict[str, Any]) -> None:
        if event["tenant_id"] == owner.tenant_id:
            calls.append(event["type"])
            await session.execute(text("UPDATE tenants SET name = 'changed by handler'"))
            raise RuntimeError("handler down")

    handlers.on("lead.created")(explode)
    try:
        await make_lead(client, owner)
        await events_service.drain(db)
        await events_service.drain(db)  # not due yet: back-off
    finally:
        handlers._handlers["lead.created"].remove(explode)
    assert calls == ["lead.created"]
    async with db.transaction(owner.tenant_id) as session:
        row = (await session.execute(text(
            "SELECT processed_at, attempts, last_error, next_attempt_at > now() AS later "
            "FROM events WHERE type = 'lead.created'"))).mappings().one()
        name = (await session.execute(text("SELECT name FROM tenants"))).scalar()
    assert row["processed_at"] is None and row["attempts"] == 1 and row["later"]
    assert "handler down" in row["last_error"]
    assert name != "changed by handler"  # the failed handler's work was rolled back
    async with db.transaction(None, system=True) as session:
        await session.execute(text(
            "UPDATE events SET next_attempt_at = now() WHERE tenant_id = :t"),
            {"t": owner.tenant_id})
    assert await events_service.drain(db) >= 1  # handler gone: succeeds now
