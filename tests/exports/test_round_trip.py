"""Exporting and importing the file again with on_duplicate=update changes nothing."""

from __future__ import annotations

import httpx

from leadbase.config import Settings
from leadbase.db.session import Database
from tests.exports.conftest import Shop, read_csv
from tests.factories import make_lead
from tests.imports.conftest import import_file


async def test_export_then_import_changes_nothing(client: httpx.AsyncClient, shop: Shop,
                                                  db: Database, settings: Settings) -> None:
    h = shop.owner.headers
    await make_lead(client, shop.owner, first_name="Only", last_name="Name", email=None)
    for headers in ("labels", "codes"):
        before = (await client.get(f"/api/v1/leads/export?headers={headers}",
                                   headers=h)).content
        for fmt, name in (("csv", "leads.csv"), ("xlsx", "leads.xlsx")):
            content = before if fmt == "csv" else (await client.get(
                f"/api/v1/leads/export?format=xlsx&headers={headers}", headers=h)).content
            job = await import_file(client, shop.owner, db, settings, content, name,
                                    on_duplicate="update")
            assert job["status"] == "completed", job
            assert job["created"] == job["invalid"] == 0, (headers, fmt, job)
            assert job["updated"] == job["unchanged"] == 4, (headers, fmt, job)
            after = (await client.get(f"/api/v1/leads/export?headers={headers}",
                                      headers=h)).content
            assert read_csv(after) == read_csv(before), (headers, fmt)
