"""An application with the code-lists (and lists) routers mounted."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from leadbase.codelists.endpoints import router as codelists_router
from leadbase.config import Settings
from leadbase.db.session import Database
from leadbase.lists.endpoints import router as lists_router
from tests.lists.helpers import app_with


@pytest.fixture(scope="session")
def app(settings: Settings, db: Database) -> FastAPI:
    return app_with(settings, db, codelists_router, lists_router)
