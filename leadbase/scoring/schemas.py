"""Request and response bodies for scoring."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from leadbase.kit.schemas import Page, ReadModel, WriteModel

MAX_RULES = 100
DEFAULT_HOT, DEFAULT_WARM = 70, 40


class RuleIn(WriteModel):
    name: str = Field(min_length=1, max_length=120)
    condition: dict[str, Any] = Field(description="A condition of the rule language")
    points: int = Field(ge=-100, le=100, description="Added when the condition holds "
                                                     "(negative: taken away); not 0")


class DecayIn(WriteModel):
    """Decay with inactivity, counted in whole days since the lead's last activity (its
    creation when it has none)."""

    mode: Literal["half_life", "per_day"]
    half_life_days: int | None = Field(default=None, ge=1, le=3650,
                                       description="mode half_life: the score halves every "
                                                   "so many idle days")
    points_per_day: float | None = Field(default=None, gt=0, le=100,
                                         description="mode per_day: points lost per idle day")

    @model_validator(mode="after")
    def _one_setting(self) -> DecayIn:
        if self.mode == "half_life" and (self.half_life_days is None
                                         or self.points_per_day is not None):
            raise ValueError("mode half_life takes half_life_days (and no points_per_day)")
        if self.mode == "per_day" and (self.points_per_day is None
                                       or self.half_life_days is not None):
            raise ValueError("mode per_day takes points_per_day (and no half_life_days)")
        return self


class Thresholds(WriteModel):
    hot: int = Field(default=DEFAULT_HOT, ge=1, le=100, description="hot at or above")
    warm: int = Field(default=DEFAULT_WARM, ge=1, le=100,
                      description="warm at or above (below hot); cold below")


class ModelIn(WriteModel):
    """A scoring model (the whole of it: a PUT replaces the model with a new version)."""

    rules: list[RuleIn] = Field(default_factory=list, max_length=MAX_RULES)
    decay: DecayIn | None = None
    thresholds: Thresholds = Field(default_factory=Thresholds)


class RuleRead(ReadModel):
    name: str
    condition: dict[str, Any]
    points: int
    description: str | None = Field(default=None, description="The condition in words")


class ModelRead(ReadModel):
    version: int = Field(description="0: no model saved yet")
    rules: list[RuleRead]
    decay: dict[str, Any] | None
    thresholds: Thresholds
    broken_rules: list[dict[str, Any]] = Field(
        default_factory=list, description="Stored rules that no longer check (a field "
                                          "deleted since): left out of scores")
    created_at: datetime | None
    created_by: uuid.UUID | None


class ModelPage(Page[ModelRead]):
    pass


class BreakdownItem(ReadModel):
    kind: str = Field(description="rule, cap or decay")
    rule: str | None
    points: int
    why: str


class ScoreRead(ReadModel):
    lead_id: uuid.UUID
    score: int
    temperature: str
    breakdown: dict[str, Any] = Field(description="model_version, computed_at, points (the "
                                                  "rules' sum), items, score, temperature")
    predicted_conversion: float | None = None
    prediction: dict[str, Any] | None = Field(
        default=None, description="predictor_version, factors, computed_at")


class JobRead(ReadModel):
    id: uuid.UUID
    number: int
    kind: str
    status: str
    model_version: int | None
    predictor_version: int | None
    total: int | None
    processed: int
    changed: int
    temperature_changed: int
    result: dict[str, Any]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None


class JobPage(Page[JobRead]):
    pass


class PreviewRead(ReadModel):
    leads: int
    histogram: list[dict[str, Any]] = Field(description="[{from, to, leads}] in steps of 10")
    temperatures: dict[str, int]
    current_temperatures: dict[str, int]
    temperature_changes: int
    score_changes: int
    average_score: float | None
    sample: list[dict[str, Any]] = Field(description="Up to 20 leads that would change "
                                                     "temperature, the largest moves first")


class TrainIn(WriteModel):
    accept: bool = Field(default=False, description="Accept the model at once if trained "
                                                    "(otherwise POST .../accept later)")
    holdout: Annotated[float, Field(ge=0.1, le=0.5)] = 0.25


class PredictorRead(ReadModel):
    id: uuid.UUID
    version: int
    status: str
    auc: float | None
    metrics: dict[str, Any]
    factors: list[dict[str, Any]]
    features: int = Field(description="How many features the model weighs")
    created_at: datetime
    accepted_at: datetime | None


class PredictorPage(Page[PredictorRead]):
    pass


class TrainResult(ReadModel):
    predictor: PredictorRead | None
    job: JobRead | None
