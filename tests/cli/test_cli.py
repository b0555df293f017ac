"""The ``leadbase`` command: demo data, users, OpenAPI."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import text
from typer.testing import CliRunner

from leadbase.cli import app as cli
from leadbase.cli.demo import DEMO_SLUG, create_demo
from leadbase.config import get_settings
from leadbase.db.session import Database
from leadbase.tenants import service as tenants_service
from tests.conftest import make_settings

runner = CliRunner()


@pytest.fixture
def env(libpq: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("LEADBASE_DATABASE_URL", libpq)
    monkeypatch.setenv("LEADBASE_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def test_demo_is_created_once(libpq: str, tmp_path: Path, db: Database) -> None:
    settings = make_settings(tmp_path, database_url=libpq)
    out = io.StringIO()
    await create_demo(settings, leads=30, console=Console(file=out))
    assert "ready" in out.getvalue()
    async with db.transaction(None, system=True) as session:
        tenant_id = await tenants_service.find_by_slug(session, DEMO_SLUG)
    assert tenant_id is not None
    async with db.transaction(tenant_id) as session:
        leads = (await session.execute(text("SELECT count(*) FROM leads"))).scalar()
        roles = (await session.execute(text("SELECT role FROM users"))).scalars().all()
        tagged = (await session.execute(text(
            "SELECT count(*) FROM leads WHERE cardinality(tags) > 0"))).scalar()
        callers = (await session.execute(text(
            "SELECT provider FROM call_agents"))).scalars().all()
        queued = (await session.execute(text(
            "SELECT count(*) FROM dial_tasks WHERE status = 'new'"))).scalar()
    assert callers == ["simulator"] and queued == 5
    assert leads == 30 and tagged and tagged > 0
    assert sorted(set(roles)) == ["admin", "agent", "manager", "owner", "viewer"]
    again = io.StringIO()
    await create_demo(settings, leads=30, console=Console(file=again))
    assert "exists already" in again.getvalue()


def test_user_create_commands(env: None) -> None:
    result = runner.invoke(cli, ["user", "create", "--email", "root@example.com", "--name",
                                 "Root", "--password", "Secret123", "--superadmin"])
    assert result.exit_code == 0, result.output
    assert "Superadmin root@example.com created" in result.output
    result = runner.invoke(cli, ["user", "create", "--email", "boss@example.com", "--name",
                                 "Boss", "--password", "Secret123", "--workspace", "CLI Co",
                                 "--new-workspace"])
    assert result.exit_code == 0, result.output
    assert "cli-co" in result.output
    result = runner.invoke(cli, ["user", "create", "--email", "ag@example.com", "--name", "Ag",
                                 "--password", "Secret123", "--workspace", "cli-co",
                                 "--role", "agent"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["user", "create", "--email", "weak@example.com", "--name", "W",
                                 "--password", "weak", "--workspace", "cli-co"])
    assert result.exit_code == 1
    assert "PASSWORD_TOO_SHORT" in result.output
    result = runner.invoke(cli, ["user", "create", "--email", "x@example.com", "--name", "X",
                                 "--password", "Secret123", "--workspace", "no-such-slug"])
    assert result.exit_code == 1 and "WORKSPACE_NOT_FOUND" in result.output


def test_openapi_command(env: None) -> None:
    result = runner.invoke(cli, ["openapi"])
    assert result.exit_code == 0, result.output
    assert "/api/v1/leads" in json.loads(result.output)["paths"]
