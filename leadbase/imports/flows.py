"""Running an import: file -> validated rows -> staged -> classified -> leads, atomically.

1. The file is made readable text: spreadsheets are converted to CSV in a process of
   their own (memory-capped), UTF-16 to UTF-8; the encoding and delimiter are detected.
2. The scan counts the rows (``total_rows``) and cuts the file into chunks of whole
   records; the pool's processes validate the chunks in parallel (rows.process_chunk).
3. One transaction takes every chunk in file order: ``COPY`` into the staging table,
   set-based classification (repository.staging.Stage), merges into matched leads, inserts,
   row errors. Progress is saved from another connection at most every two seconds,
   and a cancel is noticed there.
4. The job's counts, an audit entry and one ``import.completed`` event are written in
   the same transaction, which then commits: a job that fails or is cancelled leaves
   no lead behind. A dry run does everything but write leads.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.assignment import jobs as assignment_jobs
from leadbase.assignment import repository as assignment_repository
from leadbase.assignment import service as assignment_service
from leadbase.audit import service as audit
from leadbase.auth.context import Context, context_of
from leadbase.db import raw
from leadbase.db.session import Database
from leadbase.events import outbox
from leadbase.fields import repository as fields_repository
from leadbase.fields import values as field_values
from leadbase.fields.engine import CompiledSchema
from leadbase.imports import files, headers, pool, repository, service
from leadbase.imports.files import FileProblem, Scan, TextFile
from leadbase.imports.repository.staging import UPDATE_COLUMNS, Stage, StagePlan
from leadbase.imports.rows import ChunkResult, RowContext, process_chunk
from leadbase.imports.schemas import ImportOptions
from leadbase.kit.errors import AppError, Forbidden
from leadbase.leads.repository import readable
from leadbase.leads.rules import merge_patch
from leadbase.tenants import service as tenants_service

log = logging.getLogger(__name__)

CHUNK_ROWS = 10_000
SHEET_MEMORY_LIMIT = 4 * 1024 ** 3


@dataclass
class Totals:
    processed: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    invalid: int = 0

    phases: dict[str, float] = field(default_factory=dict)  # seconds spent, by step

    def timed(self, phase: str, since: float) -> float:
        now = time.monotonic()
        self.phases[phase] = self.phases.get(phase, 0.0) + now - since
        return now

    def values(self) -> dict[str, int]:
        return {"processed_rows": self.processed, "created_count": self.created,
                "updated_count": self.updated, "unchanged_count": self.unchanged,
                "skipped_count": self.skipped, "invalid_count": self.invalid}


Progress = Callable[[int, int | None, Totals], Awaitable[None]]


class Cancelled(Exception):
    pass


@dataclass
class Job:
    """What the run needs of a job row."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    list_id: uuid.UUID
    format: str
    dry_run: bool
    options: ImportOptions
    actor: dict[str, Any]
    folder: Path
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ctx(self) -> Context:
        return context_of(self.tenant_id, self.actor)


async def run_job(db: Database, *, tenant_id: uuid.UUID, job_id: uuid.UUID, data_dir: Path,
                  chunk_rows: int = CHUNK_ROWS, progress_seconds: float = 2.0,
                  on_progress: Progress | None = None) -> str:
    """Run a queued import (the worker and the CLI call this). Only a queued job is
    taken, so running it twice is harmless. Returns the final status."""
    async with db.transaction(tenant_id) as session:
        row = await repository.get_job(session, tenant_id=tenant_id, job_id=job_id,
                                       for_update=True)
        if row is None or row["status"] != "queued":
            return row["status"] if row else "missing"
        await repository.update_job(session, tenant_id=tenant_id, job_id=job_id,
                                    values={"status": "running",
                                            "started_at": datetime.now(UTC)})
    job = Job(id=job_id, tenant_id=tenant_id, list_id=row["list_id"], format=row["format"],
              dry_run=row["dry_run"], options=ImportOptions.model_validate(row["options"]),
              actor=row["actor"], folder=service.job_dir(data_dir, tenant_id, job_id))
    values: dict[str, Any]
    try:
        return await _run(db, job, chunk_rows=chunk_rows, progress_seconds=progress_seconds,
                          on_progress=on_progress)
    except Cancelled:
        return "cancelled"
    except FileProblem as exc:
        values = {"error": exc.message, "error_code": exc.code}
    except AppError as exc:
        values = {"error": exc.detail, "error_code": exc.code}
    except Exception as exc:  # recorded on the job; the worker logs it
        log.exception("import %s failed", job_id)
        values = {"error": f"{type(exc).__name__}: {exc}"[:2000], "error_code": "IMPORT_FAILED"}
    finally:
        await asyncio.to_thread(shutil.rmtree, job.folder, True)
    async with db.transaction(tenant_id) as session:
        failed = await repository.finish_running(session, tenant_id=tenant_id, job_id=job_id,
                                                 values={**values, "status": "failed",
                                                         "finished_at": datetime.now(UTC)})
        if failed is None:
            return "cancelled"
        await audit.record(session, ctx=job.ctx, action="import.failed", entity_type="import",
                           entity_id=job_id, changes={"error_code": values["error_code"]})
    return "failed"


