"""``/app/imports``: an import in steps over the imports service (managers and above, as
``/api/v1/imports``): upload → the detected column mapping to confirm or change → a dry
run or the import itself → a live progress bar (htmx polling of the job) → the result
buckets and the rows to fix as a CSV download.

Between the upload and the start the file waits as a *draft* in the workspace's import
folder (``imports/<tenant>/console/<token>/``): the header is read once, the mapping is
``headers.plan`` over the list's fields (the same the job applies). Each start copies
the draft's file into a job (``service.create_job``), so a dry run can be followed by the
real import of the same file. The job is queued for the worker as always and also run at
once in this process after the response (as the crm profile's import: only a queued job
is taken, so whichever starts first runs it)."""

from __future__ import annotations

import asyncio
import re
import shutil
import uuid
from pathlib import Path
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, File, Form, Request, UploadFile
from starlette.background import BackgroundTask
from starlette.responses import Response, StreamingResponse

from leadbase.console import i18n
from leadbase.console.deps import ManagerConsoleScope
from leadbase.console.nav import NavItem, add
from leadbase.console.render import PREFIX, is_htmx, redirect, render, workspace_formats
from leadbase.fields import repository as fields_repository
from leadbase.imports import files, flows, headers, service, uploads
from leadbase.imports.endpoints import error_csv
from leadbase.imports.files import FileProblem
from leadbase.imports.schemas import ImportOptions, import_read
from leadbase.kit.errors import AppError, NotFound, ValidationFailed
from leadbase.kit.http import read_ahead
from leadbase.kit.pagination import PageParams
from leadbase.lists import service as lists_service
from leadbase.tenants import service as tenants_service

router = APIRouter()
add(NavItem("nav.imports", PREFIX + "/imports/new", min_role="manager", order=40))
TOKEN = re.compile(r"^[0-9a-f]{32}$")
DUPLICATES = ("skip", "update", "create")
RECENT = 10
LISTS_PAGE = PageParams(page=1, per_page=200, cursor=None, count="exact")


def _drafts(request: Request, tenant_id: uuid.UUID) -> Path:
    data_dir = request.app.state.settings.resolved_data_dir()
    return service.imports_dir(data_dir, tenant_id) / "console"


def _draft(request: Request, tenant_id: uuid.UUID, token: str) -> tuple[Path, dict[str, Any]]:
    folder = _drafts(request, tenant_id) / token
    if not TOKEN.match(token) or not (folder / "draft.json").is_file():
        raise NotFound("This upload is gone; upload the file again.",
                       code="IMPORT_DRAFT_NOT_FOUND")
    return folder, orjson.loads((folder / "draft.json").read_bytes())


async def _lists(scope: ManagerConsoleScope) -> list[dict[str, Any]]:
    rows, _ = await lists_service.list_lists(scope.session, ctx=scope.ctx,
                                             params=LISTS_PAGE)
    return rows


async def _targets(scope: ManagerConsoleScope, list_id: uuid.UUID) -> tuple[
        list[dict[str, Any]], list[headers.CustomField]]:
    rows = await fields_repository.list_fields(scope.session, tenant_id=scope.ctx.tenant_id,
                                               list_id=list_id, active=True)
    return rows, service.custom_fields(rows)


def _options_of(draft: dict[str, Any], mapping: dict[str, str | None] | None,
                dry_run: bool) -> ImportOptions:
    return ImportOptions(list_id=uuid.UUID(draft["list_id"]), mapping=mapping,
                         on_duplicate=draft["on_duplicate"], dry_run=dry_run)


@router.get("/imports/new")
async def new_import(request: Request, scope: ManagerConsoleScope) -> Response:
    jobs, _ = await service.list_jobs(scope.session, ctx=scope.ctx, statuses=None, offset=0,
                                      limit=RECENT)
    ws = await workspace_formats(scope.session, scope.ctx.tenant_id)
    return render(request, "imports/new.html", {
        "lists": await _lists(scope), "duplicates": DUPLICATES, "problem": None,
        "jobs": [import_read(j) for j in jobs]}, workspace=ws)


