"""Request and response bodies for exports."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import Field

from leadbase.exports.formats import Format, HeaderStyle
from leadbase.kit.schemas import Page, ReadModel, WriteModel


class ExportCreate(WriteModel):
    format: Format = "csv"
    headers: HeaderStyle = Field(default="labels", description=(
        "Custom-field columns headed by their labels, or by fields.<code>"))
    filters: dict[str, Any] = Field(default_factory=dict, description=(
        "The filters of GET /api/v1/leads by name, e.g. {\"status\": \"new,contacted\", "
        "\"fields.Edad_gte\": \"18\"}"))


class ExportRead(ReadModel):
    id: uuid.UUID
    number: int
    status: str
    format: str
    headers: str
    filters: dict[str, Any]
    total_rows: int | None
    processed_rows: int
    progress: float | None = Field(description="0 to 1; null until the total is known")
    file_name: str | None
    file_size: int | None
    download_url: str | None
    created_by: uuid.UUID | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None


class ExportPage(Page[ExportRead]):
    pass


def export_read(job: dict[str, Any]) -> ExportRead:
    total = job["total_rows"]
    progress = None
    if total is not None:
        progress = 1.0 if total == 0 and job["status"] == "completed" else (
            min(1.0, job["processed_rows"] / total) if total else 0.0)
    return ExportRead.model_validate({
        **job, "filters": job["filters"].get("params") or {}, "progress": progress,
        "download_url": f"/api/v1/exports/{job['id']}/download"
        if job["status"] == "completed" else None})
