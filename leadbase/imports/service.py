"""Import jobs: checking an upload and queuing it, reading jobs and their row errors,
cancelling. The import itself runs in :mod:`leadbase.imports.flows` on the worker."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.audit import service as audit
from leadbase.auth.context import Context, actor_of
from leadbase.db.session import Database
from leadbase.fields import repository as fields_repository
from leadbase.fields import values as field_values
from leadbase.imports import files, headers, repository
from leadbase.imports.files import FileProblem
from leadbase.imports.schemas import ImportOptions
from leadbase.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from leadbase.tenants import service as tenants_service
from leadbase.worker.defer import defer

# Spreadsheets up to this size have their header checked at upload (reading a sheet
# means reading all of it); larger ones are checked by the job.
PEEK_SHEET_BYTES = 5 * 1024 * 1024
RUN_JOB, QUEUE = "run_import", "imports"  # the worker job of a queued import


@dataclass(frozen=True)
class Upload:
    """An uploaded file, already on disk."""

    path: Path
    name: str
    size: int


def imports_dir(data_dir: Path, tenant_id: uuid.UUID) -> Path:
    return data_dir / "imports" / str(tenant_id)


def job_dir(data_dir: Path, tenant_id: uuid.UUID, job_id: uuid.UUID) -> Path:
    return imports_dir(data_dir, tenant_id) / str(job_id)


def problem(exc: FileProblem) -> ValidationFailed:
    return ValidationFailed(exc.message, code=exc.code,
                            errors=[{"field": "file", "message": exc.message}])


def _not_found() -> NotFound:
    return NotFound("Import not found.", code="IMPORT_NOT_FOUND")


def _check_role(ctx: Context) -> None:
    if not ctx.principal.at_least("manager"):
        raise Forbidden("Imports need the role 'manager' or higher.", code="ROLE_REQUIRED")


def custom_fields(rows: list[dict[str, Any]]) -> list[headers.CustomField]:
    return [headers.CustomField(code=r["code"], name=r["name"],
                                calculated=r["type"] == "CALCULATED") for r in rows]


def match_field(options: ImportOptions, fields: list[dict[str, Any]]) -> str | None:
    """The primary field named by ``match_on`` (422 when it is not one)."""
    if not options.match_on.startswith("fields."):
        return None
    code = options.match_on[7:].lower()
    for f in fields:
        if f["code"].lower() == code:
            if not f["is_primary"]:
                break
            return str(f["code"])
    raise ValidationFailed(f"match_on names '{options.match_on[7:]}', which is not a primary "
                           "field of the list.", code="INVALID_MATCH_ON",
                           errors=[{"field": "match_on",
                                    "message": "email, phone, or a primary field"}])


async def _peek(upload: Upload, fmt: str, options: ImportOptions) -> list[str] | None:
    """The header row, when it can be read cheaply now."""
    try:
        if fmt == "csv":
            header, _, _ = await asyncio.to_thread(files.peek_text, upload.path,
                                                   encoding=options.encoding,
                                                   delimiter=options.delimiter)
            return header
        if upload.size <= PEEK_SHEET_BYTES:
            return await asyncio.to_thread(files.peek_sheet, upload.path, options.sheet)
    except FileProblem as exc:
        raise problem(exc) from exc
    return None


async def create_job(session: AsyncSession, *, ctx: Context, upload: Upload,
                     options: ImportOptions, data_dir: Path, max_uncompressed: int,
                     in_worker: bool = True) -> dict[str, Any]:
    """Check the upload (format, zip bombs, the header against the list's fields and the
    mapping) and queue the job: its row and, unless the caller runs it itself
    (``in_worker=False``: the CLI), its worker job, in the caller's transaction. The
    file moves into the job's folder."""
    _check_role(ctx)
    ws = await tenants_service.defaults(session, tenant_id=ctx.tenant_id)
    list_id = options.list_id or ws.default_list_id
    await field_values.schema_for(session, tenant_id=ctx.tenant_id, list_id=list_id)
    fields = await fields_repository.list_fields(session, tenant_id=ctx.tenant_id,
                                                 list_id=list_id, active=True)
    match_field(options, fields)
    try:
        fmt = await asyncio.to_thread(files.detect_format, upload.path,
                                      max_uncompressed=max_uncompressed)
    except FileProblem as exc:
        raise problem(exc) from exc
    header = await _peek(upload, fmt, options)
    detected: dict[str, Any] = {"format": fmt}
    if header is not None:
        plan = headers.plan(headers.unique_headers(header), fields=custom_fields(fields),
                            mapping=options.mapping)
        detected["columns"] = plan.describe()
    job = await repository.insert_job(session, tenant_id=ctx.tenant_id, values={
        "created_by": ctx.actor_user_id, "actor": actor_of(ctx), "list_id": list_id,
        "dry_run": options.dry_run, "file_name": upload.name[:255], "file_size": upload.size,
        "format": fmt, "options": options.model_dump(mode="json", exclude={"list_id"}),
        "detected": detected})
    target = job_dir(data_dir, ctx.tenant_id, job["id"])
    target.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(shutil.move, upload.path, target / f"source.{fmt}")
    await audit.record(session, ctx=ctx, action="import.created", entity_type="import",
                       entity_id=job["id"], changes={"format": fmt, "dry_run": options.dry_run,
                                                     "on_duplicate": options.on_duplicate})
    if in_worker:
        await defer(session, RUN_JOB, queue=QUEUE, tenant_id=str(ctx.tenant_id),
                    job_id=str(job["id"]))
    return job


