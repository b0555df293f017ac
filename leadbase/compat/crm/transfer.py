"""``/leads/import``, ``/leads/export`` and ``/leads/bulk-update``: over the imports,
exports and bulk services."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Query, Request, UploadFile
from starlette.responses import Response, StreamingResponse

from leadbase.auth.deps import ManagerScope, RequestScope, Scope
from leadbase.bulk import service as bulk
from leadbase.bulk.schemas import BulkChanges, BulkRequest
from leadbase.compat.crm import ids, limits, views
from leadbase.compat.crm.leads import Status, agent_id
from leadbase.compat.crm.schemas import BulkUpdate
from leadbase.db.session import Database
from leadbase.exports import service as exports
from leadbase.exports.download import download
from leadbase.exports.formats import MEDIA_TYPES
from leadbase.imports import service as imports
from leadbase.imports import uploads, waiting
from leadbase.imports.schemas import ImportOptions, error_read
from leadbase.leads.filters import LeadFilter

router = APIRouter(prefix="/leads", tags=["import/export"])

ERRORS_SHOWN = 100  # row errors an import answers (the rest: /api/v1/imports/{id}/errors)


async def _result(db: Database, scope: RequestScope, job: dict[str, Any]) -> Response:
    if job["status"] == "completed":
        async with db.transaction(scope.ctx.tenant_id) as session:
            _, rows = await imports.list_errors(session, ctx=scope.ctx, job_id=job["id"],
                                                bucket=None, after_line=None, offset=0,
                                                limit=ERRORS_SHOWN)
        headers = imports.error_headers(job)
        errors = []
        for row in rows:
            read = error_read(row, headers)
            errors.append({"row": read.line, "field": read.column, "code": read.code,
                           "message": read.message})
        successful = job["created_count"] + job["updated_count"] + job["unchanged_count"]
        return views.respond({"total": job["total_rows"] or 0, "successful": successful,
                              "failed": job["invalid_count"] + job["skipped_count"],
                              "created": job["created_count"], "updated": job["updated_count"],
                              "errors": errors, "importId": str(job["id"])})
    if job["status"] == "failed":
        return views.respond({"statusCode": 400, "message": job["error"] or "Import failed",
                              "code": job["error_code"] or "IMPORT_FAILED",
                              "errors": [{"field": "file", "message": job["error"] or ""}]},
                             400)
    if job["status"] == "cancelled":
        return views.respond({"statusCode": 409, "message": "The import was cancelled.",
                              "code": "IMPORT_CANCELLED"}, 409)
    return views.respond({"message": "Import in progress", "importId": str(job["id"]),
                          "status": str(job["status"]).upper(),
                          "total": job["total_rows"], "processed": job["processed_rows"],
                          "location": f"/api/v1/imports/{job['id']}"}, 202,
                         headers={"Location": f"/api/v1/imports/{job['id']}"})


@router.post("/import", responses={202: {"description": "Still running after the wait"}})
@limits.category("bulk")
async def import_leads(request: Request, scope: ManagerScope,
                       file: Annotated[UploadFile, File(description="XLSX, XLS, ODS or CSV")]
                       ) -> Response:
    """Import a spreadsheet or CSV of leads (managers and above; headers matched by name:
    ``firstName``, ``email``, ``phone``...; a row matching a lead by email or phone is
    skipped). The import is atomic and runs now: 200 ``{total, successful, failed,
    errors}`` when it finishes within ``LEADBASE_CRM_IMPORT_WAIT_SECONDS`` (30); beyond,
    202 ``{message, importId, status, total, processed}`` while it goes on (follow
    ``GET /api/v1/imports/{importId}``)."""
    settings = request.app.state.settings
    db: Database = request.app.state.db
    data_dir = settings.resolved_data_dir()
    # The job in its own transaction, committed: the run below (and the worker) must see
    # it.
    async with uploads.staged(file.file, name=file.filename or "upload", data_dir=data_dir,
                              tenant_id=scope.ctx.tenant_id,
                              limit=settings.import_max_upload_bytes) as staged, \
            db.transaction(scope.ctx.tenant_id) as session:
        job = await imports.create_job(
            session, ctx=scope.ctx, upload=staged.upload, options=ImportOptions(),
            data_dir=data_dir, max_uncompressed=settings.import_max_uncompressed_bytes)
    job = await waiting.run_and_wait(db, tenant_id=scope.ctx.tenant_id, job_id=job["id"],
                                     data_dir=data_dir,
                                     seconds=settings.crm_import_wait_seconds)
    return await _result(db, scope, job)


@router.get("/export", response_class=StreamingResponse,
            responses={200: {"content": {MEDIA_TYPES["xlsx"]: {}, MEDIA_TYPES["csv"]: {}}}})
@limits.category("export")
async def export_leads(request: Request, scope: Scope,
                       format: Annotated[Literal["xlsx", "csv"], Query()] = "xlsx",
                       status: Status = None) -> Response:
    """Download the leads (``status`` filters) as XLSX (default) or CSV, with the
    canonical export's columns (they import back through ``POST /leads/import``). Agents
    export their own leads."""
    f = LeadFilter(status=status.lower() if status else None)
    plan = await exports.prepare(scope.session, ctx=scope.ctx, f=f)
    await exports.record_download(scope.session, ctx=scope.ctx, fmt=format,
                                  filters=["status"] if status else [])
    return await download(request, ctx=scope.ctx, plan=plan, fmt=format)


@router.post("/bulk-update")
@limits.category("bulk")
async def bulk_update(request: Request, body: BulkUpdate, scope: Scope) -> Response:
    """Apply ``updates`` (``status``, ``assignedToId``, ``tags`` added) to every lead of
    ``leadIds`` (at most 10,000), each as a single update would: ``{updated, failed,
    errors: [{id, message}]}``. An id that names no lead you may change fails alone."""
    sent = body.updates.model_dump(exclude_unset=True)
    changes: dict[str, Any] = {}
    if "status" in sent:
        changes["status"] = sent["status"].lower() if sent["status"] else None
    if "assigned_to_id" in sent:
        changes["owner_id"] = agent_id(request, sent["assigned_to_id"])
    if sent.get("tags"):
        changes["tags_add"] = sent["tags"]
    errors: list[dict[str, str]] = []
    valid = []
    for raw in dict.fromkeys(body.lead_ids):
        parsed = ids.parse("lead", raw)
        if parsed is None:
            errors.append({"id": raw, "message": f"Lead {raw} not found"})
        else:
            valid.append(parsed)
    updated = 0
    if valid:
        job = await bulk.run_ids(scope.session, ctx=scope.ctx, body=views.canonical(
            BulkRequest, {"action": "update", "ids": valid,
                          "changes": views.canonical(BulkChanges, changes)}))
        updated = job["updated"] + job["unchanged"]
        for failure in job["failures"]:
            raw = ids.encode("lead", uuid.UUID(str(failure["id"]))) or ""
            message = (f"Lead {raw} not found" if failure["code"] == "LEAD_NOT_FOUND"
                       else failure["message"])
            errors.append({"id": raw, "code": failure["code"], "message": message})
    return views.respond({"updated": updated, "failed": len(errors), "errors": errors})
