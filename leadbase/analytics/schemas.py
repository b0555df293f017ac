"""Response bodies of the analytics endpoints: series per period, shaped for charts (one
``periods`` axis and one ``counts`` list per series, in the same order)."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import Field

from leadbase.kit.schemas import ReadModel
from leadbase.opportunities.schemas import MoneyOut


class Series(ReadModel):
    key: str | None = Field(description="The source / activity type / figure (null: none "
                                        "given; 'other': the smaller ones summed)")
    total: int
    counts: list[int] = Field(description="One count per period, in the order of periods")


class TimeSeries(ReadModel):
    bucket: str = Field(description="day, week (starting Monday) or month")
    start: date = Field(alias="from", description="First day (inclusive, workspace time zone)")
    end: date = Field(alias="to", description="Last day (inclusive)")
    timezone: str
    periods: list[date] = Field(description="The first day of each period")
    series: list[Series]
    total: int


class StatusCount(ReadModel):
    status: str
    count: int


class Funnel(ReadModel):
    """Leads created in [from, to] by their status now. ``steps``: how many reached each
    step of new → contacted → qualified → converted (a lead counts in every step up to its
    status); ``exits``: unqualified and lost, apart."""

    start: date = Field(alias="from")
    end: date = Field(alias="to")
    timezone: str
    total: int
    statuses: list[StatusCount]
    steps: list[StatusCount]
    exits: list[StatusCount]


class StageValue(ReadModel):
    id: uuid.UUID
    code: str
    name: str
    category: str
    count: int
    value: MoneyOut
    weighted_value: MoneyOut


class PipelineValue(ReadModel):
    """Open and closed opportunities per stage of a deal pipeline, in stage order; values
    in ``currency`` only (other currencies are counted, not converted)."""

    pipeline_id: uuid.UUID
    pipeline_name: str
    currency: str
    stages: list[StageValue]
    count: int
    value: MoneyOut
    weighted_value: MoneyOut


class LeadFigures(ReadModel):
    by_source: TimeSeries
    funnel: Funnel


class Dashboard(ReadModel):
    """Everything the console's dashboard draws, in one answer. ``imports`` is null for
    roles below manager (imports are theirs); ``pipeline`` null without a deal pipeline."""

    leads: LeadFigures
    pipeline: PipelineValue | None
    imports: TimeSeries | None
    activities: TimeSeries
