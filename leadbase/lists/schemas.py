"""Request and response bodies for lead lists."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field, field_validator

from leadbase.kit.schemas import Page, ReadModel, WriteModel

DESCRIPTION_MAX = 2000


def refuse_null(value: object) -> object:
    """For PATCH bodies: a field may be left out, but not set to null when the column
    cannot be empty (``field_validator(..., mode="before")`` on those fields)."""
    if value is None:
        raise ValueError("may not be null; leave the field out to keep its value")
    return value


class ListCreate(WriteModel):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=DESCRIPTION_MAX)


class ListUpdate(WriteModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=DESCRIPTION_MAX)
    is_default: bool | None = Field(
        default=None,
        description="true makes this the workspace's default list (the previous default "
                    "stops being one); the default list cannot be un-defaulted directly.",
    )

    _not_null = field_validator("name", "is_default", mode="before")(refuse_null)


class ListRead(ReadModel):
    id: uuid.UUID
    number: int
    name: str
    description: str | None
    is_default: bool
    schema_version: int = Field(description="Bumped by every change to the list's field "
                                            "schema")
    lead_count: int = Field(description="Live (not deleted) leads in the list")
    created_at: datetime
    updated_at: datetime
    version: int


class ListPage(Page[ListRead]):
    pass
