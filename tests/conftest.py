"""Test set-up: a fresh database per run on a real PostgreSQL.

``LEADBASE_TEST_DATABASE_URL`` names a server to use; otherwise the embedded server
runs in ``.leadbase-test/``. Each run creates its own database (dropped at the end),
and every test makes its own workspaces, so no test sees another's rows.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest
import pytest_asyncio
from fastapi import FastAPI

from leadbase.app import create_app
from leadbase.config import Settings
from leadbase.db import embedded, migrate, roles
from leadbase.db.session import Database
from leadbase.db.urls import with_database

ROOT = Path(__file__).resolve().parents[1]


def _server_url() -> str:
    url = os.environ.get("LEADBASE_TEST_DATABASE_URL")
    if url:
        return url.replace("postgresql+psycopg://", "postgresql://")
    return embedded.start(ROOT / ".leadbase-test")


@contextmanager
def new_database(prefix: str = "leadbase_test") -> Iterator[str]:
    """An empty database of its own on the test server (dropped afterwards)."""
    server = _server_url()
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(server, name)
    finally:
        roles.drop_login(with_database(server, name))
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def libpq() -> Iterator[str]:
    with new_database() as url:
        migrate.upgrade(url)
        yield url


def make_settings(tmp: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp,
        "secret_key": "test-secret-" + "x" * 40,
        "redis_url": os.environ.get("LEADBASE_REDIS_URL") or None,
        "rate_limit": "100000/minute",
        "login_rate_limit_account": "1000/minute",
        "login_rate_limit_ip": "100000/minute",
        "register_rate_limit_ip": "100000/minute",
        # The crm profile's own limits (tests/compat/crm/test_limits.py sets its own).
        "crm_rate_limit_standard": "100000/minute",
        "crm_rate_limit_bulk": "100000/minute",
        "crm_rate_limit_export": "100000/minute",
        "run_worker": False,
        "db_pool_size": 10,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(tmp_path_factory.mktemp("data"))


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def db(libpq: str, settings: Settings) -> AsyncIterator[Database]:
    database = Database(libpq, settings)
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
def app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings, database=db, run_worker=False)


@pytest_asyncio.fixture(loop_scope="session")
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c