async def get_job(session: AsyncSession, *, ctx: Context, job_id: uuid.UUID,
                  for_update: bool = False) -> dict[str, Any]:
    _check_role(ctx)
    job = await repository.get_job(session, tenant_id=ctx.tenant_id, job_id=job_id,
                                   for_update=for_update)
    if job is None:
        raise _not_found()
    return job


async def list_jobs(session: AsyncSession, *, ctx: Context, statuses: list[str] | None,
                    offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    _check_role(ctx)
    return await repository.list_jobs(session, tenant_id=ctx.tenant_id, statuses=statuses,
                                      offset=offset, limit=limit)


async def cancel_job(session: AsyncSession, *, ctx: Context,
                     job_id: uuid.UUID) -> dict[str, Any]:
    """Cancel a queued or running import. A running one notices within two seconds and
    rolls back: no lead of it remains."""
    job = await get_job(session, ctx=ctx, job_id=job_id, for_update=True)
    if job["status"] not in ("queued", "running"):
        raise Conflict(f"The import is {job['status']}.", code="IMPORT_NOT_CANCELLABLE",
                       extra={"status": job["status"]})
    job = await repository.update_job(session, tenant_id=ctx.tenant_id, job_id=job_id,
                                      values={"status": "cancelled",
                                              "finished_at": datetime.now(UTC)})
    await audit.record(session, ctx=ctx, action="import.cancelled", entity_type="import",
                       entity_id=job_id)
    return job


def error_headers(job: dict[str, Any]) -> list[str]:
    return list((job["detected"] or {}).get("headers") or [])


async def list_errors(session: AsyncSession, *, ctx: Context, job_id: uuid.UUID,
                      bucket: str | None, after_line: int | None, offset: int,
                      limit: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    job = await get_job(session, ctx=ctx, job_id=job_id)
    rows = await repository.list_errors(session, tenant_id=ctx.tenant_id, job_id=job_id,
                                        bucket=bucket, after_line=after_line, offset=offset,
                                        limit=limit)
    return job, rows


async def stream_errors(db: Database, *, tenant_id: uuid.UUID, job_id: uuid.UUID,
                        bucket: str | None) -> AsyncIterator[list[dict[str, Any]]]:
    """Every error row of a job (visibility checked by the caller), in its own
    transaction: a download outlives the request's."""
    async with db.transaction(tenant_id) as session:
        async for rows in repository.stream_errors(session, tenant_id=tenant_id,
                                                   job_id=job_id, bucket=bucket):
            yield rows


def error_total(job: dict[str, Any], bucket: str | None) -> int | None:
    """How many error rows a job has (known once it completed: they land with it)."""
    if job["status"] != "completed":
        return None
    if bucket == "invalid":
        return int(job["invalid_count"])
    if bucket == "skipped_duplicate":
        return int(job["skipped_count"])
    return int(job["invalid_count"] + job["skipped_count"])
