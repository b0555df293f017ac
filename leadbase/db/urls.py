"""Turning configured or embedded libpq URIs into the URLs each driver wants."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url

from leadbase.config import Settings
from leadbase.db import embedded


def libpq_url(settings: Settings) -> str:
    """The database to use, as a libpq URI (``postgresql://...``)."""
    if settings.database_url:
        return settings.database_url.replace("postgresql+psycopg://", "postgresql://")
    return ensure_database(embedded.start(settings.resolved_data_dir()), "leadbase")


def sqlalchemy_url(libpq: str) -> URL:
    url = make_url(libpq)
    return url.set(drivername="postgresql+psycopg")


def with_database(libpq: str, database: str) -> str:
    return make_url(libpq).set(database=database).render_as_string(hide_password=False)


def ensure_database(libpq: str, database: str) -> str:
    """Create ``database`` on the server behind ``libpq`` if it does not exist."""
    import psycopg

    with psycopg.connect(libpq, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')
    return with_database(libpq, database)
