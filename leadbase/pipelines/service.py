"""Rules for pipelines and stages."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.pipelines import repository


async def create_defaults(session: AsyncSession, *, tenant_id: uuid.UUID) -> None:
    """Give a new workspace its default lead and deal pipelines."""
    await repository.create_defaults(session, tenant_id=tenant_id)
