"""Service rows → the document's shapes (dicts, dumped by orjson), and the document's
bodies → canonical request models."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import orjson
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.responses import Response

from leadbase.compat.crm.errors import field_name
from leadbase.compat.crm.ids import encode
from leadbase.kit.http import etag

M = TypeVar("M", bound=BaseModel)
Row = Mapping[str, Any]
_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS


def upper(value: str | None) -> str | None:
    return None if value is None else value.upper()


def lead(row: Row) -> dict[str, Any]:
    """A lead as the document shows it (statuses, sources, temperatures in capitals)."""
    return {
        "id": encode("lead", row["id"]), "firstName": row["first_name"],
        "lastName": row["last_name"], "email": row["email"], "phone": row["phone"],
        "company": row["company"], "jobTitle": row["job_title"],
        "source": upper(row["source"]), "status": row["status"].upper(),
        "score": row["score"], "temperature": upper(row["temperature"]),
        "notes": row["notes"], "tags": row["tags"],
        "assignedToId": encode("agent", row["owner_id"]),
        "lastContactedAt": row["last_contacted_at"], "createdAt": row["created_at"],
        "updatedAt": row["updated_at"]}


def short_lead(row: Row) -> dict[str, Any]:
    """The hot and cold lists' entries: the document's ``{id, firstName, score}`` and
    what names the lead."""
    return {"id": encode("lead", row["id"]), "firstName": row["first_name"],
            "lastName": row["last_name"], "email": row["email"],
            "company": row["company"], "status": row["status"].upper(),
            "score": row["score"], "temperature": upper(row["temperature"]),
            "assignedToId": encode("agent", row["owner_id"])}


def agent(user: Row | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": encode("agent", user["id"]), "name": user["name"], "email": user["email"],
            "role": str(user["role"]).upper(), "active": bool(user["is_active"])}


# Activities ------------------------------------------------------------------------------

def _minutes(seconds: Any) -> int | float:
    minutes = seconds / 60
    return int(minutes) if float(minutes).is_integer() else round(minutes, 2)


def _number(value: Any) -> int | float:
    amount = Decimal(str(value))
    return int(amount) if amount == amount.to_integral_value() else float(amount)


# A canonical attribute → (the document's name, the conversion of its value).
_ATTRIBUTES_OUT: dict[str, tuple[str, Any]] = {
    "duration_seconds": ("duration", _minutes), "duration_minutes": ("duration", None),
    "due": ("dueDate", None), "url": ("documentUrl", None),
    "document_url": ("documentUrl", None), "document_type": ("documentType", None),
    "scheduled_for": ("scheduledFor", None), "value": ("value", _number)}


def activity(row: Row) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": encode("activity", row["id"]), "type": str(row["type"]).upper(),
        "leadId": encode("lead", row.get("lead_id")),
        "opportunityId": encode("opportunity", row.get("opportunity_id")),
        "description": row["description"],
        "state": "SCHEDULED" if row["completed_at"] is None else "COMPLETED",
        "scheduledFor": row["scheduled_for"], "completedAt": row["completed_at"],
        "occurredAt": row["occurred_at"],
        "createdById": encode("agent", row.get("author_id")),
        "createdAt": row["created_at"], "updatedAt": row["updated_at"]}
    for key, value in (row.get("attributes") or {}).items():
        name, convert = _ATTRIBUTES_OUT.get(key, (None, None))
        name = name or field_name(key)
        if name in out and key == "scheduled_for":
            continue  # the activity's own scheduledFor
        out[name] = convert(value) if convert is not None and value is not None else value
    return out


# Responses --------------------------------------------------------------------------------

def respond(body: Any, status_code: int = 200,
            headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body, option=_OPTIONS), status_code=status_code,
                    media_type="application/json", headers=headers)


def etag_of(row: Row) -> dict[str, str]:
    return {"ETag": etag(row["version"])}


def page(items: list[dict[str, Any]], *, total: int, page: int, limit: int,
         estimated: bool = False) -> Response:
    """``{data, total, page, limit, totalPages}``; an estimated total says so in
    ``X-Total-Count-Estimated: true``."""
    body = {"data": items, "total": total, "page": page, "limit": limit,
            "totalPages": math.ceil(total / limit) if limit else 0}
    return respond(body, headers={"X-Total-Count-Estimated": "true"} if estimated else None)


def canonical(model: type[M], values: dict[str, Any]) -> M:
    """A canonical request model; its validation errors become the profile's 400 in the
    document's names."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        errors = [{**err, "loc": ("body", field_name(".".join(map(str, err["loc"]))))}
                  for err in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from exc


# Opportunities and customers -------------------------------------------------------------

def number(value: Any) -> int | float | None:
    """Money as the document writes it: a JSON number (whole amounts as integers)."""
    return None if value is None else _number(value)


def _midnight(day: date | None) -> datetime | None:
    """A date as the document's timestamps (``2026-03-31T00:00:00Z``)."""
    return None if day is None else datetime(day.year, day.month, day.day, tzinfo=UTC)


def opportunity(row: Row) -> dict[str, Any]:
    """An opportunity as ``presented`` gives it (its lead unnamed when the caller may not
    read it): stages and statuses in capitals, money as numbers, dates as timestamps."""
    lead = row.get("lead")
    customer = row.get("customer")
    return {
        "id": encode("opportunity", row["id"]), "name": row["name"],
        "leadId": encode("lead", row["lead_id"]),
        "customerId": encode("customer", row["customer_id"]),
        "stage": row["stage"].upper(), "stageName": row["stage_name"],
        "status": row["status"].upper(), "value": number(row["value"]),
        "currency": row["currency"], "probability": row["probability"],
        "weightedValue": number(row["weighted_value"]),
        "expectedCloseDate": _midnight(row["expected_close_date"]),
        "assignedToId": encode("agent", row["owner_id"]), "source": upper(row["source"]),
        "notes": row["notes"], "actualValue": number(row["actual_value"]),
        "closeDate": _midnight(row["close_date"]), "closedAt": row["closed_at"],
        "lostReason": row["lost_reason"], "competitor": row["competitor"],
        "closeNotes": row["close_notes"], "reopenedAt": row["reopened_at"],
        "reopenReason": row["reopen_reason"], "lastActivityAt": row["last_activity_at"],
        "stageEnteredAt": row["stage_entered_at"],
        "lead": None if lead is None or row["lead_id"] is None else {
            "id": encode("lead", lead["id"]), "firstName": lead["first_name"],
            "lastName": lead["last_name"], "email": lead["email"],
            "company": lead["company"]},
        "customer": None if customer is None else {
            "id": encode("customer", customer["id"]), "name": customer["name"],
            "kind": str(customer["kind"]).upper()},
        "createdAt": row["created_at"], "updatedAt": row["updated_at"]}


def customer(row: Row) -> dict[str, Any]:
    return {"id": encode("customer", row["id"]), "kind": str(row["kind"]).upper(),
            "name": row["name"], "email": row["email"], "phone": row["phone"],
            "website": row["website"], "industry": row["industry"],
            "address": row["address"], "assignedToId": encode("agent", row["owner_id"]),
            "notes": row["notes"], "createdAt": row["created_at"],
            "updatedAt": row["updated_at"]}
