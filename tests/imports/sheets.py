"""Spreadsheets for import tests: XLSX (XlsxWriter), ODS (a zip with content.xml, as the
OpenDocument format is), and the committed XLS fixture."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import xlsxwriter

XLS_FIXTURE = Path(__file__).parent / "data" / "leads.xls"


def xlsx_bytes(*sheets: list[list[Any]], sheet_names: tuple[str, ...] = ()) -> bytes:
    """One sheet per argument; a ``"DATE:YYYY-MM-DD"`` value becomes a date cell."""
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    for i, rows in enumerate(sheets):
        ws = book.add_worksheet(sheet_names[i] if i < len(sheet_names) else None)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, str) and value.startswith("DATE:"):
                    ws.write_datetime(r, c, date.fromisoformat(value[5:]), date_format)
                elif value is not None:
                    ws.write(r, c, value)
    book.close()
    return buf.getvalue()


def ods_bytes(rows: list[list[Any]]) -> bytes:
    cells = []
    for row in rows:
        out = []
        for value in row:
            if isinstance(value, (int, float)):
                out.append(f'<table:table-cell office:value-type="float" '
                           f'office:value="{value}"><text:p>{value}</text:p></table:table-cell>')
            else:
                out.append('<table:table-cell office:value-type="string"><text:p>'
                           f"{escape(str(value))}</text:p></table:table-cell>")
        cells.append(f"<table:table-row>{''.join(out)}</table:table-row>")
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="Hoja1">'
        f"{''.join(cells)}</table:table></office:spreadsheet></office:body>"
        "</office:document-content>")
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type='
        '"application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()
