"""Rules for activities.

``log_system`` is how every other domain puts an entry on a lead's timeline (a stage move,
a status change, an assignment, a task event): call it in the writing transaction.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.activities import repository
from leadbase.auth.context import Context

# Entries the system writes (never created through /activities).
SYSTEM_TYPES = frozenset({"stage_change", "status_change", "assignment", "task_event",
                          "system"})


async def log_system(
    session: AsyncSession, ctx: Context, *, lead_id: uuid.UUID, type: str,
    attributes: dict[str, Any], description: str | None = None,
    occurred_at: datetime | None = None, task_id: uuid.UUID | None = None,
    listing_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """A completed system entry on ``lead_id``'s timeline, by the context's actor. The
    caller has checked that the lead is readable by ``ctx``."""
    if type not in SYSTEM_TYPES:
        raise ValueError(f"not a system activity type: {type!r}")
    return await repository.insert_completed(
        session, tenant_id=ctx.tenant_id, lead_id=lead_id, type=type, attributes=attributes,
        description=description, author_user_id=ctx.actor_user_id, occurred_at=occurred_at,
        task_id=task_id, listing_id=listing_id)
