"""Helpers shared by the list, section and code-list tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI
from sqlalchemy import event, text

from leadbase.app import create_app
from leadbase.config import Settings
from leadbase.db.session import Database
from leadbase.kit.ids import new_id
from tests.factories import Member


def app_with(settings: Settings, db: Database, *routers: APIRouter) -> FastAPI:
    """The application with ``routers`` mounted under /api/v1 (unless app.py already
    includes them)."""
    app = create_app(settings, database=db, run_worker=False)
    mounted = {getattr(route, "path", None) for route in app.routes}
    for router in routers:
        if f"/api/v1{router.prefix}" not in mounted:
            app.include_router(router, prefix="/api/v1")
    return app


async def insert_field(db: Database, tenant_id: uuid.UUID, *, list_id: uuid.UUID | str,
                       code: str = "color", type: str = "SELECTOR",
                       code_list_id: uuid.UUID | str | None = None,
                       related_list_id: uuid.UUID | str | None = None,
                       section_id: uuid.UUID | str | None = None,
                       active: bool = True) -> uuid.UUID:
    """A field definition written straight into the table (the field API is elsewhere)."""
    field_id = new_id()
    async with db.transaction(tenant_id) as session:
        await session.execute(text(
            "INSERT INTO field_definitions (id, tenant_id, list_id, section_id, name, code, "
            "type, subtype, code_list_id, related_list_id, active) VALUES (:id, :t, :l, :s, "
            ":n, :c, :ty, :st, :cl, :rl, :a)"), {
            "id": field_id, "t": tenant_id, "l": _uuid(list_id), "s": _uuid(section_id),
            "n": code.title(), "c": code, "ty": type,
            "st": "SELECTOR_SINGLE" if type == "SELECTOR" else None,
            "cl": _uuid(code_list_id), "rl": _uuid(related_list_id), "a": active})
    return field_id


def _uuid(value: uuid.UUID | str | None) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value is not None else None


async def create_list(client: httpx.AsyncClient, member: Member, name: str,
                      **extra: Any) -> dict[str, Any]:
    resp = await client.post("/api/v1/lists", headers=member.headers,
                             json={"name": name, **extra})
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def default_list(client: httpx.AsyncClient, member: Member) -> dict[str, Any]:
    page = (await client.get("/api/v1/lists", headers=member.headers)).json()
    (found,) = [row for row in page["data"] if row["is_default"]]
    return dict(found)


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The SQL statements the application sends while the block runs."""
    seen: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", before)
