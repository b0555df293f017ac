"""Request and response bodies for leads."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, computed_field, field_validator

from leadbase.kit.schemas import JSONObject, Page, ReadModel, WriteModel
from leadbase.leads.rules import LIMITS, MAX_TAG, MAX_TAGS, clean_tags

LeadStatus = Literal["new", "contacted", "qualified", "unqualified", "converted", "lost"]
Tag = Annotated[str, Field(min_length=1, max_length=MAX_TAG)]


def _clean_tags(value: list[str] | None) -> list[str] | None:
    return None if value is None else clean_tags(value)


class _LeadFields(WriteModel):
    first_name: str | None = Field(default=None, max_length=LIMITS["first_name"])
    last_name: str | None = Field(default=None, max_length=LIMITS["last_name"])
    email: str | None = Field(default=None, max_length=LIMITS["email"])
    phone: str | None = Field(default=None, max_length=LIMITS["phone"])
    company: str | None = Field(default=None, max_length=LIMITS["company"])
    job_title: str | None = Field(default=None, max_length=LIMITS["job_title"])
    source: str | None = Field(default=None, max_length=LIMITS["source"])
    notes: str | None = Field(default=None, max_length=LIMITS["notes"])
    fields: JSONObject | None = None
    metadata: JSONObject | None = None
    owner_id: uuid.UUID | None = None
    list_id: uuid.UUID | None = None
    do_not_contact: bool | None = None
    consent: bool | None = None

    @field_validator("first_name", "last_name", "email", "phone", "company", "job_title",
                     "source", "notes")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None


class LeadCreate(_LeadFields):
    status: LeadStatus = "new"
    stage: str | None = Field(default=None, min_length=1, max_length=64,
                              description="Stage id or code (default: the first stage of "
                                          "pipeline_id, or of the default lead pipeline)")
    pipeline_id: uuid.UUID | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)

    _tags = field_validator("tags")(_clean_tags)


class LeadUpdate(_LeadFields):
    status: LeadStatus | None = None
    tags: list[Tag] | None = Field(default=None, max_length=MAX_TAGS)

    _tags = field_validator("tags")(_clean_tags)


class LeadRead(ReadModel):
    id: uuid.UUID
    number: int
    list_id: uuid.UUID
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    company: str | None
    job_title: str | None
    source: str | None
    status: str
    score: int
    temperature: str
    owner_id: uuid.UUID | None
    tags: list[str]
    notes: str | None
    fields: dict[str, Any]
    metadata: dict[str, Any]
    do_not_contact: bool
    consent: bool
    timezone: str | None
    country: str | None
    last_contacted_at: datetime | None
    pipeline_id: uuid.UUID | None
    stage_id: uuid.UUID | None
    stage: str | None = Field(description="The stage's code")
    stage_entered_at: datetime | None
    last_activity_at: datetime | None
    qualified_at: datetime | None = None
    unqualified_reason: str | None = Field(default=None,
                                           description="The reason of the last unqualify")
    customer_id: uuid.UUID | None = Field(default=None,
                                          description="The customer it was converted into")
    converted_at: datetime | None = None
    converted_opportunity_id: uuid.UUID | None = Field(
        default=None, description="The opportunity its conversion created")
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    version: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def full_name(self) -> str | None:
        name = " ".join(p for p in (self.first_name, self.last_name) if p)
        return name or None


class LeadPage(Page[LeadRead]):
    pass


OnDuplicate = Literal["error", "allow", "update"]
