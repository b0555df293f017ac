"""What CLI commands share: settings and a database handle."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

from leadbase.config import Settings, get_settings
from leadbase.db.session import Database
from leadbase.db.urls import libpq_url


def settings_from_env() -> Settings:
    return get_settings()


@contextlib.asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[Database]:
    db = Database(libpq_url(settings), settings)
    try:
        yield db
    finally:
        await db.dispose()


async def workspace_id(db: Database, slug: str) -> uuid.UUID:
    """The workspace with ``slug`` (NotFound ``WORKSPACE_NOT_FOUND`` otherwise)."""
    from leadbase.kit.errors import NotFound
    from leadbase.tenants import service as tenants_service

    async with db.transaction(None, system=True) as session:
        tenant_id = await tenants_service.find_by_slug(session, slug)
    if tenant_id is None:
        raise NotFound(f"No workspace with the slug '{slug}'.", code="WORKSPACE_NOT_FOUND")
    return tenant_id
