"""What a rule can talk about: the lead's own fields, its custom fields (typed by the field
engine), its pipeline, stage and list, and what happened to it (activity and task counts,
days in stage). A :class:`Catalog` is the workspace's: its custom fields, stages, lists and
users, loaded once (:func:`load_catalog`) and used to check and compile rules."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.activities.types import ALL_TYPES
from leadbase.db.base import table_of
from leadbase.models import CodeListItem, FieldDefinition, LeadList, Pipeline, Stage, User
from leadbase.models.leads import LEAD_STATUSES, TEMPERATURES

# Kinds of value a field holds, and the operators each takes.
COMPARE = frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "between"})
PRESENCE = frozenset({"exists", "missing"})
MEMBER = frozenset({"eq", "ne", "in", "not_in"})
RELATIVE = frozenset({"older_than_days", "newer_than_days"})
OPS: dict[str, frozenset[str]] = {
    "string": MEMBER | PRESENCE | {"starts_with"},
    "enum": MEMBER,
    "uuid": MEMBER | PRESENCE,
    "int": COMPARE | MEMBER | PRESENCE,
    "number": COMPARE | MEMBER | PRESENCE,
    "datetime": (COMPARE - {"eq", "ne"}) | RELATIVE | PRESENCE,
    "date": COMPARE | RELATIVE | PRESENCE,
    "bool": frozenset({"eq", "ne"}) | PRESENCE,
    "tags": frozenset({"contains", "in", "not_in"}) | PRESENCE,
    "count": COMPARE,
    "days": COMPARE | PRESENCE,
}
ALL_OPS = frozenset().union(*OPS.values())
# Aggregates: (source, detail, within_days) — ("activities", "call", 30),
# ("tasks", "open", None), ("tasks", "overdue", None).
Aggregate = tuple[str, str, int | None]


@dataclass(frozen=True)
class FieldDef:
    """One thing a predicate can name. ``column`` is the leads column (builtin fields),
    ``code`` the custom field's code (``fields.<code>``), ``source`` the aggregate's
    (``activities``/``tasks``)."""

    name: str
    kind: str
    label: str
    column: str | None = None
    nullable: bool = True
    choices: frozenset[str] | None = None
    code: str | None = None
    source: str | None = None
    detail: str | None = None
    ref: str | None = None  # what a uuid names: user, pipeline, stage, list

    @property
    def ops(self) -> frozenset[str]:
        ops = OPS[self.kind]
        return ops if self.nullable else ops - PRESENCE


def _col(name: str, kind: str, label: str, *, column: str | None = None,
         nullable: bool = True, choices: tuple[str, ...] | None = None,
         ref: str | None = None) -> FieldDef:
    return FieldDef(name=name, kind=kind, label=label, column=column or name,
                    nullable=nullable, choices=frozenset(choices) if choices else None, ref=ref)


BUILTIN: dict[str, FieldDef] = {f.name: f for f in (
    _col("status", "enum", "status", nullable=False, choices=LEAD_STATUSES),
    _col("temperature", "enum", "temperature", nullable=False, choices=TEMPERATURES),
    _col("source", "string", "source"),
    _col("first_name", "string", "first name"),
    _col("last_name", "string", "last name"),
    _col("email", "string", "email"),
    _col("phone", "string", "phone"),
    _col("company", "string", "company"),
    _col("job_title", "string", "job title"),
    _col("country", "string", "country"),
    _col("timezone", "string", "time zone"),
    _col("tags", "tags", "tags", nullable=True),
    _col("owner", "uuid", "owner", column="owner_id", ref="user"),
    _col("pipeline", "uuid", "pipeline", column="pipeline_id", ref="pipeline"),
    _col("stage", "uuid", "stage", column="stage_id", ref="stage"),
    _col("list", "uuid", "list", column="list_id", nullable=False, ref="list"),
    _col("score", "int", "score", nullable=False),
    _col("consent", "bool", "consent", nullable=False),
    _col("do_not_contact", "bool", "do-not-contact", nullable=False),
    _col("created_at", "datetime", "created", nullable=False),
    _col("updated_at", "datetime", "updated", nullable=False),
    _col("last_contacted_at", "datetime", "last contacted"),
    _col("last_activity_at", "datetime", "last activity"),
    _col("stage_entered_at", "datetime", "entered its stage"),
    _col("days_in_stage", "days", "days in stage", column="stage_entered_at"),
)}
ALIASES = {"owner_id": "owner", "pipeline_id": "pipeline", "stage_id": "stage",
           "list_id": "list", "time_zone": "timezone"}
TASK_COUNTS = {"open": "open tasks", "overdue": "overdue tasks"}

# The field engine's types → the rule kind of their values (see fields.engine.coerce_value
# for the stored forms: INT a number, DECIMAL a decimal string, DATE "YYYY-MM-DD",
# DATETIME "YYYY-MM-DDTHH:MM:SSZ", code lists their codes, a multiple one a list of codes).
_CUSTOM_KINDS = {"INT": "int", "DECIMAL": "number", "CALCULATED": "number", "DATE": "date",
                 "DATETIME": "datetime", "BOOL": "bool"}
MULTIPLE_SUBTYPES = ("SELECTOR_MULTIPLE", "CHECKBOX_MULTIPLE")


def custom_kind(row: dict[str, Any]) -> str:
    """The rule kind of a custom field's values."""
    if row["subtype"] in MULTIPLE_SUBTYPES:
        return "tags"
    if row["type"] == "CHECKBOX" and row.get("code_list_id") is None:
        return "bool"
    return _CUSTOM_KINDS.get(row["type"], "string")


