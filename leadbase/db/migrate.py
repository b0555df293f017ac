"""Applying Alembic migrations (one tree, in ``migrations/``) and checking they are applied."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool

from leadbase.db.urls import sqlalchemy_url

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(libpq: str) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["sqlalchemy_url"] = sqlalchemy_url(libpq)
    return cfg


def upgrade(libpq: str) -> None:
    """Apply every pending migration (idempotent; safe to run at every start)."""
    migrate_to(libpq, "head")


def migrate_to(libpq: str, target: str, *, down: bool = False) -> None:
    """Upgrade (or, with ``down``, downgrade) the database to revision ``target``."""
    cfg = alembic_config(libpq)
    engine = create_engine(sqlalchemy_url(libpq), poolclass=pool.NullPool)
    with engine.begin() as conn:
        # One migrator at a time, also across processes.
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7403991001)")
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, target)
    engine.dispose()


def head_revision() -> str | None:
    script = ScriptDirectory(str(ROOT / "migrations"))
    return script.get_current_head()


def current_revision_sync(connection: object) -> str | None:
    ctx = MigrationContext.configure(connection)  # type: ignore[arg-type]
    return ctx.get_current_revision()
