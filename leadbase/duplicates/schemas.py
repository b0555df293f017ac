"""Bodies of the duplicates API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_validator

from leadbase.kit.schemas import Page, ReadModel, WriteModel
from leadbase.leads.schemas import LeadRead

Reason = Literal["same_email", "same_phone", "similar_name", "similar_company",
                 "same_domain_last_name"]
MAX_OTHERS = 10

# Lead columns a merge may take from any of the merged leads (``keep``).
MERGEABLE = ("first_name", "last_name", "email", "phone", "company", "job_title", "source",
             "status", "owner_id", "notes", "timezone", "country", "consent")


class ReasonRead(ReadModel):
    code: Reason
    similarity: float | None = None


class LeadBrief(ReadModel):
    id: uuid.UUID
    number: int
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    company: str | None
    owner_id: uuid.UUID | None
    created_at: datetime


class CandidateRead(ReadModel):
    lead: LeadBrief
    score: int = Field(ge=0, le=100)
    reasons: list[ReasonRead]


class CandidateList(ReadModel):
    lead_id: uuid.UUID
    data: list[CandidateRead]


class GroupRead(ReadModel):
    id: uuid.UUID
    score: int
    reasons: list[Reason]
    size: int
    leads: list[LeadBrief]


class GroupPage(Page[GroupRead]):
    scan_id: uuid.UUID | None = None


class ScanRead(ReadModel):
    id: uuid.UUID
    number: int
    status: str
    total: int | None
    processed: int
    leads: int | None
    groups: int
    result: dict[str, Any]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None


class ScanPage(Page[ScanRead]):
    pass


class MergeIn(WriteModel):
    other_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_OTHERS,
                                       description="The leads merged into this one (≤ 10).")
    keep: dict[str, uuid.UUID] = Field(
        default_factory=dict,
        description="Per field, the lead whose value the survivor takes (a lead column of "
                    f"{', '.join(MERGEABLE)}, or ``fields.<code>``). Unnamed fields keep "
                    "the survivor's value, else the first non-empty one in other_ids order.")

    @field_validator("other_ids")
    @classmethod
    def _unique(cls, value: list[uuid.UUID]) -> list[uuid.UUID]:
        if len(set(value)) != len(value):
            raise ValueError("other_ids holds an id twice")
        return value


class UnmergeIn(WriteModel):
    lead_ids: list[uuid.UUID] | None = Field(
        default=None, max_length=100,
        description="The merged leads to restore (default: every lead merged into this one "
                    "within the window).")


class MergeRead(ReadModel):
    id: uuid.UUID
    number: int
    survivor_id: uuid.UUID
    merged_ids: list[uuid.UUID]
    unmerged_ids: list[uuid.UUID]
    status: str
    moved: dict[str, int]
    created_at: datetime
    expires_at: datetime
    unmerged_at: datetime | None


class MergeResult(ReadModel):
    lead: LeadRead
    merge: MergeRead
