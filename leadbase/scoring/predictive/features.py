"""The features of predictive scoring: what is read of each lead (one statement for a set
of leads), which features a workspace's history supports (the vocabulary, fixed at
training), and the numbers each lead gives them.

Read: source, country, list, whether it has an email, a phone, a company and a job title,
consent and do-not-contact, its tags, its custom fields (typed by the field engine:
numbers as numbers, yes/no as flags, other values by value) and how many activities of
each user type it has (calls, emails, meetings...). Its status is the label, never a
feature; stage and system activities (status and stage changes) are left out too, since
they follow from the outcome rather than foretell it."""

from __future__ import annotations

import math
import uuid
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.activities.types import USER_TYPES
from leadbase.db import raw

POSITIVE = ("converted",)
NEGATIVE = ("lost", "unqualified")
MIN_SUPPORT = 5  # a value becomes a feature when this many labelled leads have it
MAX_VALUES = 20  # per column or custom field, the most frequent
PRESENT = ("email", "phone", "company", "job_title")
FLAGS = ("consent", "do_not_contact")
CATEGORIES = ("source", "country")
NUMERIC_TYPES = frozenset({"INT", "DECIMAL", "CALCULATED"})
FLAG_TYPES = frozenset({"BOOL"})
ACTIVITY_TYPES = tuple(sorted(USER_TYPES))

_ROWS_SQL = (
    "SELECT l.id, l.number, l.status, l.source, l.country, l.email IS NOT NULL AS email, "
    "l.phone IS NOT NULL AS phone, l.company IS NOT NULL AS company, "
    "l.job_title IS NOT NULL AS job_title, l.consent, l.do_not_contact, l.tags, l.fields, "
    "(SELECT coalesce(jsonb_object_agg(a.type, a.n), '{{}}') FROM (SELECT type, count(*) AS n "
    "FROM activities WHERE tenant_id = l.tenant_id AND lead_id = l.id AND deleted_at IS NULL "
    "AND type = ANY(%(types)s) GROUP BY type) a) AS activity "
    "FROM leads l WHERE l.tenant_id = %(t)s AND l.deleted_at IS NULL AND {where} "
    "ORDER BY l.id")


async def field_types(session: AsyncSession, *, tenant_id: uuid.UUID) -> dict[str, str]:
    """Custom field code -> its type (a code typed differently in two lists: STRING)."""
    rows = await raw.fetch_all(session, "SELECT code, type, subtype, code_list_id FROM "
                                        "field_definitions WHERE tenant_id = %s", (tenant_id,))
    out: dict[str, str] = {}
    for row in rows:
        kind = row["type"]
        if kind == "CHECKBOX" and row["code_list_id"] is None:
            kind = "BOOL"
        if out.get(row["code"], kind) != kind:
            kind = "STRING"
        out[row["code"]] = kind
    return out


async def rows_where(session: AsyncSession, *, tenant_id: uuid.UUID, where: str,
                     params: dict[str, Any]) -> list[dict[str, Any]]:
    """What is read of the live leads of ``where`` (over ``l``), in id order."""
    return await raw.fetch_all(session, _ROWS_SQL.format(where=where),
                               {"t": tenant_id, "types": list(ACTIVITY_TYPES), **params})


async def labelled_rows(session: AsyncSession, *, tenant_id: uuid.UUID,
                        limit: int) -> list[dict[str, Any]]:
    """The labelled leads (converted, lost, unqualified); beyond ``limit``, a fixed
    sample (the lowest md5 of the id), still in id order."""
    return await rows_where(
        session, tenant_id=tenant_id,
        where="l.id IN (SELECT id FROM leads WHERE tenant_id = %(t)s AND deleted_at IS NULL "
              "AND status = ANY(%(labels)s) ORDER BY md5(id::text) LIMIT %(limit)s)",
        params={"labels": [*POSITIVE, *NEGATIVE], "limit": limit})


async def label_counts(session: AsyncSession, *, tenant_id: uuid.UUID) -> tuple[int, int]:
    row = await raw.fetch_row(
        session, "SELECT count(*) FILTER (WHERE status = ANY(%s)), count(*) FILTER (WHERE "
                 "status = ANY(%s)) FROM leads WHERE tenant_id = %s AND deleted_at IS NULL "
                 "AND status = ANY(%s)",
        (list(POSITIVE), list(NEGATIVE), tenant_id, [*POSITIVE, *NEGATIVE]))
    assert row is not None
    return int(row[0]), int(row[1])


