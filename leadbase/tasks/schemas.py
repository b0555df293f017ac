"""Request and response bodies for tasks."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, PlainSerializer, computed_field, field_validator

from leadbase.kit.schemas import JSONObject, Page, ReadModel, Timestamp, WriteModel

TaskStatus = Literal["open", "completed", "not_needed", "cancelled"]
TaskPriority = Literal["low", "normal", "high", "urgent"]
MAX_TITLE = 200
MAX_TAG = 100
MAX_NOTE = 1000
MAX_REORDER = 1000

# A position as given: any number within ±1e12 (fractions allowed); as read: a JSON number.
Position = Annotated[Decimal, Field(ge=Decimal("-1e12"), le=Decimal("1e12"),
                                    description="Manual order (ascending); e.g. 1, 2.5")]
PositionOut = Annotated[Decimal, PlainSerializer(
    lambda d: int(d) if d == d.to_integral_value() else float(d), return_type=float,
    when_used="json")]


class _TaskFields(WriteModel):
    listing_id: uuid.UUID | None = None
    due_at: Timestamp | None = None
    tag: str | None = Field(default=None, max_length=MAX_TAG)
    note: str | None = Field(default=None, max_length=MAX_NOTE)
    assignee_id: uuid.UUID | None = None
    position: Position | None = Field(default=None, description=(
        "Manual order within the task's listing (or its lead when it has none). Unset on "
        "create: after the last one. Setting N stores N exactly."))
    metadata: JSONObject | None = None

    @field_validator("tag", "note")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None


class TaskCreate(_TaskFields):
    lead_id: uuid.UUID
    title: str = Field(min_length=1, max_length=MAX_TITLE)
    status: TaskStatus = "open"
    priority: TaskPriority = "normal"


class TaskUpdate(_TaskFields):
    """Only what is sent changes (``listing_id: null`` detaches the listing)."""

    title: str | None = Field(default=None, min_length=1, max_length=MAX_TITLE)
    status: TaskStatus | None = None
    priority: TaskPriority | None = None


class TaskMove(WriteModel):
    after_id: uuid.UUID | None = Field(default=None, description="Place right after this task")
    before_id: uuid.UUID | None = Field(default=None,
                                        description="Place right before this task")


class TaskReorder(WriteModel):
    ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_REORDER, description=(
        "Every task in the new order: they get positions 1, 2, 3..."))
    listing_id: uuid.UUID | None = Field(default=None,
                                         description="All the tasks belong to this listing")
    lead_id: uuid.UUID | None = Field(default=None,
                                      description="All the tasks belong to this lead")


class ReorderResult(ReadModel):
    updated: int


class TaskLead(ReadModel):
    id: uuid.UUID
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    owner_id: uuid.UUID | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def full_name(self) -> str | None:
        name = " ".join(p for p in (self.first_name, self.last_name) if p)
        return name or None


class TaskRead(ReadModel):
    id: uuid.UUID
    number: int
    lead_id: uuid.UUID
    listing_id: uuid.UUID | None
    title: str
    status: str
    due_at: datetime | None
    priority: str
    tag: str | None
    note: str | None
    assignee_id: uuid.UUID | None
    completed_at: datetime | None
    position: PositionOut
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    version: int
    lead: TaskLead | None = None


class TaskPage(Page[TaskRead]):
    pass
