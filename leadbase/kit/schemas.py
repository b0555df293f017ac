"""Base classes for request and response bodies."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

import orjson
from pydantic import AfterValidator, BaseModel, ConfigDict

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

# The free JSON objects of a record (a lead's ``metadata`` and ``fields``), as JSON text.
MAX_JSON_OBJECT_BYTES = 64 * 1024


def json_size_error(value: Any) -> str | None:
    """Why ``value`` is too large to keep as one free JSON object, or None."""
    try:
        size = len(orjson.dumps(value))
    except (orjson.JSONEncodeError, TypeError):  # integers beyond 64 bits
        size = len(json.dumps(value, default=str).encode())
    if size > MAX_JSON_OBJECT_BYTES:
        return f"is larger than {MAX_JSON_OBJECT_BYTES // 1024} KiB as JSON ({size:,} bytes)"
    return None


def _bounded(value: dict[str, Any]) -> dict[str, Any]:
    problem = json_size_error(value)
    if problem:
        raise ValueError(problem)
    return value


# A free JSON object in a request body, at most MAX_JSON_OBJECT_BYTES.
JSONObject = Annotated[dict[str, Any], AfterValidator(_bounded)]


def _utc(value: datetime) -> datetime:
    """In UTC (no offset given: UTC). PostgreSQL refuses offsets beyond 15:59, which
    Python accepts, and a moment that is no longer in years 1-9999 once in UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("is out of range (years 1 to 9999 in UTC)") from exc


# A moment given as input (query parameter or body), normalised to UTC.
Timestamp = Annotated[datetime, AfterValidator(_utc)]


class WriteModel(BaseModel):
    """Request bodies: unknown fields are refused, so ``tenant_id``, ``id`` and friends
    can never be mass-assigned."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def from_row(model: type[M], row: Mapping[str, Any]) -> M:
    """``model`` (a read model) holding a row the database returned, without validating it
    again: the row's columns have the model's types already, so validation would only cost
    (a 25-lead page validated 25 x 28 values per request). A row lacking one of the
    model's fields (a read model that grew a field its query does not select yet) is
    validated, so that the error says which."""
    plan = _plan(model)
    if not plan.names <= row.keys():
        return model.model_validate(row)
    if not plan.plain:
        return model.model_construct(**row)
    # What ``model_construct`` does for a model with no aliases, private attributes,
    # post-init or extras, every field given: the same instance, without its Python loop
    # over the fields (37 iterations per lead of a list page).
    made = model.__new__(model)
    _setattr(made, "__dict__", {name: row[name] for name in plan.order})
    _setattr(made, "__pydantic_fields_set__", set(plan.names))
    _setattr(made, "__pydantic_extra__", None)
    _setattr(made, "__pydantic_private__", None)
    return made


_setattr = object.__setattr__


class _Plan:
    __slots__ = ("names", "order", "plain")

    def __init__(self, model: type[BaseModel]) -> None:
        fields = model.model_fields
        self.order = tuple(fields)
        self.names = frozenset(fields)
        self.plain = (
            not model.__pydantic_root_model__
            and not model.__private_attributes__
            and not model.__pydantic_post_init__
            and model.model_config.get("extra") != "allow"
            and all(f.alias is None and f.validation_alias is None for f in fields.values()))


def _plan(model: type[BaseModel]) -> _Plan:
    plan = _PLANS.get(model)
    if plan is None:
        plan = _PLANS[model] = _Plan(model)
    return plan


_PLANS: dict[type[BaseModel], _Plan] = {}


class Page(BaseModel, Generic[T]):
    data: list[T]
    total: int | None
    total_is_estimate: bool = False
    page: int | None
    per_page: int
    next_cursor: str | None
