"""The pieces of an import without the database: file detection, chunking, header
matching and row validation."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from leadbase.fields.engine import CompiledSchema, FieldSpec
from leadbase.imports import files, headers, rows
from leadbase.imports.files import FileProblem
from leadbase.kit.errors import ValidationFailed


def _write(tmp_path: Path, content: bytes, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(("content", "expected"), [
    (b"a,b\n1,2\n", "utf-8"),
    (codecs.BOM_UTF8 + b"a,b\n", "utf-8-sig"),
    ("a,b\n".encode("utf-16"), "utf-16"),
    ("a,b\nñ,é\n".encode("utf-16-be"), "utf-16-be"),
    ("nombre\nJosé Ñandú\n".encode("cp1252"), "cp1252"),
    (b"nombre\n\x81\x8d\n", "latin-1"),  # bytes Windows-1252 leaves undefined
])
def test_encodings(tmp_path: Path, content: bytes, expected: str) -> None:
    assert files.detect_encoding(_write(tmp_path, content)) == expected


def test_a_late_non_utf8_byte_is_found(tmp_path: Path) -> None:
    content = b"email\n" + b"a@example.com\n" * 200_000 + "Peña\n".encode("cp1252")
    assert files.guess_encoding(content[:65536]) == "utf-8"
    assert files.detect_encoding(_write(tmp_path, content)) == "cp1252"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters(delimiter: str) -> None:
    sample = delimiter.join(["Nombre", "Email", "Notas"]) + "\n" + delimiter.join(
        ["Ana", "a@example.com", '"uno, dos; tres | cuatro"']) + "\n"
    assert files.detect_delimiter(sample) == delimiter


def test_one_column_files_default_to_comma() -> None:
    assert files.detect_delimiter("email\na@example.com\n") == ","


@pytest.mark.parametrize(("content", "code"), [
    (b"", "IMPORT_EMPTY_FILE"),
    (b"\x00\x01\x02\x03binary" * 10, "IMPORT_BINARY_FILE"),
    (b"\x89PNG\r\n\x1a\n....", "IMPORT_BINARY_FILE"),
    (b"PK\x03\x04garbage", "IMPORT_CORRUPT_FILE"),
])
def test_formats_refused(tmp_path: Path, content: bytes, code: str) -> None:
    with pytest.raises(FileProblem) as exc:
        files.detect_format(_write(tmp_path, content), max_uncompressed=10**9)
    assert exc.value.code == code


def test_scan_cuts_chunks_at_record_boundaries(tmp_path: Path) -> None:
    body = "".join(f'r{i}@example.com,"note {i}\nsecond line"\n' for i in range(25))
    content = ("email,notes\n\n" + body.replace("r5@", "\n\nr5@")).encode()
    text = files.prepare_text(_write(tmp_path, content), encoding=None, delimiter=None)
    scan = files.scan(text, 10)
    assert scan.rows == 25 and [c.rows for c in scan.chunks] == [10, 10, 5]
    records = [r for c in scan.chunks for r in files.read_chunk(text, c)]
    assert [r[1][0] for r in records] == [f"r{i}@example.com" for i in range(25)]
    assert all(r[1][1].endswith("\nsecond line") for r in records)
    lines = [r[0] for r in records]
    assert lines[:6] == [3, 5, 7, 9, 11, 15]  # two blank lines before r5
    assert lines == sorted(lines) and len(set(lines)) == 25


def test_header_problems(tmp_path: Path) -> None:
    with pytest.raises(FileProblem) as exc:
        files.read_header(_write(tmp_path, b"email\n"), "utf-8", ",")
    assert exc.value.code == "IMPORT_NO_ROWS"
    wide = ",".join(f"c{i}" for i in range(600)).encode() + b"\n1\n"
    with pytest.raises(FileProblem) as exc:
        files.read_header(_write(tmp_path, wide, "w.csv"), "utf-8", ",")
    assert exc.value.code == "IMPORT_TOO_MANY_COLUMNS"


def test_unique_headers() -> None:
    assert headers.unique_headers(["Email", "", "email", " Nombre ", "\ufeffX"]) == \
        ["Email", "column_2", "email (2)", "Nombre", "X"]


@pytest.mark.parametrize(("header", "target"), [
    ("First Name", "first_name"), ("first_name", "first_name"), ("FIRST-NAME", "first_name"),
    ("nombre", "first_name"), ("Apellidos", "last_name"), ("Teléfono", "phone"),
    ("Teléfono Móvil", "phone"), ("E-mail", "email"), ("Correo electrónico", "email"),
    ("Empresa", "company"), ("Compañía", "company"), ("Cargo", "job_title"),
    ("Lead Source", "source"), ("Estado", "status"), ("Etiquetas", "tags"),
    ("Observaciones", "notes"), ("owner_id", "owner"), ("Asignado a", "owner"),
    ("DNC", "do_not_contact"), ("Opt-in", "consent"), ("Name", "full_name"),
    ("Nombre y apellido", "full_name"), ("id", "id"),
])
def test_synonyms(header: str, target: str) -> None:
    plan = headers.plan([header, "email"] if target != "email" else [header],
                        fields=[])
    assert plan.targets[0] == headers.Target("core", target)


def test_custom_fields_by_code_label_or_prefix_and_what_is_ignored() -> None:
    fields = [headers.CustomField("DNI", "Documento", False),
              headers.CustomField("Email", "Correo personal", False),
              headers.CustomField("Total", "Total", True)]
    plan = headers.plan(["email", "Documento", "Correo personal", "fields.Total", "Total",
                         "fields.Otro", "score", "created_at", "import_error", "Ciudad"],
                        fields=fields)
    assert plan.describe() == {
        "email": "email", "Documento": "fields.DNI", "Correo personal": "fields.Email",
        "fields.Total": "ignore", "Total": "ignore", "fields.Otro": "ignore",
        "score": "ignore", "created_at": "ignore", "import_error": "ignore",
        "Ciudad": "metadata.Ciudad"}
    assert len(plan.notes) == 3  # two calculated columns, one unknown field


def test_mapping_errors() -> None:
    for mapping, code in (({"X": "email"}, "MAPPING_UNKNOWN_COLUMN"),
                          ({"a": "telefax"}, "INVALID_MAPPING"),
                          ({"a": "metadata."}, "INVALID_MAPPING"),
                          ({"a": "email", "b": "email"}, "DUPLICATE_MAPPING")):
        with pytest.raises(ValidationFailed) as exc:
            headers.plan(["a", "b"], fields=[], mapping=mapping)  # type: ignore[arg-type]
        assert exc.value.code == code, mapping
    with pytest.raises(ValidationFailed) as exc:
        headers.plan(["a", "b"], fields=[], mapping={"a": "tags", "b": "metadata.x"})
    assert exc.value.code == "IMPORT_NO_COLUMNS"
    plan = headers.plan(["a", "b", "c"], fields=[],
                        mapping={"a": "Email", "b": "tags", "c": "tags"})
    assert plan.describe() == {"a": "email", "b": "tags", "c": "tags"}


def _builder(names: list[str], schema: CompiledSchema | None = None,
             **kwargs: object) -> rows.RowBuilder:
    plan = headers.plan(names, fields=[headers.CustomField(s.code, s.name, False)
                                       for s in (schema.fields.values() if schema else [])])
    ctx = rows.RowContext(headers=tuple(names), targets=tuple(plan.targets),
                          schema=schema or CompiledSchema(fields={}), region="US",
                          timezone=None, **kwargs)  # type: ignore[arg-type]
    return rows.RowBuilder(ctx)


def _row(builder: rows.RowBuilder, record: list[str]) -> dict[str, object]:
    values, valid = builder.build(7, record)
    out = dict(zip(rows.STAGE_COLUMNS, values, strict=True))
    out["valid"] = valid
    return out


def test_rows_normalise_contact_data() -> None:
    b = _builder(["Phone", "Email", "Name", "Status", "Tags", "Do not contact"],
                 tags=("import",))
    got = _row(b, ["415-555-2672", " Ana@Example.COM ", "Ana María  Pérez", "Contactado",
                   "a; b", "yes"])
    assert got["valid"] and got["phone"] == "+14155552672"
    assert got["timezone"] == "America/Los_Angeles" and got["country"] == "US"
    assert got["email"] == "ana@example.com"
    assert (got["first_name"], got["last_name"]) == ("Ana", "María  Pérez")
    assert got["status"] == "contacted" and got["do_not_contact"] == "t"
    assert got["tags"] == '{"a","b","import"}'
    assert _row(b, ["(415) 555-2673", "", "B", "", "", ""])["phone"] == "+14155552673"
    assert _row(b, ["'+14155552674", "", "C", "", "", ""])["phone"] == "+14155552674"


def test_rows_report_every_problem() -> None:
    b = _builder(["phone", "email", "status", "consent", "first_name"])
    got = _row(b, ["12", "x@", "zzz", "perhaps", "A" * 201, "extra"])
    assert not got["valid"] and got["state"] == "invalid" and got["lead_id"] is None
    import orjson

    codes = [e["code"] for e in orjson.loads(str(got["errors"]))]
    assert codes == ["TOO_MANY_VALUES", "VALUE_TOO_LONG", "INVALID_EMAIL", "INVALID_PHONE",
                     "INVALID_STATUS", "INVALID_BOOLEAN"]
    assert orjson.loads(str(got["raw"])) == ["12", "x@", "zzz", "perhaps", "A" * 201, "extra"]


def test_rows_custom_fields_sent_and_for_a_new_lead() -> None:
    import orjson

    schema = CompiledSchema(fields={
        "edad": FieldSpec(code="Edad", name="Edad", type="INT", required=True),
        "plan": FieldSpec(code="Plan", name="Plan", type="STRING", default_value="basic")})
    b = _builder(["email", "Edad"], schema)
    ok = _row(b, ["a@example.com", "42"])
    assert orjson.loads(str(ok["fields_sent"])) == {"Edad": 42}
    assert orjson.loads(str(ok["fields_create"])) == {"Edad": 42, "Plan": "basic"}
    missing = _row(b, ["b@example.com", ""])
    assert missing["valid"] and missing["fields_sent"] is None  # may still update a lead
    assert orjson.loads(str(missing["create_errors"]))[0]["rule"] == "required"
    bad = _row(b, ["c@example.com", "cuarenta"])
    assert not bad["valid"]
    assert orjson.loads(str(bad["errors"]))[0]["field"] == "fields.Edad"


def test_the_line_scan_agrees_with_the_record_scan(tmp_path: Path) -> None:
    body = "".join(f"r{i}@example.com;Name {i}\r\n" + ("\r\n ; \r\n" if i % 7 == 0 else "")
                   for i in range(33))
    text = files.prepare_text(_write(tmp_path, ("email;name\r\n" + body).encode()),
                              encoding=None, delimiter=None)
    fast = files._scan_lines(text, 5)
    assert fast is not None and fast == files._scan_records(text, 5)
    assert fast.rows == 33 and sum(c.rows for c in fast.chunks) == 33
    quoted = files.prepare_text(_write(tmp_path, b'email,notes\na@x.com,"x\ny"\n', "q.csv"),
                                encoding=None, delimiter=None)
    assert files._scan_lines(quoted, 5) is None
    old_mac = files.prepare_text(_write(tmp_path, b"email\ra@x.com\rb@x.com\r", "m.csv"),
                                 encoding=None, delimiter=None)
    assert old_mac.path.endswith(".utf8")  # rewritten with \n line ends
    assert files.scan(old_mac, 5).rows == 2
    assert [r for c in files.scan(old_mac, 5).chunks for r in files.read_chunk(old_mac, c)] \
        == [(2, ["a@x.com"]), (3, ["b@x.com"])]
