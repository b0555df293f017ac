"""The CSV shape re-imports: each exported row, sent back as a lead with
``on_duplicate=update`` (what an importer does with the file), changes nothing. The
import engine lands separately; this checks the values themselves are canonical input."""

from __future__ import annotations

from typing import Any

import httpx

from tests.exports.conftest import Shop, read_csv

READ_ONLY = {"id", "number", "score", "temperature", "timezone", "country",
             "last_contacted_at", "created_at", "updated_at", "deleted_at"}


def _unneutralise(value: str) -> str:
    return value[1:] if value[:2] and value[0] == "'" and value[1] in "=+-@\t\r" else value


def _body(row: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {"fields": {}}
    for header, raw in row.items():
        value = _unneutralise(raw)
        if header in READ_ONLY or value == "":
            continue
        if header.startswith("fields."):
            body["fields"][header[7:]] = value
        elif header == "tags":
            body["tags"] = value.split(",")
        else:
            body[header] = value
    return body


async def test_exported_rows_sent_back_change_nothing(client: httpx.AsyncClient,
                                                      shop: Shop) -> None:
    h = shop.owner.headers
    resp = await client.get("/api/v1/leads/export?headers=codes", headers=h)
    rows = read_csv(resp.content)
    before = {r["id"]: r for r in rows}
    for row in rows:
        sent = await client.post("/api/v1/leads?on_duplicate=update", headers=h,
                                 json=_body(row))
        assert sent.status_code in (200, 201), sent.text
    after = read_csv((await client.get("/api/v1/leads/export?headers=codes",
                                       headers=h)).content)
    # Every lead matched itself (by email) and stayed exactly as it was: same version
    # (the updated_at column), same values, no new lead.
    assert len(after) == len(before) == 3
    for row in after:
        assert row == before[row["id"]], row["first_name"]
