"""The generic Luhn check."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadbase.fields.checks import CheckError, validate_luhn


def ref_luhn_digit(payload: str) -> int:
    """Textbook Luhn: double every second digit from the right of the full number."""
    total = 0
    double = True  # the rightmost payload digit sits next to the check digit
    for char in reversed(payload):
        value = int(char) * (2 if double else 1)
        total += value // 10 + value % 10
        double = not double
    return (10 - total % 10) % 10


def test_reference_agrees_with_hand_computation() -> None:
    # Wikipedia's example: 7992739871 -> 3
    assert ref_luhn_digit("7992739871") == 3


@pytest.mark.parametrize(("raw", "expected"), [
    ("79927398713", "79927398713"),
    ("4111 1111 1111 1111", "4111111111111111"),  # well-known Visa test number
    ("5500-0000-0000-0004", "5500000000000004"),  # well-known Mastercard test number
    ("3782 822463 10005", "378282246310005"),  # well-known American Express test number
    ("18", "18"),
])
def test_luhn_valid(raw: str, expected: str) -> None:
    assert validate_luhn(raw) == expected


@pytest.mark.parametrize(("raw", "reason"), [
    ("79927398710", "checksum"),
    ("4111 1111 1111 1112", "checksum"),
    ("4111 1111 1111 111A", "format"),
    ("٧٩٩٢٧٣٩٨٧١٣", "format"),  # 79927398713 in Arabic-Indic digits
    ("0", "length"),
    ("", "empty"),
])
def test_luhn_invalid(raw: str, reason: str) -> None:
    with pytest.raises(CheckError) as info:
        validate_luhn(raw)
    assert info.value.reason == reason


@given(st.text(alphabet="0123456789", min_size=1, max_size=30))
def test_luhn_property(payload: str) -> None:
    good = ref_luhn_digit(payload)
    assert validate_luhn(f"{payload}{good}") == f"{payload}{good}"
    for wrong in set(range(10)) - {good}:
        with pytest.raises(CheckError):
            validate_luhn(f"{payload}{wrong}")


@given(st.text(alphabet="0123456789", min_size=1, max_size=30), st.integers(min_value=0))
def test_luhn_catches_adjacent_transpositions(payload: str, at: int) -> None:
    """Luhn detects swapping two adjacent different digits, except 09 <-> 90."""
    good = payload + str(ref_luhn_digit(payload))
    at %= len(good) - 1
    a, b = good[at], good[at + 1]
    if a == b or {a, b} == {"0", "9"}:
        return
    with pytest.raises(CheckError):
        validate_luhn(good[:at] + b + a + good[at + 2:])
