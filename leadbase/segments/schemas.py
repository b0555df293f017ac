"""Request and response bodies for segments."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from leadbase.kit.pagination import MAX_PER_PAGE
from leadbase.kit.schemas import Page, ReadModel, WriteModel
from leadbase.leads.schemas import LeadRead

SegmentKind = Literal["dynamic", "static"]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Description = Annotated[str | None, Field(default=None, max_length=2000)]
# A condition of the rule language (checked by leadbase.rules.parse when saved).
Condition = Annotated[dict[str, Any], Field(
    description='A rule: {"all": [...]}, {"any": [...]}, {"not": {...}} or '
                '{"field": "source", "op": "eq", "value": "website"}',
    examples=[{"all": [{"field": "status", "op": "in", "value": ["new", "contacted"]},
                       {"field": "score", "op": "gte", "value": 50}]}])]
MAX_LEAD_IDS = 1000
LeadIds = Annotated[list[uuid.UUID], Field(min_length=1, max_length=MAX_LEAD_IDS)]


class SegmentCreate(WriteModel):
    name: Name
    description: Description = None
    kind: SegmentKind = "dynamic"
    condition: Condition | None = Field(default=None, description="Required for a dynamic "
                                                                  "segment, refused for a "
                                                                  "static one")
    lead_ids: list[uuid.UUID] | None = Field(
        default=None, max_length=MAX_LEAD_IDS,
        description="A static segment's first members (live leads of the workspace)")


class SegmentUpdate(WriteModel):
    """The kind of a segment stays as created."""

    name: Name | None = None
    description: Description = None
    condition: Condition | None = Field(default=None, description="Dynamic segments only")


class RuleProblem(ReadModel):
    field: str
    message: str


class SegmentRead(ReadModel):
    id: uuid.UUID
    number: int
    name: str
    description: str | None
    kind: str
    condition: dict[str, Any] | None
    summary: str | None = Field(description="The condition in words")
    problems: list[RuleProblem] | None = Field(
        description="Why the saved condition no longer holds in this workspace (a field, "
                    "stage or list it names was removed); null when it does")
    created_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    version: int


class SegmentPage(Page[SegmentRead]):
    pass


class SegmentCount(ReadModel):
    segment_id: uuid.UUID
    count: int
    is_estimate: bool = Field(description="true: the planner's estimate (EXPLAIN), not a "
                                          "count of the rows")
    method: Literal["exact", "capped", "planner"] = Field(
        description="exact: counted (exact=true); capped: counted because the planner "
                    "expected at most the cap; planner: the planner's estimate, for a "
                    "large segment")
    cap: int | None = Field(description="Beyond this many an estimate is answered "
                                        "(exact=false)")


class MembersChange(WriteModel):
    lead_ids: LeadIds


class MembersChanged(ReadModel):
    segment_id: uuid.UUID
    added: int = 0
    removed: int = 0
    unchanged: int = Field(description="Already members (add) or not members (remove)")


class SegmentPreview(WriteModel):
    """A draft condition: its count and first page of leads, nothing written."""

    condition: Condition
    per_page: int = Field(default=25, ge=1, le=MAX_PER_PAGE)
    sort: str | None = Field(default=None, max_length=200)
    exact: bool = False


class SegmentPreviewRead(ReadModel):
    condition: dict[str, Any]
    summary: str
    count: int
    is_estimate: bool
    method: str
    data: list[LeadRead]
    has_more: bool
