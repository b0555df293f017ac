"""Bodies of the crm profile in the document's names (camelCase, prefixed string ids,
statuses and types in capitals). Unknown keys are ignored. Output shapes are declared for
the OpenAPI document; responses are built as dicts (``views``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from leadbase.kit.schemas import Timestamp

LeadStatus = Literal["NEW", "CONTACTED", "QUALIFIED", "UNQUALIFIED", "CONVERTED", "LOST"]
ActivityType = Literal["CALL", "EMAIL", "MEETING", "NOTE", "TASK", "DEMO", "PROPOSAL",
                       "DOCUMENT", "MESSAGE"]
Id = Annotated[str, Field(min_length=1, max_length=64)]
Text = Annotated[str, Field(max_length=20_000)]


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore", alias_generator=to_camel,
                              populate_by_name=True, str_strip_whitespace=True)


class _LeadFields(Body):
    first_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=64)
    company: str | None = Field(default=None, max_length=300)
    job_title: str | None = Field(default=None, max_length=200)
    source: str | None = Field(default=None, max_length=100,
                               description="WEBSITE, REFERRAL, ... (any text, in capitals)")
    notes: str | None = Field(default=None, max_length=20_000)
    tags: list[Annotated[str, Field(min_length=1, max_length=50)]] | None = Field(
        default=None, max_length=50)
    assigned_to_id: Id | None = Field(default=None, description="agent_… (a user)")


class LeadCreate(_LeadFields):
    status: LeadStatus = "NEW"


class LeadUpdate(_LeadFields):
    """Only the attributes sent change (``null`` clears a text)."""

    status: LeadStatus | None = None


class AssignBody(Body):
    agent_id: Id | None = Field(description="agent_…; null unassigns")
    reason: str | None = Field(default=None, max_length=500)


class ReassignBody(Body):
    from_agent_id: Id | None = Field(description="The lead's owner now (null: nobody)")
    to_agent_id: Id | None
    reason: str | None = Field(default=None, max_length=500)


class BulkUpdates(Body):
    status: LeadStatus | None = None
    assigned_to_id: Id | None = None
    tags: list[Annotated[str, Field(min_length=1, max_length=50)]] | None = Field(
        default=None, max_length=50, description="Added to each lead's tags")


class BulkUpdate(Body):
    lead_ids: list[Id] = Field(min_length=1, max_length=10_000)
    updates: BulkUpdates


# Activities ------------------------------------------------------------------------------

class ActivityFields(Body):
    """The typed attributes of every activity type, by the document's names."""

    description: Text | None = None
    duration: int | None = Field(default=None, ge=0, le=1440,
                                 description="Minutes (calls, meetings, demos)")
    outcome: str | None = Field(default=None, max_length=200)
    subject: str | None = Field(default=None, max_length=998)
    body: Text | None = None
    status: str | None = Field(default=None, max_length=20,
                               description="An email's: draft, sent, delivered, opened, "
                                           "replied, bounced, received")
    title: str | None = Field(default=None, max_length=300)
    location: str | None = Field(default=None, max_length=500)
    content: Text | None = None
    due_date: Timestamp | None = None
    priority: str | None = Field(default=None, max_length=20,
                                 description="low, medium (normal), high, urgent")
    feedback: str | None = Field(default=None, max_length=5000)
    value: Decimal | None = Field(default=None, ge=0, max_digits=16, decimal_places=2)
    currency: str | None = Field(default=None, max_length=3)
    document_url: str | None = Field(default=None, max_length=2048)
    document_type: str | None = Field(default=None, max_length=64)
    channel: str | None = Field(default=None, max_length=20)
    direction: str | None = Field(default=None, max_length=10)
    scheduled_for: Timestamp | None = None
    completed_at: Timestamp | None = None


class ActivityLog(ActivityFields):
    """``POST /activities/log-<type>``: about a lead (``leadId``) or an opportunity
    (``opportunityId``)."""

    lead_id: Id | None = None
    opportunity_id: Id | None = None


class ActivityCreate(ActivityLog):
    type: ActivityType


class ActivityUpdate(ActivityFields):
    """Only the attributes sent change; ``completedAt`` completes a planned activity."""


# Output (documentation) -----------------------------------------------------------------

class Out(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class AgentOut(Out):
    id: str
    name: str
    email: str
    role: str
    active: bool


class LeadOut(Out):
    id: str
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    company: str | None
    job_title: str | None
    source: str | None
    status: LeadStatus
    score: int
    temperature: Literal["HOT", "WARM", "COLD"]
    notes: str | None
    tags: list[str]
    assigned_to_id: str | None
    last_contacted_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ActivityOut(Out):
    id: str
    type: str
    lead_id: str | None
    opportunity_id: str | None = None
    description: str | None
    state: Literal["SCHEDULED", "COMPLETED"] = Field(
        description="Planned (until completedAt) or done; an email's own status is "
                    "``status``")
    scheduled_for: datetime | None
    completed_at: datetime | None
    occurred_at: datetime
    created_by_id: str | None
    created_at: datetime
    updated_at: datetime
    # The type's attributes in the document's names (duration, outcome, subject...).
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True,
                              extra="allow")


class LeadDetail(LeadOut):
    activities: list[ActivityOut]
    assigned_to: AgentOut | None


class LeadPage(Out):
    data: list[LeadOut]
    total: int
    page: int
    limit: int
    total_pages: int


class Message(Out):
    message: str


def dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True)
