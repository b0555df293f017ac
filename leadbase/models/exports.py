"""Background export jobs and bulk-operation jobs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Index, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from leadbase.db.base import Base, TenantOwned


class JobState:
    """Who asked for a background job, and how far it got."""

    created_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="queued")
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)


class ExportJob(Base, TenantOwned, JobState):
    """A lead export written to a file under the data directory by the worker."""

    __tablename__ = "export_jobs"
    __table_args__ = (
        Index("uq_export_jobs_tenant_number", "tenant_id", "number", unique=True),
        Index("ix_export_jobs_tenant_created", "tenant_id", text("created_at DESC"),
              text("id DESC")),
    )

    format: Mapped[str] = mapped_column(String(8), nullable=False)
    headers: Mapped[str] = mapped_column(String(8), nullable=False, server_default="labels")
    # {"params": {...list filter parameters...}, "actor": auth.context.actor_of(...)}
    filters: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    total_rows: Mapped[int | None] = mapped_column(BigInteger)
    processed_rows: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    file_name: Mapped[str | None] = mapped_column(Text)
    file_size: Mapped[int | None] = mapped_column(BigInteger)


class BulkJob(Base, TenantOwned, JobState):
    """One bulk operation on leads (by ids, run at once; or by filter, run by the worker)."""

    __tablename__ = "bulk_jobs"
    __table_args__ = (
        Index("uq_bulk_jobs_tenant_number", "tenant_id", "number", unique=True),
        Index("ix_bulk_jobs_tenant_created", "tenant_id", text("created_at DESC"),
              text("id DESC")),
    )

    # Who asked, as the worker must act: {"role", "user_id", "api_key_id"}
    actor: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    mode: Mapped[str] = mapped_column(String(8), nullable=False)  # ids | filter
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    filters: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    matched: Mapped[int | None] = mapped_column(BigInteger)
    processed: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    updated: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    unchanged: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    failed_count: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    # The first failures ({"id", "code", "message"}); failed_count has them all.
    failures: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False,
                                                          server_default="[]")
