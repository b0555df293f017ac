"""Activities as an XLSX workbook: those ``ctx`` reads (the activities of the leads it
may read), newest first, filtered as :func:`service.list_activities` filters, written
row by row in constant memory (``exports.formats.XlsxFile``: typed cells, text never a
formula)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson

from leadbase.activities import service
from leadbase.auth.context import Context
from leadbase.db.session import Database
from leadbase.exports.formats import MEDIA_TYPES, Column, XlsxFile

MEDIA_TYPE = MEDIA_TYPES["xlsx"]
BATCH = 1_000
CHUNK_BYTES = 256 * 1024
# (header, kind, the row's key)
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("id", "uuid", "id"), ("number", "int", "number"), ("type", "str", "type"),
    ("lead_id", "uuid", "lead_id"), ("description", "str", "description"),
    ("status", "str", "status"), ("occurred_at", "datetime", "occurred_at"),
    ("scheduled_for", "datetime", "scheduled_for"),
    ("completed_at", "datetime", "completed_at"), ("author_id", "uuid", "author_id"),
    ("attributes", "str", "attributes"), ("created_at", "datetime", "created_at"))


def _row(row: dict[str, Any]) -> tuple[Any, ...]:
    values = {**row, "status": "scheduled" if row["completed_at"] is None else "completed",
              "attributes": orjson.dumps(row["attributes"] or {}).decode(),
              "id": str(row["id"]), "lead_id": str(row["lead_id"]) if row["lead_id"] else None,
              "author_id": str(row["author_id"]) if row.get("author_id") else None}
    return tuple(values[key] for _, _, key in COLUMNS)


async def write_xlsx(db: Database, *, ctx: Context, f: dict[str, Any], path: Path) -> int:
    """Write the workbook to ``path``; the number of activities written. The filter is
    checked first (422 for an unknown type), in the caller's ``ctx``."""
    columns = [Column(header, kind, i) for i, (header, kind, _) in enumerate(COLUMNS)]
    book = await asyncio.to_thread(XlsxFile, path, columns, "Activities")
    written = 0
    cursor: str | None = None
    try:
        async with db.transaction(ctx.tenant_id) as session:
            while True:
                rows, cursor = await service.list_activities(session, ctx=ctx, f=f,
                                                             cursor=cursor, limit=BATCH)
                await asyncio.to_thread(book.write_rows, [_row(r) for r in rows])
                written += len(rows)
                if cursor is None:
                    break
    finally:
        await asyncio.to_thread(book.close)
    return written


async def stream_xlsx(db: Database, *, ctx: Context, f: dict[str, Any],
                      scratch: Path) -> AsyncIterator[bytes]:
    """The workbook built in a scratch file, then sent (an XLSX is a zip written at the
    end)."""
    await asyncio.to_thread(scratch.mkdir, parents=True, exist_ok=True)
    path = scratch / f"{uuid.uuid4().hex}.xlsx"
    try:
        await write_xlsx(db, ctx=ctx, f=f, path=path)
        with path.open("rb") as src:
            while chunk := await asyncio.to_thread(src.read, CHUNK_BYTES):
                yield chunk
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
