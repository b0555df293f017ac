"""GET /api/v1/leads/export: CSV and XLSX content, types, formula neutralisation,
filters and visibility."""

from __future__ import annotations

import io
from datetime import date, datetime

import httpx
from fastapi import FastAPI
from python_calamine import CalamineWorkbook
from sqlalchemy import text

from leadbase.db.session import Database
from tests.exports.conftest import Shop, add_field, read_csv
from tests.factories import add_member, make_lead, make_workspace

CORE = ["id", "number", "list_id", "first_name", "last_name", "email", "phone", "company",
        "job_title", "source", "status", "score", "temperature", "owner_id", "tags", "notes",
        "do_not_contact", "consent", "timezone", "country", "last_contacted_at",
        "created_at", "updated_at"]


async def test_csv_has_core_then_custom_columns_by_label(client: httpx.AsyncClient,
                                                          shop: Shop) -> None:
    resp = await client.get("/api/v1/leads/export", headers=shop.owner.headers)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/csv")
    assert "attachment" in resp.headers["content-disposition"]
    rows = read_csv(resp.content)
    assert list(rows[0]) == [*CORE, "Edad", "Precio", "Alta", "Visto", "Activo",
                             "Patente del auto"]
    assert len(rows) == 3
    zoe = next(r for r in rows if r["first_name"] == "Zoë")
    assert zoe["last_name"] == "Núñez"
    assert zoe["phone"] == "+14155552671"  # a phone is not a formula: left as it is
    assert zoe["tags"] == "vip,buyer"
    assert zoe["Edad"] == "42" and zoe["Precio"] == "12.5" and zoe["Alta"] == "2026-01-15"
    assert zoe["Visto"] == "2026-02-01T10:30:00Z" and zoe["Activo"] == "true"
    assert zoe["Patente del auto"] == "ABC-123"
    assert zoe["do_not_contact"] == "false"
    assert zoe["created_at"].endswith("Z")
    lead = next(lead for lead in shop.leads if lead["first_name"] == "Zoë")
    assert zoe["id"] == lead["id"] and zoe["number"] == str(lead["number"])


async def test_codes_as_headers(client: httpx.AsyncClient, shop: Shop) -> None:
    resp = await client.get("/api/v1/leads/export?headers=codes", headers=shop.owner.headers)
    rows = read_csv(resp.content)
    assert list(rows[0])[len(CORE):] == ["fields.Edad", "fields.Precio", "fields.Alta",
                                         "fields.Visto", "fields.Activo", "fields.Patente"]


async def test_formulas_are_neutralised_in_csv(client: httpx.AsyncClient, shop: Shop) -> None:
    rows = read_csv((await client.get("/api/v1/leads/export?status=contacted",
                                      headers=shop.owner.headers)).content)
    assert len(rows) == 1
    row = rows[0]
    assert row["first_name"] == "'=HYPERLINK(\"http://x\")"
    assert row["last_name"] == "'@SUM(A1)"
    assert row["company"] == "'+cmd|' /C calc'!A0"
    assert row["job_title"] == "'-2+3"
    assert row["Patente del auto"] == "'=1+1"
    assert row["Edad"] == "18"


async def test_xlsx_cells_are_typed_and_never_formulas(client: httpx.AsyncClient,
                                                       shop: Shop) -> None:
    resp = await client.get("/api/v1/leads/export?format=xlsx", headers=shop.owner.headers)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = CalamineWorkbook.from_filelike(io.BytesIO(resp.content))
    assert book.sheet_names == ["Leads"]
    rows = book.get_sheet_by_index(0).to_python()
    header, body = rows[0], rows[1:]
    assert header[:len(CORE)] == CORE and len(body) == 3
    by_name = {r[header.index("first_name")]: dict(zip(header, r, strict=True)) for r in body}
    zoe = by_name["Zoë"]
    assert zoe["Edad"] == 42 and zoe["Precio"] == 12.5
    assert zoe["Alta"] == date(2026, 1, 15)
    assert zoe["Visto"] == datetime(2026, 2, 1, 10, 30)
    assert zoe["Activo"] is True
    assert isinstance(zoe["created_at"], datetime)
    assert isinstance(zoe["number"], float | int) and zoe["score"] == 0
    assert zoe["phone"] == "+14155552671"
    evil = by_name["'=HYPERLINK(\"http://x\")"]
    assert evil["last_name"] == "'@SUM(A1)" and evil["company"] == "'+cmd|' /C calc'!A0"
    assert evil["Patente del auto"] == "'=1+1"
    assert by_name["Plain"]["Edad"] == ""


async def test_filters_are_those_of_the_list(client: httpx.AsyncClient, shop: Shop) -> None:
    h = shop.owner.headers
    cases = {
        "status=new,lost": {"Zoë", "Plain"},
        "tags=vip": {"Zoë"},
        "q=nunez": {"Zoë"},
        "fields.Edad_gte=20": {"Zoë"},
        "fields.Edad=18": {"'=HYPERLINK(\"http://x\")"},
    }
    for query, names in cases.items():
        resp = await client.get(f"/api/v1/leads/export?{query}", headers=h)
        assert resp.status_code == 200, (query, resp.text)
        assert {r["first_name"] for r in read_csv(resp.content)} == names, query
    bad = await client.get("/api/v1/leads/export?status=nope", headers=h)
    assert bad.status_code == 422 and bad.json()["code"] == "INVALID_FILTER"
    unknown = await client.get("/api/v1/leads/export?fields.Nope=1", headers=h)
    assert unknown.status_code == 422 and unknown.json()["code"] == "UNKNOWN_FIELD"
    fmt = await client.get("/api/v1/leads/export?format=pdf", headers=h)
    assert fmt.status_code == 422
    log = (await client.get("/api/v1/audit-log?action=leads.exported&per_page=50",
                            headers=h)).json()
    assert {"format": "csv", "filters": ["fields.Edad_gte"]} in [e["changes"]
                                                                for e in log["data"]]


