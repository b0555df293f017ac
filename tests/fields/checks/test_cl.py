"""Chile: RUT / RUN."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadbase.fields.checks import CheckError, validate_rut_cl


def ref_rut_digit(body: str) -> str:
    """Textbook RUT: weights 2,3,4,5,6,7,2,3,... from the right; 11 -> 0, 10 -> K."""
    total = 0
    weight = 2
    for char in reversed(body):
        total += int(char) * weight
        weight = 2 if weight == 7 else weight + 1
    result = 11 - total % 11
    if result == 11:
        return "0"
    if result == 10:
        return "K"
    return str(result)


def test_reference_agrees_with_hand_computation() -> None:
    # 8*2+7*3+6*4+5*5+4*6+3*7+2*2+1*3 = 138, 138 % 11 = 6 -> 5
    assert ref_rut_digit("12345678") == "5"
    # 7*2+2*3+9*4+4*5+8*6+6*7+4*2+1*3 = 177, 177 % 11 = 1 -> 10 -> K
    assert ref_rut_digit("14684927") == "K"


@pytest.mark.parametrize(("raw", "expected"), [
    ("12.345.678-5", "12345678-5"),  # hand-checked above
    ("12345678-5", "12345678-5"),
    ("123456785", "12345678-5"),
    ("14.684.927-K", "14684927-K"),  # hand-checked above
    ("14.684.927-k", "14684927-K"),
    ("76.086.428-5", "76086428-5"),  # below: found online (python-stdnum's test data)
    ("96.919.970-K", "96919970-K"),
    ("7.741.928-4", "7741928-4"),
    ("3528355-2", "3528355-2"),
    ("14232760-0", "14232760-0"),
    ("07.741.928-4", "7741928-4"),
])
def test_rut_valid(raw: str, expected: str) -> None:
    assert validate_rut_cl(raw) == expected


@pytest.mark.parametrize(("raw", "reason"), [
    ("12.345.678-6", "checksum"),
    ("12.345.678-K", "checksum"),
    ("12.345.678-0", "checksum"),
    ("14.684.927-0", "checksum"),
    ("123.456-0", "length"),  # 6-digit body
    ("123.456.789-2", "length"),  # 9-digit body
    ("12.345.678-X", "format"),
    ("12.34A.678-5", "format"),
    ("K", "format"),
    ("", "empty"),
])
def test_rut_invalid(raw: str, reason: str) -> None:
    with pytest.raises(CheckError) as info:
        validate_rut_cl(raw)
    assert info.value.reason == reason
    assert info.value.check == "RUT_CL"


@given(st.integers(min_value=1_000_000, max_value=99_999_999))
def test_rut_property(number: int) -> None:
    body = str(number)
    good = ref_rut_digit(body)
    dotted = f"{number:,}".replace(",", ".")
    assert validate_rut_cl(f"{dotted}-{good.lower()}") == f"{body}-{good}"
    for wrong in set("0123456789K") - {good}:
        with pytest.raises(CheckError) as info:
            validate_rut_cl(f"{dotted}-{wrong}")
        assert info.value.reason == "checksum"
