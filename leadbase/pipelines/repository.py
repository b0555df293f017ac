"""SQL for pipelines and stages (always tenant-scoped)."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def create_defaults(session: AsyncSession, *, tenant_id: uuid.UUID) -> None:
    """The workspace's default lead and deal pipelines with their stages (migration 0016's
    ``lb_create_default_pipelines``; a no-op where they exist)."""
    await session.execute(text("SELECT lb_create_default_pipelines(:t)"), {"t": tenant_id})
