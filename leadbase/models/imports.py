"""Import jobs and the rows they could not take."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from leadbase.db.base import Base, TenantOwned
from leadbase.models.exports import JobState


class ImportJob(Base, TenantOwned, JobState):
    """One uploaded file imported into a list by the worker (atomic: all or nothing)."""

    __tablename__ = "import_jobs"
    __table_args__ = (
        Index("uq_import_jobs_tenant_number", "tenant_id", "number", unique=True),
        Index("ix_import_jobs_tenant_created", "tenant_id", sql_text("created_at DESC"),
              sql_text("id DESC")),
    )

    # Who asked, as the worker must act: {"role", "user_id", "api_key_id"}
    actor: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    list_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    dry_run: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    file_name: Mapped[str] = mapped_column(Text, nullable=False)
    file_size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    format: Mapped[str] = mapped_column(String(8), nullable=False)
    # What was asked: mapping, on_duplicate, match_on, default_region, tags, sheet
    options: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    # What the file turned out to be: encoding, delimiter, sheet, headers, resolved mapping
    detected: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    total_rows: Mapped[int | None] = mapped_column(BigInteger)
    processed_rows: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    created_count: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    updated_count: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    unchanged_count: Mapped[int] = mapped_column(BigInteger, nullable=False,
                                                 server_default="0")
    skipped_count: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    invalid_count: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    error_code: Mapped[str | None] = mapped_column(String(64))


class ImportRowError(Base):
    """A row of an import file that was not written: invalid, or a duplicate skipped.
    Rows of their job, keyed by line; not entities of their own."""

    __tablename__ = "import_errors"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    job_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("import_jobs.id", ondelete="CASCADE"), primary_key=True)
    line: Mapped[int] = mapped_column(Integer, primary_key=True)
    bucket: Mapped[str] = mapped_column(String(20), nullable=False)
    # [{"column", "field", "code", "message"}]
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)
    # The row as the file had it: {"<header>": "<text>"}
    values: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
