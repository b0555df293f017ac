"""Importing files through the API: buckets, duplicates, merges, dry runs, custom
fields, owners, mappings and the rows that were not imported."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx

from leadbase.config import Settings
from leadbase.db.session import Database
from tests.exports.conftest import add_field
from tests.factories import add_member, make_lead, make_workspace
from tests.imports.conftest import errors, import_file, leads, upload


def _csv(rows: list[list[str]], delimiter: str = ",") -> bytes:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buf.getvalue().encode()


def _sums(job: dict[str, Any]) -> int:
    return int(job["created"] + job["updated"] + job["skipped_duplicate"] + job["invalid"])


async def test_every_row_lands_in_one_bucket(client: httpx.AsyncClient, db: Database,
                                             settings: Settings) -> None:
    owner = await make_workspace(client, "Buckets")
    await make_lead(client, owner, first_name="Old", email="old@example.com",
                    phone="+14155550100")
    content = _csv([
        ["First Name", "Last Name", "E-mail", "Phone", "Company", "Tags", "Status", "Ciudad"],
        ["Ana", "García", "ana@example.com", "415-555-2672", "Acme", "vip;buyer", "nuevo",
         "Madrid"],
        ["Ben", "", "ben@", "(415) 555-2673", "", "", "", ""],          # invalid email
        ["Cy", "", "", "12", "", "", "", ""],                            # invalid phone
        ["Di", "", "ANA@example.com", "", "", "", "", ""],               # duplicate of line 2
        ["Ed", "", "", "(415) 555-0100", "", "", "", ""],                # existing lead
        ["", "", "", "", "", "", "", ""],                                # blank: not a row
        ["Flo", "Núñez", "flo@example.com", "+34 612 345 678", "", "", "qualified", ""],
        ["", "", "", "", "Only a company", "", "", ""],                  # no identity
        ["Gus", "", "gus@example.com", "", "", "", "maybe", ""],          # bad status
    ])
    job = await import_file(client, owner, db, settings, content)
    assert job["status"] == "completed", job
    assert job["total_rows"] == job["processed_rows"] == 8
    assert (job["created"], job["updated"], job["skipped_duplicate"], job["invalid"]) == \
        (2, 0, 2, 4)
    assert _sums(job) == job["total_rows"] and job["progress"] == 1.0
    assert job["detected"]["columns"]["Ciudad"] == "metadata.Ciudad"
    assert job["detected"]["delimiter"] == "," and job["detected"]["encoding"] == "utf-8"
    got = {lead["first_name"]: lead for lead in await leads(client, owner)}
    assert set(got) == {"Old", "Ana", "Flo"}
    ana = got["Ana"]
    assert ana["phone"] == "+14155552672" and ana["timezone"] == "America/Los_Angeles"
    assert ana["tags"] == ["vip", "buyer"] and ana["status"] == "new"
    assert ana["metadata"] == {"Ciudad": "Madrid"} and ana["source"] == "import"
    assert got["Flo"]["phone"] == "+34612345678" and got["Flo"]["country"] == "ES"
    problems = {e["line"]: e for e in await errors(client, owner, job)}
    assert sorted(problems) == [3, 4, 5, 6, 9, 10]
    assert problems[3]["code"] == "INVALID_EMAIL" and problems[3]["column"] == "E-mail"
    assert problems[3]["values"]["First Name"] == "Ben"
    assert problems[4]["code"] == "INVALID_PHONE"
    assert problems[5]["code"] == "DUPLICATE_IN_FILE"
    assert problems[5]["errors"][0]["duplicate_of_line"] == 2
    assert problems[6]["code"] == "DUPLICATE_LEAD" and problems[6]["bucket"] == \
        "skipped_duplicate"
    assert problems[6]["errors"][0]["existing_id"] == got["Old"]["id"]
    assert problems[9]["code"] == "LEAD_IDENTITY_REQUIRED"
    assert problems[10]["code"] == "INVALID_STATUS" and problems[10]["column"] == "Status"
    only = await errors(client, owner, job, bucket="skipped_duplicate")
    assert [e["line"] for e in only] == [5, 6]


async def test_delimiters_encodings_and_quoted_newlines(client: httpx.AsyncClient,
                                                        db: Database,
                                                        settings: Settings) -> None:
    owner = await make_workspace(client, "Encodings")
    rows = [["Nombre", "Apellido", "Correo electrónico", "Teléfono", "Notas"],
            ["José", "Muñoz", "jose@example.com", "415-555-2672", "línea 1\nlínea 2"],
            ["Iñés", "Peña", "ines@example.com", "(415) 555-2673", "sí; no | tal vez"]]
    cases = [(",", "utf-8"), (";", "utf-8-sig"), ("\t", "utf-16"), ("|", "cp1252"),
             (";", "latin-1")]
    for delimiter, encoding in cases:
        text = io.StringIO()
        csv.writer(text, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
        content = text.getvalue().encode(encoding)
        job = await import_file(client, owner, db, settings, content,
                                on_duplicate="create")
        assert job["status"] == "completed", (delimiter, encoding, job)
        assert job["created"] == 2, (delimiter, encoding, job)
        assert job["detected"]["delimiter"] == delimiter, (encoding, job["detected"])
    created = await leads(client, owner)
    assert len(created) == 2 * len(cases)
    for lead in created:
        assert lead["first_name"] in ("José", "Iñés"), lead
        assert lead["last_name"] in ("Muñoz", "Peña")
    assert {lead["notes"] for lead in created} == {"línea 1\nlínea 2", "sí; no | tal vez"}


async def test_utf16_without_bom_and_crlf(client: httpx.AsyncClient, db: Database,
                                          settings: Settings) -> None:
    owner = await make_workspace(client, "UTF16")
    content = "email,first_name\r\nzoe@example.com,Zoë\r\n".encode("utf-16-le")
    job = await import_file(client, owner, db, settings, content)
    assert job["created"] == 1 and job["detected"]["encoding"] == "utf-16-le"
    assert (await leads(client, owner))[0]["first_name"] == "Zoë"


async def test_old_mac_line_ends(client: httpx.AsyncClient, db: Database,
                                 settings: Settings) -> None:
    owner = await make_workspace(client, "Old Mac")
    content = "Nombre;Email\rPeña;pena@example.com\rRuiz;ruiz@example.com\r".encode("cp1252")
    job = await import_file(client, owner, db, settings, content)
    assert job["created"] == 2 and job["detected"]["encoding"] == "cp1252", job
    assert sorted(x["first_name"] for x in await leads(client, owner)) == ["Peña", "Ruiz"]


async def test_header_synonyms_english_and_spanish(client: httpx.AsyncClient, db: Database,
                                                   settings: Settings) -> None:
    owner = await make_workspace(client, "Synonyms")
    manager = await add_member(client, owner, "manager")
    content = _csv([
        ["Nombre completo", "Correo", "Celular", "Empresa", "Cargo", "Fuente", "Etiquetas",
         "Comentarios", "Asignado a", "No contactar", "Consentimiento"],
        ["María José López", "mj@example.com", "4155552672", "Acme", "CEO", "feria",
         "a,b", "hola", manager.email, "sí", "no"],
    ])
    job = await import_file(client, owner, db, settings, content)
    assert job["created"] == 1, job
    assert job["detected"]["columns"] == {
        "Nombre completo": "full_name", "Correo": "email", "Celular": "phone",
        "Empresa": "company", "Cargo": "job_title", "Fuente": "source", "Etiquetas": "tags",
        "Comentarios": "notes", "Asignado a": "owner", "No contactar": "do_not_contact",
        "Consentimiento": "consent"}
    lead = (await leads(client, owner))[0]
    assert (lead["first_name"], lead["last_name"]) == ("María", "José López")
    assert lead["owner_id"] == str(manager.user_id) and lead["do_not_contact"] is True
    assert lead["consent"] is False and lead["source"] == "feria"
    assert lead["tags"] == ["a", "b"] and lead["job_title"] == "CEO"


async def test_explicit_mapping_wins(client: httpx.AsyncClient, db: Database,
                                     settings: Settings) -> None:
    owner = await make_workspace(client, "Mapping")
    content = _csv([["col1", "col2", "col3", "Email"],
                    ["x@example.com", "Xavier", "keep me", "not used"]])
    job = await import_file(client, owner, db, settings, content, mapping=(
        '{"col1": "email", "col2": "first_name", "col3": "metadata.origen", '
        '"Email": "ignore"}'))
    assert job["created"] == 1, job
    lead = (await leads(client, owner))[0]
    assert lead["email"] == "x@example.com" and lead["first_name"] == "Xavier"
    assert lead["metadata"] == {"origen": "keep me"}


async def test_on_duplicate_update_merges_and_counts_unchanged(
        client: httpx.AsyncClient, db: Database, settings: Settings) -> None:
    owner = await make_workspace(client, "Merge")
    first = await make_lead(client, owner, first_name="Ana", email="ana@example.com",
                            tags=["old"], metadata={"a": 1}, company="Old Co")
    same = await make_lead(client, owner, first_name="Same", email="same@example.com")
    content = _csv([["email", "first_name", "company", "tags", "Extra"],
                    ["ana@example.com", "", "New Co", "new", "x"],
                    ["same@example.com", "Same", "", "", ""],
                    ["new@example.com", "Nuevo", "", "", ""]])
    job = await import_file(client, owner, db, settings, content, on_duplicate="update",
                            tags="imported")
    assert (job["created"], job["updated"], job["unchanged"]) == (1, 2, 0), job
    got = {lead["email"]: lead for lead in await leads(client, owner)}
    ana = got["ana@example.com"]
    assert ana["id"] == first["id"] and ana["first_name"] == "Ana"  # empty cells keep values
    assert ana["company"] == "New Co" and ana["tags"] == ["old", "new", "imported"]
    assert ana["metadata"] == {"a": 1, "Extra": "x"} and ana["version"] == 2
    assert got["same@example.com"]["tags"] == ["imported"]
    assert got["new@example.com"]["tags"] == ["imported"]
    # The same file again, without the job's tags: nothing changes.
    again = await import_file(client, owner, db, settings, content, on_duplicate="update")
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 3, 3), again
    after = {lead["email"]: lead for lead in await leads(client, owner)}
    assert after["same@example.com"]["version"] == got["same@example.com"]["version"]
    assert same["id"] == after["same@example.com"]["id"]


async def test_on_duplicate_create_and_match_on(client: httpx.AsyncClient, db: Database,
                                                settings: Settings) -> None:
    owner = await make_workspace(client, "Create")
    await make_lead(client, owner, first_name="Old", email="old@example.com",
                    phone="+14155550100")
    content = _csv([["email", "phone", "first_name"],
                    ["old@example.com", "", "Again"],
                    ["other@example.com", "415 555 0100", "Phone twin"]])
    created = await import_file(client, owner, db, settings, content, on_duplicate="create")
    assert created["created"] == 2 and created["skipped_duplicate"] == 0
    owner2 = await make_workspace(client, "MatchOn")
    await make_lead(client, owner2, first_name="Old", email="old@example.com",
                    phone="+14155550100")
    by_email = await import_file(client, owner2, db, settings, content, match_on="email")
    assert (by_email["created"], by_email["skipped_duplicate"]) == (1, 1), by_email
    owner3 = await make_workspace(client, "MatchPhone")
    await make_lead(client, owner3, first_name="Old", email="old@example.com",
                    phone="+14155550100")
    by_phone = await import_file(client, owner3, db, settings, content, match_on="phone")
    assert (by_phone["created"], by_phone["skipped_duplicate"]) == (1, 1), by_phone
    problems = await errors(client, owner3, by_phone)
    assert problems[0]["line"] == 3 and problems[0]["column"] == "phone"


async def test_dry_run_reports_the_same_and_writes_nothing(
        client: httpx.AsyncClient, db: Database, settings: Settings) -> None:
    owner = await make_workspace(client, "Dry")
    await make_lead(client, owner, first_name="Old", email="old@example.com")
    content = _csv([["email", "first_name"], ["a@example.com", "A"], ["bad", "B"],
                    ["a@example.com", "A again"], ["old@example.com", "Old"]])
    dry = await import_file(client, owner, db, settings, content, dry_run=True)
    assert dry["dry_run"] is True and dry["status"] == "completed"
    assert len(await leads(client, owner)) == 1
    real = await import_file(client, owner, db, settings, content)
    keys = ("created", "updated", "skipped_duplicate", "invalid", "total_rows")
    assert {k: dry[k] for k in keys} == {k: real[k] for k in keys} == {
        "created": 1, "updated": 0, "skipped_duplicate": 2, "invalid": 1, "total_rows": 4}
    assert [e["code"] for e in await errors(client, owner, dry)] == \
        [e["code"] for e in await errors(client, owner, real)]
    assert len(await leads(client, owner)) == 2


async def test_custom_fields_are_validated_by_the_list_schema(
        client: httpx.AsyncClient, db: Database, settings: Settings) -> None:
    owner = await make_workspace(client, "Fields")
    await add_field(client, owner, name="Edad", type="INT", required=True)
    await add_field(client, owner, name="Patente del auto", code="Patente", type="STRING",
                    input_mask="AAA-###")
    await add_field(client, owner, name="Precio", type="DECIMAL")
    await add_field(client, owner, name="DNI", type="STRING", is_primary=True)
    await add_field(client, owner, name="Doble", type="CALCULATED",
                    calculation_expression="Precio * 2")
    await make_lead(client, owner, first_name="Has DNI", fields={"Edad": 1, "DNI": "111"})
    content = _csv([
        ["first_name", "Edad", "Patente del auto", "Precio", "DNI", "Doble"],
        ["Ok", "30", "ABC-123", "4.5", "222", "999"],        # Doble is calculated: ignored
        ["Bad mask", "31", "AB-1234", "", "333", ""],
        ["No age", "", "", "", "444", ""],                   # required
        ["Taken", "40", "", "", "111", ""],                  # primary held by a lead
        ["Twin", "41", "", "", "222", ""],                   # primary held by line 2
        ["Bad int", "x", "", "", "", ""],
    ])
    job = await import_file(client, owner, db, settings, content)
    assert (job["created"], job["invalid"]) == (1, 5), job
    assert any("Doble" in note for note in job["detected"]["notes"])
    ok = next(lead for lead in await leads(client, owner) if lead["first_name"] == "Ok")
    assert ok["fields"] == {"Edad": 30, "Patente": "ABC-123", "Precio": "4.5", "DNI": "222",
                            "Doble": 9}
    problems = {e["line"]: e["errors"][0] for e in await errors(client, owner, job)}
    assert problems[3]["field"] == "fields.Patente" and problems[3]["rule"] == "input_mask"
    assert problems[3]["column"] == "Patente del auto"
    assert problems[4]["field"] == "fields.Edad" and problems[4]["rule"] == "required"
    assert problems[5]["code"] == "DUPLICATE_FIELD_VALUE" and problems[5]["existing_id"]
    assert problems[6]["code"] == "DUPLICATE_FIELD_VALUE"
    assert "line 2" in problems[6]["message"]
    assert problems[7]["field"] == "fields.Edad" and problems[7]["rule"] == "type"


async def test_match_on_a_primary_field_and_related_leads(
        client: httpx.AsyncClient, db: Database, settings: Settings) -> None:
    owner = await make_workspace(client, "Primary")
    await add_field(client, owner, name="DNI", type="STRING", is_primary=True)
    lists = (await client.get("/api/v1/lists", headers=owner.headers)).json()["data"]
    other = (await client.post("/api/v1/lists", headers=owner.headers,
                               json={"name": "Garantes"})).json()
    await add_field(client, owner, name="Garante", type="LEAD", related_list_id=other["id"])
    guarantor = await make_lead(client, owner, first_name="Gara", list_id=other["id"])
    existing = await make_lead(client, owner, first_name="Old", email="a@example.com",
                               fields={"DNI": "123"})
    content = _csv([["first_name", "email", "DNI", "Garante"],
                    ["New name", "b@example.com", "123", guarantor["id"]],
                    ["Other", "a@example.com", "456", ""],
                    ["Bad rel", "c@example.com", "789", existing["id"]]])
    job = await import_file(client, owner, db, settings, content, match_on="DNI",
                            on_duplicate="update", list_id=lists[0]["id"])
    assert (job["updated"], job["created"], job["invalid"]) == (1, 1, 1), job
    merged = (await client.get(f"/api/v1/leads/{existing['id']}",
                               headers=owner.headers)).json()
    assert merged["first_name"] == "New name" and merged["email"] == "b@example.com"
    assert merged["fields"]["Garante"] == guarantor["id"]
    # Matching on DNI only: the email twin of line 3 is a new lead.
    other_lead = [x for x in await leads(client, owner) if x["first_name"] == "Other"]
    assert len(other_lead) == 1
    problems = await errors(client, owner, job)
    assert problems[0]["line"] == 4 and problems[0]["errors"][0]["rule"] == "related_lead"


async def test_spreadsheets_xlsx_and_ods(client: httpx.AsyncClient, db: Database,
                                         settings: Settings) -> None:
    from tests.imports.sheets import ods_bytes, xlsx_bytes

    owner = await make_workspace(client, "Sheets")
    await add_field(client, owner, name="Alta", type="DATE")
    await add_field(client, owner, name="Monto", type="DECIMAL")
    rows: list[list[Any]] = [["Nombre", "Email", "Teléfono", "Alta", "Monto"],
                             ["Ana", "ana@example.com", 4155552672, "DATE:2026-01-31", 12.5],
                             [None, None, None, None, None],
                             ["Ben", "ben@", 4155552673, "DATE:2026-02-01", 3]]
    job = await import_file(client, owner, db, settings, xlsx_bytes(rows), "leads.xlsx")
    assert job["status"] == "completed", job
    assert (job["format"], job["created"], job["invalid"]) == ("xlsx", 1, 1)
    ana = (await leads(client, owner))[0]
    assert ana["phone"] == "+14155552672"
    assert ana["fields"] == {"Alta": "2026-01-31", "Monto": "12.5"}
    # Line numbers are the sheet's rows (the blank row 3 is no row).
    assert [e["line"] for e in await errors(client, owner, job)] == [4]
    second = await import_file(client, owner, db, settings, xlsx_bytes(
        [["x"], ["y"]], rows, sheet_names=("Notas", "Leads")), "two.xlsx", sheet="Leads",
        on_duplicate="update")
    assert (second["updated"], second["unchanged"]) == (1, 1), second
    ods = await import_file(client, owner, db, settings, ods_bytes(
        [["first_name", "email"], ["Odile", "odile@example.com"]]), "leads.ods")
    assert (ods["format"], ods["created"]) == ("ods", 1), ods


async def test_xls(client: httpx.AsyncClient, db: Database, settings: Settings) -> None:
    from tests.imports.sheets import XLS_FIXTURE

    owner = await make_workspace(client, "XLS")
    job = await import_file(client, owner, db, settings, XLS_FIXTURE.read_bytes(),
                            "leads.xls")
    assert (job["format"], job["status"], job["created"]) == ("xls", "completed", 2), job
    got = sorted((x["first_name"], x["phone"]) for x in await leads(client, owner))
    assert got == [("Ana", "+14155552672"), ("José", "+14155552673")]


async def test_errors_csv_download_fixes_and_imports_again(
        client: httpx.AsyncClient, db: Database, settings: Settings) -> None:
    owner = await make_workspace(client, "Fix")
    content = _csv([["Nombre", "Email"], ["Ana", "ana@@example.com"], ["=cmd", "bad"],
                    ["Ben", "ben@example.com"]])
    job = await import_file(client, owner, db, settings, content)
    resp = await client.get(f"/api/v1/imports/{job['id']}/errors?format=csv",
                            headers=owner.headers)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    text = resp.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert [r["import_line"] for r in rows] == ["2", "3"]
    assert rows[0]["import_error_code"] == "INVALID_EMAIL"
    assert rows[0]["import_error_column"] == "Email" and rows[0]["Nombre"] == "Ana"
    assert rows[1]["Nombre"] == "'=cmd"  # neutralised against formulas
    for r in rows:
        r["Email"] = r["Nombre"].lstrip("'=").lower() + "@example.com"
    fixed = io.StringIO()
    writer = csv.DictWriter(fixed, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    again = await import_file(client, owner, db, settings, fixed.getvalue().encode())
    assert (again["created"], again["invalid"]) == (2, 0), again
    assert all(v == "ignore" for k, v in again["detected"]["columns"].items()
               if k.startswith("import_"))
    assert not any("import_line" in lead["metadata"] for lead in await leads(client, owner))


async def test_errors_are_paginated_by_cursor(client: httpx.AsyncClient, db: Database,
                                              settings: Settings) -> None:
    owner = await make_workspace(client, "Pages")
    content = _csv([["email"], *[[f"bad{i}"] for i in range(7)]])
    job = await import_file(client, owner, db, settings, content)
    url = f"/api/v1/imports/{job['id']}/errors"
    page = (await client.get(url, headers=owner.headers, params={"per_page": 3})).json()
    assert page["total"] == 7 and [e["line"] for e in page["data"]] == [2, 3, 4]
    seen = [e["line"] for e in page["data"]]
    while page["next_cursor"]:
        page = (await client.get(url, headers=owner.headers,
                                 params={"per_page": 3, "cursor": page["next_cursor"]})).json()
        seen += [e["line"] for e in page["data"]]
    assert seen == list(range(2, 9))
    second = (await client.get(url, headers=owner.headers,
                               params={"per_page": 3, "page": 2})).json()
    assert [e["line"] for e in second["data"]] == [5, 6, 7]
    bad = await client.get(url, headers=owner.headers, params={"cursor": "nope"})
    assert bad.status_code == 422 and bad.json()["code"] == "INVALID_CURSOR"


async def test_jobs_list_and_status_filter(client: httpx.AsyncClient, db: Database,
                                           settings: Settings) -> None:
    owner = await make_workspace(client, "Jobs")
    done = await import_file(client, owner, db, settings, b"email\na@example.com\n")
    queued = (await upload(client, owner, b"email\nb@example.com\n")).json()
    listing = (await client.get("/api/v1/imports", headers=owner.headers)).json()
    assert [j["id"] for j in listing["data"]] == [queued["id"], done["id"]]
    assert listing["total"] == 2
    only = (await client.get("/api/v1/imports?status=queued", headers=owner.headers)).json()
    assert [j["id"] for j in only["data"]] == [queued["id"]]
    bad = await client.get("/api/v1/imports?status=weird", headers=owner.headers)
    assert bad.status_code == 422
    too_many = await client.get("/api/v1/imports?per_page=500", headers=owner.headers)
    assert too_many.status_code == 422


async def test_matching_through_the_indexes_or_a_key_table_agree(
        client: httpx.AsyncClient, db: Database, settings: Settings,
        monkeypatch: Any) -> None:
    """A small file into a big workspace is matched lead by lead through the indexes of
    leads; otherwise through a table of the workspace's keys. Same outcome either way."""
    from leadbase.imports.repository import staging

    outcomes = []
    for ratio in (1, 10_000):  # key table / lookups through leads
        monkeypatch.setattr(staging, "LOOKUP_RATIO", ratio)
        owner = await make_workspace(client, f"Ratio {ratio}")
        await add_field(client, owner, name="DNI", type="STRING", is_primary=True)
        old = await make_lead(client, owner, first_name="Old", email="old@example.com",
                              phone="+14155550100", fields={"DNI": "1"})
        content = _csv([["email", "phone", "DNI", "first_name"],
                        ["old@example.com", "", "", "By email"],
                        ["", "(415) 555-0100", "", "By phone"],
                        ["new@example.com", "", "1", "Taken DNI"],
                        ["new2@example.com", "", "2", "Fresh"]])
        job = await import_file(client, owner, db, settings, content, on_duplicate="update")
        problems = [(e["line"], e["code"]) for e in await errors(client, owner, job)]
        merged = (await client.get(f"/api/v1/leads/{old['id']}",
                                   headers=owner.headers)).json()
        outcomes.append(((job["created"], job["updated"], job["invalid"]), problems,
                         merged["first_name"]))
    assert outcomes[0] == outcomes[1] == ((1, 1, 1), [(3, "DUPLICATE_IN_FILE"),
                                                     (4, "DUPLICATE_FIELD_VALUE")],
                                          "By email")
