"""Request and response bodies for field sections."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field, field_validator

from leadbase.kit.schemas import Page, ReadModel, WriteModel
from leadbase.lists.schemas import refuse_null

POSITION_MAX = 1_000_000


class SectionCreate(WriteModel):
    """A section of the workspace: fields of any list may sit in it."""

    name: str = Field(min_length=1, max_length=200)
    position: int | None = Field(default=None, ge=0, le=POSITION_MAX,
                                 description="Sort key among the workspace's sections; after "
                                             "the last section when absent")


class SectionUpdate(WriteModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    position: int | None = Field(default=None, ge=0, le=POSITION_MAX)

    _not_null = field_validator("name", "position", mode="before")(refuse_null)


class SectionRead(ReadModel):
    id: uuid.UUID
    number: int
    name: str
    position: int
    created_at: datetime
    updated_at: datetime
    version: int


class SectionPage(Page[SectionRead]):
    pass
