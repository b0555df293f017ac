"""The field engine through the API: definitions, templates, rules, and lead values."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.factories import Member, add_member, make_lead, make_workspace

VALID_CBU = "2850590940090418135201"
BAD_CBU = "2850590940090418135202"


async def field(client: httpx.AsyncClient, member: Member, **body: Any) -> dict[str, Any]:
    resp = await client.post("/api/v1/fields", headers=member.headers, json=body)
    assert resp.status_code == 201, resp.text
    data: dict[str, Any] = resp.json()
    return data


async def post_lead(client: httpx.AsyncClient, member: Member, fields: dict[str, Any],
                    **extra: Any) -> httpx.Response:
    return await client.post("/api/v1/leads", headers=member.headers,
                             json={"first_name": "Ana", "fields": fields, **extra})


async def test_template_brings_its_rules(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    cbu = await field(client, owner, template_code="CBU_ARG")
    assert cbu["code"] == "CBU_ARG" and cbu["name"] == "CBU (Argentina)"
    assert [r["type"] for r in cbu["rules"]] == ["CHECKSUM"]
    ok = await post_lead(client, owner, {"CBU_ARG": VALID_CBU})
    assert ok.status_code == 201, ok.text
    assert ok.json()["fields"] == {"CBU_ARG": VALID_CBU}
    bad = await post_lead(client, owner, {"CBU_ARG": BAD_CBU})
    assert bad.status_code == 422
    assert bad.json()["code"] == "INVALID_FIELD_VALUE"
    assert bad.json()["errors"][0]["field"] == "fields.CBU_ARG"
    assert bad.json()["errors"][0]["rule"] == "checksum"
    named = await field(client, owner, template_code="PATENTE_ARG", name="Patente")
    assert named["code"] == "Patente"


async def test_templates_catalog(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    resp = await client.get("/api/v1/field-templates", headers=owner.headers)
    codes = {t["code"] for t in resp.json()}
    assert codes >= {"EMAIL", "FIRST_NAME", "LAST_NAME", "FULL_NAME", "PHONE", "BIRTH_DATE",
                     "AGE", "URL", "INSTAGRAM", "POSTAL_CODE", "DNI_ARG", "CUIT_ARG",
                     "CUIL_ARG", "CBU_ARG", "PATENTE_ARG", "CPF_BR", "CNPJ_BR", "RUT_CL",
                     "CURP_MX", "RFC_MX"}
    resp = await client.post("/api/v1/fields", headers=owner.headers,
                             json={"template_code": "NOPE"})
    assert resp.status_code == 422 and resp.json()["code"] == "TEMPLATE_NOT_FOUND"


async def test_mask_types_and_errors_name_every_field(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    await field(client, owner, name="Patente", type="STRING", input_mask="AAA-###")
    await field(client, owner, name="Edad", type="INT", required=True)
    await field(client, owner, name="Alta", type="DATE")
    await field(client, owner, name="Activo", type="BOOL", default_value="si")
    ok = await post_lead(client, owner, {"Patente": "ABC-123", "Edad": "42",
                                         "Alta": "2026-01-31"})
    assert ok.status_code == 201, ok.text
    assert ok.json()["fields"] == {"Patente": "ABC-123", "Edad": 42, "Alta": "2026-01-31",
                                   "Activo": True}
    bad = await post_lead(client, owner, {"Patente": "AB-1234", "Edad": "4.5",
                                          "Alta": "31/01/2026", "Nope": 1})
    assert bad.status_code == 422
    errors = {e["field"]: e["rule"] for e in bad.json()["errors"]}
    assert errors == {"fields.Patente": "input_mask", "fields.Edad": "type",
                      "fields.Alta": "type", "fields.Nope": "unknown_field"}
    missing = await post_lead(client, owner, {})
    assert missing.status_code == 422
    assert missing.json()["errors"] == [{"field": "fields.Edad", "message": "is required",
                                         "rule": "required"}]
    listing = await client.get("/api/v1/leads", headers=owner.headers)
    assert listing.json()["total"] == 1  # nothing written by the failures


async def test_calculated_fields(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    await field(client, owner, name="Cantidad", type="INT")
    await field(client, owner, name="Precio", type="DECIMAL")
    await field(client, owner, name="Total", type="CALCULATED",
                calculation_expression="Cantidad * Precio")
    await field(client, owner, name="Con IVA", type="CALCULATED",
                calculation_expression="ROUND(Total*1.21,2)")
    resp = await post_lead(client, owner, {"Cantidad": "3", "Precio": "4.5"})
    assert resp.status_code == 201, resp.text
    assert resp.json()["fields"]["Total"] == 13.5
    assert resp.json()["fields"]["Con_IVA"] == 16.34
    lead = resp.json()
    patched = await client.patch(f"/api/v1/leads/{lead['id']}", headers=owner.headers,
                                 json={"fields": {"Cantidad": 10}})
    assert patched.json()["fields"]["Total"] == 45 and patched.json()["fields"]["Precio"] == "4.5"
    sent = await post_lead(client, owner, {"Total": 1})
    assert sent.status_code == 422 and sent.json()["errors"][0]["rule"] == "calculated"
    cycle = await client.post("/api/v1/fields", headers=owner.headers, json={
        "name": "Loop", "type": "CALCULATED", "calculation_expression": "Loop2 + 1"})
    assert cycle.status_code == 422 and cycle.json()["code"] == "FORMULA_UNKNOWN_REFERENCE"
    await field(client, owner, name="A1x", type="CALCULATED", calculation_expression="Precio+1")
    resp = await client.patch(f"/api/v1/fields/{(await _field_by_code(client, owner, 'A1x'))}",
                              headers=owner.headers,
                              json={"calculation_expression": "Con_IVA + A1x"})
    assert resp.status_code == 422 and resp.json()["code"] in ("FORMULA_CYCLE",
                                                                "FORMULA_SELF_REFERENCE")


async def _field_by_code(client: httpx.AsyncClient, owner: Member, code: str) -> str:
    resp = await client.get("/api/v1/fields?per_page=200", headers=owner.headers)
    return next(f["id"] for f in resp.json()["data"] if f["code"] == code)


async def test_primary_values_are_unique_per_list(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    await field(client, owner, template_code="DNI_ARG", is_primary=True)
    first = await post_lead(client, owner, {"DNI_ARG": "30.123.456"})
    assert first.status_code == 201 and first.json()["fields"]["DNI_ARG"] == "30123456"
    dup = await post_lead(client, owner, {"DNI_ARG": "30123456"})
    assert dup.status_code == 409
    assert dup.json()["code"] == "DUPLICATE_FIELD_VALUE"
    assert dup.json()["existing_id"] == first.json()["id"]
    results = await asyncio.gather(*[post_lead(client, owner, {"DNI_ARG": "27111222"})
                                     for _ in range(3)])
    assert sorted(r.status_code for r in results) == [201, 409, 409]


async def test_delete_is_hard_then_soft(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    early = await field(client, owner, name="Early", type="STRING")
    gone = await client.delete(f"/api/v1/fields/{early['id']}", headers=owner.headers)
    assert gone.json()["result"] == "deleted"
    assert (await client.get(f"/api/v1/fields/{early['id']}",
                             headers=owner.headers)).status_code == 404
    color = await field(client, owner, name="Color", type="STRING")
    lead = (await post_lead(client, owner, {"Color": "rojo"})).json()
    soft = await client.delete(f"/api/v1/fields/{color['id']}", headers=owner.headers)
    assert soft.json()["result"] == "deactivated"
    assert (await post_lead(client, owner, {"Color": "azul"})).status_code == 422
    kept = await client.get(f"/api/v1/leads/{lead['id']}", headers=owner.headers)
    assert kept.json()["fields"] == {"Color": "rojo"}
    restored = await client.post(f"/api/v1/fields/{color['id']}/restore", headers=owner.headers)
    assert restored.json()["active"] is True
    assert (await post_lead(client, owner, {"Color": "azul"})).status_code == 201


async def test_definition_errors(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    cases = [
        ({"name": "X"}, "FIELD_ATTRIBUTE_REQUIRED"),
        ({"name": "X", "type": "SELECTOR", "subtype": "SELECTOR_SINGLE"}, "CODE_LIST_REQUIRED"),
        ({"name": "X", "type": "SELECTOR"}, "SUBTYPE_REQUIRED"),
        ({"name": "X", "type": "LEAD"}, "RELATED_LIST_REQUIRED"),
        ({"name": "X", "type": "INT", "input_mask": "###"}, "INVALID_FIELD_DEFINITION"),
        ({"name": "X", "type": "CALCULATED"}, "EXPRESSION_REQUIRED"),
        ({"name": "X", "type": "INT", "default_value": "abc"}, "INVALID_FIELD_DEFINITION"),
        ({"name": "X", "type": "WHATEVER"}, "VALIDATION_ERROR"),
        ({"name": "X", "type": "STRING", "tenant_id": "x"}, "VALIDATION_ERROR"),
        ({"name": "X", "type": "STRING", "code": "1bad"}, "VALIDATION_ERROR"),
    ]
    for body, code in cases:
        resp = await client.post("/api/v1/fields", headers=owner.headers, json=body)
        assert resp.status_code == 422, body
        assert resp.json()["code"] == code, (body, resp.json())
    await field(client, owner, name="Dup", type="STRING")
    resp = await client.post("/api/v1/fields", headers=owner.headers,
                             json={"name": "dup", "type": "INT"})
    assert resp.status_code == 409 and resp.json()["code"] == "FIELD_CODE_TAKEN"


async def test_rules_api(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    code = await field(client, owner, name="Codigo", type="STRING")
    rule = await client.post("/api/v1/validation-rules", headers=owner.headers, json={
        "field_id": code["id"], "type": "REGEX", "value": "^[A-Z]{3}$",
        "message": "Tres mayúsculas"})
    assert rule.status_code == 201, rule.text
    bad = await post_lead(client, owner, {"Codigo": "ab"})
    assert bad.json()["errors"][0]["message"] == "Tres mayúsculas"
    for body in ({"type": "REGEX", "value": "("}, {"type": "MIN_LENGTH", "value": -1},
                 {"type": "CHECKSUM", "value": "NOPE"}, {"type": "ONE_OF", "value": []},
                 {"type": "MIN_DATE", "value": "yesterday"}):
        resp = await client.post("/api/v1/validation-rules", headers=owner.headers,
                                 json={"field_id": code["id"], **body})
        assert resp.status_code == 422, body
        assert resp.json()["code"] == "INVALID_RULE"
    await client.delete(f"/api/v1/validation-rules/{rule.json()['id']}", headers=owner.headers)
    assert (await post_lead(client, owner, {"Codigo": "ab"})).status_code == 201


async def test_lead_relation_and_list_moves(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    lead = await make_lead(client, owner)
    default_list = lead["list_id"]
    rel = await field(client, owner, name="Referido", type="LEAD", related_list_id=default_list)
    ok = await post_lead(client, owner, {"Referido": lead["id"]})
    assert ok.status_code == 201, ok.text
    stranger = await make_workspace(client)
    theirs = await make_lead(client, stranger)
    bad = await post_lead(client, owner, {"Referido": theirs["id"]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["rule"] == "related_lead"
    assert rel["related_list_id"] == default_list


async def test_schema_is_per_workspace_and_admin_only(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    manager = await add_member(client, owner, "manager")
    created = await field(client, owner, name="Secreto", type="STRING")
    stranger = await make_workspace(client)
    assert (await client.get(f"/api/v1/fields/{created['id']}",
                             headers=stranger.headers)).status_code == 404
    assert (await client.delete(f"/api/v1/fields/{created['id']}",
                                headers=stranger.headers)).status_code == 404
    resp = await client.post("/api/v1/fields", headers=manager.headers,
                             json={"name": "M", "type": "STRING"})
    assert resp.status_code == 403
    assert (await client.get("/api/v1/fields", headers=manager.headers)).status_code == 200
    assert (await post_lead(client, stranger, {"Secreto": "x"})).status_code == 422


async def test_formulas_over_dates_and_text(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    await field(client, owner, name="Nacimiento", type="DATE")
    await field(client, owner, name="Nombre", type="STRING")
    await field(client, owner, name="Apellido", type="STRING")
    await field(client, owner, name="Anio", type="CALCULATED",
                calculation_expression="YEAR(Nacimiento)")
    await field(client, owner, name="Completo", type="CALCULATED",
                calculation_expression='Nombre&" "&Apellido')
    await field(client, owner, name="Edad", type="INT")
    await field(client, owner, name="Mayor", type="CALCULATED",
                calculation_expression='IF(Edad>=18,"adulto","menor")')
    resp = await post_lead(client, owner, {"Nacimiento": "1990-05-17", "Nombre": "Ana",
                                           "Apellido": "López", "Edad": 17})
    assert resp.status_code == 201, resp.text
    values = resp.json()["fields"]
    assert values["Anio"] == 1990
    assert values["Completo"] == "Ana López"
    assert values["Mayor"] == "menor"


async def test_filter_and_sort_on_custom_fields(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    await field(client, owner, name="Edad", type="INT")
    await field(client, owner, name="Precio", type="DECIMAL")
    await field(client, owner, name="Alta", type="DATE")
    await field(client, owner, name="Ciudad", type="STRING")
    await field(client, owner, name="Doble", type="CALCULATED",
                calculation_expression="Edad*2")
    rows = [(30, "10.5", "2026-01-10", "Rosario"), (18, "7", "2025-12-31", "Córdoba"),
            (45, "100", "2026-03-01", "Rosario"), (None, None, None, "Salta")]
    ids = []
    for edad, precio, alta, ciudad in rows:
        values = {"Ciudad": ciudad, "Edad": edad, "Precio": precio, "Alta": alta}
        resp = await post_lead(client, owner, {k: v for k, v in values.items() if v})
        assert resp.status_code == 201, resp.text
        ids.append(resp.json()["id"])

    async def found(query: str) -> list[str]:
        resp = await client.get(f"/api/v1/leads?{query}", headers=owner.headers)
        assert resp.status_code == 200, resp.text
        return [r["id"] for r in resp.json()["data"]]

    assert set(await found("fields.Ciudad=Rosario")) == {ids[0], ids[2]}
    assert set(await found("fields.Ciudad=Salta,Córdoba")) == {ids[1], ids[3]}
    assert await found("fields.Edad=18") == [ids[1]]
    assert set(await found("fields.Edad_gte=30")) == {ids[0], ids[2]}
    assert set(await found("fields.Precio_lte=10.5")) == {ids[0], ids[1]}
    assert set(await found("fields.Alta_gte=2026-01-01&fields.Alta_lte=2026-02-01")) == {ids[0]}
    assert await found("fields.Doble_gte=80") == [ids[2]]
    assert await found("sort=fields.Edad&per_page=10") == [ids[1], ids[0], ids[2], ids[3]]
    assert await found("sort=-fields.Precio") == [ids[2], ids[0], ids[1], ids[3]]
    walked, cursor = [], None
    for _ in range(5):
        query = "sort=fields.Edad&per_page=1" + (f"&cursor={cursor}" if cursor else "")
        body = (await client.get(f"/api/v1/leads?{query}", headers=owner.headers)).json()
        walked += [r["id"] for r in body["data"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert walked == [ids[1], ids[0], ids[2], ids[3]]
    # A later page asks the planner for an estimate of the filtered total (JSONB values).
    second = await client.get("/api/v1/leads?fields.Ciudad=Rosario&per_page=1&page=2",
                              headers=owner.headers)
    assert second.status_code == 200, second.text
    assert second.json()["total"] == 2 and len(second.json()["data"]) == 1
    for query, code in (("fields.Nope=1", "UNKNOWN_FIELD"), ("fields.Edad=abc", "INVALID_FILTER"),
                        ("fields.Ciudad_gte=a", "INVALID_FILTER"), ("sort=fields.Nope",
                                                                    "UNKNOWN_FIELD")):
        resp = await client.get(f"/api/v1/leads?{query}", headers=owner.headers)
        assert resp.status_code == 422, query
        assert resp.json()["code"] == code, query


async def test_code_list_fields(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    resp = await client.post("/api/v1/code-lists", headers=owner.headers, json={
        "name": "Intereses", "items": [{"code": "auto", "label": "Auto"},
                                       {"code": "moto", "label": "Moto"},
                                       {"code": "casa", "label": "Casa"}]})
    assert resp.status_code == 201, resp.text
    code_list = resp.json()
    await field(client, owner, name="Intereses", type="SELECTOR", subtype="SELECTOR_MULTIPLE",
                code_list_id=code_list["id"])
    await field(client, owner, name="Principal", type="SELECTOR", subtype="SELECTOR_SINGLE",
                code_list_id=code_list["id"])
    await field(client, owner, name="Acepta", type="CHECKBOX")
    ok = await post_lead(client, owner, {"Intereses": ["auto", "casa", "auto"],
                                         "Principal": "moto", "Acepta": "si"})
    assert ok.status_code == 201, ok.text
    assert ok.json()["fields"] == {"Intereses": ["auto", "casa"], "Principal": "moto",
                                   "Acepta": True}
    bad = await post_lead(client, owner, {"Intereses": ["barco"], "Principal": ["auto", "moto"]})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"fields.Intereses", "fields.Principal"}
    # Deactivating an item (used by a field) takes effect at once.
    casa = next(i for i in code_list["items"] if i["code"] == "casa")
    resp = await client.patch(f"/api/v1/code-lists/{code_list['id']}/items/{casa['id']}",
                              headers=owner.headers, json={"active": False})
    assert resp.status_code == 200, resp.text
    assert (await post_lead(client, owner, {"Principal": "casa"})).status_code == 422
    other = await post_lead(client, owner, {"Intereses": ["moto"]})
    listing = await client.get("/api/v1/leads?fields.Intereses=casa", headers=owner.headers)
    assert [r["id"] for r in listing.json()["data"]] == [ok.json()["id"]]
    listing = await client.get("/api/v1/leads?fields.Intereses=moto,casa", headers=owner.headers)
    assert {r["id"] for r in listing.json()["data"]} == {ok.json()["id"], other.json()["id"]}


async def test_fields_of_a_deleted_list_are_out_of_sight(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    made = await client.post("/api/v1/lists", headers=owner.headers, json={"name": "Old"})
    assert made.status_code == 201, made.text
    old = made.json()
    gone = await field(client, owner, name="Legacy code", type="STRING", list_id=old["id"])
    kept = await field(client, owner, name="Budget", type="DECIMAL")
    deleted = await client.delete(f"/api/v1/lists/{old['id']}", headers=owner.headers)
    assert deleted.status_code == 204, deleted.text
    listing = await client.get("/api/v1/fields", headers=owner.headers)
    ids = {f["id"] for f in listing.json()["data"]}
    assert kept["id"] in ids and gone["id"] not in ids
    assert listing.json()["total"] == len(ids)
    missing = await client.get(f"/api/v1/fields/{gone['id']}", headers=owner.headers)
    assert missing.status_code == 404 and missing.json()["code"] == "FIELD_NOT_FOUND"
    compat = await client.get(f"/compat/fields/lead_fields/{gone['number']}",
                              headers=owner.headers)
    assert compat.status_code == 404


async def test_a_catastrophic_pattern_is_cut_short(client: httpx.AsyncClient) -> None:
    """A workspace's own REGEX rule runs with a time limit: a value that makes the pattern
    backtrack for ages answers 422 quickly instead of stalling the server."""
    owner = await make_workspace(client)
    code = await field(client, owner, name="Ref", type="STRING")
    rule = await client.post("/api/v1/validation-rules", headers=owner.headers, json={
        "field_id": code["id"], "type": "REGEX", "value": r"^(a|aa)+$",
        "message": "only a's"})
    assert rule.status_code == 201, rule.text
    assert (await post_lead(client, owner, {"Ref": "aaaa"})).status_code == 201
    slow = await post_lead(client, owner, {"Ref": "a" * 40 + "!"})
    assert slow.status_code == 422, slow.text
    assert slow.json()["errors"][0]["rule"] == "regex_timeout"
    bad = await client.post("/api/v1/validation-rules", headers=owner.headers, json={
        "field_id": code["id"], "type": "REGEX", "value": "(unclosed"})
    assert bad.status_code == 422
