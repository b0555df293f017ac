"""What an uploaded file is, and reading it in pieces.

Plain functions with no I/O but the file itself, run in a thread (checks at upload) or
in the import process pool (the scan, spreadsheet conversion). Problems are raised as
:class:`FileProblem` (a code and a message: it crosses process boundaries intact).

- Format by content, not by name: XLSX and ODS are zip files (checked against zip bombs
  before anything opens them), XLS an OLE2 compound file, everything else must be text.
- Text encodings: a BOM (UTF-8, UTF-16 LE/BE), UTF-16 without BOM by its zero bytes,
  else strict UTF-8 over the whole file, else Windows-1252 (Latin-1 where 1252 has no
  character).
- Delimiters ``,`` ``;`` tab ``|``, chosen by which splits the first records into the
  most columns consistently; quoted newlines are kept (the ``csv`` module).
- The scan reads the file once, counts the data records and cuts it into chunks of
  whole records at byte offsets, so that worker processes read their chunk directly.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

SAMPLE_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")
MAX_COLUMNS = 500
FIELD_LIMIT = 1024 * 1024  # characters in one cell
csv.field_size_limit(FIELD_LIMIT)

_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"7z\xbc\xaf",
                 b"Rar!", b"BZh", b"\x7fELF", b"MZ", b"\x00\x00\x01\x00", b"OggS", b"ID3",
                 b"RIFF", b"\x28\xb5\x2f\xfd")
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


class FileProblem(Exception):
    """A file the import cannot take: ``code`` is the API error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message


# ---------------------------------------------------------------------------- format

def detect_format(path: Path, *, max_uncompressed: int) -> str:
    """``csv``, ``xlsx``, ``xls`` or ``ods`` by content; FileProblem otherwise."""
    with path.open("rb") as f:
        head = f.read(SAMPLE_BYTES)
    if not head.strip(b" \t\r\n\xef\xbb\xbf\xff\xfe\x00"):
        raise FileProblem("IMPORT_EMPTY_FILE", "The file is empty.")
    if head.startswith(_ZIP):
        return _zip_format(path, max_uncompressed=max_uncompressed)
    if head.startswith(_OLE2):
        return "xls"
    if head.startswith(_BINARY_MAGIC) or _looks_binary(head):
        raise FileProblem("IMPORT_BINARY_FILE",
                          "The file is not text, nor an XLSX, XLS or ODS spreadsheet.")
    return "csv"


def _utf16_bom(head: bytes) -> str | None:
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le"
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be"
    # No BOM: ASCII text in UTF-16 has a zero in every other byte.
    sample = head[:2000]
    if len(sample) >= 4:
        odd, even = sample[1::2], sample[0::2]
        if odd.count(0) > len(odd) * 0.4 and even.count(0) < len(even) * 0.05:
            return "utf-16-le"
        if even.count(0) > len(even) * 0.4 and odd.count(0) < len(odd) * 0.05:
            return "utf-16-be"
    return None


def _looks_binary(head: bytes) -> bool:
    if _utf16_bom(head):
        return False
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head[:8192] if b < 9 or 13 < b < 32)
    return controls > len(head[:8192]) * 0.05


