"""Request options and response bodies for imports."""

from __future__ import annotations

import codecs
import uuid
from datetime import datetime
from typing import Any, Literal

import phonenumbers
from pydantic import Field, field_validator

from leadbase.kit.schemas import Page, ReadModel, WriteModel

OnDuplicate = Literal["skip", "update", "create"]
Bucket = Literal["invalid", "skipped_duplicate"]
MATCH_KEYS = ("email", "phone")


class ImportOptions(WriteModel):
    """The form fields of ``POST /api/v1/imports`` beside ``file``."""

    list_id: uuid.UUID | None = Field(default=None, description="The list (default list)")
    mapping: dict[str, str | None] | None = Field(default=None, description=(
        'Column header -> lead field, "fields.<code>", "metadata.<key>" or "ignore"; '
        "columns left out are matched by their headers"))
    on_duplicate: OnDuplicate = Field(default="skip", description=(
        "A row matching a lead: skip it, update (merge into) the lead, or create anyway"))
    match_on: str = Field(default="email,phone", max_length=120, description=(
        "email, phone, email,phone (email first), or a primary custom field's code"))
    default_region: str | None = Field(default=None, description=(
        "Region of phone numbers without a country code (the workspace's by default)"))
    dry_run: bool = Field(default=False, description="Validate and count; write no lead")
    tags: list[str] = Field(default_factory=list, max_length=20, description=(
        "Tags added to every created or updated lead"))
    sheet: str | None = Field(default=None, max_length=200, description=(
        "Spreadsheets: the sheet by name or 1-based number (the first by default)"))
    delimiter: Literal[",", ";", "\t", "|"] | None = Field(default=None, description=(
        "CSV: the delimiter (detected by default)"))
    encoding: str | None = Field(default=None, max_length=40, description=(
        "CSV: the encoding (detected by default: UTF-8/16 with or without BOM, "
        "Windows-1252)"))

    @field_validator("default_region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        region = value.strip().upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"'{value}' is not a region code (ISO 3166, e.g. US, AR, ES)")
        return region

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            return codecs.lookup(value.strip()).name
        except LookupError as exc:
            raise ValueError(f"'{value}' is not a known encoding") from exc

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        tags = list(dict.fromkeys(t.strip() for t in value if t.strip()))
        if any(len(t) > 50 for t in tags):
            raise ValueError("tags are at most 50 characters")
        return tags

    @field_validator("match_on")
    @classmethod
    def _match_on(cls, value: str) -> str:
        parts = [p.strip() for p in value.split(",") if p.strip()]
        if not parts:
            raise ValueError("name email, phone, or a primary custom field")
        if all(p.lower() in MATCH_KEYS for p in parts):
            return ",".join(dict.fromkeys(p.lower() for p in parts))
        if len(parts) > 1:
            raise ValueError("a custom field is matched alone (match_on=fields.<code>)")
        return "fields." + parts[0].removeprefix("fields.")


class ImportRead(ReadModel):
    id: uuid.UUID
    number: int
    status: str = Field(description="queued, running, completed, failed or cancelled")
    dry_run: bool
    list_id: uuid.UUID
    file_name: str
    file_size: int
    format: str
    options: dict[str, Any]
    detected: dict[str, Any] = Field(description=(
        "encoding, delimiter, sheet, and the column mapping that was applied"))
    total_rows: int | None
    processed_rows: int
    progress: float | None = Field(description="0 to 1; null until the rows are counted")
    created: int
    updated: int = Field(description="Rows merged into an existing lead (unchanged included)")
    unchanged: int = Field(description="Of the updated rows, those that changed nothing")
    skipped_duplicate: int
    invalid: int
    rows_per_second: float | None
    error: str | None
    error_code: str | None
    errors_url: str
    created_by: uuid.UUID | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ImportPage(Page[ImportRead]):
    pass


class RowProblem(ReadModel):
    column: str | None = Field(description="The file's column, when one is to blame")
    field: str | None = Field(description="The lead field (email, fields.<code>...)")
    code: str
    message: str
    rule: str | None = None
    existing_id: uuid.UUID | None = None
    duplicate_of_line: int | None = None


class ImportErrorRead(ReadModel):
    line: int = Field(description="The row's line in the file (its row in a sheet)")
    bucket: Bucket
    column: str | None
    code: str
    message: str
    errors: list[RowProblem]
    values: dict[str, str] = Field(description="The row as the file had it, by column")


class ImportErrorPage(Page[ImportErrorRead]):
    pass


def import_read(job: dict[str, Any]) -> ImportRead:
    total = job["total_rows"]
    progress = None
    if total is not None:
        progress = 1.0 if job["status"] == "completed" else (
            min(1.0, job["processed_rows"] / total) if total else 0.0)
    rate = None
    if job["started_at"] is not None and job["processed_rows"]:
        end = job["finished_at"] or job["updated_at"]
        seconds = (end - job["started_at"]).total_seconds()
        rate = round(job["processed_rows"] / seconds, 1) if seconds > 0 else None
    return ImportRead.model_validate({
        **job, "progress": progress, "rows_per_second": rate,
        "created": job["created_count"], "updated": job["updated_count"],
        "unchanged": job["unchanged_count"], "skipped_duplicate": job["skipped_count"],
        "invalid": job["invalid_count"], "errors_url": f"/api/v1/imports/{job['id']}/errors"})


def error_read(row: dict[str, Any], headers: list[str]) -> ImportErrorRead:
    problems = row["errors"] or [{"column": None, "field": None, "code": "INVALID_ROW",
                                  "message": "invalid row"}]
    cells = row["values"] or []
    values = {h: cells[i] if i < len(cells) else "" for i, h in enumerate(headers)}
    for i in range(len(headers), len(cells)):
        values[f"column_{i + 1}"] = cells[i]
    first = problems[0]
    return ImportErrorRead.model_validate({
        "line": row["line"], "bucket": row["bucket"], "column": first.get("column"),
        "code": first["code"], "message": first["message"], "errors": problems,
        "values": values})
