"""Bodies are bounded (issue 17, point 6): JSON bodies at LEADBASE_MAX_BODY_BYTES (1 MB
by default), refused with 413 before they are read; a lead's metadata and fields at
64 KiB each. (The import uploads keep their own limit: tests/imports/test_import_api.py.)"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from fastapi import FastAPI

from leadbase.app import create_app
from leadbase.db.session import Database
from leadbase.kit.schemas import MAX_JSON_OBJECT_BYTES
from tests.conftest import make_settings
from tests.factories import make_lead, make_workspace


def _big_lead(size: int) -> bytes:
    return b'{"first_name": "Big", "metadata": {"blob": "' + b"x" * size + b'"}}'


async def test_a_body_over_the_limit_is_refused_before_it_is_read(
        client: httpx.AsyncClient, app: FastAPI) -> None:
    owner = await make_workspace(client)
    assert app.state.settings.max_body_bytes == 1024 * 1024
    resp = await client.post("/api/v1/leads", content=_big_lead(2 * 1024 * 1024),
                             headers={**owner.headers, "Content-Type": "application/json"})
    assert resp.status_code == 413, resp.text
    assert resp.json()["code"] == "PAYLOAD_TOO_LARGE"
    assert resp.headers["connection"] == "close"

    sent = 0

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
        nonlocal sent
        yield b'{"first_name": "Big", "metadata": {"blob": "'
        for _ in range(1000):  # 64 MB if it were all read
            sent += 1
            yield b"y" * 65_536
        yield b'"}}'

    streamed = await client.post("/api/v1/leads", content=chunks(), headers={
        **owner.headers, "Content-Type": "application/json"})
    assert streamed.status_code == 413, streamed.text
    assert sent < 40  # refused once past 1 MB, not after reading everything
    for path in ("/api/v1/lists", "/compat/fields/campaigns"):
        resp = await client.post(path, content=b'{"name": "' + b"n" * 1_100_000 + b'"}',
                                 headers={**owner.headers, "Content-Type": "application/json"})
        assert resp.status_code == 413, (path, resp.text)
    listed = await client.get("/api/v1/leads", headers=owner.headers)
    assert listed.json()["data"] == []


@pytest_asyncio.fixture(loop_scope="session")
async def roomy_client(db: Database, tmp_path_factory) -> AsyncIterator[httpx.AsyncClient]:
    """An app whose JSON bodies may reach 4 MB (LEADBASE_MAX_BODY_BYTES)."""
    app = create_app(make_settings(tmp_path_factory.mktemp("roomy"),
                                   max_body_bytes=4 * 1024 * 1024),
                     database=db, run_worker=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as c:
        yield c


async def test_the_limit_is_a_setting(roomy_client: httpx.AsyncClient) -> None:
    owner = await make_workspace(roomy_client)
    resp = await roomy_client.post("/api/v1/leads/bulk", content=b'{"action": "delete", '
                                   b'"ids": [' + b'"x",' * 500_000 + b'"x"]}', headers={
                                       **owner.headers, "Content-Type": "application/json"})
    assert resp.status_code == 422, resp.text  # read (2 MB), then refused for its content


async def test_metadata_and_fields_are_bounded_per_lead(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    over = MAX_JSON_OBJECT_BYTES
    for part in ("metadata", "fields"):
        resp = await client.post("/api/v1/leads", headers=owner.headers, json={
            "first_name": "A", part: {"blob": "x" * over}})
        assert resp.status_code == 422, resp.text
        assert resp.json()["errors"][0]["field"] == part
        assert "64 KiB" in resp.json()["errors"][0]["message"]
    lead = await make_lead(client, owner, metadata={"a": "x" * (over // 2)})
    patched = await client.patch(f"/api/v1/leads/{lead['id']}", headers=owner.headers,
                                 json={"metadata": {"blob": "x" * over}})
    assert patched.status_code == 422, patched.text
    # Merging into the lead (on_duplicate=update): each part fits, the sum does not.
    merged = await client.post("/api/v1/leads?on_duplicate=update", headers=owner.headers,
                               json={"email": lead["email"], "metadata": {"b": "y" * (over // 2)}})
    assert merged.status_code == 422, merged.text
    assert merged.json()["code"] == "METADATA_TOO_LARGE"
    again = await client.get(f"/api/v1/leads/{lead['id']}", headers=owner.headers)
    assert set(again.json()["metadata"]) == {"a"}
