"""The resources a client needs to build a whole schema through the profile:
validation rules, sections, nomenclators with items, campaigns."""

from __future__ import annotations

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


async def test_validation_rules(client: httpx.AsyncClient, db: Database) -> None:
    w = await make_world(client)
    field = await ok(client, "POST", "/lead_fields", w.owner, w.ids(example("option_b1")))
    rule = await ok(client, "POST", "/validation_rules", w.owner, {
        "lead_field_id": field["id"], "rule_type_code": "ONE_OF",
        "value": ["ABC-123", "XYZ-999"], "message": "Patente desconocida"})
    assert rule == {"id": rule["id"], "lead_field_id": field["id"], "rule_type_code": "ONE_OF",
                    "value": ["ABC-123", "XYZ-999"], "message": "Patente desconocida",
                    "order": 0, "active": True}
    assert (await post_lead(client, db, w.owner, w.campaign1,
                            {"Patente": "DEF-456"})).status_code == 422
    assert await ok(client, "GET", f"/validation_rules/{rule['id']}", w.owner) == rule
    listed = await ok(client, "GET", "/validation_rules", w.owner, lead_field_id=field["id"])
    assert listed == [rule]
    changed = await ok(client, "PUT", f"/validation_rules/{rule['id']}", w.owner, {
        "rule_type_code": "ONE_OF", "value": ["ABC-123", "DEF-456"]})
    assert changed["value"] == ["ABC-123", "DEF-456"]
    assert changed["message"] == "Patente desconocida"  # kept: not sent
    assert (await post_lead(client, db, w.owner, w.campaign1,
                            {"Patente": "DEF-456"})).status_code == 201
    detailed = await ok(client, "GET", f"/lead_fields/{field['id']}", w.owner)
    assert detailed["validation_rules"] == [changed]
    assert_validation(await call(client, "PUT", f"/validation_rules/{rule['id']}", w.owner,
                                 {"value": 1}), ("body", "rule_type_code"))
    other = await ok(client, "POST", "/lead_fields", w.owner, w.ids(example("option_a")) | {
        "name": "Otro"})
    assert_detail(await call(client, "PUT", f"/validation_rules/{rule['id']}", w.owner, {
        "rule_type_code": "ONE_OF", "lead_field_id": other["id"]}), 422,
        "RULE_MOVE_UNSUPPORTED")
    bad = await call(client, "POST", "/validation_rules", w.owner, {
        "lead_field_id": field["id"], "rule_type_code": "MIN_LENGTH", "value": "x"})
    assert assert_detail(bad, 422, "INVALID_RULE").startswith("value: ")
    assert_validation(await call(client, "POST", "/validation_rules", w.owner, {
        "lead_field_id": field["id"], "rule_type_code": "NOPE"}), ("body", "rule_type_code"))
    assert_detail(await call(client, "POST", "/validation_rules", w.owner, {
        "lead_field_id": 999_999_999, "rule_type_code": "MIN_LENGTH", "value": 2}), 422,
        "FIELD_NOT_FOUND")
    gone = await ok(client, "DELETE", f"/validation_rules/{rule['id']}", w.owner)
    assert gone == {"id": rule["id"], "result": "deleted"}
    assert await ok(client, "GET", "/validation_rules", w.owner,
                    lead_field_id=field["id"]) == []


