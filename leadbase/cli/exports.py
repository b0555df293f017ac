"""``leadbase export``: the leads of a workspace to a CSV or XLSX file, with progress."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Annotated

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


def _filters(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValidationFailed(f"'{pair}' is not NAME=VALUE.", code="INVALID_FILTER")
        out[key.strip()] = value.strip()
    return out


async def run_export(*, workspace: str, fmt: str, output: Path, headers: str,
                     filters: dict[str, str], quiet: bool = False) -> tuple[int, float]:
    """Export through the same service as the API; returns (rows, seconds)."""
    from leadbase.auth.context import system_context
    from leadbase.exports import service
    from leadbase.leads.filters import LeadFilter

    settings = settings_from_env()
    async with open_database(settings) as db:
        tenant_id = await workspace_id(db, workspace)
        ctx = system_context(tenant_id)
        async with db.transaction(tenant_id) as session:
            plan = await service.prepare(session, ctx=ctx, f=LeadFilter.from_body(filters),
                                         headers=headers)  # type: ignore[arg-type]
        total = await service.count(db, plan)
        started = time.perf_counter()
        with Progress(TextColumn("[bold]export"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.fields[rate]} rows/s"), TimeElapsedColumn(),
                      TimeRemainingColumn(), console=console, disable=quiet) as bar:
            task = bar.add_task("export", total=total, rate="0")

            async def progress(done: int) -> None:
                rate = done / max(time.perf_counter() - started, 1e-6)
                bar.update(task, completed=done, rate=f"{rate:,.0f}")

            rows = await service.write_file(db, plan, fmt, output,  # type: ignore[arg-type]
                                            progress=progress)
            bar.update(task, completed=rows, total=max(rows, total))
        return rows, time.perf_counter() - started


@app.command("export")
def export_cmd(
    workspace: Annotated[str, typer.Option(help="Workspace slug")],
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write")],
    fmt: Annotated[str, typer.Option("--format", help="csv or xlsx")] = "csv",
    headers: Annotated[str, typer.Option(help="Custom-field columns: labels or codes")] = "labels",
    filter_: Annotated[list[str] | None, typer.Option(
        "--filter", help="A filter of GET /api/v1/leads as NAME=VALUE (repeatable), e.g. "
                         "--filter status=new,contacted --filter fields.Edad_gte=18")] = None,
) -> None:
    """Export a workspace's leads (the same columns and filters as the API)."""
    if fmt not in ("csv", "xlsx") or headers not in ("labels", "codes"):
        console.print("[red]--format is csv or xlsx; --headers is labels or codes[/]")
        raise typer.Exit(2)
    try:
        rows, seconds = asyncio.run(run_export(workspace=workspace, fmt=fmt, output=output,
                                               headers=headers,
                                               filters=_filters(filter_ or [])))
    except AppError as exc:
        console.print(f"[red]{exc.code}[/]: {exc.detail}")
        for err in exc.errors or []:
            console.print(f"  {err.get('field')}: {err.get('message')}")
        raise typer.Exit(1) from exc
    console.print(f"[green]{rows:,} leads written to {output} in {seconds:.1f} s[/]")
