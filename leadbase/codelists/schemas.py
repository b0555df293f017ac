"""Request and response bodies for code lists and their items."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field, field_validator

from leadbase.kit.schemas import Page, ReadModel, WriteModel
from leadbase.lists.schemas import DESCRIPTION_MAX, refuse_null

MAX_INLINE_ITEMS = 1000
POSITION_MAX = 1_000_000


class ItemCreate(WriteModel):
    code: str = Field(min_length=1, max_length=100,
                      description="The value stored in a lead's field; unique in the code list "
                                  "(case-sensitive)")
    label: str = Field(min_length=1, max_length=300)
    position: int | None = Field(default=None, ge=0, le=POSITION_MAX,
                                 description="Sort key; after the last item when absent")
    active: bool = True


class ItemUpdate(WriteModel):
    code: str | None = Field(default=None, min_length=1, max_length=100)
    label: str | None = Field(default=None, min_length=1, max_length=300)
    position: int | None = Field(default=None, ge=0, le=POSITION_MAX)
    active: bool | None = None

    _not_null = field_validator("code", "label", "position", "active", mode="before")(
        refuse_null)


class CodeListCreate(WriteModel):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=DESCRIPTION_MAX)
    items: list[ItemCreate] = Field(default_factory=list, max_length=MAX_INLINE_ITEMS)


class CodeListUpdate(WriteModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=DESCRIPTION_MAX)

    _not_null = field_validator("name", mode="before")(refuse_null)


class ItemRead(ReadModel):
    id: uuid.UUID
    number: int
    code_list_id: uuid.UUID
    code: str
    label: str
    position: int
    active: bool
    created_at: datetime
    updated_at: datetime
    version: int


class CodeListRead(ReadModel):
    id: uuid.UUID
    number: int
    name: str
    description: str | None
    items: list[ItemRead] = Field(description="All items, inactive ones included, by position")
    created_at: datetime
    updated_at: datetime
    version: int = Field(description="Bumped by changes to the code list and to its items")


class CodeListPage(Page[CodeListRead]):
    pass


class ItemPage(Page[ItemRead]):
    pass
