"""Request and response bodies for auto-advance rules and evaluations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from leadbase.kit.schemas import Page, ReadModel, WriteModel
from leadbase.leads.schemas import LeadRead
from leadbase.pipelines.schemas import StageChangeRead

MAX_RULES_PER_STAGE = 20
Name = Annotated[str, Field(min_length=1, max_length=200)]
Condition = Annotated[dict[str, Any], Field(
    description="A rule of the rule language, e.g. "
                '{"all": [{"field": "activities.call", "op": "gte", "value": 1, '
                '"within_days": 7}]}')]
TargetStage = Annotated[str, Field(min_length=1, max_length=64,
                                   description="Id or code of another stage of the same "
                                               "pipeline")]


class AdvanceRuleCreate(WriteModel):
    name: Name
    condition: Condition
    target_stage: TargetStage
    position: int | None = Field(default=None, ge=0, le=MAX_RULES_PER_STAGE,
                                 description="Place among the stage's rules, 0 first "
                                             "(default: last)")
    enabled: bool = True


class AdvanceRuleUpdate(WriteModel):
    name: Name | None = None
    condition: Condition | None = None
    target_stage: TargetStage | None = None
    position: int | None = Field(default=None, ge=0, le=MAX_RULES_PER_STAGE)
    enabled: bool | None = None


class RuleProblem(ReadModel):
    field: str
    message: str


class AdvanceRuleRead(ReadModel):
    id: uuid.UUID
    number: int
    pipeline_id: uuid.UUID
    stage_id: uuid.UUID
    target_stage_id: uuid.UUID
    target_stage: str | None = Field(description="The target stage's code")
    name: str
    condition: dict[str, Any]
    summary: str | None = Field(description="The condition in words")
    problems: list[RuleProblem] | None = Field(
        description="Why the saved condition no longer holds (something it names was "
                    "removed); such a rule never fires")
    position: int
    enabled: bool
    created_at: datetime
    updated_at: datetime
    version: int


class AdvanceRulePage(Page[AdvanceRuleRead]):
    pass


Outcome = Literal["fired", "would_fire", "not_matched", "shadowed", "disabled", "invalid",
                  "target_missing"]


class RuleVerdict(ReadModel):
    rule_id: uuid.UUID
    name: str
    position: int
    target_stage_id: uuid.UUID
    target_stage: str | None
    outcome: Outcome = Field(description="fired / would_fire: the first rule that matched; "
                                         "shadowed: matched, but an earlier rule fires; "
                                         "not_matched; disabled; invalid (its condition no "
                                         "longer parses); target_missing (the target stage "
                                         "was deleted)")
    reason: str = Field(description="Why, in words")
    unmet: list[str] = Field(default_factory=list,
                             description="For not_matched: the parts of the condition the "
                                         "lead does not meet")


class AutoAdvanceRead(ReadModel):
    lead_id: uuid.UUID
    dry_run: bool
    stage_id: uuid.UUID | None = Field(description="The stage the rules were read from")
    stage: str | None
    fired: RuleVerdict | None = Field(description="The rule that fires (or would)")
    moved: bool
    rules: list[RuleVerdict]
    lead: LeadRead
    change: StageChangeRead | None
