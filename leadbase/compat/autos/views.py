"""Service rows → the document's shapes, and the document's bodies → canonical models."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar

import orjson
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.responses import Response

from leadbase.compat.autos.errors import FIELDS
from leadbase.compat.autos.schemas import CarOut, CarSummary, LeadListed, LeadOut
from leadbase.kit.http import etag
from leadbase.kit.ids import parse_uuid

M = TypeVar("M", bound=BaseModel)
Row = Mapping[str, Any]

# Canonical task status → the document's. A cancelled task is "no longer relevant or
# cancelled": NOT_NEEDED, as the document's status flow says.
STATUS_OUT = {"open": "NEW", "completed": "COMPLETED", "not_needed": "NOT_NEEDED",
              "cancelled": "NOT_NEEDED"}
# The document's status → the canonical statuses it reads (filters) and writes.
STATUS_READS = {"NEW": ("open",), "COMPLETED": ("completed",),
                "NOT_NEEDED": ("not_needed", "cancelled")}
STATUS_WRITES = {"NEW": "open", "COMPLETED": "completed", "NOT_NEEDED": "not_needed"}


def uuid_or_none(value: str) -> uuid.UUID | None:
    return parse_uuid(value)


def etag_of(row: Row) -> dict[str, str]:
    return {"ETag": etag(row["version"])}


def order_of(position: Decimal | int | None) -> int:
    """A task's rank as the document's integer ``order``: the rank itself, or its floor
    when the canonical API put the task between two others (a fractional rank)."""
    if position is None:
        return 0
    return int(Decimal(position).to_integral_value(rounding="ROUND_FLOOR"))


def car_summary(listing: Row | None) -> CarSummary | None:
    if listing is None:
        return None
    attrs = listing.get("attributes") or {}
    return CarSummary(id=listing["id"], make=attrs.get("make"), model=attrs.get("model"),
                      overview_year=attrs.get("year"), location=attrs.get("location"))


def car(row: Row) -> CarOut:
    attrs = row.get("attributes") or {}
    return CarOut(id=row["id"], make=attrs.get("make"), model=attrs.get("model"),
                  overview_year=attrs.get("year"), location=attrs.get("location"),
                  trim=attrs.get("trim"), mileage=attrs.get("mileage"), vin=attrs.get("vin"),
                  condition=attrs.get("condition"), price=row.get("price"),
                  currency=row.get("currency"), status=str(row["status"]).upper(),
                  title=row["title"], reference=row.get("reference"),
                  description=row.get("description"), created_at=row["created_at"],
                  updated_at=row["updated_at"])


def lead(task: Row, target_name: str, target_info: str) -> LeadOut:
    """A task and the person it is about, as the document's lead."""
    return LeadOut(id=task["id"], car_id=task.get("listing_id"),
                   status=STATUS_OUT[task["status"]], action=task["title"],
                   target_name=target_name, target_info=target_info, tag=task.get("tag"),
                   note=task.get("note"), order=order_of(task.get("position")),
                   created_at=task["created_at"], updated_at=task["updated_at"])


def listed(item: LeadOut, listing: Row | None) -> LeadListed:
    return LeadListed(**dict(item), car=car_summary(listing))


def respond(body: BaseModel | Sequence[BaseModel], status_code: int = 200,
            headers: dict[str, str] | None = None) -> Response:
    """A JSON response in the document's names (a list answers as a JSON array)."""
    content = ([m.model_dump(mode="json", by_alias=True) for m in body]
               if not isinstance(body, BaseModel)
               else body.model_dump(mode="json", by_alias=True))
    return Response(orjson.dumps(content), status_code=status_code,
                    media_type="application/json", headers=headers)


def canonical(model: type[M], values: dict[str, Any]) -> M:
    """A canonical request model; its validation errors become the profile's 400, in
    the document's names."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        errors = [{**err, "loc": ("body", FIELDS.get(".".join(map(str, err["loc"])),
                                                     ".".join(map(str, err["loc"]))))}
                  for err in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from exc


def null_not_allowed(field: str) -> None:
    name = FIELDS.get(field, field)
    raise RequestValidationError([{"type": "null", "loc": ("body", _camel(name)),
                                   "msg": "cannot be null", "input": None}])


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)