def _zip_format(path: Path, *, max_uncompressed: int) -> str:
    """XLSX or ODS; refuses archives that expand beyond ``max_uncompressed`` bytes or by
    a ratio no spreadsheet has (a zip bomb), before any reader opens them."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if len(infos) > 10_000:
                raise FileProblem("IMPORT_ZIP_BOMB", "The archive holds too many files.")
            total = sum(i.file_size for i in infos)
            packed = sum(i.compress_size for i in infos) or 1
            if total > max_uncompressed or (total > 50 * 1024 * 1024 and total / packed > 200):
                raise FileProblem(
                    "IMPORT_ZIP_BOMB",
                    f"The spreadsheet expands to {total:,} bytes ({total / packed:,.0f} times "
                    "its size): refused as a zip bomb.")
            names = {i.filename for i in infos}
            if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
                return "xlsx"
            if "mimetype" in names and archive.read("mimetype").strip() == ODS_MIMETYPE:
                return "ods"
    except zipfile.BadZipFile as exc:
        raise FileProblem("IMPORT_CORRUPT_FILE", f"The zip archive is damaged: {exc}.") from exc
    raise FileProblem("IMPORT_UNSUPPORTED_FORMAT",
                      "A zip file, but not an XLSX or ODS spreadsheet.")


# ---------------------------------------------------------------------------- text

def detect_encoding(path: Path) -> str:
    """BOM first, then UTF-16 by its zero bytes, then strict UTF-8 over the whole file,
    then Windows-1252, then Latin-1 (which decodes anything)."""
    with path.open("rb") as f:
        head = f.read(SAMPLE_BYTES)
        guess = guess_encoding(head)
        if guess != "utf-8" and guess != "cp1252":
            return guess  # a BOM, or UTF-16
        for candidate in ("utf-8", "cp1252"):
            f.seek(0)
            decoder = codecs.getincrementaldecoder(candidate)("strict")
            try:
                while block := f.read(4 * 1024 * 1024):
                    decoder.decode(block)
                decoder.decode(b"", final=True)
                return candidate
            except UnicodeDecodeError:
                continue
    return "latin-1"


def guess_encoding(head: bytes) -> str:
    """The encoding of a file judged by its first bytes only (at upload; the job checks
    the whole file with :func:`detect_encoding`)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    utf16 = _utf16_bom(head)
    if utf16:
        return "utf-16" if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else utf16
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(head)  # a cut tail is fine
        return "utf-8"
    except UnicodeDecodeError:
        return "cp1252"


def peek_text(path: Path, *, encoding: str | None, delimiter: str | None,
              ) -> tuple[list[str], str, str]:
    """Header, encoding and delimiter of a text file, from its first 64 kB."""
    with path.open("rb") as f:
        head = f.read(SAMPLE_BYTES)
    enc = encoding or guess_encoding(head)
    delim = delimiter or detect_delimiter(_sample_text(path, enc))
    header, _ = read_header(path, enc, delim)
    return header, enc, delim


def peek_sheet(path: Path, sheet: str | None) -> list[str]:
    """The header row of a (small) spreadsheet."""
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        name = _sheet_name(list(book.sheet_names), sheet)
        for row in book.get_sheet_by_name(name).iter_rows():
            cells = [_cell_text(v) for v in row]
            if any(c.strip() for c in cells):
                return cells
    except CalamineError as exc:
        raise FileProblem("IMPORT_CORRUPT_FILE", f"The spreadsheet cannot be read: {exc}.") \
            from exc
    raise FileProblem("IMPORT_EMPTY_FILE", "The sheet is empty.")


def _sheet_name(names: list[str], sheet: str | None) -> str:
    if not names:
        raise FileProblem("IMPORT_EMPTY_FILE", "The spreadsheet has no sheet.")
    if sheet is None:
        return names[0]
    if sheet in names:
        return sheet
    if sheet.isdigit() and 1 <= int(sheet) <= len(names):
        return names[int(sheet) - 1]
    raise FileProblem("IMPORT_SHEET_NOT_FOUND",
                      f"No sheet '{sheet}'; the sheets are: {', '.join(names)}.")


def _sample_text(path: Path, encoding: str) -> str:
    with path.open("rb") as f:
        head = f.read(SAMPLE_BYTES)
    text = head.decode(encoding, errors="ignore")
    return text.lstrip("\ufeff")


def detect_delimiter(sample: str) -> str:
    """The delimiter that splits the first records into the most columns, consistently
    (the share of records with the header's column count comes first)."""
    lines = sample.splitlines(keepends=True)
    if len(lines) > 1 and len(sample) >= SAMPLE_BYTES - 4:
        lines = lines[:-1]  # the last line of the sample may be cut
    sample = "".join(lines[:200])
    best, best_score = ",", (-1.0, 0)
    for delim in DELIMITERS:
        try:
            records = [r for r in csv.reader(io.StringIO(sample, newline=""), delimiter=delim)
                       if r][:50]
        except csv.Error:
            continue
        if not records:
            continue
        width = len(records[0])
        if width < 2:
            continue
        consistent = sum(1 for r in records if len(r) == width) / len(records)
        score = (round(consistent, 2), width)
        if score > best_score:
            best, best_score = delim, score
    return best


