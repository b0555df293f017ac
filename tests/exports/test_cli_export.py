"""``leadbase export``: the same service as the API, to a file."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import text
from typer.testing import CliRunner

from leadbase.cli import app as cli
from leadbase.config import get_settings
from leadbase.db.session import Database
from tests.exports.conftest import Shop, read_csv

runner = CliRunner()


@pytest.fixture
def env(libpq: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("LEADBASE_DATABASE_URL", libpq)
    monkeypatch.setenv("LEADBASE_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def _slug(db: Database, shop: Shop) -> str:
    async with db.transaction(None, system=True) as session:
        return str((await session.execute(text("SELECT slug FROM tenants WHERE id = :id"),
                                          {"id": shop.owner.tenant_id})).scalar_one())


async def test_cli_exports_csv_and_xlsx(client: httpx.AsyncClient, shop: Shop, db: Database,
                                        env: None, tmp_path: Path) -> None:
    slug = await _slug(db, shop)
    out = tmp_path / "leads.csv"
    # The command runs its own event loop: give it a thread.
    result = await asyncio.to_thread(runner.invoke, cli, [
        "export", "--workspace", slug, "-o", str(out), "--filter", "status=new,lost"])
    assert result.exit_code == 0, result.output
    assert "2 leads written" in result.output
    assert {r["first_name"] for r in read_csv(out.read_bytes())} == {"Zoë", "Plain"}
    xlsx = tmp_path / "leads.xlsx"
    result = await asyncio.to_thread(runner.invoke, cli, [
        "export", "--workspace", slug, "-o", str(xlsx), "--format", "xlsx", "--headers", "codes"])
    assert result.exit_code == 0, result.output
    rows = CalamineWorkbook.from_path(str(xlsx)).get_sheet_by_index(0).to_python()
    assert len(rows) == 4 and "fields.Edad" in rows[0]
    assert not await asyncio.to_thread(lambda: list(tmp_path.glob("*.part")))


def test_cli_errors(env: None, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["export", "--workspace", "no-such", "-o",
                                 str(tmp_path / "x.csv")])
    assert result.exit_code == 1 and "WORKSPACE_NOT_FOUND" in result.output
    result = runner.invoke(cli, ["export", "--workspace", "x", "-o", str(tmp_path / "x.csv"),
                                 "--format", "pdf"])
    assert result.exit_code == 2
