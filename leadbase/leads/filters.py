"""The lead list's filter: one schema, whoever asks.

``GET /api/v1/leads`` (and ``/leads/export``) build it from their query parameters;
background exports, bulk operations and, next, segments build it from a JSON body
(:meth:`LeadFilter.from_body`) and jobs keep that body. The names and meanings are those
of the query parameters: comma-separated values mean "any of", ``fields.<code>=a,b``,
``fields.<code>_gte=`` and ``fields.<code>_lte=`` filter on custom fields, and
``segment_id=`` keeps the leads of a segment (leadbase.segments). The schema is
pure (no SQL): the repository turns it into conditions, within the readable set of the
principal (``leads.repository.readable``)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from functools import cached_property
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from leadbase.kit.errors import ValidationFailed
from leadbase.kit.schemas import Timestamp
from leadbase.leads.rules import STATUSES as _STATUSES

STATUSES = frozenset(_STATUSES)
FIELD_PREFIX = "fields."
FIELD_SUFFIXES = ("_gte", "_lte")
# A custom-field filter: (code, op, raw value), op one of eq, gte, lte.
FieldFilter = tuple[str, str, str]


def _csv(value: str | None) -> list[str] | None:
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    return items or None


def _invalid(field: str, message: str, detail: str) -> ValidationFailed:
    return ValidationFailed(detail, code="INVALID_FILTER",
                            errors=[{"field": field, "message": message}])


def _uuids(values: list[str], field: str) -> list[uuid.UUID]:
    out = []
    for v in values:
        try:
            out.append(uuid.UUID(v))
        except ValueError as exc:
            raise _invalid(field, "not a UUID", f"'{v}' is not a valid id.") from exc
    return out


def parse_field_key(key: str) -> tuple[str, str] | None:
    """``"fields.Edad_gte"`` → ``("Edad", "gte")``; None for a key that is no custom-field
    filter."""
    if not key.startswith(FIELD_PREFIX) or len(key) <= len(FIELD_PREFIX):
        return None
    name, op = key[len(FIELD_PREFIX):], "eq"
    for suffix in FIELD_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            name, op = name[: -len(suffix)], suffix[1:]
    return name, op


class LeadFilter(BaseModel):
    """Which leads: the list's filters by their query-parameter names. Custom-field
    filters (``fields.<code>[_gte|_lte]``) are kept as extra keys; any other unknown key is
    ignored in a query string (it holds paging and sorting too) and refused in a body."""

    model_config = ConfigDict(extra="allow", frozen=True)

    status: Annotated[str | None, Field(description="Comma-separated statuses")] = None
    owner_id: Annotated[
        str | None, Field(description="User ids, comma-separated, or 'none'")] = None
    tags: Annotated[str | None, Field(description="Any of these tags (comma-separated)")] = None
    source: Annotated[str | None, Field(description="Comma-separated sources")] = None
    list_id: Annotated[str | None, Field(description="Comma-separated list ids")] = None
    score_gte: Annotated[int | None, Field(ge=0, le=100)] = None
    score_lte: Annotated[int | None, Field(ge=0, le=100)] = None
    created_after: Timestamp | None = None
    created_before: Timestamp | None = None
    updated_after: Timestamp | None = None
    pipeline_id: Annotated[str | None, Field(description="Comma-separated pipeline ids")] = None
    stage: Annotated[str | None, Field(description="Comma-separated stage ids or codes "
                                                   "(codes of lead pipelines; of "
                                                   "pipeline_id when given)")] = None
    stale_days: Annotated[int | None, Field(ge=1, le=36500,
                                            description="Nothing logged and no stage move "
                                                        "for this many days")] = None
    q: Annotated[str | None, Field(min_length=1, max_length=200,
                                   description="Search names, email, phone and company "
                                               "(accent- and case-insensitive)")] = None
    segment_id: Annotated[uuid.UUID | None, Field(
        description="The leads of this segment (its rule, or a static segment's members; "
                    "see /segments)")] = None
    include_deleted: bool = False
    only_deleted: bool = False

    @model_validator(mode="before")
    @classmethod
    def _only_field_extras(cls, data: Any) -> Any:
        """Of the unknown keys keep the custom-field filters (values as strings; a key
        repeated in a query string gives a list: each value is a filter)."""
        if not isinstance(data, Mapping):
            return data
        out: dict[str, Any] = {}
        for key, value in data.items():
            if key in cls.model_fields:
                out[key] = value
            elif parse_field_key(key) is not None:
                out[key] = [str(v) for v in value] if isinstance(value, list) else str(value)
        return out

    @model_validator(mode="after")
    def _check(self) -> LeadFilter:
        """Statuses and ids are checked when the filter is made. The 422 INVALID_FILTER is
        raised as it is (not a ValueError, which pydantic would make a type error), so the
        query string and a body both answer it, naming the parameter."""
        if self.statuses and (bad := [s for s in self.statuses if s not in STATUSES]):
            raise _invalid("status", f"one of {', '.join(sorted(STATUSES))}",
                           f"Unknown status '{bad[0]}'.")
        _ = self.owner_ids, self.list_ids, self.pipeline_ids
        return self

    @classmethod
    def from_body(cls, params: Mapping[str, Any] | None) -> LeadFilter:
        """The filter from its parameters given as a JSON object (values as strings,
        numbers or booleans; a list is joined with commas: "any of"). Unknown keys and
        wrong values are 422 ``INVALID_FILTER`` naming ``filter.<key>``."""
        raw = {k: (",".join(str(x) for x in v) if isinstance(v, list) else v)
               for k, v in (params or {}).items()}
        errors = [{"field": f"filter.{k}", "message": "Extra inputs are not permitted"}
                  for k in raw if k not in cls.model_fields and parse_field_key(k) is None]
        if not errors:
            try:
                return cls.model_validate(raw)
            except ValidationError as exc:
                errors = [{"field": "filter." + ".".join(str(p) for p in e["loc"]),
                           "message": e["msg"]} for e in exc.errors()]
        raise ValidationFailed("Invalid filter: " + ", ".join(e["field"] for e in errors[:5]),
                               code="INVALID_FILTER", errors=errors)

    # The parsed values the repository turns into conditions.

    @cached_property
    def statuses(self) -> list[str] | None:
        return _csv(self.status)

    @cached_property
    def _owners(self) -> list[str]:
        return _csv(self.owner_id) or []

    @cached_property
    def owner_none(self) -> bool:
        return "none" in self._owners

    @cached_property
    def owner_ids(self) -> list[uuid.UUID] | None:
        return _uuids([o for o in self._owners if o != "none"], "owner_id") or None

    @cached_property
    def tag_list(self) -> list[str] | None:
        return _csv(self.tags)

    @cached_property
    def sources(self) -> list[str] | None:
        return _csv(self.source)

    @cached_property
    def list_ids(self) -> list[uuid.UUID] | None:
        return _uuids(_csv(self.list_id) or [], "list_id") or None

    @cached_property
    def pipeline_ids(self) -> list[uuid.UUID] | None:
        return _uuids(_csv(self.pipeline_id) or [], "pipeline_id") or None

    @cached_property
    def stages(self) -> list[str] | None:
        """Stage ids or codes (the service resolves them: leads.service.lead_set)."""
        return _csv(self.stage)

    @cached_property
    def search(self) -> str | None:
        return self.q.strip() if self.q and self.q.strip() else None

    @cached_property
    def field_filters(self) -> list[FieldFilter]:
        """``[("Edad", "gte", "18"), ...]`` from the ``fields.<code>[_op]`` keys."""
        out: list[FieldFilter] = []
        for key, value in (self.model_extra or {}).items():
            parsed = parse_field_key(key)
            if parsed is not None:
                for v in value if isinstance(value, list) else [value]:
                    out.append((*parsed, v))
        return out

    @property
    def deleted(self) -> bool:
        """Whether deleted leads may be among the matches."""
        return self.include_deleted or self.only_deleted
