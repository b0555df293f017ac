"""Conformance: every example of the lead-fields document, sent as published (ids
replaced by the numbers of rows the test made first), and its outcome."""

from __future__ import annotations

from typing import Any

import httpx

from leadbase.db.session import Database
from tests.compat.fields.helpers import (
    assert_detail,
    assert_validation,
    call,
    example,
    make_world,
    ok,
    post_lead,
)

COMPACT = {"id", "name", "code", "field_type_code", "field_subtype_code", "campaign_id",
           "order", "required", "is_primary", "is_visible", "input_mask", "default_value",
           "lead_field_section_id", "nomenclator_id", "related_campaign_id",
           "calculation_expression", "active"}
DETAILED = COMPACT | {"field_template_code", "validation_rules", "created_at", "updated_at"}


async def test_templates_catalog(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    templates = await ok(client, "GET", "/lead_fields/templates", w.owner)
    by_code = {t["code"]: t for t in templates}
    for shown in example("templates_response"):
        found = by_code[shown["code"]]
        assert set(shown) <= set(found)
        assert found["name"] == shown["name"]
        assert isinstance(found["rules"], list)
    # The document's catalog shows EMAIL as a STRING; ours gives it the EMAIL type.
    assert by_code["DNI_ARG"]["field_type_code"] == "STRING"
    assert by_code["DNI_ARG"]["rules"] == [{"rule_type_code": "CHECKSUM", "value": "DNI_ARG",
                                            "message": "El DNI no es válido."}]
    assert {"EMAIL", "FIRST_NAME", "DNI_ARG", "CUIT_ARG", "CBU_ARG"} <= set(by_code)


async def test_option_a_template(client: httpx.AsyncClient, db: Database) -> None:
    w = await make_world(client)
    field = await ok(client, "POST", "/lead_fields", w.owner, w.ids(example("option_a")))
    assert set(field) == DETAILED
    assert field["name"] == "Patente"  # the overridden name
    assert field["code"] == "Patente"
    assert field["field_template_code"] == "FIRST_NAME"
    assert field["field_type_code"] == "STRING" and field["field_subtype_code"] is None
    assert (field["campaign_id"], field["lead_field_section_id"]) == (w.campaign1, w.section1)
    assert (field["order"], field["required"], field["is_primary"], field["is_visible"]) == (
        1, True, False, True)
    assert [r["rule_type_code"] for r in field["validation_rules"]] == ["MAX_LENGTH", "REGEX"]
    assert all(r["lead_field_id"] == field["id"] for r in field["validation_rules"])
    assert (await post_lead(client, db, w.owner, w.campaign1,
                            {"Patente": "Ana María"})).status_code == 201
    bad = await post_lead(client, db, w.owner, w.campaign1, {"Patente": "R2-D2"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "fields.Patente"
    # Without the optional name: the template's.
    body = {**w.ids(example("option_a")), "campaign_id": w.campaign2,
            "lead_field_section_id": w.section2}
    del body["name"]
    plain = await ok(client, "POST", "/lead_fields", w.owner, body)
    assert (plain["name"], plain["code"]) == ("Nombre", "FIRST_NAME")


async def test_option_b1_input_mask(client: httpx.AsyncClient, db: Database) -> None:
    w = await make_world(client)
    field = await ok(client, "POST", "/lead_fields", w.owner, w.ids(example("option_b1")))
    assert field["input_mask"] == "AAA-###"
    assert (field["name"], field["code"], field["field_type_code"]) == (
        "Patente", "Patente", "STRING")
    assert field["validation_rules"] == [] and field["field_template_code"] is None
    good = await post_lead(client, db, w.owner, w.campaign1, {"Patente": "ABC-123"})
    assert good.status_code == 201, good.text
    assert good.json()["fields"]["Patente"] == "ABC-123"
    bad = await post_lead(client, db, w.owner, w.campaign1, {"Patente": "AB-1234"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["rule"] == "input_mask"


async def test_option_b2_nomenclator(client: httpx.AsyncClient, db: Database) -> None:
    w = await make_world(client)
    selector = await ok(client, "POST", "/lead_fields", w.owner, w.ids(example("option_b2")))
    assert (selector["field_type_code"], selector["field_subtype_code"]) == (
        "SELECTOR", "SELECTOR_MULTIPLE")
    assert selector["nomenclator_id"] == w.nomenclator2
    # No name in the example: the field is named after its nomenclator.
    assert (selector["name"], selector["code"]) == ("Colores", "Colores")
    # The example's comment: "Puede ser tambien CHECKBOX ... usamos CHECKBOX_MULTIPLE".
    # A second field over the same nomenclator needs a name of its own in this campaign.
    checkbox = await ok(client, "POST", "/lead_fields", w.owner, {
        **w.ids(example("option_b2")), "field_type_code": "CHECKBOX",
        "field_subtype_code": "CHECKBOX_MULTIPLE", "name": "Colores (checkbox)"})
    assert (checkbox["field_type_code"], checkbox["field_subtype_code"]) == (
        "CHECKBOX", "CHECKBOX_MULTIPLE")
    assert checkbox["nomenclator_id"] == w.nomenclator2
    good = await post_lead(client, db, w.owner, w.campaign1,
                           {"Colores": ["ROJO", "AZUL"], "Colores_checkbox": ["AZUL"]})
    assert good.status_code == 201, good.text
    bad = await post_lead(client, db, w.owner, w.campaign1, {"Colores": ["VERDE"]})
    assert bad.status_code == 422  # VERDE is an inactive item
    # A SELECTOR needs its subtype (the example's comment: "Obligatorio").
    body = w.ids(example("option_b2"))
    del body["field_subtype_code"]
    detail = assert_detail(await call(client, "POST", "/lead_fields", w.owner, body), 422,
                           "SUBTYPE_REQUIRED")
    assert detail.startswith("field_subtype_code: ")


async def test_option_b3_lead_relation(client: httpx.AsyncClient, db: Database) -> None:
    w = await make_world(client)
    field = await ok(client, "POST", "/lead_fields", w.owner, w.ids(example("option_b3")))
    assert field["field_type_code"] == "LEAD"
    assert field["related_campaign_id"] == w.campaign2
    assert (field["code"], field["order"], field["required"]) == ("Lead_otra_campana", 2, True)
    other = await post_lead(client, db, w.owner, w.campaign2, {})
    assert other.status_code == 201, other.text
    linked = await post_lead(client, db, w.owner, w.campaign1,
                             {"Lead_otra_campana": other.json()["id"]})
    assert linked.status_code == 201, linked.text
    assert (await post_lead(client, db, w.owner, w.campaign1, {})).status_code == 422
    # LEAD without related_campaign_id is refused, in the profile's words.
    body = w.ids(example("option_b3"))
    del body["related_campaign_id"]
    body["name"] = "Otra"
    detail = assert_detail(await call(client, "POST", "/lead_fields", w.owner, body), 422,
                           "RELATED_LIST_REQUIRED")
    assert detail.startswith("related_campaign_id: ")


async def test_option_b4_calculated(client: httpx.AsyncClient, db: Database) -> None:
    w = await make_world(client)
    # The expression's references must exist first.
    for name, kind in (("Cantidad", "INT"), ("Precio", "DECIMAL")):
        await ok(client, "POST", "/lead_fields", w.owner, {
            "name": name, "field_type_code": kind, "campaign_id": w.campaign1, "order": 1,
            "lead_field_section_id": w.section1})
    field = await ok(client, "POST", "/lead_fields", w.owner, w.ids(example("option_b4")))
    assert field["field_type_code"] == "CALCULATED"
    assert field["calculation_expression"] == "Cantidad * Precio"
    lead = await post_lead(client, db, w.owner, w.campaign1, {"Cantidad": 3, "Precio": "2.5"})
    assert lead.status_code == 201, lead.text
    assert float(lead.json()["fields"]["Lead_otra_campana"]) == 7.5
    # An expression naming an unknown field is refused.
    resp = await call(client, "POST", "/lead_fields", w.owner, {
        **w.ids(example("option_b4")), "name": "Total",
        "calculation_expression": "Cantidad * Costo"})
    assert_detail(resp, 422)


async def test_every_example_in_one_campaign(client: httpx.AsyncClient) -> None:
    """The document's bodies all target campaign 1 and some repeat a name: A and B.1 are
    both "Patente", B.3 and B.4 both "Lead otra campaña". A field's name gives its code,
    unique in a campaign, so the later ones get a name of their own here (409
    otherwise)."""
    w = await make_world(client)
    created = [await ok(client, "POST", "/lead_fields", w.owner, w.ids(example("option_a")))]
    clash = await call(client, "POST", "/lead_fields", w.owner, w.ids(example("option_b1")))
    assert_detail(clash, 409, "FIELD_CODE_TAKEN")
    for name, renamed in (("option_b1", "Patente (máscara)"), ("option_b2", None),
                          ("option_b3", None)):
        body = w.ids(example(name))
        if renamed:
            body["name"] = renamed
        created.append(await ok(client, "POST", "/lead_fields", w.owner, body))
    for name in ("Cantidad", "Precio"):
        created.append(await ok(client, "POST", "/lead_fields", w.owner, {
            "name": name, "field_type_code": "INT", "campaign_id": w.campaign1, "order": 3,
            "lead_field_section_id": w.section1}))
    created.append(await ok(client, "POST", "/lead_fields", w.owner,
                            {**w.ids(example("option_b4")), "name": "Total"}))
    listed = await ok(client, "GET", "/lead_fields", w.owner, campaign_id=w.campaign1)
    assert sorted(f["id"] for f in listed) == sorted(f["id"] for f in created)
    assert [f["order"] for f in listed] == sorted(f["order"] for f in listed)
    assert {f["code"] for f in listed} == {"Patente", "Patente_mascara", "Colores",
                                           "Lead_otra_campana", "Cantidad", "Precio", "Total"}


async def _field(client: httpx.AsyncClient, w: Any, campaign: int, section: int,
                 **extra: Any) -> dict[str, Any]:
    body = {"name": "Apodo", "field_type_code": "STRING", "campaign_id": campaign,
            "order": 5, "lead_field_section_id": section, "required": True,
            "input_mask": "AAA", "default_value": "ABC", **extra}
    data: dict[str, Any] = await ok(client, "POST", "/lead_fields", w.owner, body)
    return data


async def test_put_example(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    # The example names campaign 2 and section 1, the section the POST examples use for
    # campaign 1: sections are the workspace's. A field stays in its campaign: the example
    # applies to a field of campaign 2, here one in the other section.
    field = await _field(client, w, w.campaign2, w.section2)
    put = w.ids(example("put"))
    updated = await ok(client, "PUT", f"/lead_fields/{field['id']}", w.owner, put)
    assert (updated["id"], updated["name"], updated["field_type_code"]) == (
        field["id"], "Nombre", "STRING")
    assert (updated["campaign_id"], updated["lead_field_section_id"]) == (
        w.campaign2, w.section1)
    assert (updated["order"], updated["required"], updated["is_primary"]) == (2, False, False)
    # A PUT replaces: the optional attributes not sent are back to their defaults.
    assert updated["input_mask"] is None and updated["default_value"] is None
    assert updated["code"] == field["code"]
    again = await ok(client, "GET", f"/lead_fields/{field['id']}", w.owner)
    assert again == updated
    # Every mandatory attribute is required: FastAPI's 422.
    for key in ("name", "field_type_code", "order", "campaign_id", "lead_field_section_id"):
        body = {k: v for k, v in put.items() if k != key}
        errors = assert_validation(
            await call(client, "PUT", f"/lead_fields/{field['id']}", w.owner, body),
            ("body", key))
        assert errors[0]["type"] == "missing" and errors[0]["msg"] == "Field required"
    # The example as published on a field of campaign 1 would move it: refused.
    first = await _field(client, w, w.campaign1, w.section1)
    detail = assert_detail(await call(client, "PUT", f"/lead_fields/{first['id']}", w.owner,
                                      w.ids(example("put"))), 422, "FIELD_MOVE_UNSUPPORTED")
    assert detail.startswith("campaign_id: ")
    assert (await ok(client, "GET", f"/lead_fields/{first['id']}", w.owner))["name"] == "Apodo"


async def test_delete_hard_then_soft_and_restore(client: httpx.AsyncClient,
                                                 db: Database) -> None:
    w = await make_world(client)
    doomed = await ok(client, "POST", "/lead_fields", w.owner, w.ids(example("option_a")))
    rule_id = doomed["validation_rules"][0]["id"]
    gone = await ok(client, "DELETE", f"/lead_fields/{doomed['id']}", w.owner)
    assert gone == {"id": doomed["id"], "result": "deleted"}
    assert_detail(await call(client, "GET", f"/lead_fields/{doomed['id']}", w.owner), 404,
                  "FIELD_NOT_FOUND")
    assert_detail(await call(client, "GET", f"/validation_rules/{rule_id}", w.owner), 404)
    field = await ok(client, "POST", "/lead_fields", w.owner, w.ids(example("option_b1")))
    assert (await post_lead(client, db, w.owner, w.campaign1,
                            {"Patente": "ABC-123"})).status_code == 201
    soft = await ok(client, "DELETE", f"/lead_fields/{field['id']}", w.owner)
    assert soft == {"id": field["id"], "result": "deactivated"}
    kept = await ok(client, "GET", f"/lead_fields/{field['id']}", w.owner)
    assert kept["active"] is False
    active = await ok(client, "GET", "/lead_fields", w.owner, campaign_id=w.campaign1)
    assert field["id"] not in [f["id"] for f in active]
    every = await ok(client, "GET", "/lead_fields", w.owner, campaign_id=w.campaign1,
                     only_active="false")
    assert [f["active"] for f in every if f["id"] == field["id"]] == [False]
    restored = await ok(client, "PUT", f"/lead_fields/active/{field['id']}", w.owner)
    assert restored["active"] is True and set(restored) == DETAILED
    active = await ok(client, "GET", "/lead_fields", w.owner, campaign_id=w.campaign1)
    assert field["id"] in [f["id"] for f in active]


async def test_list_filters_detail_and_window(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    a = await ok(client, "POST", "/lead_fields", w.owner, w.ids(example("option_a")))
    b = await ok(client, "POST", "/lead_fields", w.owner, {
        **w.ids(example("option_b1")), "campaign_id": w.campaign2,
        "lead_field_section_id": w.section2})
    compact = await ok(client, "GET", "/lead_fields", w.owner)
    assert [f["id"] for f in compact] == sorted([a["id"], b["id"]])
    assert all(set(f) == COMPACT for f in compact)
    one = await ok(client, "GET", "/lead_fields", w.owner, campaign_id=w.campaign2)
    assert [f["id"] for f in one] == [b["id"]]
    detailed = await ok(client, "GET", "/lead_fields", w.owner, detailed="true",
                        campaign_id=w.campaign1)
    assert [set(f) for f in detailed] == [DETAILED]
    assert len(detailed[0]["validation_rules"]) == 2
    assert detailed[0] == await ok(client, "GET", f"/lead_fields/{a['id']}", w.owner)
    window = await ok(client, "GET", "/lead_fields", w.owner, skip=1, limit=1)
    assert [f["id"] for f in window] == [compact[1]["id"]]
    assert_validation(await call(client, "GET", "/lead_fields", w.owner, limit=201),
                      ("query", "limit"))
    assert_detail(await call(client, "GET", "/lead_fields", w.owner, campaign_id=999_999_999),
                  404, "LIST_NOT_FOUND")
