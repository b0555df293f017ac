"""Request and response bodies for activities and the timeline."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from leadbase.activities.types import UserType
from leadbase.kit.schemas import JSONObject, Page, ReadModel, Timestamp, WriteModel


class ActivityCreate(WriteModel):
    type: UserType
    lead_id: uuid.UUID | None = Field(default=None, description=(
        "The lead it is about (one of lead_id and opportunity_id is required)"))
    opportunity_id: uuid.UUID | None = Field(default=None, description=(
        "The opportunity it is about; its lead (if any) is the activity's lead"))
    description: str | None = Field(default=None, max_length=20_000)
    attributes: JSONObject = Field(default_factory=dict,
                                   description="The type's attributes (see the types)")
    scheduled_for: Timestamp | None = Field(
        default=None, description="Planned: the activity stays open until completed_at")
    completed_at: Timestamp | None = Field(default=None,
                                           description="Done at (default: now, unless "
                                                       "scheduled_for is given)")
    occurred_at: Timestamp | None = Field(default=None,
                                          description="When it happened (default: "
                                                      "completed_at, or scheduled_for)")
    task_id: uuid.UUID | None = None
    listing_id: uuid.UUID | None = None


class ActivityUpdate(WriteModel):
    """Send ``completed_at`` to complete a scheduled activity (``null`` reopens it).
    ``attributes`` are merged key by key into the current ones (``null`` removes one)."""

    description: str | None = Field(default=None, max_length=20_000)
    attributes: JSONObject | None = None
    scheduled_for: Timestamp | None = None
    completed_at: Timestamp | None = None
    occurred_at: Timestamp | None = None


class ActivityRead(ReadModel):
    id: uuid.UUID
    number: int
    type: str
    lead_id: uuid.UUID | None
    opportunity_id: uuid.UUID | None = None
    description: str | None
    attributes: dict[str, Any]
    occurred_at: datetime
    scheduled_for: datetime | None
    completed_at: datetime | None
    status: Literal["scheduled", "completed"]
    is_system: bool
    author_id: uuid.UUID | None
    task_id: uuid.UUID | None
    listing_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    version: int


class ActivityPage(Page[ActivityRead]):
    pass


class TimelineEntry(ReadModel):
    """One entry of a lead's timeline: an activity (``entry=activity``, any type,
    system ones included) or an audited change of the lead itself (``entry=change``,
    ``type=change``; ``attributes`` hold the ``action`` and the changed ``fields``,
    never their values)."""

    id: uuid.UUID
    entry: Literal["activity", "change"]
    type: str
    at: datetime
    description: str | None
    attributes: dict[str, Any]
    actor_user_id: uuid.UUID | None
    actor_api_key_id: uuid.UUID | None
    scheduled_for: datetime | None
    completed_at: datetime | None
    task_id: uuid.UUID | None
    listing_id: uuid.UUID | None


class TimelinePage(Page[TimelineEntry]):
    pass


class ActivitySummary(ReadModel):
    user_id: uuid.UUID
    period: str
    starts_at: datetime
    ends_at: datetime
    total: int
    by_type: dict[str, int]
    tasks_completed: int
    tasks_pending: int
