"""Imports: ``POST /api/v1/imports`` (multipart upload, queued as a job), job status,
cancel, and the rows that were not imported."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from pydantic import ValidationError
from starlette.responses import Response, StreamingResponse

from leadbase.auth.deps import ManagerScope
from leadbase.db.session import Database
from leadbase.exports.formats import neutralise
from leadbase.imports import service, uploads
from leadbase.imports.schemas import (
    Bucket,
    ImportErrorPage,
    ImportOptions,
    ImportPage,
    ImportRead,
    error_read,
    import_read,
)
from leadbase.kit.errors import ValidationFailed
from leadbase.kit.http import json_response, read_ahead
from leadbase.kit.idempotency import idempotent
from leadbase.kit.input import bad_values
from leadbase.kit.pagination import PageParams, decode_cursor, encode_cursor, page_body, page_params

router = APIRouter(prefix="/imports", tags=["imports"])
STATUSES = ("queued", "running", "completed", "failed", "cancelled")
CURSOR_KEY = "line"


def _options(form: dict[str, str | None]) -> ImportOptions:
    values: dict[str, Any] = {k: v for k, v in form.items() if v is not None and v != ""}
    try:
        if "mapping" in values:
            values["mapping"] = orjson.loads(values["mapping"])
        if "tags" in values:
            text = values["tags"].strip()
            values["tags"] = orjson.loads(text) if text.startswith("[") else text.split(",")
    except orjson.JSONDecodeError as exc:
        raise ValidationFailed("'mapping' and 'tags' must be JSON (tags may also be "
                               "comma-separated).", code="INVALID_IMPORT_OPTIONS",
                               errors=[{"field": "mapping", "message": str(exc)}]) from exc
    bad = [{"field": ".".join(str(p) for p in loc), "message": message}
           for name in ("mapping", "tags") for loc, message in bad_values(
               values.get(name), (name,))]  # JSON text inside a form field
    if bad:
        raise ValidationFailed(f"Invalid import options: {bad[0]['field']}.",
                               code="INVALID_IMPORT_OPTIONS", errors=bad)
    try:
        return ImportOptions.model_validate(values)
    except ValidationError as exc:
        errors = [{"field": ".".join(str(p) for p in e["loc"]) or "form",
                   "message": str(e["msg"]).removeprefix("Value error, ")}
                  for e in exc.errors()]
        raise ValidationFailed(f"Invalid import options: "
                               f"{', '.join(e['field'] for e in errors[:5])}.",
                               code="INVALID_IMPORT_OPTIONS", errors=errors) from exc


@router.post("", status_code=202, response_model=ImportRead, responses={
    413: {"description": "Larger than LEADBASE_IMPORT_MAX_UPLOAD_BYTES (IMPORT_TOO_LARGE)"},
    422: {"description": "Empty, binary or unreadable file, a zip bomb, no name/email/phone "
                         "column, a bad mapping or option"}})
async def create_import(
    request: Request, scope: ManagerScope,
    file: Annotated[UploadFile, File(description="CSV (any of , ; tab |), XLSX, XLS or ODS")],
    list_id: Annotated[str | None, Form()] = None,
    mapping: Annotated[str | None, Form(max_length=65_536, description=(
        'JSON: {"<column>": "<lead field>" | "fields.<code>" | "metadata.<key>" | '
        '"ignore"}'))] = None,
    on_duplicate: Annotated[str | None, Form(description="skip (default), update, create")
                            ] = None,
    match_on: Annotated[str | None, Form(description=(
        "email,phone (default), email, phone, or a primary field's code"))] = None,
    default_region: Annotated[str | None, Form()] = None,
    dry_run: Annotated[str | None, Form(description="true: validate and count only")] = None,
    tags: Annotated[str | None, Form(description="Tags for every lead: a,b or JSON")] = None,
    sheet: Annotated[str | None, Form()] = None,
    delimiter: Annotated[str | None, Form()] = None,
    encoding: Annotated[str | None, Form()] = None,
) -> Response:
    """Upload a file of leads; it is imported by the worker (202 with the job; poll
    ``GET /api/v1/imports/{id}``). The job is atomic: it creates or updates every lead
    it reports, or (failed, cancelled) none. Every row ends in one of ``created``,
    ``updated``, ``skipped_duplicate``, ``invalid``; the last two are listed by
    ``GET /api/v1/imports/{id}/errors``. Managers and above. Accepts
    ``Idempotency-Key``."""
    options = _options({"list_id": list_id, "mapping": mapping, "on_duplicate": on_duplicate,
                        "match_on": match_on, "default_region": default_region,
                        "dry_run": dry_run, "tags": tags, "sheet": sheet,
                        "delimiter": delimiter, "encoding": encoding})
    settings = request.app.state.settings
    data_dir = settings.resolved_data_dir()
    async with uploads.staged(file.file, name=file.filename or "upload", data_dir=data_dir,
                              tenant_id=scope.ctx.tenant_id,
                              limit=settings.import_max_upload_bytes) as staged:

        async def work() -> Response:
            job = await service.create_job(
                scope.session, ctx=scope.ctx, options=options, data_dir=data_dir,
                upload=staged.upload, max_uncompressed=settings.import_max_uncompressed_bytes)
            return json_response(import_read(job), 202,
                                 headers={"Location": f"/api/v1/imports/{job['id']}"})

        body_digest = (staged.digest + staged.upload.name.encode()
                       + options.model_dump_json().encode())
        return await idempotent(request, scope.session, scope.ctx.tenant_id,
                                settings.idempotency_ttl_seconds, work,
                                body_digest=body_digest)


@router.get("", response_model=ImportPage)
async def list_imports(
    scope: ManagerScope, params: Annotated[PageParams, Depends(page_params)],
    status: Annotated[str | None, Query(description="e.g. running,queued")] = None,
) -> Response:
    """Import jobs, newest first."""
    statuses = [s.strip() for s in status.split(",") if s.strip()] if status else None
    if statuses and not set(statuses) <= set(STATUSES):
        raise ValidationFailed(f"status takes {', '.join(STATUSES)}.", code="INVALID_FILTER",
                               errors=[{"field": "status", "message": "unknown status"}])
    rows, total = await service.list_jobs(scope.session, ctx=scope.ctx, statuses=statuses,
                                          offset=params.offset, limit=params.per_page)
    return json_response(page_body([import_read(r).model_dump(mode="json") for r in rows],
                                   total=total, params=params, next_cursor=None))


@router.get("/{import_id}", response_model=ImportRead)
async def get_import(import_id: uuid.UUID, scope: ManagerScope) -> Response:
    """Status, ``processed_rows`` of ``total_rows`` (saved every 2 s), the four counts
    and ``rows_per_second``."""
    job = await service.get_job(scope.session, ctx=scope.ctx, job_id=import_id)
    return json_response(import_read(job))


@router.post("/{import_id}/cancel", response_model=ImportRead,
             responses={409: {"description": "Already finished (IMPORT_NOT_CANCELLABLE)"}})
async def cancel_import(import_id: uuid.UUID, scope: ManagerScope) -> Response:
    """Cancel a queued or running import: it stops within two seconds and no lead of it
    remains."""
    job = await service.cancel_job(scope.session, ctx=scope.ctx, job_id=import_id)
    return json_response(import_read(job))


ERROR_COLUMNS = ("import_line", "import_status", "import_error_code", "import_error_column",
                 "import_error")


def _csv_line(values: list[str]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([neutralise(v) for v in values])
    return buf.getvalue().encode()


async def _error_csv(db: Database, ctx_tenant: uuid.UUID, job_id: uuid.UUID,
                     headers: list[str], bucket: str | None) -> AsyncIterator[bytes]:
    yield "\ufeff".encode() + _csv_line([*ERROR_COLUMNS, *headers])
    async for rows in service.stream_errors(db, tenant_id=ctx_tenant, job_id=job_id,
                                            bucket=bucket):
        out = bytearray()
        for r in rows:
            e = error_read(r, headers)
            messages = "; ".join(p.message if not p.column else f"{p.column}: {p.message}"
                                 for p in e.errors)
            out += _csv_line([str(e.line), e.bucket, e.code, e.column or "", messages,
                              *(e.values.get(h, "") for h in headers)])
        yield bytes(out)


error_csv = _error_csv  # the console's download of the same rows


@router.get("/{import_id}/errors", response_model=ImportErrorPage,
            responses={200: {"content": {"text/csv": {}}}})
async def import_errors(
    request: Request, import_id: uuid.UUID, scope: ManagerScope,
    params: Annotated[PageParams, Depends(page_params)],
    bucket: Annotated[Bucket | None, Query(description="invalid or skipped_duplicate")] = None,
    format: Annotated[Literal["json", "csv"], Query(description=(
        "csv: every row, to download, fix and import again"))] = "json",
) -> Response:
    """The rows that were not imported, in line order: invalid ones and skipped
    duplicates, each with its line, the column, code and message of each problem, and
    the row's original values. They appear when the job completes (it is atomic).
    ``format=csv`` streams them all: status columns first, then the file's own columns,
    so the fixed file imports again as it is (``import_*`` columns are ignored)."""
    job = await service.get_job(scope.session, ctx=scope.ctx, job_id=import_id)
    headers = service.error_headers(job)
    if format == "csv":
        body = await read_ahead(_error_csv(request.app.state.db, scope.ctx.tenant_id,
                                           import_id, headers, bucket), 2)
        return StreamingResponse(body, media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="import-{job["number"]}-errors.csv"',
            "Cache-Control": "no-store"})
    after = decode_cursor(params.cursor, CURSOR_KEY, (int,))[0] if params.cursor else None
    _, rows = await service.list_errors(scope.session, ctx=scope.ctx, job_id=import_id,
                                        bucket=bucket, after_line=after,
                                        offset=params.offset, limit=params.per_page + 1)
    next_cursor = None
    if len(rows) > params.per_page:
        rows = rows[: params.per_page]
        next_cursor = encode_cursor(CURSOR_KEY, [rows[-1]["line"]])
    total = service.error_total(job, bucket)
    return json_response(page_body(
        [error_read(r, headers).model_dump(mode="json") for r in rows], total=total,
        params=params, next_cursor=next_cursor))
