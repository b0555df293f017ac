"""``kit.schemas.from_row`` builds the same read model ``model_construct`` builds (and
validates a row that lacks a field), for every read model of the application."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel, Field, ValidationError

import leadbase.app  # noqa: F401  (imports every domain's schemas)
from leadbase.kit.schemas import ReadModel, from_row
from leadbase.leads.schemas import LeadRead


def _subclasses(cls: type[BaseModel]) -> list[type[BaseModel]]:
    out: list[type[BaseModel]] = []
    for sub in cls.__subclasses__():
        if "[" not in sub.__name__:
            out.append(sub)
        out += _subclasses(sub)
    return out


def _row(model: type[BaseModel]) -> dict[str, Any]:
    row: dict[str, Any] = {name: f"v-{name}" for name in model.model_fields}
    row["not_a_field"] = "dropped"
    return row


def test_every_read_model_same_as_model_construct() -> None:
    models = _subclasses(ReadModel)
    assert len(models) > 30
    for model in models:
        row = _row(model)
        fast = from_row(model, dict(row))
        slow = model.model_construct(**dict(row))
        assert type(fast) is model
        assert fast.__dict__ == slow.__dict__, model
        assert fast.model_fields_set == slow.model_fields_set, model
        assert fast.__pydantic_extra__ == slow.__pydantic_extra__, model
        assert fast.__pydantic_private__ == slow.__pydantic_private__, model
        assert "not_a_field" not in fast.__dict__


def test_lead_json_unchanged() -> None:
    now = datetime(2026, 12, 7, 10, 0, 0, 123456, tzinfo=UTC)
    row: dict[str, Any] = {name: None for name in LeadRead.model_fields}
    row.update(id=uuid.uuid4(), number=7, list_id=uuid.uuid4(), status="new", score=3,
               temperature="cold", tags=["a"], fields={"budget": 5}, metadata={},
               do_not_contact=False, consent=True, first_name="Ana", last_name="Ruiz",
               created_at=now, updated_at=now, version=2)
    assert (from_row(LeadRead, row).model_dump_json()
            == LeadRead.model_construct(**row).model_dump_json())
    assert '"full_name":"Ana Ruiz"' in from_row(LeadRead, row).model_dump_json()


class _Aliased(ReadModel):
    amount: Decimal = Field(alias="value")


class _Private(ReadModel):
    name: str
    _seen: int = 0


def test_models_with_aliases_or_private_state_take_model_construct() -> None:
    aliased = from_row(_Aliased, {"value": Decimal("1.50"), "amount": Decimal("9")})
    assert aliased.amount == Decimal("1.50")
    private = from_row(_Private, {"name": "x"})
    assert private._seen == 0


def test_a_row_missing_a_field_is_validated() -> None:
    with pytest.raises(ValidationError):
        from_row(_Private, {})