async def _text(job: Job) -> TextFile:
    source = job.folder / f"source.{job.format}"
    if job.format == "csv":
        return await pool.run(_prepare_csv, source, job.options.encoding,
                              job.options.delimiter)
    return await pool.run_isolated(files.sheet_to_csv, source, job.folder / "sheet.csv",
                                   job.options.sheet, memory_limit=SHEET_MEMORY_LIMIT)


def _prepare_csv(path: Path, encoding: str | None, delimiter: str | None) -> TextFile:
    return files.prepare_text(path, encoding=encoding, delimiter=delimiter)


async def _context(session: AsyncSession, job: Job, text: TextFile,
                   ) -> tuple[RowContext, StagePlan, CompiledSchema, dict[str, Any]]:
    if readable(job.ctx).own:
        # Rows are matched with, and merged into, any lead of the workspace.
        raise Forbidden("Imports need a role that reaches every lead of the workspace.",
                        code="ROLE_REQUIRED")
    ws = await tenants_service.defaults(session, tenant_id=job.tenant_id)
    schema = await field_values.schema_for(session, tenant_id=job.tenant_id,
                                           list_id=job.list_id)
    fields = await fields_repository.list_fields(session, tenant_id=job.tenant_id,
                                                 list_id=job.list_id, active=True)
    names = headers.unique_headers(text.header)
    plan = headers.plan(names, fields=service.custom_fields(fields),
                        mapping=job.options.mapping)
    match_field = service.match_field(job.options, fields)
    owners = await repository.active_owners(session, tenant_id=job.tenant_id)
    region = job.options.default_region or ws.region
    ctx = RowContext(headers=tuple(names), targets=tuple(plan.targets), schema=schema,
                     region=region, timezone=ws.timezone, tags=tuple(job.options.tags),
                     owners=owners, match_field=match_field)
    mode = job.options.on_duplicate
    keys: tuple[str, ...] = ()
    if mode != "create":
        keys = ("id",) if "id" in plan.core else ()
        keys += ("field",) if match_field else tuple(job.options.match_on.split(","))
    by_target = {t.name if t.kind == "core" else f"fields.{t.name}": h
                 for h, t in zip(names, plan.targets, strict=True) if t.kind in ("core",
                                                                                 "field")}
    if match_field:
        by_target["field"] = by_target.get(f"fields.{match_field}", match_field)
    stage = StagePlan(
        tenant_id=job.tenant_id, list_id=job.list_id, job_id=job.id, mode=mode,
        match_keys=keys, match_field=match_field,
        primary_codes=tuple(f["code"] for f in fields
                            if f["is_primary"] and f["code"] != match_field),
        related=tuple((f["code"], f["related_list_id"]) for f in fields
                      if f["type"] == "LEAD" and f["related_list_id"]),
        columns=by_target)
    detected = {"format": job.format, "encoding": text.detected_encoding or text.encoding,
                "delimiter": None if text.line_column else text.delimiter,
                "sheet": job.options.sheet, "headers": names, "columns": plan.describe(),
                "notes": plan.notes, "region": region}
    return ctx, stage, schema, detected


