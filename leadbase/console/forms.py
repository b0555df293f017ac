"""The lead form: its layout (core fields, then the list's custom fields grouped by the
workspace's sections, in the field engine's order), the form's values as the leads
service's bodies, and the service's 422 ``errors`` mapped back to the inputs.

Input names are the API's field paths (``email``, ``fields.<code>``), so an error's
``field`` names its input as it is."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from leadbase.auth.context import Context
from leadbase.codelists import service as codelists_service
from leadbase.fields import service as fields_service
from leadbase.kit.errors import ValidationFailed
from leadbase.kit.pagination import PageParams
from leadbase.lists.sections import service as sections_service

CORE = ("first_name", "last_name", "email", "phone", "company", "job_title", "source")
MULTIPLE = ("SELECTOR_MULTIPLE", "CHECKBOX_MULTIPLE")
INPUT_TYPES = {"INT": "text", "DECIMAL": "text", "DATE": "date", "DATETIME": "datetime-local",
               "EMAIL": "text", "PHONE": "tel", "URL": "url"}
INPUT_MODES = {"INT": "numeric", "DECIMAL": "decimal", "EMAIL": "email", "PHONE": "tel"}


@dataclass
class FieldInput:
    """One custom field's input."""

    name: str            # fields.<code>
    code: str
    label: str
    type: str
    subtype: str | None
    required: bool
    mask: str | None
    options: list[tuple[str, str]] = field(default_factory=list)  # (code, label)

    @property
    def multiple(self) -> bool:
        return (self.subtype or "") in MULTIPLE

    @property
    def widget(self) -> str:
        if self.type == "CALCULATED":
            return "readonly"
        if self.type == "BOOL" or (self.type == "CHECKBOX" and not self.multiple):
            return "bool"
        if self.options or self.type in ("SELECTOR", "CHECKBOX"):
            return "select"
        if self.type == "TEXT":
            return "textarea"
        return "input"

    @property
    def input_type(self) -> str:
        return INPUT_TYPES.get(self.type, "text")

    @property
    def inputmode(self) -> str | None:
        return INPUT_MODES.get(self.type)


@dataclass
class Section:
    name: str
    fields: list[FieldInput]


async def layout(session: AsyncSession, ctx: Context, list_id: uuid.UUID) -> list[Section]:
    """The list's visible active fields by section (sections by position; fields without
    a section last), each with its code list's active items."""
    rows, _ = await fields_service.list_fields(session, ctx=ctx, list_id=list_id, active=True,
                                               limit=500)
    rows = [r for r in rows if r.get("is_visible", True)]
    params = PageParams(page=1, per_page=200, cursor=None, count="none")
    sections, _ = await sections_service.list_sections(session, ctx=ctx, params=params,
                                                       list_id=list_id)
    options: dict[uuid.UUID, list[tuple[str, str]]] = {}
    for code_list_id in {r["code_list_id"] for r in rows if r.get("code_list_id")}:
        cl = await codelists_service.get_code_list(session, ctx=ctx, code_list_id=code_list_id)
        options[code_list_id] = [(i["code"], i["label"]) for i in cl["items"] if i["active"]]
    by_section: dict[uuid.UUID | None, list[FieldInput]] = {}
    for r in rows:
        by_section.setdefault(r.get("section_id"), []).append(FieldInput(
            name=f"fields.{r['code']}", code=r["code"], label=r["name"], type=r["type"],
            subtype=r.get("subtype"), required=bool(r["required"]), mask=r.get("input_mask"),
            options=options.get(r["code_list_id"], []) if r.get("code_list_id") else []))
    out = [Section(s["name"], by_section.pop(s["id"])) for s in sections
           if s["id"] in by_section]
    rest = [f for fs in by_section.values() for f in fs]
    if rest:
        out.append(Section("", rest))
    return out


def _text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else None


def lead_body(form: FormData, sections: list[Section], *, creating: bool) -> dict[str, Any]:
    """The body of a lead create/update from the form (empty inputs clear on update)."""
    body: dict[str, Any] = {}
    for name in (*CORE, "notes"):
        if name in form:
            body[name] = _text(form, name) or None
    if "status" in form and _text(form, "status"):
        body["status"] = _text(form, "status")
    if "owner_id" in form:
        body["owner_id"] = _text(form, "owner_id") or None
    if "tags" in form:
        body["tags"] = [t.strip() for t in (_text(form, "tags") or "").split(",") if t.strip()]
    for flag in ("do_not_contact", "consent"):
        if f"{flag}__present" in form:
            body[flag] = form.get(flag) == "on"
    values: dict[str, Any] = {}
    for section in sections:
        for f in section.fields:
            if f.widget == "readonly" or (f.name not in form and not f.multiple):
                continue
            if f.multiple:
                values[f.code] = [v for v in form.getlist(f.name) if isinstance(v, str) and v]
            else:
                raw = _text(form, f.name)
                if f.widget == "bool":
                    values[f.code] = None if not raw else raw == "true"
                elif raw or not creating:
                    values[f.code] = raw or None
    if values:
        body["fields"] = values
    if creating and _text(form, "list_id"):
        body["list_id"] = _text(form, "list_id")
    return body


def errors_of(exc: ValidationError | ValidationFailed) -> dict[str, str]:
    """``{input name: message}`` from a schema's or a service's 422."""
    if isinstance(exc, ValidationError):
        return {".".join(str(p) for p in e["loc"]) or "form": e["msg"] for e in exc.errors()}
    out: dict[str, str] = {}
    for e in exc.errors or [{"field": "form", "message": exc.detail}]:
        out.setdefault(str(e.get("field") or "form"), str(e.get("message") or exc.detail))
    return out


def display(value: Any) -> str:
    """A stored value as an input shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def form_values(form: FormData) -> dict[str, Any]:
    """What was typed, to show the form again (a list for a multiple select)."""
    values: dict[str, Any] = {}
    for key in form:
        many = [v for v in form.getlist(key) if isinstance(v, str)]
        values[key] = many if len(many) > 1 else (many[0] if many else "")
    return values