def number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(Decimal(value))
        except (InvalidOperation, ValueError):
            return None
    return None


def _values(value: Any) -> list[str]:
    """A custom field's value as the categories it stands for."""
    if value is None or isinstance(value, (dict, bool)):
        return []
    if isinstance(value, list):
        return sorted({str(v) for v in value if isinstance(v, (str, int))})
    return [str(value)]


def vocabulary(rows: list[dict[str, Any]], types: dict[str, str]) -> list[dict[str, Any]]:
    """The features the labelled ``rows`` support, sorted by name (deterministic)."""
    specs: list[dict[str, Any]] = []
    for column in PRESENT:
        specs.append({"name": f"has {column.replace('_', ' ')}", "kind": "present",
                      "column": column})
    for column in FLAGS:
        specs.append({"name": column.replace("_", " "), "kind": "flag", "column": column})
    for column in CATEGORIES:
        for value in _frequent(r[column] for r in rows if r[column] is not None):
            specs.append({"name": f"{column} is {value}", "kind": "eq", "column": column,
                          "value": value})
    for tag in _frequent(t for r in rows for t in set(r["tags"] or ())):
        specs.append({"name": f"tagged {tag}", "kind": "tag", "value": tag})
    for kind in ACTIVITY_TYPES:
        if sum(1 for r in rows if r["activity"].get(kind)) >= MIN_SUPPORT:
            specs.append({"name": f"{kind} activities", "kind": "activities", "type": kind})
    for code in sorted({c for r in rows for c in (r["fields"] or {})}):
        specs.extend(_field_specs(code, types.get(code, "STRING"), rows))
    specs.sort(key=lambda s: str(s["name"]))
    return specs


def _frequent(values: Iterable[Any]) -> list[str]:
    counts = Counter(str(v) for v in values)
    best = sorted((v for v, n in counts.items() if n >= MIN_SUPPORT),
                  key=lambda v: (-counts[v], v))[:MAX_VALUES]
    return sorted(best)


def _field_specs(code: str, kind: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    present = [r["fields"][code] for r in rows if (r["fields"] or {}).get(code) is not None]
    if len(present) < MIN_SUPPORT:
        return []
    label = f"fields.{code}"
    if kind in NUMERIC_TYPES:
        numbers = [n for n in (number(v) for v in present) if n is not None]
        if len(numbers) < MIN_SUPPORT:
            return []
        mean = math.fsum(numbers) / len(numbers)
        scale = math.sqrt(math.fsum((n - mean) ** 2 for n in numbers) / len(numbers)) or 1.0
        return [{"name": label, "kind": "number", "code": code, "mean": mean, "scale": scale},
                {"name": f"has {label}", "kind": "field_present", "code": code}]
    if kind in FLAG_TYPES:
        return [{"name": label, "kind": "field_flag", "code": code}]
    return [{"name": f"{label} is {value}", "kind": "field_eq", "code": code, "value": value}
            for value in _frequent(v for p in present for v in _values(p))]


def vector(spec: list[dict[str, Any]], row: dict[str, Any]) -> list[float]:
    """The feature values of one lead, in the order of ``spec``."""
    fields = row["fields"] or {}
    tags = set(row["tags"] or ())
    out: list[float] = []
    for s in spec:
        kind = s["kind"]
        if kind in ("present", "flag"):
            x = 1.0 if row[s["column"]] else 0.0
        elif kind == "eq":
            x = 1.0 if row[s["column"]] is not None and str(row[s["column"]]) == s["value"] \
                else 0.0
        elif kind == "tag":
            x = 1.0 if s["value"] in tags else 0.0
        elif kind == "activities":
            x = math.log1p(float(row["activity"].get(s["type"], 0)))
        elif kind == "number":
            n = number(fields.get(s["code"]))
            x = 0.0 if n is None else (n - s["mean"]) / s["scale"]
        elif kind == "field_present":
            x = 1.0 if fields.get(s["code"]) is not None else 0.0
        elif kind == "field_flag":
            x = 1.0 if fields.get(s["code"]) is True else 0.0
        else:  # field_eq
            x = 1.0 if s["value"] in _values(fields.get(s["code"])) else 0.0
        out.append(x)
    return out


def label(status: str) -> int:
    return 1 if status in POSITIVE else 0
