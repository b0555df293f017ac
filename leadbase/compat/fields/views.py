"""Service rows → the document's shapes (integer ids, the document's attribute names)."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel
from starlette.responses import Response

from leadbase.compat.fields.refs import Refs, Row
from leadbase.compat.fields.schemas import (
    CampaignOut,
    ItemOut,
    LeadFieldDetailed,
    LeadFieldOut,
    NomenclatorOut,
    RuleOut,
    SectionOut,
    TemplateOut,
    TemplateRuleOut,
)
from leadbase.fields.templates import FieldTemplate


async def rule(refs: Refs, row: Row, lead_field_id: int | None = None) -> RuleOut:
    if lead_field_id is None:
        lead_field_id = await refs.lead_field_number(row["field_id"], required=True)
    assert lead_field_id is not None
    return RuleOut(id=row["number"], lead_field_id=lead_field_id, rule_type_code=row["type"],
                   value=row["value"], message=row["message"], order=row["position"],
                   active=row["active"])


async def lead_field(refs: Refs, row: Row, *, detailed: bool) -> LeadFieldOut:
    """``row`` as given by the fields service (with its ``rules``); its campaign is live
    (callers drop fields whose campaign is gone)."""
    refs.remember("lead_field", row)
    campaign_id = await refs.campaign_number(row["list_id"])
    assert campaign_id is not None
    compact: dict[str, Any] = {
        "id": row["number"], "name": row["name"], "code": row["code"],
        "field_type_code": row["type"], "field_subtype_code": row["subtype"],
        "campaign_id": campaign_id, "order": row["position"],
        "required": row["required"], "is_primary": row["is_primary"],
        "is_visible": row["is_visible"], "input_mask": row["input_mask"],
        "default_value": row["default_value"],
        "lead_field_section_id": await refs.section_number(row["section_id"]),
        "nomenclator_id": await refs.nomenclator_number(row["code_list_id"]),
        "related_campaign_id": await refs.campaign_number(row["related_list_id"]),
        "calculation_expression": row["calculation_expression"], "active": row["active"],
    }
    if not detailed:
        return LeadFieldOut(**compact)
    rules = [await rule(refs, r, row["number"]) for r in row.get("rules", [])]
    return LeadFieldDetailed(**compact, field_template_code=row["template_code"],
                             validation_rules=rules, created_at=row["created_at"],
                             updated_at=row["updated_at"])


def template(t: FieldTemplate) -> TemplateOut:
    return TemplateOut(code=t.code, name=t.name, field_type_code=t.field_type_code,
                       field_subtype_code=t.field_subtype_code, input_mask=t.input_mask,
                       rules=[TemplateRuleOut(rule_type_code=r.type, value=r.value,
                                              message=r.message) for r in t.rules])


def section(refs: Refs, row: Row) -> SectionOut:
    refs.remember("section", row)
    return SectionOut(id=row["number"], name=row["name"], order=row["position"])


def item(nomenclator_id: int, row: Row) -> ItemOut:
    return ItemOut(id=row["number"], nomenclator_id=nomenclator_id, code=row["code"],
                   name=row["label"], order=row["position"], active=row["active"])


def nomenclator(refs: Refs, row: Row) -> NomenclatorOut:
    refs.remember("nomenclator", row)
    return NomenclatorOut(id=row["number"], name=row["name"], description=row["description"],
                          items=[item(row["number"], i) for i in row.get("items", [])])


def campaign(refs: Refs, row: Row) -> CampaignOut:
    refs.remember("campaign", row)
    return CampaignOut(id=row["number"], name=row["name"], description=row["description"],
                       is_default=row["is_default"], lead_count=row.get("lead_count", 0))


def respond(body: BaseModel | list[BaseModel], status_code: int = 200) -> Response:
    """A JSON response from output models (a list answers as a JSON array)."""
    content = ([m.model_dump(mode="json") for m in body] if isinstance(body, list)
               else body.model_dump(mode="json"))
    return Response(orjson.dumps(content), status_code=status_code,
                    media_type="application/json")
