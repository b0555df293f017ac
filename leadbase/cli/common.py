"""What CLI commands share: settings and a database handle."""

from __future__ import annotations

import contextlib
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