class _Saver:
    """Saves progress from its own connection, at most every ``seconds``, and raises
    Cancelled once the job has been cancelled."""

    def __init__(self, db: Database, job: Job, total: int, seconds: float,
                 on_progress: Progress | None) -> None:
        self.db, self.job, self.total, self.seconds = db, job, total, seconds
        self.on_progress = on_progress
        self.saved = time.monotonic()

    async def __call__(self, totals: Totals, *, force: bool = False) -> None:
        if self.on_progress is not None:
            await self.on_progress(totals.processed, self.total, totals)
        now = time.monotonic()
        if not force and now - self.saved < self.seconds:
            return
        self.saved = now
        async with self.db.transaction(self.job.tenant_id) as s:
            row = await repository.update_job(s, tenant_id=self.job.tenant_id,
                                              job_id=self.job.id, values=totals.values())
        if row["status"] == "cancelled":
            raise Cancelled


async def _run(db: Database, job: Job, *, chunk_rows: int, progress_seconds: float,
               on_progress: Progress | None) -> str:
    started = time.monotonic()
    text = await _text(job)
    scan: Scan = await pool.run(files.scan, text, chunk_rows)
    log.info("import %s: %d rows in %d chunks, read in %.1f s", job.id, scan.rows,
             len(scan.chunks), time.monotonic() - started)
    async with db.transaction(job.tenant_id) as session:
        ctx, plan, schema, detected = await _context(session, job, text)
        row = await repository.update_job(session, tenant_id=job.tenant_id, job_id=job.id,
                                          values={"total_rows": scan.rows,
                                                  "detected": detected})
    if row["status"] == "cancelled":
        return "cancelled"
    async with db.transaction(job.tenant_id) as session:
        job.extra["auto_assign"] = not job.dry_run and (await assignment_service.get_settings(
            session, ctx=job.ctx))["auto_assign_new_leads"]
    save = _Saver(db, job, scan.rows, progress_seconds, on_progress)
    totals = Totals()
    async with db.transaction(job.tenant_id) as session:
        stage = Stage(session, plan)
        await stage.create(scan.rows)
        log.info("import %s: staging ready at %.1f s", job.id, time.monotonic() - started)
        pending: deque[asyncio.Future[ChunkResult]] = deque()
        chunks = iter(scan.chunks)
        ahead = 3 * pool.size() + 2  # a buffer against uneven chunks on either side

        def submit() -> None:
            chunk = next(chunks, None)
            if chunk is not None:
                pending.append(asyncio.ensure_future(pool.run(process_chunk, ctx, text, chunk)))

        for _ in range(ahead):
            submit()
        try:
            while pending:
                waited = time.monotonic()
                result = await pending.popleft()
                totals.timed("waiting for validation", waited)
                submit()
                await _apply_chunk(stage, job, ctx, schema, result, totals)
                await save(totals)
        finally:
            for future in pending:
                future.cancel()
        await save(totals, force=True)
        if not job.dry_run:
            t = time.monotonic()
            await stage.flush_indexes()
            totals.timed("index pending lists", t)
        log.info("import %s: %d rows staged and written at %.1f s (%s)", job.id,
                 totals.processed, time.monotonic() - started,
                 ", ".join(f"{k} {v:.1f} s" for k, v in totals.phases.items()))
        finished = await repository.finish_running(session, tenant_id=job.tenant_id,
                                                   job_id=job.id, values={
            **totals.values(), "status": "completed", "finished_at": datetime.now(UTC)})
        if finished is None:
            raise Cancelled  # rolls the whole import back
        summary = {"created": totals.created, "updated": totals.updated,
                   "unchanged": totals.unchanged, "skipped_duplicate": totals.skipped,
                   "invalid": totals.invalid, "total_rows": scan.rows,
                   "dry_run": job.dry_run}
        await audit.record(session, ctx=job.ctx, action="import.completed",
                           entity_type="import", entity_id=job.id, changes=summary)
        await outbox.emit(session, tenant_id=job.tenant_id, type="import.completed",
                          entity_type="import", entity_id=job.id,
                          payload={"id": str(job.id), "list_id": str(job.list_id),
                                   **summary})
    log.info("import %s: committed at %.1f s", job.id, time.monotonic() - started)
    return "completed"


