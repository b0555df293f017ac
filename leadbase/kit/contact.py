"""Contact data: phone numbers to E.164 (phonenumbers), emails (email-validator)."""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from phonenumbers import timezone as phone_timezone

from leadbase.kit.errors import ValidationFailed


@dataclass(frozen=True)
class Phone:
    e164: str
    country: str | None
    timezone: str | None


def _pick_timezone(zones: tuple[str, ...], preferred: str | None) -> str | None:
    zones = tuple(z for z in zones if z != "Etc/Unknown")
    if not zones:
        return None
    if len(zones) == 1:
        return zones[0]
    if preferred in zones:
        return preferred
    # A few zones (Spain: Canary and Madrid) are listed alphabetically with the
    # islands first; the mainland is the better guess. Many zones (toll-free
    # numbers) say nothing about where the person is.
    return zones[-1] if len(zones) <= 3 else None


def _valid_number(raw: str, region: str, field: str) -> phonenumbers.PhoneNumber:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationFailed(
            f"'{raw}' is not a phone number.", code="INVALID_PHONE",
            errors=[{"field": field, "message": f"not a phone number ({exc.args[0]})"}],
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationFailed(
            f"'{raw}' is not a valid phone number for region {region}.", code="INVALID_PHONE",
            errors=[{"field": field, "message": "not a valid phone number"}],
        )
    return number


def parse_phone(raw: str, *, region: str, field: str = "phone",
                preferred_timezone: str | None = None) -> Phone:
    """Normalise to E.164 using ``region`` for national numbers; 422 naming ``field``."""
    number = _valid_number(raw, region, field)
    return Phone(
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        country=phonenumbers.region_code_for_number(number),
        timezone=_pick_timezone(phone_timezone.time_zones_for_number(number), preferred_timezone),
    )


def phone_e164(raw: str, *, region: str, field: str = "phone") -> str:
    """:func:`parse_phone` without the country and time zone (custom PHONE fields store the
    number only; the zone lookup is a third of the cost)."""
    return str(phonenumbers.format_number(_valid_number(raw, region, field),
                                          phonenumbers.PhoneNumberFormat.E164))


def normalize_email(raw: str, *, field: str = "email") -> str:
    """Validate syntax (no DNS lookups) and return the address lowercased."""
    try:
        info = validate_email(raw, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationFailed(
            f"'{raw}' is not a valid email address.", code="INVALID_EMAIL",
            errors=[{"field": field, "message": str(exc)}],
        ) from exc
    return info.normalized.lower()
