"""The rule language's request and response bodies."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from leadbase.kit.schemas import WriteModel

CONDITION_DOC = (
    "A condition tree: {\"all\": [...]}, {\"any\": [...]}, {\"not\": {...}} or a predicate "
    "{\"field\": \"source\", \"op\": \"eq\", \"value\": \"website\"}. See GET /rules/fields "
    "for the fields and their operators.")
EXAMPLE = {"all": [{"field": "source", "op": "in", "value": ["website", "ads"]},
                   {"field": "score", "op": "gte", "value": 50},
                   {"not": {"field": "tags", "op": "contains", "value": "customer"}},
                   {"field": "activities.call", "op": "eq", "value": 0, "within_days": 30}]}


class RuleCheck(WriteModel):
    condition: dict[str, Any] = Field(description=CONDITION_DOC, examples=[EXAMPLE])


class RuleChecked(BaseModel):
    condition: dict[str, Any] = Field(description="The rule as it is stored")
    description: str = Field(description="The rule in words")
    count: int = Field(description="Matching leads you can read (capped)")
    count_is_capped: bool = Field(description="True when there are at least `count`")


class RuleField(BaseModel):
    field: str
    label: str
    kind: str = Field(description="string, enum, uuid, int, number, datetime, date, bool, "
                                  "tags, count or days")
    ops: list[str]
    choices: list[str] | None = None
    takes_within_days: bool = False


class RuleFields(BaseModel):
    data: list[RuleField]
