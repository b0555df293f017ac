"""Exports: the leads matching a list filter, as CSV or XLSX, streamed to an HTTP client
or written to a file (background jobs, the CLI). Rules here; SQL in the repository."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.audit import service as audit
from leadbase.auth.context import Context, actor_of, context_of, system_context
from leadbase.db.session import Database
from leadbase.exports import formats, repository
from leadbase.exports.formats import Column, Format, HeaderStyle
from leadbase.kit.errors import AppError, Conflict, NotFound
from leadbase.kit.ids import parse_uuid
from leadbase.leads import service as leads
from leadbase.leads.filters import LeadFilter
from leadbase.leads.repository import LeadSet
from leadbase.worker.defer import defer

FILE_TTL = timedelta(days=7)  # finished export files are kept this long
SCRATCH_TTL = timedelta(hours=1)  # leftovers of interrupted XLSX downloads or jobs
BATCH_ROWS = 2_000
CHUNK_BYTES = 256 * 1024
Progress = Callable[[int], Awaitable[None]]
RUN_JOB, QUEUE = "run_export", "exports"  # the worker job of a queued export


@dataclass(frozen=True)
class ExportPlan:
    """What to export: the workspace, the leads (within the readable set of the asker) and
    the columns."""

    tenant_id: uuid.UUID
    leads: LeadSet
    columns: list[Column]


async def prepare(session: AsyncSession, *, ctx: Context, f: LeadFilter,
                  headers: HeaderStyle = "labels") -> ExportPlan:
    """Check the filter and choose the columns. Agents export only their own leads."""
    selected = await leads.lead_set(session, ctx=ctx, f=f)
    fields = await repository.export_fields(session, tenant_id=ctx.tenant_id,
                                            list_ids=f.list_ids)
    columns = formats.plan_columns(fields, headers=headers, deleted=f.deleted)
    return ExportPlan(tenant_id=ctx.tenant_id, leads=selected, columns=columns)


async def record_download(session: AsyncSession, *, ctx: Context, fmt: Format,
                          filters: list[str]) -> None:
    """An audit entry for a direct download (the names of the filters, not their values)."""
    await audit.record(session, ctx=ctx, action="leads.exported", entity_type="export",
                       entity_id=None, changes={"format": fmt, "filters": sorted(set(filters))})


async def count(db: Database, plan: ExportPlan) -> int:
    async with db.transaction(plan.tenant_id) as session:
        return await repository.count_leads(session, leads=plan.leads)


async def _batches(db: Database, plan: ExportPlan) -> AsyncIterator[Any]:
    async with db.transaction(plan.tenant_id) as session:
        async for rows in repository.stream_leads(session, leads=plan.leads,
                                                  batch=BATCH_ROWS):
            yield rows


async def _csv_chunks(db: Database, plan: ExportPlan, rows: list[int]) -> AsyncIterator[bytes]:
    """The CSV body as PostgreSQL writes it (``COPY ... TO STDOUT``), in chunks of about
    ``CHUNK_BYTES``, from one snapshot in its own transaction. ``rows[0]`` counts the
    rows read (COPY sends one message per row)."""
    async with db.transaction(plan.tenant_id) as session:
        buffer = bytearray()
        async for data in repository.copy_csv(session, leads=plan.leads,
                                              columns=plan.columns):
            buffer += data
            rows[0] += 1
            if len(buffer) >= CHUNK_BYTES:
                yield bytes(buffer)
                buffer.clear()
        if buffer:
            yield bytes(buffer)


async def stream_csv(db: Database, plan: ExportPlan) -> AsyncIterator[bytes]:
    """The CSV for an HTTP response: the header at once, then the rows as they are read
    (the request's transaction has ended when the body is sent: the read has its own)."""
    yield formats.csv_header(plan.columns)
    async for chunk in _csv_chunks(db, plan, [0]):
        yield chunk


def file_name(fmt: Format, when: datetime | None = None) -> str:
    stamp = (when or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return f"leads-{stamp}.{fmt}"


async def write_file(db: Database, plan: ExportPlan, fmt: Format, path: Path, *,
                     progress: Progress | None = None) -> int:
    """Write the export to ``path`` (through ``<path>.part``, renamed when complete).
    Returns the number of leads written; ``progress`` gets the running count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    rows_done = 0
    try:
        if fmt == "csv":
            counter = [0]
            with part.open("wb") as out:
                out.write(formats.csv_header(plan.columns))
                async for chunk in _csv_chunks(db, plan, counter):
                    out.write(chunk)
                    if progress is not None:
                        await progress(counter[0])
            rows_done = counter[0]
        else:
            book = await asyncio.to_thread(formats.XlsxFile, part, plan.columns)
            try:
                async for rows in _batches(db, plan):
                    await asyncio.to_thread(book.write_rows, rows)
                    rows_done += len(rows)
                    if progress is not None:
                        await progress(rows_done)
            finally:
                await asyncio.to_thread(book.close)
        os.replace(part, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
    return rows_done


async def stream_xlsx(db: Database, plan: ExportPlan, scratch: Path) -> AsyncIterator[bytes]:
    """An XLSX is a zip written at the end: build it in a scratch file, then send it."""
    path = scratch / f"{uuid.uuid4().hex}.xlsx"
    try:
        await write_file(db, plan, "xlsx", path)
        with path.open("rb") as src:
            while chunk := await asyncio.to_thread(src.read, CHUNK_BYTES):
                yield chunk
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


# ---------------------------------------------------------------------------- jobs

def exports_dir(data_dir: Path, tenant_id: uuid.UUID) -> Path:
    return data_dir / "exports" / str(tenant_id)


def _not_found() -> NotFound:
    return NotFound("Export not found.", code="EXPORT_NOT_FOUND")


def _own(ctx: Context) -> uuid.UUID | None:
    """Agents and viewers see the exports they asked for; managers and above see all."""
    return None if ctx.principal.at_least("manager") else ctx.actor_user_id


async def create_job(session: AsyncSession, *, ctx: Context, fmt: Format,
                     headers: HeaderStyle, params: dict[str, Any]) -> dict[str, Any]:
    """Queue a background export: its row and its worker job, in the caller's
    transaction. The job keeps the filter and who asked: it exports what they may read."""
    await prepare(session, ctx=ctx, f=LeadFilter.from_body(params),
                  headers=headers)  # 422 now, not later
    job = await repository.insert_job(session, tenant_id=ctx.tenant_id, values={
        "created_by": ctx.actor_user_id, "format": fmt, "headers": headers,
        "filters": {"params": params, "actor": actor_of(ctx)}})
    await audit.record(session, ctx=ctx, action="export.created", entity_type="export",
                       entity_id=job["id"], changes={"format": fmt})
    await defer(session, RUN_JOB, queue=QUEUE, tenant_id=str(ctx.tenant_id),
                job_id=str(job["id"]))
    return job


async def get_job(session: AsyncSession, *, ctx: Context, job_id: uuid.UUID) -> dict[str, Any]:
    job = await repository.get_job(session, tenant_id=ctx.tenant_id, job_id=job_id,
                                   created_by=_own(ctx))
    if job is None:
        raise _not_found()
    return job


async def list_jobs(session: AsyncSession, *, ctx: Context, offset: int,
                    limit: int) -> tuple[list[dict[str, Any]], int]:
    return await repository.list_jobs(session, tenant_id=ctx.tenant_id, created_by=_own(ctx),
                                      offset=offset, limit=limit)


async def download_path(session: AsyncSession, *, ctx: Context, job_id: uuid.UUID,
                        data_dir: Path) -> tuple[Path, dict[str, Any]]:
    job = await get_job(session, ctx=ctx, job_id=job_id)
    if job["status"] == "expired":
        raise AppError(f"Export files are kept {FILE_TTL.days} days; ask for a new export.",
                       code="EXPORT_EXPIRED", status=410)
    if job["status"] != "completed" or not job["file_name"]:
        raise Conflict("The export is not ready.", code="EXPORT_NOT_READY",
                       extra={"status": job["status"]})
    path = exports_dir(data_dir, ctx.tenant_id) / f"{job['id']}.{job['format']}"
    if not path.is_file():
        raise NotFound("The export file is gone.", code="EXPORT_FILE_MISSING")
    return path, job


class JobCancelled(Exception):
    pass


async def cancel_job(session: AsyncSession, *, ctx: Context,
                     job_id: uuid.UUID) -> dict[str, Any]:
    """Cancel a queued or running export: the worker stops at its next progress save
    (at most 2 s later) and removes the partial file."""
    await get_job(session, ctx=ctx, job_id=job_id)  # visibility
    job = await repository.get_job(session, tenant_id=ctx.tenant_id, job_id=job_id,
                                   for_update=True)
    assert job is not None
    if job["status"] not in ("queued", "running"):
        raise Conflict(f"The export is {job['status']}.", code="EXPORT_NOT_CANCELLABLE",
                       extra={"status": job["status"]})
    job = await repository.update_job(session, tenant_id=ctx.tenant_id, job_id=job_id,
                                      values={"status": "cancelled",
                                              "finished_at": datetime.now(UTC)})
    await audit.record(session, ctx=ctx, action="export.cancelled", entity_type="export",
                       entity_id=job_id)
    return job


def _asker(tenant_id: uuid.UUID, filters: dict[str, Any]) -> Context:
    """The context of who queued an export job (jobs queued before the actor was kept
    stored the agent to restrict to, or nothing)."""
    if "actor" in filters:
        return context_of(tenant_id, filters["actor"])
    if filters.get("restrict_owner"):
        return context_of(tenant_id, {"role": "agent", "user_id": filters["restrict_owner"]})
    return system_context(tenant_id)


async def run_job(db: Database, *, tenant_id: uuid.UUID, job_id: uuid.UUID,
                  data_dir: Path, progress_seconds: float = 2.0) -> str:
    """Run a queued export (the worker calls this). Safe to run twice: only a queued job
    is taken. Progress is saved at most every ``progress_seconds``."""
    async with db.transaction(tenant_id) as session:
        job = await repository.get_job(session, tenant_id=tenant_id, job_id=job_id,
                                       for_update=True)
        if job is None or job["status"] != "queued":
            return job["status"] if job else "missing"
        await repository.update_job(session, tenant_id=tenant_id, job_id=job_id,
                                    values={"status": "running",
                                            "started_at": datetime.now(UTC)})
    try:
        async with db.transaction(tenant_id) as session:
            plan = await prepare(session, ctx=_asker(tenant_id, job["filters"]),
                                 f=LeadFilter.from_body(job["filters"].get("params")),
                                 headers=job["headers"])
            total = await repository.count_leads(session, leads=plan.leads)
            await repository.update_job(session, tenant_id=tenant_id, job_id=job_id,
                                        values={"total_rows": total})
        saved = [asyncio.get_running_loop().time()]

        async def progress(done: int) -> None:
            now = asyncio.get_running_loop().time()
            if now - saved[0] >= progress_seconds:
                saved[0] = now
                async with db.transaction(tenant_id) as s:
                    row = await repository.update_job(s, tenant_id=tenant_id, job_id=job_id,
                                                      values={"processed_rows": done})
                if row["status"] == "cancelled":
                    raise JobCancelled

        path = exports_dir(data_dir, tenant_id) / f"{job_id}.{job['format']}"
        written = await write_file(db, plan, job["format"], path, progress=progress)
        values: dict[str, Any] = {
            "status": "completed", "processed_rows": written, "total_rows": written,
            "file_name": file_name(job["format"], job["created_at"]),
            "file_size": path.stat().st_size, "finished_at": datetime.now(UTC)}
    except JobCancelled:
        return "cancelled"  # write_file removed the partial file
    except Exception as exc:  # the job records why; the worker logs it
        values = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"[:2000],
                  "finished_at": datetime.now(UTC)}
    async with db.transaction(tenant_id) as session:
        current = await repository.get_job(session, tenant_id=tenant_id, job_id=job_id,
                                           for_update=True)
        if current is not None and current["status"] == "cancelled":
            with contextlib.suppress(FileNotFoundError):
                (exports_dir(data_dir, tenant_id) / f"{job_id}.{job['format']}").unlink()
            return "cancelled"
        await repository.update_job(session, tenant_id=tenant_id, job_id=job_id, values=values)
    return str(values["status"])


async def expire_files(db: Database, *, data_dir: Path, now: datetime | None = None) -> int:
    """Delete export files older than FILE_TTL (their jobs become ``expired``) and scratch
    or partial files older than SCRATCH_TTL. Workspaces are the folder names, so each
    update runs in its own workspace's transaction. Returns the files deleted."""
    root = data_dir / "exports"
    stamp = (now or datetime.now(UTC)).timestamp()
    deleted = 0

    def sweep() -> dict[uuid.UUID, list[uuid.UUID]]:
        nonlocal deleted
        expired: dict[uuid.UUID, list[uuid.UUID]] = {}
        if not root.is_dir():
            return expired
        for folder in root.iterdir():
            tenant_id = parse_uuid(folder.name)
            if tenant_id is None or not folder.is_dir():
                continue
            for path in [*folder.iterdir(), *(folder / "tmp").glob("*")]:
                if not path.is_file():
                    continue
                age = stamp - path.stat().st_mtime
                scratch = path.parent.name == "tmp" or path.name.endswith(".part")
                job_id = parse_uuid(path.name.split(".")[0])
                if scratch and age > SCRATCH_TTL.total_seconds():
                    path.unlink(missing_ok=True)
                    deleted += 1
                elif not scratch and job_id and age > FILE_TTL.total_seconds():
                    path.unlink(missing_ok=True)
                    deleted += 1
                    expired.setdefault(tenant_id, []).append(job_id)
        return expired

    for tenant_id, job_ids in (await asyncio.to_thread(sweep)).items():
        async with db.transaction(tenant_id) as session:
            await repository.mark_expired(session, tenant_id=tenant_id, job_ids=job_ids)
    return deleted
