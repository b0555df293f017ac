"""SQL for activities (always tenant-scoped)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db import raw
from leadbase.kit.ids import new_id

_INSERT = (
    "INSERT INTO activities (id, tenant_id, lead_id, type, description, attributes, "
    "occurred_at, completed_at, author_user_id, task_id, listing_id) "
    "VALUES (%s, %s, %s, %s, %s, %s, coalesce(%s, now()), coalesce(%s, now()), %s, %s, %s)"
)
_TOUCH_LEAD = (
    "UPDATE leads SET last_activity_at = greatest(last_activity_at, coalesce(%s, now())) "
    "WHERE tenant_id = %s AND id = %s"
)


async def insert_completed(
    session: AsyncSession, *, tenant_id: uuid.UUID, lead_id: uuid.UUID, type: str,
    attributes: dict[str, Any], description: str | None, author_user_id: uuid.UUID | None,
    occurred_at: datetime | None = None, task_id: uuid.UUID | None = None,
    listing_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """One completed entry, and the lead's ``last_activity_at``."""
    activity_id = new_id()
    await raw.execute(session, _INSERT, (
        activity_id, tenant_id, lead_id, type, description, raw.jsonb(attributes),
        occurred_at, occurred_at, author_user_id, task_id, listing_id))
    await raw.execute(session, _TOUCH_LEAD, (occurred_at, tenant_id, lead_id))
    return activity_id
