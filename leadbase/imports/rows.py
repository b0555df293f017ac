"""One chunk of an import file, validated: runs in the import process pool.

Each record becomes one row of the staging table, written as CSV for ``COPY``: the
normalised lead values (E.164 phone with time zone and country, validated lowercase
email, known status, split tags, owner by email or id), the custom-field values checked
by the list's compiled schema, and the original cells. A row that fails gets state
``invalid`` and its errors; nothing is raised. Rows stay tuples and strings here: no
ORM object or pydantic model per row.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson

from leadbase.fields.engine import CompiledSchema
from leadbase.fields.values import merge
from leadbase.imports.files import Chunk, TextFile, read_chunk
from leadbase.imports.headers import Target
from leadbase.kit.errors import ValidationFailed
from leadbase.kit.ids import new_id
from leadbase.leads import rules
from leadbase.leads.rules import LIMITS, MAX_TAG, MAX_TAGS, STATUSES

# Columns of the staging table, in the order rows are written (repository.STAGE_COLUMNS
# names the same list for COPY).
STAGE_COLUMNS = (
    "line", "state", "lead_id", "first_name", "last_name", "email", "phone", "company",
    "job_title", "source", "status", "tags", "notes", "owner_id", "do_not_contact",
    "consent", "timezone", "country", "fields_sent", "fields_create", "create_errors",
    "metadata", "raw", "errors", "match_id_key", "match_field",
)
STATUS_WORDS = {
    **{s: s for s in STATUSES},
    "nuevo": "new", "nueva": "new", "contactado": "contacted", "contactada": "contacted",
    "calificado": "qualified", "calificada": "qualified", "cualificado": "qualified",
    "no calificado": "unqualified", "no calificada": "unqualified",
    "descalificado": "unqualified", "convertido": "converted", "convertida": "converted",
    "ganado": "converted", "perdido": "lost", "perdida": "lost",
}
TRUE = frozenset({"true", "1", "yes", "y", "si", "sí", "s", "x", "on"})
FALSE = frozenset({"false", "0", "no", "n", "off"})
_TRIGGERS = frozenset("=+-@\t\r")


@dataclass(frozen=True)
class RowContext:
    """What a worker process needs to validate rows of one job (pickled with each
    chunk; a few kilobytes)."""

    headers: tuple[str, ...]
    targets: tuple[Target, ...]
    schema: CompiledSchema
    region: str
    timezone: str | None
    tags: tuple[str, ...] = ()
    owners: dict[str, str] = field(default_factory=dict)  # lower email or id -> user id
    match_field: str | None = None  # a primary custom field the rows are matched on


@dataclass
class ChunkResult:
    data: bytes  # staging rows as CSV
    rows: int
    invalid: int


def _unneutralise(value: str) -> str:
    """Our exports put ``'`` before text a spreadsheet would run as a formula."""
    return value[1:] if len(value) > 1 and value[0] == "'" and value[1] in _TRIGGERS else value


def _error(column: str | None, name: str, code: str, message: str) -> dict[str, str | None]:
    return {"column": column, "field": name, "code": code, "message": message}


def _bool(value: str) -> bool | None:
    lowered = value.strip().lower()
    if lowered in TRUE:
        return True
    if lowered in FALSE:
        return False
    return None


def _tags(value: str) -> list[str]:
    for sep in (";", "|"):
        if sep in value and "," not in value:
            return [t.strip() for t in value.split(sep)]
    return [t.strip() for t in value.split(",")]


