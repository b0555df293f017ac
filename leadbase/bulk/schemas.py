"""Request and response bodies for bulk operations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from leadbase.kit.schemas import Page, ReadModel, WriteModel
from leadbase.leads.rules import MAX_TAGS
from leadbase.leads.schemas import LeadStatus, Tag

BulkAction = Literal["update", "delete", "restore"]
MAX_INLINE_IDS = 10_000


class BulkChanges(WriteModel):
    """What ``update`` changes on every lead (each lead is validated as a single PATCH)."""

    status: LeadStatus | None = None
    owner_id: uuid.UUID | None = Field(default=None, description="null unassigns")
    list_id: uuid.UUID | None = None
    tags_add: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)
    tags_remove: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)
    fields: dict[str, Any] | None = Field(default=None,
                                          description="Custom-field values (null clears)")


class BulkRequest(WriteModel):
    action: BulkAction
    ids: list[uuid.UUID] | None = Field(default=None, description=(
        f"Up to {MAX_INLINE_IDS:,} lead ids: applied at once"))
    filter: dict[str, Any] | None = Field(default=None, description=(
        "The filters of GET /api/v1/leads by name ({\"status\": \"new\", \"tags\": \"vip\"}): "
        "run as a background job"))
    changes: BulkChanges | None = Field(default=None, description="For action=update")
    background: bool = Field(default=False, description=(
        "Run a bulk by ids as a job too (202), as a filter always does: for thousands of "
        "ids, each lead costs a few milliseconds"))


class BulkFailure(ReadModel):
    id: uuid.UUID
    code: str
    message: str


class BulkResult(ReadModel):
    """Every lead the request named ends in exactly one of updated, unchanged or failed."""

    id: uuid.UUID
    number: int
    action: str
    mode: str
    status: str
    matched: int | None
    processed: int
    updated: int
    unchanged: int
    failed_count: int
    failed: list[BulkFailure] = Field(description="The failures (the first 1,000 on jobs)")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None


class BulkPage(Page[BulkResult]):
    pass


def bulk_read(job: dict[str, Any]) -> BulkResult:
    return BulkResult.model_validate({**job, "failed": job["failures"]})
