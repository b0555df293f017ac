"""The demo workspace's dialer: a simulator agent with a few leads queued, so the whole
flow (tick, simulated call, callbacks, record, timeline, metrics) runs with no account."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.auth.context import Context
from leadbase.calls import agents, queue
from leadbase.calls.schemas import CallAgentCreate, DialTaskBulk
from leadbase.config import Settings
from leadbase.db import raw

QUEUED = 5
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat")


async def seed(session: AsyncSession, *, ctx: Context, settings: Settings) -> dict[str, Any]:
    """The agent and its queue (the newest leads with a phone)."""
    agent, _secret = await agents.create_agent(session, ctx=ctx, settings=settings,
                                               body=CallAgentCreate.model_validate({
        "name": "Demo caller (simulator)", "provider": "simulator",
        "settings": {"time_scale": 0.1, "agent_name": "Alex", "seed": 7},
        "business_hours": {d: [{"start": "08:00", "end": "20:00"}] for d in DAYS},
        "max_attempts": 3, "retry_delay_minutes": 30,
        "retry_delays": {"no_answer": 60, "busy": 15, "voicemail": 120},
        "max_concurrent_calls": 3}))
    rows = await raw.fetch_all(
        session, "SELECT id FROM leads WHERE tenant_id = %(t)s AND deleted_at IS NULL AND "
        "phone IS NOT NULL AND NOT do_not_contact ORDER BY created_at DESC, id DESC "
        "LIMIT %(n)s", {"t": ctx.tenant_id, "n": QUEUED})
    if rows:
        await queue.enqueue_many(session, ctx=ctx, body=DialTaskBulk(
            agent_id=agent["id"], lead_ids=[r["id"] for r in rows]))
    return agent
