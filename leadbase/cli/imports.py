"""``leadbase import``: a file of leads into a workspace, with a progress bar. The same
service and flow as ``POST /api/v1/imports``, run in this process."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from leadbase.cli import app, console
from leadbase.cli.common import open_database, settings_from_env, workspace_id
from leadbase.kit.errors import AppError, ValidationFailed


async def _list_id(session: Any, ctx: Any, value: str | None) -> uuid.UUID | None:
    """A list by id or number (None: the default list)."""
    from leadbase.kit.ids import parse_uuid
    from leadbase.lists import service as lists_service

    if value is None:
        return None
    if parse_uuid(value) is not None:
        return parse_uuid(value)
    if value.isdigit():
        row = await lists_service.get_by_number(session, ctx=ctx, number=int(value))
        return uuid.UUID(str(row["id"]))
    raise ValidationFailed(f"--list takes a list id or number, not '{value}'.",
                           code="LIST_NOT_FOUND")


async def run_import(*, file: Path, workspace: str, options: dict[str, Any],
                     quiet: bool = False) -> dict[str, Any]:
    """Queue and run an import in this process; returns the finished job."""
    from leadbase.auth.context import system_context
    from leadbase.imports import flows, pool, service, uploads
    from leadbase.imports.schemas import ImportOptions

    settings = settings_from_env()
    pool.configure(settings.import_processes)
    data_dir = settings.resolved_data_dir()
    async with open_database(settings) as db:
        tenant_id = await workspace_id(db, workspace)
        ctx = system_context(tenant_id)
        with file.open("rb") as src:
            async with (uploads.staged(src, name=file.name, data_dir=data_dir,
                                       tenant_id=tenant_id) as staged,
                        db.transaction(tenant_id) as session):
                values = dict(options)
                values["list_id"] = await _list_id(session, ctx, values.get("list_id"))
                job = await service.create_job(
                    session, ctx=ctx, options=ImportOptions.model_validate(values),
                    upload=staged.upload, data_dir=data_dir,
                    max_uncompressed=settings.import_max_uncompressed_bytes, in_worker=False)
        started = time.perf_counter()
        with Progress(TextColumn("[bold]import"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.fields[rate]} rows/s"), TimeElapsedColumn(),
                      TimeRemainingColumn(), console=console, disable=quiet) as bar:
            task = bar.add_task("import", total=None, rate="0")

            async def progress(done: int, total: int | None, _totals: Any) -> None:
                rate = done / max(time.perf_counter() - started, 1e-6)
                bar.update(task, completed=done, total=total, rate=f"{rate:,.0f}")

            try:
                await flows.run_job(db, tenant_id=tenant_id, job_id=job["id"],
                                    data_dir=data_dir, on_progress=progress)
            finally:
                pool.shutdown()
        async with db.transaction(tenant_id) as session:
            return await service.get_job(session, ctx=ctx, job_id=job["id"])


@app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="CSV, XLSX, XLS or ODS")],
    workspace: Annotated[str, typer.Option(help="Workspace slug")],
    list_: Annotated[str | None, typer.Option("--list", help="List id or number "
                                              "(the default list)")] = None,
    on_duplicate: Annotated[str, typer.Option(help="skip, update or create")] = "skip",
    match_on: Annotated[str, typer.Option(help="email,phone, email, phone or a primary "
                                          "field's code")] = "email,phone",
    mapping: Annotated[str | None, typer.Option(help='JSON, e.g. {"Correo": "email"}')] = None,
    region: Annotated[str | None, typer.Option(help="Region of national phone numbers")] = None,
    tags: Annotated[str | None, typer.Option(help="Tags for every lead: a,b")] = None,
    sheet: Annotated[str | None, typer.Option(help="Spreadsheet sheet, name or number")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and count only")] = False,
) -> None:
    """Import a file of leads (the same rules as POST /api/v1/imports)."""
    try:
        options: dict[str, Any] = {
            "list_id": list_, "on_duplicate": on_duplicate, "match_on": match_on,
            "default_region": region, "sheet": sheet, "dry_run": dry_run,
            "tags": [t for t in (tags or "").split(",") if t.strip()],
            "mapping": orjson.loads(mapping) if mapping else None}
        job = asyncio.run(run_import(file=file, workspace=workspace, options=options))
    except orjson.JSONDecodeError as exc:
        console.print(f"[red]--mapping is not JSON: {exc}[/]")
        raise typer.Exit(2) from exc
    except AppError as exc:
        console.print(f"[red]{exc.code}[/]: {exc.detail}")
        for err in exc.errors or []:
            console.print(f"  {err.get('field')}: {err.get('message')}")
        raise typer.Exit(1) from exc
    except Exception as exc:  # pydantic's ValidationError of the options
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    seconds = ((job["finished_at"] - job["started_at"]).total_seconds()
               if job["finished_at"] and job["started_at"] else 0.0)
    summary = (f"{job['created_count']:,} created, {job['updated_count']:,} updated "
               f"({job['unchanged_count']:,} unchanged), {job['skipped_count']:,} skipped "
               f"as duplicates, {job['invalid_count']:,} invalid, of "
               f"{job['total_rows'] or 0:,} rows in {seconds:.1f} s")
    if job["status"] != "completed":
        console.print(f"[red]import {job['status']}[/]: {job['error_code']}: {job['error']}")
        raise typer.Exit(1)
    label = "dry run" if job["dry_run"] else "import"
    console.print(f"[green]{label} {job['number']} completed[/]: {summary}")
    if job["invalid_count"] or job["skipped_count"]:
        console.print(f"  rows not imported: GET /api/v1/imports/{job['id']}/errors")
