"""Bodies of the crm profile's Opportunities API and of the lead conversion, in the
document's names. Money is a JSON number (or a decimal string); dates may come as the
document's timestamps (``2026-03-31T00:00:00Z``: the day is kept)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from leadbase.compat.crm.schemas import ActivityFields, ActivityType, Body, Id, LeadOut, Out
from leadbase.kit.schemas import Timestamp

MAX_VALUE = Decimal("9999999999999999.99")
OpportunityStatus = Literal["OPEN", "WON", "LOST"]


def _day(value: Any) -> Any:
    """A timestamp's day (UTC as written), or a date as given."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str) and len(value) > 10 and value[10] in "T ":
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
        except ValueError:
            return value
    return value


Day = Annotated[date, BeforeValidator(_day)]
Money = Annotated[Decimal, Field(ge=0, le=MAX_VALUE, decimal_places=2)]
Probability = Annotated[int, Field(ge=0, le=100)]
Stage = Annotated[str, Field(min_length=1, max_length=64,
                             description="QUALIFIED, PROPOSAL, NEGOTIATION, ... (the deal "
                                         "pipeline's stage codes in capitals)")]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]
Notes = Annotated[str, Field(max_length=20_000)]


class _OpportunityFields(Body):
    lead_id: Id | None = Field(default=None, description="lead_…")
    customer_id: Id | None = Field(default=None, description="cus_…")
    value: Money | None = None
    probability: Probability | None = Field(
        default=None, description="0-100; unset or null: the stage's")
    expected_close_date: Day | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    assigned_to_id: Id | None = Field(default=None, description="agent_… (the owner)")
    source: str | None = Field(default=None, max_length=100)
    notes: Notes | None = None


class OpportunityCreate(_OpportunityFields):
    name: Annotated[str, Field(min_length=1, max_length=300)]
    stage: Stage | None = Field(default=None, description="An open stage (default: the "
                                                          "first, QUALIFIED)")


class OpportunityUpdate(_OpportunityFields):
    """Only the attributes sent change; the stage moves through ``move-stage``."""

    name: Annotated[str, Field(min_length=1, max_length=300)] | None = None
    stage: Stage | None = Field(default=None, description="Refused: use move-stage")
    status: str | None = Field(default=None, max_length=20,
                               description="Refused: use close-won, close-lost, reopen")


class MoveStage(Body):
    stage: Stage
    reason: Reason | None = None


class CloseWon(Body):
    actual_value: Money | None = Field(default=None, description="Default: its value")
    notes: Notes | None = None
    close_date: Day | None = Field(default=None, description="Default: today")


class CloseLost(Body):
    reason: Reason
    notes: Notes | None = None
    competitor: str | None = Field(default=None, max_length=200)
    close_date: Day | None = None


class Reopen(Body):
    reason: Reason
    stage: Stage | None = Field(default=None, description="An open stage (default: the "
                                                          "one it closed from)")


class OpportunityActivity(ActivityFields):
    """``POST /opportunities/{id}/activities``: the type and its attributes as
    ``/activities/log-<type>`` takes them."""

    type: ActivityType


class FollowUp(ActivityFields):
    scheduled_for: Timestamp
    type: ActivityType = "CALL"


# Conversion -------------------------------------------------------------------------------

class Convert(Body):
    """The document's ``{createOpportunity, estimatedValue, notes}``, and what a client
    needs when an existing customer matches: ``customerId`` (reuse it) or
    ``createCustomer: true`` (a new one anyway)."""

    create_opportunity: bool = False
    estimated_value: Money | None = None
    opportunity_name: Annotated[str, Field(min_length=1, max_length=300)] | None = None
    stage: Stage | None = None
    expected_close_date: Day | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    notes: Annotated[str, Field(max_length=5000)] | None = None
    customer_id: Id | None = Field(default=None, description="cus_…: reuse this customer")
    create_customer: bool = False
    customer_name: Annotated[str, Field(min_length=1, max_length=300)] | None = None
    customer_kind: Literal["COMPANY", "PERSON"] | None = None


class Unqualify(Body):
    reason: Annotated[str, Field(min_length=1, max_length=500)]


# Output (documentation) -----------------------------------------------------------------

class OpportunityOut(Out):
    id: str
    name: str
    lead_id: str | None
    customer_id: str | None
    stage: str
    stage_name: str
    status: OpportunityStatus
    value: float
    currency: str
    probability: int
    weighted_value: float
    expected_close_date: datetime | None
    assigned_to_id: str | None
    source: str | None
    notes: str | None
    actual_value: float | None
    close_date: datetime | None
    closed_at: datetime | None
    lost_reason: str | None
    competitor: str | None
    close_notes: str | None
    reopened_at: datetime | None
    reopen_reason: str | None
    last_activity_at: datetime | None
    stage_entered_at: datetime
    lead: dict[str, Any] | None
    customer: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime


class OpportunityPage(Out):
    data: list[OpportunityOut]
    total: int
    page: int
    limit: int
    total_pages: int


class StageColumn(Out):
    count: int
    value: float
    weighted_value: float
    name: str
    probability: int
    category: str
    opportunities: list[OpportunityOut]
    next_cursor: str | None


class PipelineView(Out):
    stages: dict[str, StageColumn]
    total_value: float
    total_weighted_value: float
    total_count: int
    currency: str


class Forecast(Out):
    period: str
    predicted_revenue: float
    weighted_revenue: float
    opportunities: int
    currency: str
    months: list[dict[str, Any]]


class ProbabilityOut(Out):
    probability: int
    method: str
    sample_size: int
    won: int
    lost: int
    stage_default: int


class CustomerOut(Out):
    id: str
    kind: str
    name: str
    email: str | None
    phone: str | None
    website: str | None
    industry: str | None
    address: str | None
    assigned_to_id: str | None
    notes: str | None
    created_at: datetime
    updated_at: datetime


class CanConvertOut(Out):
    can_convert: bool
    reasons: list[dict[str, Any]]


class ConvertOut(Out):
    lead: LeadOut
    customer: CustomerOut
    opportunity: OpportunityOut | None
    customer_created: bool
    already_converted: bool
