"""Bodies of the lead-fields profile, in the document's names (snake_case, integer ids).

Request models ignore unknown keys (as a FastAPI application with plain models does);
they only say what is required and of which type. The limits (lengths, ranges,
patterns) are the canonical models', checked when the body is translated
(``translate.canonical``), and reported in FastAPI's own 422 shape."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from leadbase.fields.schemas import FieldSubtype, FieldType, RuleType

BIGINT_MAX = 2**63 - 1
Number = Annotated[int, Field(ge=1, le=BIGINT_MAX)]


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


# -- lead fields ------------------------------------------------------------------------

class LeadFieldAttributes(Body):
    code: str | None = Field(default=None, description="Key of the value in a lead's "
                             "`fields`; derived from the name when absent (extension)")
    field_subtype_code: FieldSubtype | None = None
    required: bool | None = None
    is_primary: bool | None = None
    is_visible: bool | None = None
    default_value: Any = None
    input_mask: str | None = Field(default=None, description="`#` digit, `A` letter, `*` "
                                   "letter or digit; anything else is literal")
    nomenclator_id: Number | None = None
    related_campaign_id: Number | None = None
    calculation_expression: str | None = None


class LeadFieldCreate(LeadFieldAttributes):
    """Option A: ``field_template_code`` (name and type come from the template, which also
    brings its validation rules). Option B: ``name`` and ``field_type_code`` given by hand
    (``name`` may be left out when ``nomenclator_id`` is given: the nomenclator's name)."""

    field_template_code: str | None = None
    name: str | None = None
    field_type_code: FieldType | None = None
    campaign_id: Number
    order: int
    lead_field_section_id: Number


class LeadFieldReplace(LeadFieldAttributes):
    """Every mandatory attribute of the document's table; the optional ones not sent are
    reset to their defaults (a PUT replaces the configuration)."""

    name: str
    field_type_code: FieldType
    campaign_id: Number
    order: int
    lead_field_section_id: Number


class RuleOut(BaseModel):
    id: int
    lead_field_id: int
    rule_type_code: str
    value: Any
    message: str | None
    order: int
    active: bool


class LeadFieldOut(BaseModel):
    id: int
    name: str
    code: str
    field_type_code: str
    field_subtype_code: str | None
    campaign_id: int
    order: int
    required: bool
    is_primary: bool
    is_visible: bool
    input_mask: str | None
    default_value: Any
    lead_field_section_id: int | None
    nomenclator_id: int | None
    related_campaign_id: int | None
    calculation_expression: str | None
    active: bool


class LeadFieldDetailed(LeadFieldOut):
    """The compact form plus: the template it came from, its validation rules and the
    timestamps (``GET /lead_fields?detailed=true``, and every single-field answer)."""

    field_template_code: str | None
    validation_rules: list[RuleOut]
    created_at: datetime
    updated_at: datetime


class TemplateRuleOut(BaseModel):
    rule_type_code: str
    value: Any
    message: str


class TemplateOut(BaseModel):
    code: str
    name: str
    field_type_code: str
    field_subtype_code: str | None
    input_mask: str | None
    rules: list[TemplateRuleOut]


class DeleteOut(BaseModel):
    id: int
    result: str = Field(description="`deleted` (erased) or `deactivated` (soft delete: "
                        "`active=false`)")


# -- validation rules -------------------------------------------------------------------

class RuleCreate(Body):
    lead_field_id: Number
    rule_type_code: RuleType
    value: Any = None
    message: str | None = None
    order: int | None = None
    active: bool | None = None


class RuleReplace(Body):
    """``rule_type_code`` is mandatory; the other attributes not sent keep their value. A
    rule stays on its field (``lead_field_id``, when sent, must be the rule's)."""

    lead_field_id: Number | None = None
    rule_type_code: RuleType
    value: Any = None
    message: str | None = None
    order: int | None = None
    active: bool | None = None


# -- sections ---------------------------------------------------------------------------

class SectionCreate(Body):
    """A section of the workspace: fields of any campaign may sit in it."""

    name: str
    order: int | None = Field(default=None, description="After the last section when absent")


class SectionReplace(SectionCreate):
    """``name`` required; ``order`` keeps its value when not sent."""


class SectionOut(BaseModel):
    id: int
    name: str
    order: int


# -- nomenclators -----------------------------------------------------------------------

class ItemCreate(Body):
    code: str = Field(description="The value stored in a lead's field")
    name: str = Field(description="The label shown")
    order: int | None = None
    active: bool | None = None


class ItemReplace(ItemCreate):
    """``code`` and ``name``; ``order`` and ``active`` keep their value when not sent."""


class ItemOut(BaseModel):
    id: int
    nomenclator_id: int
    code: str
    name: str
    order: int
    active: bool


class NomenclatorCreate(Body):
    name: str
    description: str | None = None
    items: list[ItemCreate] = Field(default_factory=list)


class NomenclatorReplace(Body):
    """``name``; ``description`` keeps its value when not sent. Items have their own
    routes (``/nomenclators/{id}/items``)."""

    name: str
    description: str | None = None


class NomenclatorOut(BaseModel):
    id: int
    name: str
    description: str | None
    items: list[ItemOut]


# -- campaigns --------------------------------------------------------------------------

class CampaignCreate(Body):
    name: str
    description: str | None = None


class CampaignReplace(CampaignCreate):
    """``name``; ``description`` and ``is_default`` keep their value when not sent."""

    is_default: bool | None = None


class CampaignOut(BaseModel):
    id: int
    name: str
    description: str | None
    is_default: bool
    lead_count: int
