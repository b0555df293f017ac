"""Request and response bodies for field definitions, validation rules and templates."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from leadbase.kit.schemas import Page, ReadModel, WriteModel

FieldType = Literal["STRING", "TEXT", "INT", "DECIMAL", "DATE", "DATETIME", "BOOL", "EMAIL",
                    "PHONE", "URL", "SELECTOR", "CHECKBOX", "LEAD", "CALCULATED"]
FieldSubtype = Literal["SELECTOR_SINGLE", "SELECTOR_MULTIPLE", "CHECKBOX_SINGLE",
                       "CHECKBOX_MULTIPLE"]
RuleType = Literal["REGEX", "MIN_LENGTH", "MAX_LENGTH", "MIN_VALUE", "MAX_VALUE", "MIN_DATE",
                   "MAX_DATE", "ONE_OF", "CHECKSUM"]
CODE_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,99}$"


class FieldAttributes(WriteModel):
    """What a field definition holds, all optional (PATCH, and the base of create)."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    code: str | None = Field(default=None, pattern=CODE_PATTERN,
                             description="Key in lead.fields; derived from the name if absent")
    type: FieldType | None = None
    subtype: FieldSubtype | None = None
    section_id: uuid.UUID | None = None
    required: bool | None = None
    default_value: Any = None
    is_primary: bool | None = None
    is_visible: bool | None = None
    position: int | None = Field(default=None, ge=0, le=100_000)
    input_mask: str | None = Field(default=None, min_length=1, max_length=100)
    code_list_id: uuid.UUID | None = None
    related_list_id: uuid.UUID | None = None
    calculation_expression: str | None = Field(default=None, min_length=1, max_length=2000)
    indexed: bool | None = Field(
        default=None,
        description="Build an index for sort=fields.<code> and fields.<code>_gte/_lte on "
                    "this list's leads (in the background; every lead write then maintains "
                    "it). Equality filters need none. Not for TEXT or multiple-choice fields.")


class FieldCreate(FieldAttributes):
    list_id: uuid.UUID | None = Field(default=None, description="Default list when absent")
    template_code: str | None = Field(default=None, max_length=40,
                                      description="Create from a template (type and rules)")


class FieldUpdate(FieldAttributes):
    pass


class RuleRead(ReadModel):
    id: uuid.UUID
    number: int
    field_id: uuid.UUID
    type: str
    value: Any
    message: str | None
    position: int
    active: bool
    created_at: datetime
    updated_at: datetime
    version: int


class FieldRead(ReadModel):
    id: uuid.UUID
    number: int
    list_id: uuid.UUID
    section_id: uuid.UUID | None
    name: str
    code: str
    type: str
    subtype: str | None
    required: bool
    default_value: Any
    is_primary: bool
    is_visible: bool
    position: int
    input_mask: str | None
    code_list_id: uuid.UUID | None
    related_list_id: uuid.UUID | None
    calculation_expression: str | None
    template_code: str | None
    indexed: bool
    active: bool
    created_at: datetime
    updated_at: datetime
    version: int
    rules: list[RuleRead] = Field(default_factory=list)


class FieldPage(Page[FieldRead]):
    pass


class RuleCreate(WriteModel):
    field_id: uuid.UUID
    type: RuleType
    value: Any = None
    message: str | None = Field(default=None, max_length=500)
    position: int = Field(default=0, ge=0, le=100_000)
    active: bool = True


class RuleUpdate(WriteModel):
    type: RuleType | None = None
    value: Any = None
    message: str | None = Field(default=None, max_length=500)
    position: int | None = Field(default=None, ge=0, le=100_000)
    active: bool | None = None


class RulePage(Page[RuleRead]):
    pass


class TemplateRuleRead(ReadModel):
    type: str
    value: Any
    message: str


class TemplateRead(ReadModel):
    code: str
    name: str
    field_type_code: str
    field_subtype_code: str | None
    input_mask: str | None
    rules: list[TemplateRuleRead]
