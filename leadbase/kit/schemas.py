"""Base classes for request and response bodies."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class WriteModel(BaseModel):
    """Request bodies: unknown fields are refused, so ``tenant_id``, ``id`` and friends
    can never be mass-assigned."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    data: list[T]
    total: int | None
    total_is_estimate: bool = False
    page: int | None
    per_page: int
    next_cursor: str | None
