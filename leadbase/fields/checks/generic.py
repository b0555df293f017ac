"""Checks that belong to no country: the Luhn (mod 10) check digit."""

from __future__ import annotations

from leadbase.fields.checks._common import clean, fail, is_ascii_digits


def luhn_ok(digits: str) -> bool:
    """True when ``digits`` (ASCII digits, check digit last) passes the Luhn test."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def validate_luhn(value: str) -> str:
    """Any number protected by a Luhn check digit (payment cards, IMEI, ...).

    At least 2 digits; spaces, dots and dashes are ignored. No length or issuer rule is
    applied (pair the check with an input mask for that). Returns the digits.
    """
    check, label = "LUHN", "Number"
    compact = clean(value, check=check, label=label)
    if not is_ascii_digits(compact):
        raise fail(check, label, "format", "must contain only digits")
    if len(compact) < 2:
        raise fail(check, label, "length", "must have at least 2 digits")
    if not luhn_ok(compact):
        raise fail(check, label, "checksum", "the check digit (last digit) is wrong")
    return compact