async def test_deleted_leads_only_when_asked(client: httpx.AsyncClient, shop: Shop) -> None:
    h = shop.owner.headers
    gone = shop.leads[2]
    assert (await client.delete(f"/api/v1/leads/{gone['id']}", headers=h)).status_code == 204
    live = read_csv((await client.get("/api/v1/leads/export", headers=h)).content)
    assert gone["id"] not in {r["id"] for r in live} and "deleted_at" not in live[0]
    dead = read_csv((await client.get("/api/v1/leads/export?only_deleted=true",
                                      headers=h)).content)
    assert [r["id"] for r in dead] == [gone["id"]] and dead[0]["deleted_at"].endswith("Z")


async def test_agents_export_their_own_leads_and_tenants_are_apart(
        client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    viewer = await add_member(client, owner, "viewer")
    mine = await make_lead(client, agent, first_name="Mine")
    await make_lead(client, owner, first_name="Theirs")
    other = await make_workspace(client)
    await make_lead(client, other, first_name="Elsewhere")
    agent_rows = read_csv((await client.get("/api/v1/leads/export",
                                            headers=agent.headers)).content)
    assert [r["id"] for r in agent_rows] == [mine["id"]]
    # An agent asking for someone else's leads still gets only theirs.
    resp = await client.get(f"/api/v1/leads/export?owner_id={owner.user_id}",
                            headers=agent.headers)
    assert read_csv(resp.content) == []
    viewer_rows = read_csv((await client.get("/api/v1/leads/export",
                                             headers=viewer.headers)).content)
    assert {r["first_name"] for r in viewer_rows} == {"Mine", "Theirs"}
    assert (await client.get("/api/v1/leads/export")).status_code == 401


async def test_export_is_not_taken_for_a_lead_id(client: httpx.AsyncClient, shop: Shop) -> None:
    resp = await client.get("/api/v1/leads/export?format=csv", headers=shop.owner.headers)
    assert resp.status_code == 200
    lead = shop.leads[0]
    got = await client.get(f"/api/v1/leads/{lead['id']}", headers=shop.owner.headers)
    assert got.status_code == 200


async def test_tab_and_cr_are_neutralised(client: httpx.AsyncClient, shop: Shop,
                                          db: Database) -> None:
    """The API strips surrounding whitespace, but imports or old data may hold it."""
    lead = shop.leads[2]
    async with db.transaction(shop.owner.tenant_id) as session:
        await session.execute(text(
            "UPDATE leads SET notes = E'\\tTabbed', source = E'\\rcr', "
            "fields = fields || '{\"Patente\": \"@x\"}' WHERE id = :id"),
            {"id": lead["id"]})
    rows = read_csv((await client.get("/api/v1/leads/export?status=lost",
                                      headers=shop.owner.headers)).content)
    assert rows[0]["notes"] == "'\tTabbed" and rows[0]["source"] == "'\rcr"
    assert rows[0]["Patente del auto"] == "'@x"
    resp = await client.get("/api/v1/leads/export?status=lost&format=xlsx",
                            headers=shop.owner.headers)
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(resp.content)).get_sheet_by_index(0)
    header, row = sheet.to_python()
    by = dict(zip(header, row, strict=True))
    assert by["notes"] == "'\tTabbed" and by["Patente del auto"] == "'@x"
    assert by["source"] in ("'\rcr", "'\ncr")  # readers may normalise a lone CR


async def test_columns_across_lists(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    h = owner.headers
    other = (await client.post("/api/v1/lists", headers=h, json={"name": "Autos"})).json()
    await add_field(client, owner, name="Zeta", type="STRING")  # default list
    await add_field(client, owner, name="Alfa", type="INT", list_id=other["id"])
    await add_field(client, owner, name="Zeta", type="STRING", list_id=other["id"])
    await make_lead(client, owner, first_name="Def", fields={"Zeta": "d"})
    await make_lead(client, owner, first_name="Car", list_id=other["id"],
                    fields={"Alfa": 3, "Zeta": "c"})
    rows = read_csv((await client.get("/api/v1/leads/export", headers=h)).content)
    assert list(rows[0])[len(CORE):] == ["Zeta", "Alfa"]  # default list first; one Zeta
    by = {r["first_name"]: r for r in rows}
    assert (by["Def"]["Zeta"], by["Def"]["Alfa"]) == ("d", "")
    assert (by["Car"]["Zeta"], by["Car"]["Alfa"]) == ("c", "3")
    only = read_csv((await client.get(f"/api/v1/leads/export?list_id={other['id']}",
                                      headers=h)).content)
    assert list(only[0])[len(CORE):] == ["Alfa", "Zeta"] and len(only) == 1


def test_openapi_lists_the_routes(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    for path in ("/api/v1/leads/export", "/api/v1/leads/bulk", "/api/v1/leads/bulk/{bulk_id}",
                 "/api/v1/exports", "/api/v1/exports/{export_id}",
                 "/api/v1/exports/{export_id}/download"):
        assert path in paths, path