async def test_sections(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    every = await ok(client, "GET", "/lead_field_sections", w.owner)
    assert every == [{"id": w.section1, "name": "Datos", "order": 0},
                     {"id": w.section2, "name": "Vehículo", "order": 1}]
    # A campaign_id is not a section's (unknown keys are ignored): after the last section.
    extra = await ok(client, "POST", "/lead_field_sections", w.owner,
                     {"name": "Contacto", "campaign_id": w.campaign1})
    assert set(extra) == {"id", "name", "order"} and extra["order"] == 2
    renamed = await ok(client, "PUT", f"/lead_field_sections/{extra['id']}", w.owner,
                       {"name": "Auto", "order": 7})
    assert (renamed["name"], renamed["order"]) == ("Auto", 7)
    assert await ok(client, "GET", f"/lead_field_sections/{extra['id']}", w.owner) == renamed
    kept = await ok(client, "PUT", f"/lead_field_sections/{extra['id']}", w.owner,
                    {"name": "Auto 2"})
    assert kept["order"] == 7
    assert_validation(await call(client, "PUT", f"/lead_field_sections/{extra['id']}",
                                 w.owner, {"order": 1}), ("body", "name"))
    # One section, fields of both campaigns, each with its own order.
    first = await ok(client, "POST", "/lead_fields", w.owner, w.ids(example("option_b1")))
    second = await ok(client, "POST", "/lead_fields", w.owner, {
        **w.ids(example("option_b1")), "campaign_id": w.campaign2, "order": 3})
    assert [(f["campaign_id"], f["lead_field_section_id"], f["order"])
            for f in (first, second)] == [(w.campaign1, w.section1, 1),
                                          (w.campaign2, w.section1, 3)]
    assert [s["id"] for s in await ok(client, "GET", "/lead_field_sections", w.owner,
                                      campaign_id=w.campaign2)] == [w.section1]
    moved = await ok(client, "PUT", f"/lead_fields/{second['id']}", w.owner, {
        **w.ids(example("put")), "lead_field_section_id": extra["id"]})
    assert (moved["lead_field_section_id"], moved["order"]) == (extra["id"], 2)
    assert [s["id"] for s in await ok(client, "GET", "/lead_field_sections", w.owner,
                                      campaign_id=w.campaign2)] == [extra["id"]]
    # A section of another workspace names nothing here.
    them = await make_world(client, "Otra")
    # Ids are numbered per workspace: one of theirs whose number w does not use.
    for name in ("Uno", "Dos", "Tres"):
        theirs = await ok(client, "POST", "/lead_field_sections", them.owner, {"name": name})
    body = {**w.ids(example("option_b1")), "lead_field_section_id": theirs["id"]}
    detail = assert_detail(await call(client, "POST", "/lead_fields", w.owner, body), 422,
                           "SECTION_NOT_FOUND")
    assert detail.startswith("lead_field_section_id: ")
    gone = await ok(client, "DELETE", f"/lead_field_sections/{extra['id']}", w.owner)
    assert gone == {"id": extra["id"], "result": "deleted"}
    assert_detail(await call(client, "GET", f"/lead_field_sections/{extra['id']}", w.owner),
                  404, "SECTION_NOT_FOUND")
    detached = await ok(client, "GET", f"/lead_fields/{second['id']}", w.owner)
    assert detached["lead_field_section_id"] is None


async def test_nomenclators_and_items(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    found = await ok(client, "GET", f"/nomenclators/{w.nomenclator2}", w.owner)
    assert found["name"] == "Colores" and found["description"] is None
    assert [(i["code"], i["name"], i["order"], i["active"]) for i in found["items"]] == [
        ("ROJO", "Rojo", 0, True), ("AZUL", "Azul", 1, True), ("VERDE", "Verde", 2, False)]
    assert all(i["nomenclator_id"] == w.nomenclator2 for i in found["items"])
    assert await ok(client, "GET", "/nomenclators", w.owner) == [found]
    renamed = await ok(client, "PUT", f"/nomenclators/{w.nomenclator2}", w.owner,
                       {"name": "Color", "description": "Color del auto"})
    assert (renamed["name"], renamed["description"]) == ("Color", "Color del auto")
    item = await ok(client, "POST", f"/nomenclators/{w.nomenclator2}/items", w.owner,
                    {"code": "NEGRO", "name": "Negro"})
    assert (item["code"], item["name"], item["order"], item["active"]) == (
        "NEGRO", "Negro", 3, True)
    assert await ok(client, "GET", f"/nomenclators/{w.nomenclator2}/items/{item['id']}",
                    w.owner) == item
    items = await ok(client, "GET", f"/nomenclators/{w.nomenclator2}/items", w.owner)
    assert [i["code"] for i in items] == ["ROJO", "AZUL", "VERDE", "NEGRO"]
    live = await ok(client, "GET", f"/nomenclators/{w.nomenclator2}/items", w.owner,
                    only_active="true")
    assert [i["code"] for i in live] == ["ROJO", "AZUL", "NEGRO"]
    changed = await ok(client, "PUT", f"/nomenclators/{w.nomenclator2}/items/{item['id']}",
                       w.owner, {"code": "NEGRO", "name": "Negro mate", "order": 9})
    assert (changed["name"], changed["order"], changed["active"]) == ("Negro mate", 9, True)
    erased = await ok(client, "DELETE", f"/nomenclators/{w.nomenclator2}/items/{item['id']}",
                      w.owner)
    assert erased == {"id": item["id"], "result": "deleted"}
    # Once a field uses it: items are deactivated, and the nomenclator stays.
    await ok(client, "POST", "/lead_fields", w.owner, w.ids(example("option_b2")))
    rojo = found["items"][0]["id"]
    kept = await ok(client, "DELETE", f"/nomenclators/{w.nomenclator2}/items/{rojo}", w.owner)
    assert kept == {"id": rojo, "result": "deactivated"}
    assert_detail(await call(client, "DELETE", f"/nomenclators/{w.nomenclator2}", w.owner),
                  409, "CODE_LIST_IN_USE")
    # An item is reached through its own nomenclator only.
    other = await ok(client, "POST", "/nomenclators", w.owner, {"name": "Marcas"})
    assert other["items"] == []
    assert_detail(await call(client, "GET", f"/nomenclators/{other['id']}/items/{rojo}",
                             w.owner), 404, "ITEM_NOT_FOUND")
    dup = await call(client, "POST", "/nomenclators", w.owner, {"name": "Tipos", "items": [
        {"code": "A", "name": "A"}, {"code": "A", "name": "B"}]})
    assert_detail(dup, 422, "DUPLICATE_ITEM_CODE")
    assert_validation(await call(client, "POST", "/nomenclators", w.owner, {
        "name": "Tipos", "items": [{"code": "A", "name": ""}]}), ("body", "items", 0, "name"))
    gone = await ok(client, "DELETE", f"/nomenclators/{other['id']}", w.owner)
    assert gone == {"id": other["id"], "result": "deleted"}
    assert_detail(await call(client, "GET", f"/nomenclators/{other['id']}", w.owner), 404,
                  "CODE_LIST_NOT_FOUND")


async def test_campaigns(client: httpx.AsyncClient, db: Database) -> None:
    w = await make_world(client)
    listed = await ok(client, "GET", "/campaigns", w.owner)
    assert [c["name"] for c in listed] == ["Leads", "Campaña 1", "Campaña 2"]
    assert [c["is_default"] for c in listed] == [True, False, False]
    one = await ok(client, "GET", f"/campaigns/{w.campaign1}", w.owner)
    assert one == {"id": w.campaign1, "name": "Campaña 1", "description": None,
                   "is_default": False, "lead_count": 0}
    changed = await ok(client, "PUT", f"/campaigns/{w.campaign1}", w.owner,
                       {"name": "Autos usados", "description": "Usados"})
    assert (changed["name"], changed["description"]) == ("Autos usados", "Usados")
    assert_detail(await call(client, "POST", "/campaigns", w.owner, {"name": "Campaña 2"}),
                  409, "LIST_NAME_TAKEN")
    assert_validation(await call(client, "POST", "/campaigns", w.owner, {}), ("body", "name"))
    assert (await post_lead(client, db, w.owner, w.campaign1, {})).status_code == 201
    assert (await ok(client, "GET", f"/campaigns/{w.campaign1}", w.owner))["lead_count"] == 1
    assert_detail(await call(client, "DELETE", f"/campaigns/{w.campaign1}", w.owner), 409,
                  "LIST_NOT_EMPTY")
    # A campaign deleted takes its fields out of sight.
    field = await ok(client, "POST", "/lead_fields", w.owner, {
        **w.ids(example("option_b1")), "campaign_id": w.campaign2,
        "lead_field_section_id": w.section2})
    gone = await ok(client, "DELETE", f"/campaigns/{w.campaign2}", w.owner)
    assert gone == {"id": w.campaign2, "result": "deleted"}
    assert_detail(await call(client, "GET", f"/campaigns/{w.campaign2}", w.owner), 404,
                  "LIST_NOT_FOUND")
    assert_detail(await call(client, "GET", f"/lead_fields/{field['id']}", w.owner), 404)
    assert field["id"] not in [f["id"] for f in await ok(client, "GET", "/lead_fields",
                                                         w.owner, only_active="false")]