def read_header(path: Path, encoding: str, delimiter: str) -> tuple[list[str], bool]:
    """The first record of a text file, and whether any data record follows it."""
    text = _sample_text(path, encoding)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    more = False
    try:
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = record
                continue
            more = True
            break
    except csv.Error as exc:
        raise FileProblem("IMPORT_MALFORMED_FILE", f"The file is not valid CSV: {exc}.") from exc
    if header is None:
        raise FileProblem("IMPORT_EMPTY_FILE", "The file is empty.")
    if len(header) > MAX_COLUMNS:
        raise FileProblem("IMPORT_TOO_MANY_COLUMNS",
                          f"The file has {len(header):,} columns; at most {MAX_COLUMNS}.")
    if not more and path.stat().st_size <= SAMPLE_BYTES:
        raise FileProblem("IMPORT_NO_ROWS", "The file has a header but no rows.")
    return header, more


@dataclass(frozen=True)
class TextFile:
    """A text file ready to be read in chunks (UTF-16 has been converted to UTF-8)."""

    path: str
    encoding: str
    delimiter: str
    header: list[str]
    line_column: bool = False  # the first column holds each row's line (spreadsheets)
    detected_encoding: str | None = None  # the file's own, where it was converted


@dataclass(frozen=True)
class Chunk:
    start: int  # byte offsets of whole records
    end: int
    first_line: int  # the file line the chunk starts on (1-based)
    rows: int


@dataclass(frozen=True)
class Scan:
    file: TextFile
    rows: int
    chunks: list[Chunk]


class _Lines:
    """Decoded lines of a binary file, knowing the byte offset where the last one ended
    (the csv reader takes lines one at a time, only as a record needs them)."""

    def __init__(self, f: Any, encoding: str) -> None:
        self.f = f
        self.encoding = encoding
        self.end = f.tell()

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self.f.readline()
        if not line:
            raise StopIteration
        self.end += len(line)
        return str(line.decode(self.encoding))


def prepare_text(path: Path, *, encoding: str | None, delimiter: str | None,
                 line_column: bool = False) -> TextFile:
    """Encoding and delimiter (detected unless given) and the header. UTF-16, and files
    whose lines end in a bare carriage return (old Mac spreadsheets), are rewritten as
    UTF-8 with ``\\n`` beside the file (``<name>.utf8``), so that chunks can be cut at
    byte offsets of ``\\n``."""
    enc = original = encoding or detect_encoding(path)
    with path.open("rb") as f:
        head = f.read(SAMPLE_BYTES)
    utf16 = enc.replace("_", "-").lower().startswith("utf-16")
    bare_cr = not utf16 and b"\r" in head and b"\n" not in head
    if utf16 or bare_cr:
        target = path.with_name(path.name + ".utf8")
        with path.open("r", encoding=enc, newline=None if bare_cr else "") as src, \
                target.open("w", encoding="utf-8", newline="") as out:
            while block := src.read(1024 * 1024):
                out.write(block.lstrip("\ufeff") if out.tell() == 0 else block)
        path, enc = target, "utf-8"
    try:
        codecs.lookup(enc)
    except LookupError as exc:
        raise FileProblem("IMPORT_BAD_ENCODING", f"Unknown encoding '{enc}'.") from exc
    delim = delimiter or detect_delimiter(_sample_text(path, enc))
    header, _ = read_header(path, enc, delim)
    return TextFile(path=str(path), encoding=enc, delimiter=delim,
                    header=header[1:] if line_column else header, line_column=line_column,
                    detected_encoding=original)


def scan(text: TextFile, chunk_rows: int) -> Scan:
    """Count the data records and cut the file into chunks of about ``chunk_rows``
    records, at record boundaries (a quoted newline never splits a chunk)."""
    return _scan_lines(text, chunk_rows) or _scan_records(text, chunk_rows)


def _scan_lines(text: TextFile, chunk_rows: int) -> Scan | None:
    """The common case, four times faster: a file without quotes (nor bare carriage
    returns) has one record per line. None as soon as a line says otherwise."""
    chunks: list[Chunk] = []
    blank_chars = b" \t\r\n" + text.delimiter.encode()
    rows = in_chunk = line_no = position = 0
    chunk_start: tuple[int, int] | None = None
    header_seen = False
    with open(text.path, "rb") as f:
        for line in f:
            line_no += 1
            if b'"' in line or b"\r" in line[:-2]:
                return None
            start, position = position, position + len(line)
            blank = not line.strip(blank_chars)
            if not header_seen:
                header_seen = not blank
                continue
            if chunk_start is None:
                chunk_start = (start, line_no)
            if not blank:
                rows += 1
                in_chunk += 1
                if in_chunk >= chunk_rows:
                    chunks.append(Chunk(chunk_start[0], position, chunk_start[1], in_chunk))
                    chunk_start, in_chunk = None, 0
    if chunk_start is not None:
        chunks.append(Chunk(chunk_start[0], position, chunk_start[1], in_chunk))
    return Scan(file=text, rows=rows, chunks=chunks)