@dataclass
class Catalog:
    """A workspace's vocabulary for rules. ``fields`` maps lower-cased custom-field codes to
    their definitions (None when the code has different types in different lists);
    ``stage_codes`` maps a lead stage's code to its ids (a code may repeat across
    pipelines)."""

    tenant_id: uuid.UUID | None = None
    fields: dict[str, FieldDef | None] = field(default_factory=dict)
    stage_codes: dict[str, frozenset[uuid.UUID]] = field(default_factory=dict)
    ids: dict[str, frozenset[uuid.UUID]] = field(default_factory=dict)
    activity_types: frozenset[str] = ALL_TYPES

    def lookup(self, name: str) -> FieldDef | str:
        """The field a predicate names, or why there is none (a message)."""
        name = ALIASES.get(name, name)
        if name in BUILTIN:
            return BUILTIN[name]
        head, _, rest = name.partition(".")
        if head == "fields" and rest:
            found = self.fields.get(rest.lower(), False)
            if found is False:
                return f"'{rest}' is not a custom field of this workspace"
            if found is None:
                return f"'{rest}' has different types in different lists"
            assert isinstance(found, FieldDef)
            return found
        if head == "activities" and rest:
            if rest not in self.activity_types:
                return (f"'{rest}' is not an activity type (one of "
                        f"{', '.join(sorted(self.activity_types))})")
            return FieldDef(name=name, kind="count", label=_plural(rest), nullable=False,
                            source="activities", detail=rest)
        if head == "tasks" and rest:
            if rest not in TASK_COUNTS:
                return "tasks counts are tasks.open and tasks.overdue"
            return FieldDef(name=name, kind="count", label=TASK_COUNTS[rest], nullable=False,
                            source="tasks", detail=rest)
        return f"unknown field '{name}'"

    def known(self, ref: str, value: uuid.UUID) -> bool:
        """Whether an id names a row of this workspace (when the catalog knows them)."""
        ids = self.ids.get(ref)
        return ids is None or value in ids


def _plural(activity_type: str) -> str:
    return activity_type.replace("_", " ") + ("es" if activity_type.endswith("s") else "s")


def add_custom(catalog: Catalog, row: dict[str, Any],
               codes: frozenset[str] | None = None) -> None:
    """Add one field definition row (``code``, ``name``, ``type``, ``subtype``,
    ``code_list_id``) with its code list's codes when it has one; a code seen with another
    kind becomes ambiguous, one seen with another code list takes both lists' codes."""
    key = row["code"].lower()
    definition = FieldDef(name=f"fields.{row['code']}", kind=custom_kind(row),
                          label=row.get("name") or row["code"], code=row["code"],
                          choices=codes)
    if key in catalog.fields:
        seen = catalog.fields[key]
        if seen is not None and seen.kind != definition.kind:
            catalog.fields[key] = None
        elif seen is not None and seen.choices is not None and codes is not None:
            catalog.fields[key] = replace(seen, choices=seen.choices | codes)
        elif seen is not None and seen.choices is not None:
            catalog.fields[key] = replace(seen, choices=None)
        return
    catalog.fields[key] = definition


async def load_catalog(session: AsyncSession, *, tenant_id: uuid.UUID) -> Catalog:
    """The workspace's catalog: custom fields, lead stages by code, and the ids of its
    lists, pipelines, stages and users (so a rule naming a missing one is refused)."""
    fd, st, pl, ll, us, ci = (table_of(m) for m in (FieldDefinition, Stage, Pipeline,
                                                      LeadList, User, CodeListItem))
    catalog = Catalog(tenant_id=tenant_id)
    rows = await session.execute(
        select(fd.c.code, fd.c.name, fd.c.type, fd.c.subtype, fd.c.code_list_id)
        .where(fd.c.tenant_id == tenant_id).order_by(fd.c.list_id, fd.c.position))
    definitions = [dict(r) for r in rows.mappings()]
    code_lists = {d["code_list_id"] for d in definitions if d["code_list_id"] is not None
                  and custom_kind(d) in ("string", "tags")}
    items: dict[uuid.UUID, set[str]] = {}
    if code_lists:
        for list_id, code in await session.execute(
                select(ci.c.code_list_id, ci.c.code).where(
                    ci.c.tenant_id == tenant_id, ci.c.code_list_id.in_(code_lists))):
            items.setdefault(list_id, set()).add(code)
    for d in definitions:
        add_custom(catalog, d, frozenset(items.get(d["code_list_id"], ()))
                   if d["code_list_id"] in code_lists else None)
    stages = (await session.execute(
        select(st.c.id, st.c.code, pl.c.kind, st.c.deleted_at)
        .join(pl, pl.c.id == st.c.pipeline_id).where(st.c.tenant_id == tenant_id))).all()
    codes: dict[str, set[uuid.UUID]] = {}
    for stage_id, code, kind, deleted_at in stages:
        if kind == "lead" and deleted_at is None:
            codes.setdefault(code, set()).add(stage_id)
    catalog.stage_codes = {c: frozenset(ids) for c, ids in codes.items()}
    catalog.ids["stage"] = frozenset(s[0] for s in stages)
    catalog.ids["pipeline"] = frozenset((await session.execute(
        select(pl.c.id).where(pl.c.tenant_id == tenant_id))).scalars())
    catalog.ids["list"] = frozenset((await session.execute(
        select(ll.c.id).where(ll.c.tenant_id == tenant_id))).scalars())
    catalog.ids["user"] = frozenset((await session.execute(
        select(us.c.id).where(us.c.tenant_id == tenant_id))).scalars())
    return catalog
