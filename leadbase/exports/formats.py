"""What an export looks like: its columns, how each value is written in CSV and XLSX,
and the neutralisation of spreadsheet formulas.

Columns: the core lead fields under their API names (``first_name``, ``email``...), then
the custom fields of the exported lists, headed by their labels (``headers=labels``, the
default) or by ``fields.<code>`` (``headers=codes``). Both shapes re-import: core headers
are the API field names, and custom-field headers are either the field's label or its
code. Cells that a spreadsheet would read as a formula get a leading apostrophe."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

import xlsxwriter

Format = Literal["csv", "xlsx"]
HeaderStyle = Literal["labels", "codes"]
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
XLSX_MAX_ROWS = 1_048_576  # per worksheet, header included

# Kinds: str, uuid, int, number, bool, date, datetime, list
CORE: tuple[tuple[str, str], ...] = (
    ("id", "uuid"), ("number", "int"), ("list_id", "uuid"), ("first_name", "str"),
    ("last_name", "str"), ("email", "str"), ("phone", "str"), ("company", "str"),
    ("job_title", "str"), ("source", "str"), ("status", "str"), ("score", "int"),
    ("temperature", "str"), ("owner_id", "uuid"), ("tags", "list"), ("notes", "str"),
    ("do_not_contact", "bool"), ("consent", "bool"), ("timezone", "str"), ("country", "str"),
    ("last_contacted_at", "datetime"), ("created_at", "datetime"), ("updated_at", "datetime"),
)
DELETED = ("deleted_at", "datetime")
# Where each core column sits in a row read by exports.repository (LEAD_COLUMNS order).
FIELDS_INDEX = 24
_ROW_INDEX = {name: i for i, name in enumerate((*[n for n, _ in CORE], "deleted_at"))}

_TRIGGERS = frozenset("=+-@\t\r")
# A signed number or a phone number (+14155552672, -12.5, +1 (415) 555-2672) cannot call a
# function or reference a cell: it is left as it is, so phones stay phones.
_NUMBERISH = re.compile(r"[+-]?[0-9][0-9 ().\-]*\Z")


def neutralise(value: str) -> str:
    """Prefix an apostrophe to text a spreadsheet would run as a formula: anything that
    starts with ``=``, ``+``, ``-``, ``@``, tab or carriage return, except plain signed
    numbers and phone numbers."""
    if value and value[0] in _TRIGGERS and not (value[0] in "+-" and _NUMBERISH.match(value)):
        return "'" + value
    return value


def _field_kind(row: dict[str, Any]) -> str:
    kind, subtype = row["type"], row["subtype"]
    if subtype in ("SELECTOR_MULTIPLE", "CHECKBOX_MULTIPLE"):
        return "list"
    return {"INT": "int", "DECIMAL": "number", "CALCULATED": "number", "DATE": "date",
            "DATETIME": "datetime", "BOOL": "bool", "CHECKBOX": "bool"}.get(kind, "str")


@dataclass(frozen=True)
class Column:
    header: str
    kind: str
    index: int  # position in the row (core) or -1 for a custom field
    code: str | None = None  # custom field code


def plan_columns(fields: list[dict[str, Any]], *, headers: HeaderStyle,
                 deleted: bool) -> list[Column]:
    """Core columns, then one column per custom-field code (the first list that defines a
    code gives its label and type; the default list comes first)."""
    columns = [Column(name, kind, _ROW_INDEX[name]) for name, kind in CORE]
    if deleted:
        columns.append(Column(DELETED[0], DELETED[1], _ROW_INDEX[DELETED[0]]))
    seen: set[str] = set()
    taken = {c.header.lower() for c in columns}
    for row in fields:
        key = row["code"].lower()
        if key in seen:
            continue
        seen.add(key)
        header = f"fields.{row['code']}" if headers == "codes" else row["name"]
        if header.lower() in taken:  # a label equal to a core name: use the code
            header = f"fields.{row['code']}"
        taken.add(header.lower())
        columns.append(Column(header, _field_kind(row), -1, row["code"]))
    return columns


def _cell(column: Column, row: Sequence[Any]) -> Any:
    if column.code is None:
        return row[column.index]
    fields = row[FIELDS_INDEX]
    return fields.get(column.code) if fields else None


# ---------------------------------------------------------------------------- CSV
# The rows are written by PostgreSQL (exports.repository.copy_csv) with the same rules:
# timestamps as ISO 8601 UTC, booleans true/false, lists joined with commas, text through
# neutralise().

def csv_header(columns: list[Column]) -> bytes:
    buf = io.StringIO()
    buf.write("\ufeff")  # BOM: spreadsheets then read the file as UTF-8
    csv.writer(buf, lineterminator="\n").writerow([neutralise(c.header) for c in columns])
    return buf.getvalue().encode()


# ---------------------------------------------------------------------------- XLSX

def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None


class XlsxFile:
    """An XLSX workbook written row by row (XlsxWriter ``constant_memory``): typed cells,
    text always written as text (never a formula), a new worksheet every 1,048,575 rows."""

    def __init__(self, path: Path, columns: list[Column], sheet: str = "Leads") -> None:
        self.columns = columns
        self.sheet_name = sheet
        self.book = xlsxwriter.Workbook(str(path), {
            "constant_memory": True, "remove_timezone": True, "strings_to_formulas": False,
            "strings_to_numbers": False, "strings_to_urls": False,
            "tmpdir": str(path.parent)})
        self.bold = self.book.add_format({"bold": True})
        self.date = self.book.add_format({"num_format": "yyyy-mm-dd"})
        self.datetime = self.book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.sheets = 0
        self.row = XLSX_MAX_ROWS  # forces the first sheet
        self._writers: list[Callable[[Any, int, int, Any], None]] = [
            self._writer(c.kind) for c in columns]

    def _new_sheet(self) -> None:
        self.sheets += 1
        name = self.sheet_name
        sheet = self.book.add_worksheet(name if self.sheets == 1 else f"{name} {self.sheets}")
        for col, column in enumerate(self.columns):
            sheet.write_string(0, col, neutralise(column.header), self.bold)
        sheet.freeze_panes(1, 0)
        self.sheet = sheet
        self.row = 1

    def _writer(self, kind: str) -> Callable[[Any, int, int, Any], None]:
        def text(sheet: Any, r: int, c: int, v: Any) -> None:
            if isinstance(v, list):
                v = ",".join(str(x) for x in v)
            elif isinstance(v, bool):
                v = "true" if v else "false"
            sheet.write_string(r, c, neutralise(str(v)))

        def number(sheet: Any, r: int, c: int, v: Any) -> None:
            n = _number(v)
            if n is None:
                text(sheet, r, c, v)
            else:
                sheet.write_number(r, c, n)

        def boolean(sheet: Any, r: int, c: int, v: Any) -> None:
            if isinstance(v, bool):
                sheet.write_boolean(r, c, v)
            else:
                text(sheet, r, c, v)

        def day(sheet: Any, r: int, c: int, v: Any) -> None:
            try:
                sheet.write_datetime(r, c, v if isinstance(v, date)
                                     else date.fromisoformat(str(v)), self.date)
            except ValueError:
                text(sheet, r, c, v)

        def moment(sheet: Any, r: int, c: int, v: Any) -> None:
            try:
                when = v if isinstance(v, datetime) else datetime.fromisoformat(str(v))
            except ValueError:
                text(sheet, r, c, v)
                return
            if when.tzinfo is not None:
                when = when.astimezone(UTC)
            sheet.write_datetime(r, c, when, self.datetime)

        return {"int": number, "number": number, "bool": boolean, "date": day,
                "datetime": moment}.get(kind, text)

    def write_rows(self, rows: Sequence[Sequence[Any]]) -> None:
        for row in rows:
            if self.row >= XLSX_MAX_ROWS:
                self._new_sheet()
            sheet, r = self.sheet, self.row
            for c, (column, write) in enumerate(zip(self.columns, self._writers, strict=True)):
                value = _cell(column, row)
                if value is not None:
                    write(sheet, r, c, value)
            self.row += 1

    def close(self) -> None:
        if self.sheets == 0:
            self._new_sheet()
        self.book.close()
