"""Coercing a raw custom-field value to its type's canonical JSON form.

Canonical forms: STRING/TEXT/EMAIL/PHONE/URL → str; INT → int; DECIMAL → str (exact,
e.g. ``"12.5"``); DATE → ``"YYYY-MM-DD"``; DATETIME → UTC ``"YYYY-MM-DDTHH:MM:SSZ"``;
BOOL and single CHECKBOX → bool; single SELECTOR → item code; multiple SELECTOR or
CHECKBOX → list of item codes; LEAD → lead id (str). Each coercer raises
:class:`FieldValueError` with an English message."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from leadbase.kit.contact import normalize_email, phone_e164
from leadbase.kit.errors import ValidationFailed

MAX_STRING = 255
MAX_TEXT = 10_000
TRUE = {"true", "1", "yes", "si", "sí", "y", "s", "on"}
FALSE = {"false", "0", "no", "n", "off"}


class FieldValueError(ValueError):
    def __init__(self, message: str, rule: str = "type") -> None:
        super().__init__(message)
        self.message = message
        self.rule = rule


def _string(limit: int) -> Callable[[Any], Any]:
    def coerce(value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
            raise FieldValueError("must be text")
        text = str(value).strip()
        if len(text) > limit:
            raise FieldValueError(f"must be at most {limit} characters", "max_length")
        return text

    return coerce


def to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise FieldValueError("must be a whole number")
    try:
        number = Decimal(value) if isinstance(value, int) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise FieldValueError("must be a whole number") from exc
    if not number.is_finite() or number != number.to_integral_value():
        raise FieldValueError("must be a whole number")
    if abs(number) > 2**53:  # beyond what JSON numbers carry exactly
        raise FieldValueError("is too large", "max_value")
    return int(number)


def to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise FieldValueError("must be a number")
    try:
        number = Decimal(str(value).strip().replace(" ", ""))
    except (InvalidOperation, ValueError) as exc:
        raise FieldValueError("must be a number") from exc
    if not number.is_finite() or abs(number) >= Decimal(10) ** 18:
        raise FieldValueError("must be a finite number below 10^18")
    return number


def decimal_text(number: Decimal) -> str:
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "") else text


def to_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if len(text) == 10:
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise FieldValueError("must be a date (YYYY-MM-DD)")


def to_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip()
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as exc:
            raise FieldValueError("must be a date and time (ISO 8601)") from exc
    if moment.tzinfo is None:
        raise FieldValueError("must carry a time zone (e.g. 2026-01-31T10:00:00Z)")
    return moment.astimezone(UTC)


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise FieldValueError("must be true or false")


def to_url(value: Any) -> str:
    text = _string(2048)(value)
    parts = urlsplit(text if "://" in text else f"https://{text}")
    if parts.scheme not in ("http", "https") or not parts.netloc or "." not in parts.netloc:
        raise FieldValueError("must be a web address (http or https)")
    return parts.geturl()


def to_email(value: Any) -> str:
    try:
        return normalize_email(_string(320)(value))
    except ValidationFailed as exc:
        raise FieldValueError("must be a valid email address") from exc


def to_phone(value: Any, region: str, timezone: str | None) -> str:
    try:
        return phone_e164(_string(64)(value), region=region)
    except ValidationFailed as exc:
        raise FieldValueError(f"must be a valid phone number (region {region})") from exc


def to_lead_id(value: Any) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError as exc:
        raise FieldValueError("must be a lead id") from exc


def to_codes(value: Any, allowed: frozenset[str], multiple: bool) -> str | list[str]:
    items = value if isinstance(value, list) else (
        [v.strip() for v in value.split(",")] if multiple and isinstance(value, str) else [value])
    if not multiple and len(items) != 1:
        raise FieldValueError("takes one value")
    codes: list[str] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (str, int)):
            raise FieldValueError("must be item codes")
        code = str(item).strip()
        if code not in allowed:
            raise FieldValueError(f"'{code}' is not an active item of the code list", "one_of")
        if code not in codes:
            codes.append(code)
    return codes if multiple else codes[0]


STRING = _string(MAX_STRING)
TEXT = _string(MAX_TEXT)
