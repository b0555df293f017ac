"""Checking rules when they are saved: shapes, fields, operators and values, every problem
by its path; the stored form and the words."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from leadbase.kit.errors import ValidationFailed
from leadbase.rules import Catalog, describe, parse
from leadbase.rules.catalog import add_custom

STAGE = uuid.uuid4()
OTHER_STAGE = uuid.uuid4()


def catalog() -> Catalog:
    c = Catalog(stage_codes={"qualified": frozenset({STAGE, OTHER_STAGE})},
                ids={"stage": frozenset({STAGE, OTHER_STAGE}), "user": frozenset()})
    for code, kind in (("Edad", "INT"), ("Alta", "DATE"), ("Plan", "SELECTOR")):
        add_custom(c, {"code": code, "name": code, "type": kind, "subtype": None,
                       "code_list_id": None})
    add_custom(c, {"code": "Dual", "name": "Dual", "type": "INT", "subtype": None,
                   "code_list_id": None})
    add_custom(c, {"code": "dual", "name": "dual", "type": "DATE", "subtype": None,
                   "code_list_id": None})
    return c


def errors(condition: Any) -> list[dict[str, str]]:
    with pytest.raises(ValidationFailed) as info:
        parse(condition, catalog())
    assert info.value.code == "INVALID_RULE"
    assert info.value.status == 422
    return info.value.errors or []


def paths(condition: Any) -> list[str]:
    return [e["field"] for e in errors(condition)]


def test_every_problem_is_named_by_its_path() -> None:
    bad = {"all": [
        {"field": "source", "op": "eq", "value": "web"},
        {"field": "score", "op": "gte", "value": "high"},
        {"any": [{"field": "nope", "op": "eq", "value": 1},
                 {"field": "tags", "op": "gt", "value": "vip"}]},
        {"not": {"field": "fields.Edad", "op": "between", "value": [30, 20]}},
    ]}
    assert paths(bad) == ["condition.all[1].value", "condition.all[2].any[0].field",
                          "condition.all[2].any[1].op", "condition.all[3].not.value"]


@pytest.mark.parametrize(("condition", "path", "words"), [
    ([], "condition", "must be an object"),
    ({"all": {}}, "condition.all", "list"),
    ({"all": [], "any": []}, "condition", "only key"),
    ({"field": "status", "op": "eq"}, "condition.value", "required"),
    ({"field": "status", "op": "eq", "value": "won"}, "condition.value", "one of"),
    ({"field": "status", "op": "like", "value": "new"}, "condition.op", "one of"),
    ({"field": "status", "op": "exists"}, "condition.op", "does not apply"),
    ({"field": "created_at", "op": "eq", "value": "2026-01-01"}, "condition.op", "does not"),
    ({"field": "created_at", "op": "gt", "value": "yesterday"}, "condition.value", "date"),
    ({"field": "last_activity_at", "op": "older_than_days", "value": -1}, "condition.value",
     "whole number"),
    ({"field": "score", "op": "gt", "value": True}, "condition.value", "whole number"),
    ({"field": "score", "op": "in", "value": []}, "condition.value", "non-empty"),
    ({"field": "owner", "op": "eq", "value": "bob"}, "condition.value", "UUID"),
    ({"field": "owner", "op": "eq", "value": str(uuid.uuid4())}, "condition.value",
     "no user of this workspace"),
    ({"field": "stage", "op": "eq", "value": "won"}, "condition.value", "no lead stage"),
    ({"field": "stage", "op": "eq", "value": str(uuid.uuid4())}, "condition.value",
     "no stage"),
    ({"field": "tags", "op": "contains", "value": []}, "condition.value", "at least one"),
    ({"field": "tags", "op": "contains", "value": [1]}, "condition.value[0]", "string"),
    ({"field": "source", "op": "starts_with", "value": ""}, "condition.value", "prefix"),
    ({"field": "source", "op": "eq", "value": "x" * 501}, "condition.value", "500"),
    ({"field": "source", "op": "exists", "value": "x"}, "condition.value", "takes no value"),
    ({"field": "activities.call", "op": "gte", "value": -1}, "condition.value", "zero"),
    ({"field": "activities.fax", "op": "gte", "value": 1}, "condition.field", "activity type"),
    ({"field": "activities.call", "op": "gte", "value": 1, "within_days": 0},
     "condition.within_days", "1 to"),
    ({"field": "score", "op": "gte", "value": 1, "within_days": 3}, "condition.within_days",
     "only activity counts"),
    ({"field": "tasks.late", "op": "gte", "value": 1}, "condition.field", "tasks.open"),
    ({"field": "fields.Nada", "op": "eq", "value": 1}, "condition.field", "not a custom"),
    ({"field": "fields.dual", "op": "eq", "value": 1}, "condition.field", "different types"),
    ({"field": "fields.Alta", "op": "gt", "value": "2026-13-01"}, "condition.value", "date"),
    ({"field": "fields.Edad", "op": "starts_with", "value": "4"}, "condition.op", "does not"),
    ({"field": "source", "op": "eq", "value": "web", "extra": 1}, "condition.extra",
     "unknown key"),
    ({"not": {"not": {"not": {"not": {"not": {"not": {"not": {"not": {"not": {"not": {
        "not": {"not": {"not": {"field": "score", "op": "gt", "value": 1}}}}}}}}}}}}}},
     "condition" + ".not" * 13, "nests"),
])
def test_bad_rules(condition: Any, path: str, words: str) -> None:
    found = errors(condition)
    assert found[0]["field"] == path, found
    assert words in found[0]["message"], found


def test_too_many_conditions() -> None:
    found = errors({"any": [{"field": "score", "op": "gt", "value": 1}] * 400})
    assert "at most 300" in found[0]["message"]


def test_values_are_normalised_and_stored_as_written() -> None:
    rule = parse({"all": [
        {"field": "owner_id", "op": "missing"},
        {"field": "email", "op": "eq", "value": "Ana@X.io"},
        {"field": "stage", "op": "eq", "value": "qualified"},
        {"field": "activities.call", "op": "eq", "value": 0, "within_days": 30},
    ]}, catalog())
    owner, email, stage, _calls = rule.predicates()
    assert owner.field.name == "owner"
    assert email.value == ("ana@x.io",)
    assert set(stage.value) == {STAGE, OTHER_STAGE} and stage.iop == "in"
    assert rule.needs == frozenset({("activities", "call", 30)})
    assert rule.to_json() == {"all": [
        {"field": "owner", "op": "missing"},
        {"field": "email", "op": "eq", "value": "Ana@X.io"},
        {"field": "stage", "op": "eq", "value": "qualified"},
        {"field": "activities.call", "op": "eq", "value": 0, "within_days": 30}]}
    assert parse(rule.to_json(), catalog()).to_json() == rule.to_json()


@pytest.mark.parametrize(("condition", "words"), [
    ({"field": "source", "op": "eq", "value": "website"}, "source is website"),
    ({"field": "last_activity_at", "op": "older_than_days", "value": 21},
     "no activity for 21 days"),
    ({"field": "activities.call", "op": "gte", "value": 2, "within_days": 30},
     "2 or more calls in the last 30 days"),
    ({"field": "activities.call", "op": "eq", "value": 0, "within_days": 7},
     "no calls in the last 7 days"),
    ({"field": "tags", "op": "contains", "value": ["vip"]}, "has tag vip"),
    ({"any": [{"field": "score", "op": "gte", "value": 80},
              {"not": {"field": "status", "op": "in", "value": ["lost", "converted"]}}]},
     "score at least 80 or not (status is one of lost, converted)"),
    ({"all": []}, "every lead"),
    ({"field": "fields.Alta", "op": "lt", "value": "2026-01-01"}, "Alta before 2026-01-01"),
])
def test_words(condition: dict[str, Any], words: str) -> None:
    assert describe(parse(condition, catalog())) == words