async def _apply_chunk(stage: Stage, job: Job, ctx: RowContext, schema: CompiledSchema,
                       result: ChunkResult, totals: Totals) -> None:
    t = time.monotonic()
    await stage.load(result.data, result.rows)
    t = totals.timed("staging", t)
    await stage.classify()
    t = totals.timed("classifying", t)
    unchanged = 0
    if job.options.on_duplicate == "update":
        unchanged = await _merge(stage, ctx, schema, write=not job.dry_run)
        t = totals.timed("merging", t)
    if not job.dry_run:
        await stage.insert_created()
        t = totals.timed("inserting", t)
        if job.extra.get("auto_assign"):
            await _assign_later(stage, job)
    await stage.save_errors()
    counts = await stage.counts()
    totals.timed("errors and counts", t)
    totals.processed += result.rows
    totals.created += counts.get("created", 0)
    totals.updated += counts.get("updated", 0)
    totals.unchanged += unchanged
    totals.skipped += counts.get("skipped_duplicate", 0)
    totals.invalid += counts.get("invalid", 0)


_NEW_UNOWNED = "SELECT lead_id FROM imp_stage WHERE bucket IS NULL AND owner_id IS NULL"


async def _assign_later(stage: Stage, job: Job) -> None:
    """List the chunk's new leads without an owner for the assignment job that runs the
    rules over them set-based once the import commits (the workspace auto-assigns)."""
    if "assignment_job" not in job.extra:
        queued = await assignment_jobs.queue_new_leads(
            stage.session, ctx=job.ctx, import_job_id=job.id, select_sql=_NEW_UNOWNED,
            params={})
        job.extra["assignment_job"] = queued["id"]
        return
    await assignment_repository.add_job_leads(
        stage.session, tenant_id=job.tenant_id, job_id=job.extra["assignment_job"],
        select_sql=_NEW_UNOWNED, params={})


_SENT = ("first_name", "last_name", "email", "phone", "company", "job_title", "source",
         "status", "notes", "owner_id", "do_not_contact", "consent")


async def _merge(stage: Stage, ctx: RowContext, schema: CompiledSchema, *, write: bool) -> int:
    """Merge matched rows into their leads, as creating with on_duplicate=update merges
    (leads.rules.merge_patch and the field engine). Returns how many changed nothing;
    rows whose merged custom fields fail become invalid."""
    rows = await stage.matched_leads(lock=write)
    updates: list[tuple[Any, ...]] = []
    invalid: list[tuple[int, list[dict[str, Any]]]] = []
    unchanged = 0
    for r in rows:
        current = {c: r[c] for c in UPDATE_COLUMNS}
        sent: dict[str, Any] = {k: r[f"s_{k}"] for k in _SENT}
        sent["tags"] = r["s_tags"]
        sent["metadata"] = r["s_metadata"]
        patch = merge_patch(current, sent)
        if "phone" in patch:
            patch["timezone"], patch["country"] = r["s_timezone"], r["s_country"]
        if r["s_fields_sent"]:
            outcome = field_values.merge(schema, r["s_fields_sent"], current=current["fields"],
                                         creating=False, region=ctx.region,
                                         timezone=ctx.timezone)
            if outcome.errors:
                invalid.append((r["line"], [
                    {"column": None, "field": e["field"], "code": "INVALID_FIELD_VALUE",
                     "rule": e.get("rule"), "message": e["message"]} for e in outcome.errors]))
                continue
            patch["fields"] = outcome.values
        after = {**current, **patch}
        if after == current:
            unchanged += 1
            continue
        updates.append(tuple(
            raw.jsonb(after[c]) if c in ("fields", "metadata") else after[c]
            for c in UPDATE_COLUMNS))
    await stage.mark_invalid(invalid)
    if write:
        await stage.write_updates(updates)
    return unchanged
