"""Response bodies of the opportunity views: the pipeline view, stale opportunities, the
forecast and the probability from history. Money is a decimal string (``"50000.00"``)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import Field

from leadbase.kit.schemas import Page, ReadModel, WriteModel
from leadbase.opportunities.schemas import MoneyOut, OpportunityRead


class CurrencySum(ReadModel):
    currency: str
    count: int
    value: MoneyOut
    weighted_value: MoneyOut


class Sums(ReadModel):
    """``count`` counts every currency; ``value`` and ``weighted_value`` are in the view's
    ``currency`` only (no conversion); ``by_currency`` has every currency's sums."""

    count: int
    value: MoneyOut
    weighted_value: MoneyOut
    by_currency: list[CurrencySum]


class OpportunityRows(ReadModel):
    data: list[OpportunityRead]
    next_cursor: str | None


class ViewStage(ReadModel):
    id: uuid.UUID
    code: str
    name: str
    position: int
    probability: int
    category: str


class PipelineStageColumn(Sums):
    stage: ViewStage
    opportunities: OpportunityRows


class ViewPipeline(ReadModel):
    id: uuid.UUID
    name: str


class PipelineViewRead(ReadModel):
    pipeline: ViewPipeline
    currency: str = Field(description="The currency of every value and weighted_value")
    owner_id: uuid.UUID | None
    stages: list[PipelineStageColumn]
    totals: Sums


class StaleOpportunity(OpportunityRead):
    touched_at: datetime = Field(description="Its last activity, or its entry into its "
                                             "stage if later")
    idle_days: int


class StalePage(Page[StaleOpportunity]):
    days: int


class ForecastPeriod(Sums):
    month: str = Field(description="YYYY-MM, or 'overdue'")
    start: date | None = Field(description="First day (none for overdue)")
    end: date = Field(description="Last day (for overdue: the day before the forecast)")
    opportunities: OpportunityRows


class ForecastRead(ReadModel):
    currency: str
    timezone: str
    months: int
    start: date
    end: date
    owner_id: uuid.UUID | None
    pipeline_id: uuid.UUID | None
    periods: list[ForecastPeriod]
    totals: Sums = Field(description="The months of the forecast (overdue not included)")
    overdue: ForecastPeriod = Field(description="Open, expected to close before the "
                                                "current month")
    undated: Sums = Field(description="Open, without an expected close date")


class ProbabilityRequest(WriteModel):
    store: bool = Field(default=False, description="Save it as the opportunity's "
                                                   "probability (audited, version bumped)")


class ProbabilityRead(ReadModel):
    opportunity_id: uuid.UUID
    stage_id: uuid.UUID
    stage: str
    probability: int
    method: str = Field(description="'history', or 'stage_default' below min_sample")
    sample_size: int
    won: int
    lost: int
    stage_default: int
    min_sample: int
    stored: bool
    opportunity: OpportunityRead | None = Field(
        default=None, description="The opportunity after storing (when store)")