@router.post("/imports/new")
async def upload(request: Request, scope: ManagerConsoleScope,
                 file: Annotated[UploadFile, File()],
                 list_id: Annotated[str, Form(max_length=40)] = "",
                 on_duplicate: Annotated[str, Form(max_length=10)] = "skip") -> Response:
    """Keep the file as a draft and show its columns' mapping."""
    settings = request.app.state.settings
    ws = await workspace_formats(scope.session, scope.ctx.tenant_id)
    try:
        chosen = uuid.UUID(list_id) if list_id else (
            await tenants_service.defaults(scope.session, tenant_id=scope.ctx.tenant_id)
        ).default_list_id
        if on_duplicate not in DUPLICATES:
            raise ValidationFailed("Choose skip, update or create.", code="INVALID_OPTION")
        await lists_service.get_list(scope.session, ctx=scope.ctx, list_id=chosen)
        token = uuid.uuid4().hex
        folder = _drafts(request, scope.ctx.tenant_id) / token
        async with uploads.staged(file.file, name=file.filename or "upload",
                                  data_dir=settings.resolved_data_dir(),
                                  tenant_id=scope.ctx.tenant_id,
                                  limit=settings.import_max_upload_bytes) as staged:
            path = staged.upload.path
            fmt = await asyncio.to_thread(files.detect_format, path,
                                          max_uncompressed=settings.import_max_uncompressed_bytes)
            if fmt == "csv":
                header, _, _ = await asyncio.to_thread(files.peek_text, path, encoding=None,
                                                       delimiter=None)
            else:
                header = await asyncio.to_thread(files.peek_sheet, path, None)
            _, custom = await _targets(scope, chosen)
            headers.plan(headers.unique_headers(header), fields=custom)  # 422 early
            folder.mkdir(parents=True)
            await asyncio.to_thread(shutil.move, path, folder / f"source.{fmt}")
        (folder / "draft.json").write_bytes(orjson.dumps({
            "name": staged.upload.name, "size": staged.upload.size, "format": fmt,
            "headers": headers.unique_headers(header), "list_id": str(chosen),
            "on_duplicate": on_duplicate}))
    except (FileProblem, AppError, ValueError) as exc:
        message = (exc.message if isinstance(exc, FileProblem) else exc.detail
                   if isinstance(exc, AppError) else str(exc))
        return render(request, "imports/new.html", {
            "lists": await _lists(scope), "duplicates": DUPLICATES, "problem": message,
            "jobs": []}, workspace=ws, status=422)
    return redirect(request, f"{PREFIX}/imports/drafts/{token}")


def _mapping_context(draft: dict[str, Any], fields: list[dict[str, Any]],
                     custom: list[headers.CustomField],
                     mapping: dict[str, str | None] | None) -> dict[str, Any]:
    plan = headers.plan(draft["headers"], fields=custom, mapping=mapping)
    return {"columns": list(plan.describe().items()),
            "core": sorted(headers.TARGETS),
            "custom": [f for f in fields if f["type"] != "CALCULATED"]}


@router.get("/imports/drafts/{token}")
async def draft_page(request: Request, token: str, scope: ManagerConsoleScope) -> Response:
    _, draft = _draft(request, scope.ctx.tenant_id, token)
    fields, custom = await _targets(scope, uuid.UUID(draft["list_id"]))
    ws = await workspace_formats(scope.session, scope.ctx.tenant_id)
    return render(request, "imports/mapping.html", {
        "token": token, "draft": draft, "problem": None,
        **_mapping_context(draft, fields, custom, None)}, workspace=ws)


@router.post("/imports/drafts/{token}/start")
async def start(request: Request, token: str, scope: ManagerConsoleScope) -> Response:
    """Start a dry run or the import with the mapping of the form (``map-<n>`` per
    column); the job's page follows its progress."""
    folder, draft = _draft(request, scope.ctx.tenant_id, token)
    form = await request.form()
    mapping: dict[str, str | None] = {}
    for i, header in enumerate(draft["headers"]):
        value = form.get(f"map-{i}")
        if isinstance(value, str) and value:
            mapping[header] = value
    dry_run = form.get("dry_run") == "true"
    settings = request.app.state.settings
    fields, custom = await _targets(scope, uuid.UUID(draft["list_id"]))
    incoming = service.imports_dir(settings.resolved_data_dir(), scope.ctx.tenant_id) / \
        "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    copy = incoming / uuid.uuid4().hex
    try:
        options = _options_of(draft, mapping, dry_run)
        headers.plan(draft["headers"], fields=custom, mapping=mapping)
        await asyncio.to_thread(shutil.copyfile, folder / f"source.{draft['format']}", copy)
        job = await service.create_job(
            scope.session, ctx=scope.ctx, options=options,
            upload=service.Upload(path=copy, name=draft["name"], size=draft["size"]),
            data_dir=settings.resolved_data_dir(),
            max_uncompressed=settings.import_max_uncompressed_bytes)
    except AppError as exc:
        copy.unlink(missing_ok=True)
        ws = await workspace_formats(scope.session, scope.ctx.tenant_id)
        return render(request, "imports/mapping.html", {
            "token": token, "draft": draft, "problem": exc.detail,
            **_mapping_context(draft, fields, custom, None)}, workspace=ws, status=422)
    response = redirect(request, f"{PREFIX}/imports/{job['id']}?draft={token}")
    response.background = BackgroundTask(
        flows.run_job, request.app.state.db, tenant_id=scope.ctx.tenant_id,
        job_id=job["id"], data_dir=settings.resolved_data_dir())
    return response