class RowBuilder:
    """Turns records into staging rows for one job (reused across its chunks)."""

    def __init__(self, ctx: RowContext) -> None:
        self.ctx = ctx
        self.columns = {t.name: header for header, t in zip(ctx.headers, ctx.targets,
                                                              strict=True) if t.kind == "core"}
        self.labels = {t.name.lower(): header for header, t in zip(
            ctx.headers, ctx.targets, strict=True) if t.kind == "field"}

    def build(self, line: int, record: list[str]) -> tuple[list[Any], bool]:
        """The staging row of one record, and whether it is valid."""
        ctx = self.ctx
        core: dict[str, str] = {}
        tags: list[str] = []
        fields_in: dict[str, str] = {}
        metadata: dict[str, str] = {}
        errors: list[dict[str, str | None]] = []
        width = len(ctx.targets)
        if len(record) > width and any(c.strip() for c in record[width:]):
            errors.append(_error(None, "row", "TOO_MANY_VALUES",
                                 f"{len(record)} values for {width} columns"))
        for i, target in enumerate(ctx.targets):
            if i >= len(record):
                break
            value = record[i].strip()
            if not value or target.kind == "ignore":
                continue
            value = _unneutralise(value)
            if target.kind == "core":
                if target.name == "tags":
                    tags.extend(_tags(value))
                else:
                    core[target.name] = value
            elif target.kind == "field":
                fields_in[target.name] = value
            else:
                metadata[target.name] = value
        out: dict[str, Any] = {}
        self._core(core, out, errors)
        all_tags = rules.clean_tags((*tags, *ctx.tags))
        if not rules.tags_fit(all_tags):
            errors.append(_error(self.columns.get("tags"), "tags", "INVALID_TAGS",
                                 f"at most {MAX_TAGS} tags of at most {MAX_TAG} characters"))
        match_id = None
        if "id" in core:
            try:
                match_id = str(uuid.UUID(core["id"]))
            except ValueError:
                metadata.setdefault(self.columns.get("id") or "id", core["id"])
        sent, created, create_errors = self._fields(fields_in, errors)
        if not errors and not rules.has_identity(out):
            errors.append(_error(None, "row", "LEAD_IDENTITY_REQUIRED",
                                 "a lead needs a name, an email or a phone number"))
        match_field = None
        if ctx.match_field and ctx.match_field in sent:
            match_field = orjson.dumps({ctx.match_field: sent[ctx.match_field]}).decode()
        valid = not errors
        row = [
            line, "ok" if valid else "invalid", str(new_id()) if valid else None,
            out.get("first_name"), out.get("last_name"), out.get("email"), out.get("phone"),
            out.get("company"), out.get("job_title"), out.get("source"), out.get("status"),
            _text_array(all_tags) if all_tags else None, out.get("notes"),
            out.get("owner_id"), _flag(out.get("do_not_contact")), _flag(out.get("consent")),
            out.get("timezone"), out.get("country"),
            # The sent values only where they differ from a new lead's (defaults or
            # calculated fields): the database then parses one JSON value, not two.
            None if sent == (created or {}) else orjson.dumps(sent).decode(),
            orjson.dumps(created).decode() if created else None,
            orjson.dumps(create_errors).decode() if create_errors else None,
            orjson.dumps(metadata).decode() if metadata else None,
            orjson.dumps(record).decode(),
            orjson.dumps(errors).decode() if errors else None,
            match_id, match_field,
        ]
        return row, valid

    def _core(self, core: dict[str, str], out: dict[str, Any],
              errors: list[dict[str, str | None]]) -> None:
        ctx = self.ctx
        col = self.columns.get
        full = core.pop("full_name", None)
        if full and not core.get("first_name") and not core.get("last_name"):
            first, _, last = full.partition(" ")
            core["first_name"] = first
            if last.strip():
                core["last_name"] = last.strip()
        for name, limit in LIMITS.items():
            value = core.get(name)
            if value is None:
                continue
            if len(value) > limit:
                errors.append(_error(col(name), name, "VALUE_TOO_LONG",
                                     f"at most {limit} characters"))
                continue
            out[name] = value
        if "email" in out:
            try:
                out["email"] = rules.email(out["email"])
            except ValidationFailed as exc:
                errors.append(_error(col("email"), "email", "INVALID_EMAIL",
                                     str((exc.errors or [{}])[0].get("message") or exc.detail)))
                del out["email"]
        if "phone" in out:
            try:
                out.update(rules.phone(out["phone"], region=ctx.region,
                                       timezone=ctx.timezone))
            except ValidationFailed as exc:
                errors.append(_error(col("phone"), "phone", "INVALID_PHONE", exc.detail))
                del out["phone"]
        if "status" in core:
            status = STATUS_WORDS.get(" ".join(core["status"].lower().split()))
            if status is None:
                errors.append(_error(col("status"), "status", "INVALID_STATUS",
                                     f"'{core['status']}' is not one of "
                                     f"{', '.join(STATUSES)}"))
            else:
                out["status"] = status
        if "owner" in core:
            owner = ctx.owners.get(core["owner"].strip().lower())
            if owner is None:
                errors.append(_error(col("owner"), "owner_id", "OWNER_NOT_FOUND",
                                     f"'{core['owner']}' is not an active user of this "
                                     "workspace (give an email or a user id)"))
            else:
                out["owner_id"] = owner
        for name in ("do_not_contact", "consent"):
            if name in core:
                flag = _bool(core[name])
                if flag is None:
                    errors.append(_error(col(name), name, "INVALID_BOOLEAN",
                                         "must be yes/no, true/false or 1/0"))
                else:
                    out[name] = flag

    def _fields(self, sent_raw: dict[str, str], errors: list[dict[str, str | None]],
                ) -> tuple[dict[str, Any], dict[str, Any] | None, list[dict[str, str]]]:
        """(the sent values in canonical form, the complete values of a new lead, the
        errors that only a new lead would have: a required field left empty)."""
        schema = self.ctx.schema
        if not schema.fields:
            return {}, None, []
        outcome = merge(schema, sent_raw, current={}, creating=True, region=self.ctx.region,
                        timezone=self.ctx.timezone)
        labels = self.labels
        required: list[dict[str, str]] = []
        for e in outcome.errors:
            code = e["field"].removeprefix("fields.")
            column = labels.get(code.lower())
            if e.get("rule") == "required" and code not in sent_raw:
                required.append({"column": column or "", "field": e["field"],
                                 "code": "INVALID_FIELD_VALUE", "rule": "required",
                                 "message": e["message"]})
            else:
                errors.append({"column": column, "field": e["field"],
                               "code": "INVALID_FIELD_VALUE", "rule": e.get("rule"),
                               "message": e["message"]})
        sent = {spec.code: outcome.values[spec.code] for code in sent_raw
                if (spec := schema.get(code)) is not None and spec.code in outcome.values}
        if required:
            # Calculated values wait until the lead is complete (see validate()).
            return sent, None, required
        return sent, outcome.values, []


def _text_array(items: list[str]) -> str:
    """A PostgreSQL array literal of text (``{"a","b \\"c\\""}``): the staging table
    takes tags as ``text[]``."""
    quoted = ('"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"' for t in items)
    return "{" + ",".join(quoted) + "}"


def _flag(value: bool | None) -> str | None:
    return None if value is None else ("t" if value else "f")


def process_chunk(ctx: RowContext, text: TextFile, chunk: Chunk) -> ChunkResult:
    """Validate one chunk (the process pool calls this) into staging CSV."""
    builder = RowBuilder(ctx)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    rows = invalid = 0
    for line, record in read_chunk(text, chunk):
        row, valid = builder.build(line, record)
        writer.writerow(row)
        rows += 1
        invalid += not valid
    return ChunkResult(data=buffer.getvalue().encode(), rows=rows, invalid=invalid)
