"""One set of lead rules (leads.rules): a lead created through the API and a row of an
import are held to the same limits, identity and normalisation."""

from __future__ import annotations

from typing import Any

import pytest

from leadbase.fields.engine import CompiledSchema
from leadbase.imports import headers, rows
from leadbase.kit.errors import ValidationFailed
from leadbase.leads import rules
from leadbase.leads.schemas import LeadCreate

CASES: list[dict[str, str]] = [
    {"first_name": "Ana", "email": " Ana@Example.COM ", "phone": "415-555-2672"},
    {"email": "x@"},
    {"phone": "12"},
    {"company": "Only a company", "email": ""},
    {"first_name": "A" * (rules.LIMITS["first_name"] + 1)},
    {"last_name": "B", "notes": "n" * rules.LIMITS["notes"]},
    {"last_name": "C", "source": "s" * (rules.LIMITS["source"] + 1)},
]


def _service(values: dict[str, str]) -> dict[str, Any] | None:
    """What the leads service keeps of ``values`` (None: refused)."""
    try:
        body = LeadCreate.model_validate({k: v.strip() for k, v in values.items()})
        out = body.model_dump(exclude_unset=True)
        if not rules.has_identity(out):
            raise rules.identity_required()
        rules.normalise(out, region="US", timezone=None)
    except (ValidationFailed, ValueError):
        return None
    return out


def _import(values: dict[str, str]) -> dict[str, Any] | None:
    names = list(values)
    plan = headers.plan(names, fields=[])
    builder = rows.RowBuilder(rows.RowContext(
        headers=tuple(names), targets=tuple(plan.targets), schema=CompiledSchema(fields={}),
        region="US", timezone=None))
    row, valid = builder.build(2, list(values.values()))
    if not valid:
        return None
    staged = dict(zip(rows.STAGE_COLUMNS, row, strict=True))
    return {k: v for k, v in staged.items() if k in rules.LIMITS or (k in ("timezone",
                                                                         "country")
            and v is not None)}


@pytest.mark.parametrize("values", CASES)
def test_the_api_and_imports_agree(values: dict[str, str]) -> None:
    api, imported = _service(values), _import(values)
    assert (api is None) == (imported is None), (api, imported)
    if api is not None and imported is not None:
        assert {k: v for k, v in imported.items() if v is not None} == \
            {k: v for k, v in api.items() if v is not None}


def test_the_schemas_take_the_limits() -> None:
    for name, limit in rules.LIMITS.items():
        meta = LeadCreate.model_fields[name].metadata
        assert any(getattr(m, "max_length", None) == limit for m in meta), name
    assert rules.clean_tags([" a", "b", "a", " "]) == ["a", "b"]
    assert rules.tags_fit(["x"] * rules.MAX_TAGS) and not rules.tags_fit(
        ["x"] * (rules.MAX_TAGS + 1)) and not rules.tags_fit(["x" * (rules.MAX_TAG + 1)])
