"""Which lead field each column of an import file fills.

Headers are matched forgivingly: case, accents, spaces, ``_``, ``-`` and ``.`` do not
matter (``First Name``, ``first_name``, ``FIRST-NAME`` and ``nombre`` all mean
``first_name``). The synonym table below, in English and Spanish, is the documented
contract; a custom field is matched by its code or its label; an explicit ``mapping``
wins over both. Columns that match nothing go to ``metadata`` under their header.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from leadbase.kit.errors import ValidationFailed

# Lead fields an import can fill, and the header spellings that mean each.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "first_name": ("first name", "firstname", "first", "given name", "forename", "nombre",
                   "nombres", "primer nombre", "nome"),
    "last_name": ("last name", "lastname", "last", "surname", "family name", "apellido",
                  "apellidos", "sobrenome"),
    "full_name": ("name", "full name", "fullname", "contact name", "contact",
                  "nombre completo", "nombre y apellido", "nombre apellido",
                  "apellido y nombre", "contacto"),
    "email": ("email", "e mail", "mail", "email address", "e mail address", "correo",
              "correo electronico", "email personal", "direccion de correo"),
    "phone": ("phone", "phone number", "telephone", "tel", "mobile", "mobile phone", "cell",
              "cell phone", "cellphone", "whatsapp", "telefono", "numero de telefono",
              "celular", "movil", "telefono movil", "tel movil"),
    "company": ("company", "company name", "organization", "organisation", "account",
                "business", "empresa", "compania", "organizacion", "razon social"),
    "job_title": ("job title", "title", "position", "job", "cargo", "puesto", "titulo"),
    "source": ("source", "lead source", "origin", "channel", "origen", "fuente", "canal"),
    "status": ("status", "lead status", "estado", "estado del lead"),
    "tags": ("tags", "tag", "labels", "etiquetas", "etiqueta"),
    "notes": ("notes", "note", "comments", "comment", "description", "notas", "nota",
              "comentarios", "comentario", "observaciones", "descripcion"),
    "owner": ("owner", "owner id", "owner email", "assigned to", "assignee", "agent",
              "sales rep", "responsable", "asignado a", "vendedor", "agente"),
    "do_not_contact": ("do not contact", "dnc", "no contactar", "no llamar"),
    "consent": ("consent", "opt in", "optin", "marketing consent", "consentimiento",
                "acepta comunicaciones"),
    "id": ("id", "lead id"),
}
TARGETS = frozenset(SYNONYMS)
IDENTITY = frozenset({"first_name", "last_name", "full_name", "email", "phone"})
# Columns an export writes that an import must not take as data (they are set by
# Leadbase), and the columns of an errors download.
READ_ONLY = frozenset({
    "number", "list id", "score", "temperature", "timezone", "country",
    "last contacted at", "created at", "updated at", "deleted at", "version",
    "import line", "import status", "import error code", "import error column",
    "import error",
})
IGNORE = "ignore"


def normalise(header: str) -> str:
    """``"  Teléfono_Móvil "`` -> ``"telefono movil"``."""
    text = unicodedata.normalize("NFKD", header)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join(re.split(r"[^a-z0-9]+", text)).strip()


_BY_SPELLING = {normalise(s): target for target, spellings in SYNONYMS.items()
                for s in (target, *spellings)}
# The targets by their own names (what a mapping names, and what an export's headers are).
_TARGET_BY_NAME = {normalise(t): t for t in TARGETS} | {"owner id": "owner"}


@dataclass(frozen=True)
class CustomField:
    code: str
    name: str
    calculated: bool


@dataclass(frozen=True)
class Target:
    """Where a column goes: ``kind`` is ``core`` (``name`` a lead field), ``field`` (a
    custom field code), ``metadata`` (a key), or ``ignore``."""

    kind: str
    name: str


@dataclass
class Plan:
    headers: list[str]
    targets: list[Target]
    notes: list[str] = field(default_factory=list)  # e.g. calculated columns ignored

    def describe(self) -> dict[str, str]:
        """``{"header": "email" | "fields.Code" | "metadata.key" | "ignore"}``."""
        out: dict[str, str] = {}
        for header, t in zip(self.headers, self.targets, strict=True):
            out[header] = {"core": t.name, "field": f"fields.{t.name}",
                           "metadata": f"metadata.{t.name}"}.get(t.kind, IGNORE)
        return out

    @property
    def core(self) -> set[str]:
        return {t.name for t in self.targets if t.kind == "core"}


def unique_headers(raw: list[str]) -> list[str]:
    """Blank headers become ``column_<n>``; repeated ones get `` (2)``, `` (3)``..."""
    seen: dict[str, int] = {}
    out: list[str] = []
    for i, header in enumerate(raw, start=1):
        name = header.strip().lstrip("\ufeff").strip() or f"column_{i}"
        count = seen.get(name.lower(), 0) + 1
        seen[name.lower()] = count
        out.append(name if count == 1 else f"{name} ({count})")
    return out


def _invalid(message: str, code: str, field_name: str = "mapping") -> ValidationFailed:
    return ValidationFailed(message, code=code, errors=[{"field": field_name,
                                                         "message": message}])


def _explicit(value: str, fields: dict[str, CustomField]) -> Target:
    text = value.strip()
    if not text or text.lower() == IGNORE:
        return Target("ignore", "")
    if text.lower().startswith("fields."):
        spec = fields.get(text[7:].lower())
        if spec is None:
            raise _invalid(f"'{text}' is not a field of this list.", "INVALID_MAPPING")
        if spec.calculated:
            raise _invalid(f"'{text}' is calculated and takes no value.", "INVALID_MAPPING")
        return Target("field", spec.code)
    if text.lower().startswith("metadata."):
        key = text[9:].strip()
        if not key:
            raise _invalid("'metadata.' needs a key.", "INVALID_MAPPING")
        return Target("metadata", key)
    target = _TARGET_BY_NAME.get(normalise(text))
    if target is None:
        allowed = ", ".join(sorted(TARGETS))
        raise _invalid(f"'{text}' is not an import target; use one of {allowed}, "
                       "fields.<code>, metadata.<key> or ignore.", "INVALID_MAPPING")
    return Target("core", target)


def plan(headers: list[str], *, fields: list[CustomField],
         mapping: dict[str, str | None] | None = None) -> Plan:
    """Resolve every column. ``mapping`` (header -> target) is checked strictly: an
    unknown header or target, or two columns filling one field, answer 422."""
    by_code = {f.code.lower(): f for f in fields}
    by_label: dict[str, CustomField] = {}
    for f in fields:
        by_label.setdefault(normalise(f.name), f)
        by_label.setdefault(normalise(f.code), f)
    explicit = {}
    if mapping:
        lookup = {h.lower(): h for h in headers}
        for key, value in mapping.items():
            header = lookup.get(str(key).strip().lower())
            if header is None:
                raise _invalid(f"The mapping names '{key}', which is not a column of the "
                               f"file (columns: {', '.join(headers[:20])}).",
                               "MAPPING_UNKNOWN_COLUMN")
            explicit[header] = _explicit(value or "", by_code)
    result = Plan(headers=headers, targets=[])
    for header in headers:
        target = explicit.get(header)
        if target is None:
            target = _guess(header, by_code, by_label, result)
        result.targets.append(target)
    taken: dict[tuple[str, str], str] = {}
    for header, t in zip(headers, result.targets, strict=True):
        if t.kind in ("core", "field") and not (t.kind == "core" and t.name == "tags"):
            other = taken.get((t.kind, t.name.lower()))
            if other is not None:
                raise _invalid(f"Columns '{other}' and '{header}' both fill "
                               f"{t.name}; map one of them to ignore.", "DUPLICATE_MAPPING")
            taken[(t.kind, t.name.lower())] = header
    if not (result.core & IDENTITY):
        raise ValidationFailed(
            "No column of the file is a name, an email or a phone number, which every lead "
            f"needs. Columns found: {', '.join(headers[:20])}. Rename them or send a "
            "mapping, e.g. {\"Correo\": \"email\"}.",
            code="IMPORT_NO_COLUMNS",
            errors=[{"field": "file", "message": "no name, email or phone column"}],
            extra={"columns": headers[:200]})
    return result


def _guess(header: str, by_code: dict[str, CustomField], by_label: dict[str, CustomField],
           result: Plan) -> Target:
    """``fields.<code>``; a lead field by its API name; a custom field by code or label;
    a synonym; a read-only column (ignored); else metadata."""
    lowered = header.strip().lower()
    key = normalise(header)
    custom: CustomField | None = None
    if lowered.startswith("fields."):
        custom = by_code.get(lowered[7:])
        if custom is None:
            result.notes.append(f"'{header}' is not a field of this list: not imported")
            return Target("ignore", "")
    elif key in _TARGET_BY_NAME:
        return Target("core", _TARGET_BY_NAME[key])
    else:
        custom = by_code.get(lowered) or by_label.get(key)
    if custom is not None:
        if custom.calculated:
            result.notes.append(f"'{header}' is the calculated field {custom.code}: "
                                "recomputed, not imported")
            return Target("ignore", "")
        return Target("field", custom.code)
    if key in _BY_SPELLING:
        return Target("core", _BY_SPELLING[key])
    if key in READ_ONLY:
        return Target("ignore", "")
    return Target("metadata", header.strip())
