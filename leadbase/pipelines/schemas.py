"""Request and response bodies for pipelines, stages, stage moves, boards and metrics."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field

from leadbase.kit.schemas import Page, ReadModel, WriteModel
from leadbase.leads.schemas import LeadRead

PipelineKind = Literal["lead", "deal"]
StageCategory = Literal["open", "won", "lost"]
# A stage's stable code: a lowercase slug.
StageCode = Annotated[str, Field(min_length=1, max_length=64,
                                 pattern=r"^[a-z0-9]+(?:[_-][a-z0-9]+)*$")]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Probability = Annotated[int, Field(ge=0, le=100)]
RotDays = Annotated[int, Field(ge=1, le=3650)]
MAX_STAGES = 50


class StageCreate(WriteModel):
    name: Name
    code: StageCode | None = Field(default=None, description="Stable code; made from the "
                                                             "name when absent")
    probability: Probability = 0
    category: StageCategory = "open"
    rot_days: RotDays | None = None
    position: int | None = Field(default=None, ge=0, le=MAX_STAGES,
                                 description="Where to insert it (default: last)")


class StageUpdate(WriteModel):
    name: Name | None = None
    code: StageCode | None = Field(default=None, description="Changes only while no lead "
                                                             "is or was in the stage")
    probability: Probability | None = None
    category: StageCategory | None = None
    rot_days: RotDays | None = None


class StageRead(ReadModel):
    id: uuid.UUID
    pipeline_id: uuid.UUID
    name: str
    code: str
    position: int
    probability: int
    category: str
    rot_days: int | None
    created_at: datetime
    updated_at: datetime
    version: int


class PipelineCreate(WriteModel):
    name: Name
    kind: PipelineKind = "lead"
    description: str | None = Field(default=None, max_length=2000)
    is_default: bool = False
    position: int | None = Field(default=None, ge=0, le=10_000)
    stages: list[StageCreate] = Field(min_length=1, max_length=MAX_STAGES)


class PipelineUpdate(WriteModel):
    name: Name | None = None
    description: str | None = Field(default=None, max_length=2000)
    is_default: Literal[True] | None = Field(
        default=None, description="true makes it its kind's default (the previous one "
                                  "stops being one)")
    position: int | None = Field(default=None, ge=0, le=10_000)


class PipelineRead(ReadModel):
    id: uuid.UUID
    number: int
    name: str
    kind: str
    description: str | None
    is_default: bool
    position: int
    stages: list[StageRead]
    created_at: datetime
    updated_at: datetime
    version: int


class PipelinePage(Page[PipelineRead]):
    pass


class StageReorder(WriteModel):
    stage_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_STAGES,
                                       description="Every live stage of the pipeline, in "
                                                   "their new order")


class StageMove(WriteModel):
    stage: str = Field(min_length=1, max_length=64, description="Stage id or code")
    reason: str | None = Field(default=None, max_length=1000)
    pipeline_id: uuid.UUID | None = Field(
        default=None, description="Look the code up in this lead pipeline (moves the lead "
                                  "to it); default: the lead's pipeline")


class StageChangeRead(ReadModel):
    id: uuid.UUID
    lead_id: uuid.UUID
    pipeline_id: uuid.UUID
    from_stage_id: uuid.UUID | None
    from_stage: str | None
    to_stage_id: uuid.UUID
    to_stage: str | None
    changed_at: datetime
    actor_user_id: uuid.UUID | None
    reason: str | None
    seconds_in_previous: int | None


class StageMoveRead(ReadModel):
    lead: LeadRead
    change: StageChangeRead | None = Field(description="None when the lead was already in "
                                                       "the stage (nothing changed)")


class StageChangePage(Page[StageChangeRead]):
    pass


class BoardLeads(ReadModel):
    data: list[LeadRead]
    next_cursor: str | None


class BoardColumn(ReadModel):
    stage: StageRead
    count: int
    leads: BoardLeads


class BoardRead(ReadModel):
    pipeline_id: uuid.UUID
    stages: list[BoardColumn]


class StageMetrics(ReadModel):
    stage: StageRead
    leads: int = Field(description="Live leads in the stage now (yours, for an agent)")
    entered: int
    exited: int
    avg_seconds_in_stage: float | None
    median_seconds_in_stage: float | None
    median_is_estimate: bool
    converted: int = Field(description="Of the leads that entered in the period, how many "
                                       "later reached a stage further on")
    conversion: float | None


class MetricsRead(ReadModel):
    pipeline_id: uuid.UUID
    period_from: date
    period_to: date
    stages: list[StageMetrics]
