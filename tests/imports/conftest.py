"""Helpers for import tests: upload a file through the API, run the job as the worker
would, read the result."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from leadbase.config import Settings
from leadbase.db.session import Database
from leadbase.imports import flows
from tests.factories import Member


async def upload(client: httpx.AsyncClient, member: Member, content: bytes,
                 filename: str = "leads.csv", headers: dict[str, str] | None = None,
                 **form: Any) -> httpx.Response:
    data = {k: (v if isinstance(v, str) else ("true" if v is True else "false")
                if isinstance(v, bool) else str(v)) for k, v in form.items()}
    return await client.post("/api/v1/imports", headers={**member.headers, **(headers or {})},
                             files={"file": (filename, content)}, data=data)


async def run(client: httpx.AsyncClient, member: Member, db: Database, settings: Settings,
              job: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Run a queued job (what the worker does) and return it as the API shows it."""
    await flows.run_job(db, tenant_id=member.tenant_id, job_id=uuid.UUID(job["id"]),
                        data_dir=settings.resolved_data_dir(), **kwargs)
    resp = await client.get(f"/api/v1/imports/{job['id']}", headers=member.headers)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def import_file(client: httpx.AsyncClient, member: Member, db: Database,
                      settings: Settings, content: bytes, filename: str = "leads.csv",
                      **form: Any) -> dict[str, Any]:
    resp = await upload(client, member, content, filename, **form)
    assert resp.status_code == 202, resp.text
    return await run(client, member, db, settings, resp.json())


async def errors(client: httpx.AsyncClient, member: Member, job: dict[str, Any],
                 **params: Any) -> list[dict[str, Any]]:
    resp = await client.get(f"/api/v1/imports/{job['id']}/errors", headers=member.headers,
                            params={"per_page": 200, **params})
    assert resp.status_code == 200, resp.text
    rows: list[dict[str, Any]] = resp.json()["data"]
    return rows


async def leads(client: httpx.AsyncClient, member: Member, **params: Any,
                ) -> list[dict[str, Any]]:
    resp = await client.get("/api/v1/leads", headers=member.headers,
                            params={"per_page": 200, "sort": "number", **params})
    assert resp.status_code == 200, resp.text
    rows: list[dict[str, Any]] = resp.json()["data"]
    return rows
