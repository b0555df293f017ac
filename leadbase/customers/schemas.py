"""Request and response bodies for customers and for qualifying and converting leads."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from leadbase.kit.schemas import JSONObject, Page, ReadModel, WriteModel
from leadbase.leads.schemas import LeadRead
from leadbase.opportunities.schemas import OpportunityRead

CustomerKind = Literal["company", "person"]
Name = Annotated[str, Field(min_length=1, max_length=300)]


class _CustomerFields(WriteModel):
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=64)
    website: str | None = Field(default=None, max_length=500)
    industry: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=2000)
    owner_id: uuid.UUID | None = None
    notes: str | None = Field(default=None, max_length=20_000)
    metadata: JSONObject | None = None

    @field_validator("email", "phone", "website", "industry", "address", "notes")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None


class CustomerCreate(_CustomerFields):
    kind: CustomerKind = "company"
    name: Name


class CustomerUpdate(_CustomerFields):
    kind: CustomerKind | None = None
    name: Name | None = None


class CustomerRead(ReadModel):
    id: uuid.UUID
    number: int
    kind: str
    name: str
    name_key: str = Field(description="The folded name conversion matches by")
    email: str | None
    email_domain: str | None = Field(description="The domain of the email (else of the "
                                                 "website) conversion matches by")
    phone: str | None
    website: str | None
    industry: str | None
    address: str | None
    owner_id: uuid.UUID | None
    notes: str | None
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    version: int


class CustomerPage(Page[CustomerRead]):
    pass


class TimelineEntry(ReadModel):
    id: uuid.UUID
    type: str
    lead_id: uuid.UUID | None
    opportunity_id: uuid.UUID | None
    description: str | None
    attributes: dict[str, Any]
    occurred_at: datetime
    scheduled_for: datetime | None
    completed_at: datetime | None
    author_id: uuid.UUID | None


class TimelinePage(ReadModel):
    data: list[TimelineEntry]
    per_page: int
    next_cursor: str | None


# --- qualification -------------------------------------------------------------------


class Unqualify(WriteModel):
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class ReasonCount(ReadModel):
    reason: str | None = Field(description="None: unqualified without a reason (a plain "
                                           "status change)")
    count: int


class UnqualifiedReasons(ReadModel):
    start: datetime = Field(serialization_alias="from")
    end: datetime = Field(serialization_alias="to")
    total: int
    reasons: list[ReasonCount]


# --- conversion ----------------------------------------------------------------------

LeadField = Literal["email", "phone", "company", "first_name", "last_name", "job_title",
                    "source", "owner_id", "name", "contact"]


class ConversionSettings(WriteModel):
    required_lead_fields: list[LeadField] = Field(
        default_factory=list, max_length=10,
        description="What a lead needs before it can be converted: a column, or 'name' "
                    "(first or last name) or 'contact' (email or phone)")
    require_qualified: bool = Field(default=False,
                                    description="Only qualified leads can be converted")

    @field_validator("required_lead_fields")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class ConversionSettingsUpdate(WriteModel):
    required_lead_fields: list[LeadField] | None = Field(default=None, max_length=10)
    require_qualified: bool | None = None


class Reason(ReadModel):
    code: str
    message: str
    field: str | None = None


class CanConvert(ReadModel):
    can_convert: bool
    reasons: list[Reason]


class ConvertOpportunity(WriteModel):
    name: Name | None = None
    value: Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2)] | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    expected_close_date: date | None = None
    stage: Annotated[str, Field(min_length=1, max_length=64,
                                description="Stage id or code of the default deal "
                                            "pipeline (default: its first)")] | None = None


class ConvertCustomer(_CustomerFields):
    """``{id}`` reuses a customer; ``{create: true, ...}`` makes a new one even when one
    matches; otherwise a new one is made from these values (or the lead's) unless an
    existing customer matches (409 ``CUSTOMER_MATCH_FOUND`` with the candidates)."""

    id: uuid.UUID | None = None
    create: bool = False
    kind: CustomerKind | None = None
    name: Name | None = None

    @model_validator(mode="after")
    def _id_alone(self) -> ConvertCustomer:
        if self.id is not None and (self.create or self.model_fields_set - {"id"}):
            raise ValueError("give either the id of an existing customer or the values "
                             "of a new one")
        return self


class ConvertRequest(WriteModel):
    create_opportunity: bool = False
    opportunity: ConvertOpportunity | None = None
    customer: ConvertCustomer = Field(default_factory=ConvertCustomer)
    notes: Annotated[str, Field(max_length=5000)] | None = None


class ConvertResult(ReadModel):
    lead: LeadRead
    customer: CustomerRead
    opportunity: OpportunityRead | None = Field(
        description="The opportunity the conversion created (none when not asked for)")
    customer_created: bool
    already_converted: bool = Field(description="True when the lead had been converted "
                                                "before: the first conversion's result")


class Candidate(ReadModel):
    id: uuid.UUID
    kind: str
    name: str
    email: str | None
    email_domain: str | None
    owner_id: uuid.UUID | None
    matched_on: list[str]
