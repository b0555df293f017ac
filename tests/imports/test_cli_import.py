"""``leadbase import``: the same service and flow as the API, in the command's process."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from leadbase.cli import app as cli
from leadbase.config import get_settings
from leadbase.db.session import Database
from tests.factories import make_workspace
from tests.imports.conftest import leads

runner = CliRunner()


@pytest.fixture
def env(libpq: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("LEADBASE_DATABASE_URL", libpq)
    monkeypatch.setenv("LEADBASE_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def test_cli_imports_a_file(client: httpx.AsyncClient, db: Database, env: None,
                                  tmp_path: Path) -> None:
    owner = await make_workspace(client, "CLI import")
    async with db.transaction(None, system=True) as session:
        slug = str((await session.execute(text("SELECT slug FROM tenants WHERE id = :id"),
                                          {"id": owner.tenant_id})).scalar_one())
    lists = (await client.get("/api/v1/lists", headers=owner.headers)).json()["data"]
    source = tmp_path / "leads.csv"
    source.write_text("Nombre;Correo;Teléfono\nAna;ana@example.com;415-555-2672\n"
                      "Ben;ben@;\nAna bis;ana@example.com;\n", encoding="utf-8")
    result = await asyncio.to_thread(runner.invoke, cli, [
        "import", str(source), "--workspace", slug, "--list", str(lists[0]["number"]),
        "--tags", "cli", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "dry run" in result.output and "1 created" in result.output
    assert await leads(client, owner) == []
    result = await asyncio.to_thread(runner.invoke, cli, [
        "import", str(source), "--workspace", slug, "--tags", "cli"])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # Rich wraps long lines
    assert "1 created, 0 updated (0 unchanged), 1 skipped as duplicates, 1 invalid, of 3 " \
           "rows" in said
    got = await leads(client, owner)
    assert [(x["first_name"], x["tags"]) for x in got] == [("Ana", ["cli"])]
    assert source.exists()  # the command imports a copy
    bad = await asyncio.to_thread(runner.invoke, cli, [
        "import", str(source), "--workspace", slug, "--on-duplicate", "merge"])
    assert bad.exit_code == 1
    nothing = tmp_path / "nothing.csv"
    nothing.write_text("Ciudad\nMadrid\n")
    refused = await asyncio.to_thread(runner.invoke, cli, [
        "import", str(nothing), "--workspace", slug])
    assert refused.exit_code == 1 and "IMPORT_NO_COLUMNS" in refused.output
    # The copies staged in incoming/ are gone (moved into a job's folder, or removed), and
    # the command ran its jobs itself: none was queued for a worker.
    incoming = tmp_path / "data" / "imports" / str(owner.tenant_id) / "incoming"
    assert list(incoming.iterdir()) == []
    async with db.transaction(None, system=True) as session:
        queued = (await session.execute(text(
            "SELECT count(*) FROM procrastinate_jobs WHERE args->>'tenant_id' = :t"),
            {"t": str(owner.tenant_id)})).scalar_one()
    assert queued == 0


def test_cli_unknown_workspace(env: None, tmp_path: Path) -> None:
    source = tmp_path / "a.csv"
    source.write_text("email\na@example.com\n")
    result = runner.invoke(cli, ["import", str(source), "--workspace", "no-such"])
    assert result.exit_code == 1 and "WORKSPACE_NOT_FOUND" in result.output
