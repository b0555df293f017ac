"""Contact data: phone numbers to E.164 (phonenumbers), emails (email-validator)."""

from __future__ import annotations

import functools
import importlib
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


def _valid_number(raw: str, region: str, field: str) -> tuple[phonenumbers.PhoneNumber, str]:
    """The parsed number and its region, or 422 naming ``field``."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationFailed(
            f"'{raw}' is not a phone number.", code="INVALID_PHONE",
            errors=[{"field": field, "message": f"not a phone number ({exc.args[0]})"}],
        ) from exc
    # is_valid_number() is region_code_for_number() then is_valid_number_for_region():
    # done in two steps, the region (pattern matching over every region of a shared
    # country code such as +1) is worked out once, not twice.
    country = phonenumbers.region_code_for_number(number)
    if country is None or not phonenumbers.is_valid_number_for_region(number, country):
        raise ValidationFailed(
            f"'{raw}' is not a valid phone number for region {region}.", code="INVALID_PHONE",
            errors=[{"field": field, "message": "not a valid phone number"}],
        )
    return number, country


def parse_phone(raw: str, *, region: str, field: str = "phone",
                preferred_timezone: str | None = None) -> Phone:
    """Normalise to E.164 using ``region`` for national numbers; 422 naming ``field``."""
    number, country = _valid_number(raw, region, field)
    # time_zones_for_number() would classify the number (pattern matching again) only to
    # tell geographic numbers from the rest; the prefix table answers both the same for
    # the numbers people give (fixed and mobile; for toll-free ones it is vaguer, and
    # _pick_timezone gives no zone when many match). A third of the cost of a parse.
    zones = phone_timezone.time_zones_for_geographical_number(number)
    return Phone(
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        country=country,
        timezone=_pick_timezone(zones, preferred_timezone),
    )


def phone_e164(raw: str, *, region: str, field: str = "phone") -> str:
    """:func:`parse_phone` without the country and time zone (custom PHONE fields store the
    number only; the zone lookup is a third of the cost)."""
    return str(phonenumbers.format_number(_valid_number(raw, region, field)[0],
                                          phonenumbers.PhoneNumberFormat.E164))


def _remember_domain_checks() -> None:
    """email-validator checks the domain of every address from scratch (IDNA rules, a
    test per character): 60% of its cost. That check is a pure function of the domain,
    and the domains of a workspace's leads repeat (gmail.com, hotmail.com, a company's
    own): the last 4,096 are remembered. Done where validate_email looks the function
    up; if a release of the library moves it, nothing changes but the speed."""
    module = importlib.import_module("email_validator.validate_email")
    name = "validate_email_domain_name"
    check = getattr(module, name, None)
    if callable(check) and not hasattr(check, "cache_info"):
        setattr(module, name, functools.lru_cache(maxsize=4096)(check))


_remember_domain_checks()


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
