"""Cell writing without a database: neutralisation, CSV text, XLSX sheets and types."""

from __future__ import annotations

from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from leadbase.exports import formats
from leadbase.exports.formats import Column


@pytest.mark.parametrize(("raw", "written"), [
    ("=1+1", "'=1+1"), ("+SUM(A1)", "'+SUM(A1)"), ("-cmd|x", "'-cmd|x"), ("@A1", "'@A1"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("-2+3", "'-2+3"), ("+A1", "'+A1"),
    ("+14155552671", "+14155552671"), ("+1 (415) 555-2671", "+1 (415) 555-2671"),
    ("-12.5", "-12.5"), ("plain", "plain"), ("", ""), ("a=b", "a=b"),
])
def test_neutralise(raw: str, written: str) -> None:
    assert formats.neutralise(raw) == written


def _row(**values: object) -> list[object]:
    row: list[object] = [None] * 25
    for name, value in values.items():
        row[formats._ROW_INDEX[name] if name != "fields" else formats.FIELDS_INDEX] = value
    return row


def test_header_labels_never_clash_with_core_names() -> None:
    fields = [{"code": "Multi", "name": "Multi", "type": "SELECTOR",
               "subtype": "SELECTOR_MULTIPLE"},
              {"code": "Nota", "name": "first_name", "type": "TEXT", "subtype": None},
              {"code": "multi", "name": "Again", "type": "INT", "subtype": None}]
    columns = formats.plan_columns(fields, headers="labels", deleted=True)
    assert [c.header for c in columns][-3:] == ["deleted_at", "Multi", "fields.Nota"]
    assert [c.kind for c in columns][-2:] == ["list", "str"]


def test_xlsx_starts_a_new_sheet_when_one_is_full(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formats, "XLSX_MAX_ROWS", 3)  # header + 2 rows per sheet
    columns = [Column("first_name", "str", formats._ROW_INDEX["first_name"]),
               Column("Edad", "int", -1, "Edad"), Column("Nota", "str", -1, "Nota")]
    book = formats.XlsxFile(tmp_path / "x.xlsx", columns)
    book.write_rows([_row(first_name=f"n{i}", fields={"Edad": i, "Nota": "\tx"})
                     for i in range(5)])
    book.close()
    wb = CalamineWorkbook.from_path(str(tmp_path / "x.xlsx"))
    assert wb.sheet_names == ["Leads", "Leads 2", "Leads 3"]
    sheets = [wb.get_sheet_by_name(n).to_python() for n in wb.sheet_names]
    assert [s[0] for s in sheets] == [["first_name", "Edad", "Nota"]] * 3
    assert [r[0] for s in sheets for r in s[1:]] == ["n0", "n1", "n2", "n3", "n4"]
    assert sheets[2][1][1] == 4 and sheets[0][1][2] == "'\tx"


def test_empty_xlsx_has_a_header(tmp_path: Path) -> None:
    columns = [Column("first_name", "str", formats._ROW_INDEX["first_name"])]
    book = formats.XlsxFile(tmp_path / "e.xlsx", columns)
    book.close()
    wb = CalamineWorkbook.from_path(str(tmp_path / "e.xlsx"))
    assert wb.get_sheet_by_index(0).to_python() == [["first_name"]]