def _scan_records(text: TextFile, chunk_rows: int) -> Scan:
    chunks: list[Chunk] = []
    rows = in_chunk = 0
    chunk_start: tuple[int, int] | None = None  # (byte offset, line)
    with open(text.path, "rb") as f:
        lines = _Lines(f, text.encoding)
        reader = csv.reader(lines, delimiter=text.delimiter)
        record_start, consumed = 0, 0  # where the next record starts: byte, lines before
        header_seen = False
        try:
            for record in reader:
                first_line = consumed + 1
                consumed = reader.line_num
                blank = not any(cell.strip() for cell in record)
                if not header_seen:
                    header_seen = not blank
                elif chunk_start is None:
                    chunk_start = (record_start, first_line)
                if header_seen and chunk_start is not None and not blank:
                    rows += 1
                    in_chunk += 1
                record_start = lines.end
                if chunk_start is not None and in_chunk >= chunk_rows:
                    chunks.append(Chunk(chunk_start[0], record_start, chunk_start[1], in_chunk))
                    chunk_start, in_chunk = None, 0
        except csv.Error as exc:
            raise FileProblem("IMPORT_MALFORMED_FILE",
                              f"Line {reader.line_num}: the file is not valid CSV ({exc}).") \
                from exc
        except UnicodeDecodeError as exc:
            raise FileProblem("IMPORT_BAD_ENCODING",
                              f"The file is not valid {text.encoding}: {exc}.") from exc
    if chunk_start is not None:
        chunks.append(Chunk(chunk_start[0], record_start, chunk_start[1], in_chunk))
    return Scan(file=text, rows=rows, chunks=chunks)


def read_chunk(text: TextFile, chunk: Chunk) -> Iterator[tuple[int, list[str]]]:
    """``(line, record)`` for each non-blank record of the chunk."""
    with open(text.path, "rb") as f:
        f.seek(chunk.start)
        data = f.read(chunk.end - chunk.start).decode(text.encoding)
    reader = csv.reader(io.StringIO(data, newline=""), delimiter=text.delimiter)
    consumed = 0
    for record in reader:
        line = chunk.first_line + consumed
        consumed = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if text.line_column:
            yield int(record[0]), record[1:]
        else:
            yield line, record


# ---------------------------------------------------------------------------- spreadsheets

def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        # A spreadsheet has no time zones: its date-times are taken as UTC, as exports
        # write them (cells formatted as dates come as dates).
        return value.isoformat() + ("Z" if value.tzinfo is None else "")
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def sheet_to_csv(path: Path, target: Path, sheet: str | None) -> TextFile:
    """Write one sheet (the first unless ``sheet`` names one, by name or 1-based number)
    as UTF-8 CSV, each row preceded by its row number in the sheet. The reader holds the
    whole sheet: run it in a process of its own (pool.run_isolated)."""
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        chosen = _sheet_name(list(book.sheet_names), sheet)
        data = book.get_sheet_by_name(chosen)
        first_row = (data.start or (0, 0))[0] + 1
        header: list[str] | None = None
        with target.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\n")
            for i, row in enumerate(data.iter_rows()):
                cells = [_cell_text(v) for v in row]
                if not any(c.strip() for c in cells):
                    continue
                if header is None:
                    header = cells
                    if len(header) > MAX_COLUMNS:
                        raise FileProblem(
                            "IMPORT_TOO_MANY_COLUMNS",
                            f"The sheet has {len(header):,} columns; at most {MAX_COLUMNS}.")
                writer.writerow([str(first_row + i), *cells])
    except MemoryError as exc:
        raise FileProblem("IMPORT_TOO_LARGE", "The spreadsheet is too large to read.") from exc
    except CalamineError as exc:
        raise FileProblem("IMPORT_CORRUPT_FILE", f"The spreadsheet cannot be read: {exc}.") \
            from exc
    if header is None:
        raise FileProblem("IMPORT_EMPTY_FILE", "The sheet is empty.")
    return TextFile(path=str(target), encoding="utf-8", delimiter=",",
                    header=header, line_column=True)
