"""Request and response bodies for opportunities (deals)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, PlainSerializer, field_validator

from leadbase.kit.schemas import JSONObject, Page, ReadModel, Timestamp, WriteModel
from leadbase.listings.schemas import Currency

OpportunityStatus = Literal["open", "won", "lost"]
MAX_VALUE = Decimal("9999999999999999.99")  # numeric(18, 2)
MAX_NAME = 300

# Money as given: a JSON number or a decimal string, >= 0, at most 2 decimals.
Money = Annotated[Decimal, Field(ge=0, le=MAX_VALUE, decimal_places=2,
                                 description='A decimal string, e.g. "50000.00"')]
# Money leaves as a decimal string.
MoneyOut = Annotated[Decimal, PlainSerializer(lambda d: f"{d:.2f}", return_type=str,
                                              when_used="json")]
Probability = Annotated[int, Field(ge=0, le=100)]


def _blank_is_none(value: str | None) -> str | None:
    return value or None


class OpportunityCreate(WriteModel):
    name: str = Field(min_length=1, max_length=MAX_NAME)
    customer_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None
    pipeline_id: uuid.UUID | None = Field(
        default=None, description="A deal pipeline (default: the workspace's default one)")
    stage: str | None = Field(default=None, min_length=1, max_length=64, description=(
        "A stage of the pipeline, by id or code (default: its first open stage)"))
    value: Money = Decimal("0")
    currency: Currency | None = Field(default=None,
                                      description="ISO 4217 (default: the workspace's)")
    probability: Probability | None = Field(
        default=None, description="0-100; unset or null: the stage's default applies")
    expected_close_date: date | None = None
    owner_id: uuid.UUID | None = Field(
        default=None, description="Default: the lead's owner, else the caller")
    source: str | None = Field(default=None, max_length=100)
    notes: str | None = Field(default=None, max_length=20_000)
    metadata: JSONObject | None = None

    @field_validator("source", "notes")
    @classmethod
    def _blank(cls, value: str | None) -> str | None:
        return _blank_is_none(value)


class OpportunityUpdate(WriteModel):
    """Only what is sent changes. ``probability: null`` goes back to the stage's default;
    the stage moves through ``POST /opportunities/{id}/stage``, the status through
    close-won, close-lost and reopen."""

    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME)
    customer_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None
    value: Money | None = None
    currency: Currency | None = None
    probability: Probability | None = None
    expected_close_date: date | None = None
    owner_id: uuid.UUID | None = None
    source: str | None = Field(default=None, max_length=100)
    notes: str | None = Field(default=None, max_length=20_000)
    metadata: JSONObject | None = None


class StageMoveBody(WriteModel):
    stage: str = Field(min_length=1, max_length=64,
                       description="A stage of the opportunity's pipeline: id or code")
    reason: str | None = Field(default=None, max_length=2000)


class CloseWonBody(WriteModel):
    actual_value: Money | None = Field(default=None,
                                       description="Default: the opportunity's value")
    close_date: date | None = Field(default=None, description="Default: today (UTC)")
    notes: str | None = Field(default=None, max_length=20_000,
                              description="How it was won (kept as close_notes)")
    stage: str | None = Field(default=None, min_length=1, max_length=64, description=(
        "A won stage of the pipeline (default: its first won stage)"))


class CloseLostBody(WriteModel):
    reason: str = Field(min_length=1, max_length=2000)
    competitor: str | None = Field(default=None, max_length=200)
    notes: str | None = Field(default=None, max_length=20_000)
    close_date: date | None = Field(default=None, description="Default: today (UTC)")
    stage: str | None = Field(default=None, min_length=1, max_length=64, description=(
        "A lost stage of the pipeline (default: its first lost stage)"))


class ReopenBody(WriteModel):
    reason: str = Field(min_length=1, max_length=2000)
    stage: str | None = Field(default=None, min_length=1, max_length=64, description=(
        "An open stage (default: the open stage it was in last, else the first)"))


class CustomerSummary(ReadModel):
    id: uuid.UUID
    name: str
    kind: str


class LeadSummary(ReadModel):
    id: uuid.UUID
    first_name: str | None
    last_name: str | None
    email: str | None
    company: str | None
    owner_id: uuid.UUID | None


class OpportunityRead(ReadModel):
    id: uuid.UUID
    number: int
    name: str
    customer_id: uuid.UUID | None
    lead_id: uuid.UUID | None
    pipeline_id: uuid.UUID
    stage_id: uuid.UUID
    stage: str = Field(description="The stage's code")
    stage_name: str
    stage_category: str
    stage_entered_at: datetime
    status: OpportunityStatus
    value: MoneyOut
    currency: str
    probability: int = Field(description="The effective probability (0-100)")
    probability_is_default: bool = Field(
        description="Whether ``probability`` is the stage's default (none was set)")
    weighted_value: MoneyOut = Field(description="value x probability / 100")
    expected_close_date: date | None
    owner_id: uuid.UUID | None
    source: str | None
    notes: str | None
    closed_at: datetime | None
    close_date: date | None
    actual_value: MoneyOut | None
    lost_reason: str | None
    competitor: str | None
    close_notes: str | None
    reopened_at: datetime | None
    reopen_reason: str | None
    last_activity_at: datetime | None
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    version: int
    customer: CustomerSummary | None = None
    lead: LeadSummary | None = None


class OpportunityPage(Page[OpportunityRead]):
    pass


class OpportunityStageChangeRead(ReadModel):
    id: uuid.UUID
    opportunity_id: uuid.UUID
    pipeline_id: uuid.UUID
    from_stage_id: uuid.UUID | None
    from_stage: str | None
    to_stage_id: uuid.UUID
    to_stage: str | None
    changed_at: datetime
    actor_user_id: uuid.UUID | None
    reason: str | None
    seconds_in_previous: int | None


class OpportunityStageChangePage(Page[OpportunityStageChangeRead]):
    pass


class StageMoveResult(ReadModel):
    opportunity: OpportunityRead
    change: OpportunityStageChangeRead | None


class FollowUpBody(WriteModel):
    scheduled_for: Timestamp
    type: Literal["call", "email", "meeting", "note", "task", "demo", "proposal",
                  "document", "message"] = "call"
    description: str | None = Field(default=None, max_length=20_000)
    attributes: JSONObject = Field(default_factory=dict)


class OpportunityActivityCreate(WriteModel):
    """An activity on the opportunity (the activity model of leads: a user type and its
    attributes; completed unless ``scheduled_for`` is given)."""

    type: Literal["call", "email", "meeting", "note", "task", "demo", "proposal",
                  "document", "message"]
    description: str | None = Field(default=None, max_length=20_000)
    attributes: JSONObject = Field(default_factory=dict)
    scheduled_for: Timestamp | None = None
    completed_at: Timestamp | None = None
    occurred_at: Timestamp | None = None
