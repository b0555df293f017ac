"""An application with the lists and field-sections routers mounted."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from leadbase.config import Settings
from leadbase.db.session import Database
from leadbase.lists.endpoints import router as lists_router
from leadbase.lists.sections.endpoints import router as sections_router
from tests.lists.helpers import app_with


@pytest.fixture(scope="session")
def app(settings: Settings, db: Database) -> FastAPI:
    return app_with(settings, db, lists_router, sections_router)