async def _job_context(request: Request, scope: ManagerConsoleScope,
                       import_id: uuid.UUID) -> dict[str, Any]:
    job = await service.get_job(scope.session, ctx=scope.ctx, job_id=import_id)
    draft = request.query_params.get("draft", "")
    has_draft = bool(TOKEN.match(draft)) and (
        _drafts(request, scope.ctx.tenant_id) / draft / "draft.json").is_file()
    read = import_read(job)
    return {"job": read, "finished": read.status in ("completed", "failed", "cancelled"),
            "draft": draft if has_draft else "",
            "mapping": (job["options"] or {}).get("mapping") or {},
            "draft_headers": _draft(request, scope.ctx.tenant_id, draft)[1]["headers"]
            if has_draft else []}


@router.get("/imports/{import_id}")
async def job_page(request: Request, import_id: uuid.UUID,
                   scope: ManagerConsoleScope) -> Response:
    ctx = await _job_context(request, scope, import_id)
    ws = await workspace_formats(scope.session, scope.ctx.tenant_id)
    template = "imports/progress.html" if is_htmx(request) else "imports/job.html"
    return render(request, template, ctx, workspace=ws)


@router.get("/imports/{import_id}/errors.csv")
async def errors_download(request: Request, import_id: uuid.UUID,
                          scope: ManagerConsoleScope) -> Response:
    """The rows that were not imported, to fix and import again (as
    ``GET /api/v1/imports/{id}/errors?format=csv``)."""
    job = await service.get_job(scope.session, ctx=scope.ctx, job_id=import_id)
    body = await read_ahead(error_csv(request.app.state.db, scope.ctx.tenant_id, import_id,
                                      service.error_headers(job), None), 2)
    return StreamingResponse(body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="import-{job["number"]}-errors.csv"',
        "Cache-Control": "no-store"})


i18n.register({
    "en": {
        "nav.imports": "Import", "imp.title": "Import leads", "imp.file": "File (CSV, XLSX, "
        "XLS or ODS)", "imp.list": "List", "imp.on_duplicate": "A row matching a lead",
        "imp.dup.skip": "Skip it", "imp.dup.update": "Update the lead",
        "imp.dup.create": "Create another lead", "imp.upload": "Upload and check columns",
        "imp.recent": "Recent imports", "imp.mapping": "Columns",
        "imp.mapping_hint": "Each column of the file and the lead field it fills. Change "
                            "any that was guessed wrong.",
        "imp.column": "Column", "imp.target": "Fills", "imp.ignore": "Ignore",
        "imp.metadata": "Metadata: {name}", "imp.dry_run": "Dry run (change nothing)",
        "imp.run": "Import", "imp.job": "Import #{n}", "imp.status": "Status",
        "imp.progress": "{done} of {total} rows", "imp.counting": "Counting rows…",
        "imp.created": "Created", "imp.updated": "Updated", "imp.unchanged": "Unchanged",
        "imp.skipped": "Skipped duplicates", "imp.invalid": "Invalid",
        "imp.download": "Download the rows to fix (CSV)", "imp.again": "Import for real "
        "with this mapping", "imp.new": "Import another file", "imp.is_dry": "Dry run",
        "imp.st.queued": "Queued", "imp.st.running": "Running",
        "imp.st.completed": "Completed", "imp.st.failed": "Failed",
        "imp.st.cancelled": "Cancelled", "imp.none": "No imports yet.",
        "imp.core": "Lead fields", "imp.custom": "Custom fields",
    },
    "es": {
        "nav.imports": "Importar", "imp.title": "Importar prospectos",
        "imp.file": "Archivo (CSV, XLSX, XLS u ODS)", "imp.list": "Lista",
        "imp.on_duplicate": "Una fila que coincide con un prospecto",
        "imp.dup.skip": "Omitirla", "imp.dup.update": "Actualizar el prospecto",
        "imp.dup.create": "Crear otro prospecto", "imp.upload": "Subir y revisar columnas",
        "imp.recent": "Importaciones recientes", "imp.mapping": "Columnas",
        "imp.mapping_hint": "Cada columna del archivo y el campo que completa. Corrija "
                            "las que se adivinaron mal.",
        "imp.column": "Columna", "imp.target": "Completa", "imp.ignore": "Ignorar",
        "imp.metadata": "Metadatos: {name}", "imp.dry_run": "Prueba (no cambia nada)",
        "imp.run": "Importar", "imp.job": "Importación #{n}", "imp.status": "Estado",
        "imp.progress": "{done} de {total} filas", "imp.counting": "Contando filas…",
        "imp.created": "Creados", "imp.updated": "Actualizados",
        "imp.unchanged": "Sin cambios", "imp.skipped": "Duplicados omitidos",
        "imp.invalid": "Inválidos", "imp.download": "Descargar las filas a corregir (CSV)",
        "imp.again": "Importar de verdad con este mapeo", "imp.new": "Importar otro archivo",
        "imp.is_dry": "Prueba", "imp.st.queued": "En cola", "imp.st.running": "En curso",
        "imp.st.completed": "Terminada", "imp.st.failed": "Falló",
        "imp.st.cancelled": "Cancelada", "imp.none": "Sin importaciones.",
        "imp.core": "Campos del prospecto", "imp.custom": "Campos propios",
    },
})
