"""Brazil: CPF and CNPJ."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadbase.fields.checks import CheckError, validate_cnpj_br, validate_cpf_br

DIGITS = "0123456789"


def ref_cpf_digits(first9: str) -> str:
    """Textbook CPF: weights 10..2 then 11..2; remainder < 2 -> 0, else 11 - remainder."""
    numbers = [int(c) for c in first9]
    for _ in range(2):
        weight = len(numbers) + 1
        total = 0
        for n in numbers:
            total += n * weight
            weight -= 1
        remainder = total % 11
        numbers.append(0 if remainder < 2 else 11 - remainder)
    return f"{numbers[9]}{numbers[10]}"


def ref_cnpj_digits(first12: str) -> str:
    """Textbook CNPJ: weights 2..9 cycling from the right; remainder < 2 -> 0."""
    numbers = [int(c) for c in first12]
    for _ in range(2):
        total = 0
        weight = 2
        for n in reversed(numbers):
            total += n * weight
            weight = 2 if weight == 9 else weight + 1
        remainder = total % 11
        numbers.append(0 if remainder < 2 else 11 - remainder)
    return f"{numbers[12]}{numbers[13]}"


def test_reference_agrees_with_hand_computation() -> None:
    # 1*10+1*9+1*8+4*7+4*6+4*5+7*4+7*3+7*2 = 162, 162 % 11 = 8 -> 3;
    # then 11+10+9+32+28+24+35+28+21+3*2 = 204, 204 % 11 = 6 -> 5
    assert ref_cpf_digits("111444777") == "35"
    # 5+4+6+4+18+24+21+18+0+0+0+2 = 102, 102 % 11 = 3 -> 8;
    # then 6+5+8+6+4+27+24+21+0+0+0+3+8*2 = 120, 120 % 11 = 10 -> 1
    assert ref_cnpj_digits("112223330001") == "81"


@pytest.mark.parametrize(("raw", "expected"), [
    ("111.444.777-35", "11144477735"),  # hand-checked above
    ("390.533.447-05", "39053344705"),  # python-stdnum's example
    ("39053344705", "39053344705"),
    (" 390 533 447 05 ", "39053344705"),
])
def test_cpf_valid(raw: str, expected: str) -> None:
    assert validate_cpf_br(raw) == expected


@pytest.mark.parametrize(("raw", "reason"), [
    ("111.444.777-36", "checksum"),  # last digit changed
    ("111.444.777-45", "checksum"),  # first check digit changed
    ("390.533.447-06", "checksum"),
    ("231.002.999-00", "checksum"),
    ("111.111.111-11", "component"),  # passes the arithmetic, never issued
    ("000.000.000-00", "component"),
    ("999.999.999-99", "component"),
    ("111.444.777-3", "length"),
    ("111.444.777-355", "length"),
    ("111.444.777-3A", "format"),
    ("111/444/777-35", "format"),  # "/" is a CNPJ separator only
])
def test_cpf_invalid(raw: str, reason: str) -> None:
    with pytest.raises(CheckError) as info:
        validate_cpf_br(raw)
    assert info.value.reason == reason
    assert info.value.check == "CPF_BR"


@pytest.mark.parametrize("digit", DIGITS)
def test_repeated_digit_numbers_are_refused(digit: str) -> None:
    cpf, cnpj = digit * 11, digit * 14
    # Every one-digit CPF passes the arithmetic, so only the repeated-digit rule refuses it.
    assert ref_cpf_digits(cpf[:9]) == cpf[9:]
    for check, value in ((validate_cpf_br, cpf), (validate_cnpj_br, cnpj)):
        with pytest.raises(CheckError) as info:
            check(value)
        assert info.value.reason == "component"
        assert "repeated digit" in str(info.value)


def test_all_zero_cnpj_passes_the_arithmetic() -> None:
    assert ref_cnpj_digits("0" * 12) == "00"  # hence the repeated-digit rule for CNPJ too


CNPJ_VALID = [  # found online (python-stdnum's test data) plus the hand-checked one
    "11.222.333/0001-81",
    "07.195.358/0001-66",
    "11.017.153/0002-49",
    "14.847.283/0005-40",
    "16.727.230.0001-97",
    "18.090.575/0004-50",
    "61882613000194",
    "69.435.154/0001-02",
]


@pytest.mark.parametrize("raw", CNPJ_VALID)
def test_cnpj_valid(raw: str) -> None:
    assert validate_cnpj_br(raw) == "".join(c for c in raw if c in DIGITS)


@pytest.mark.parametrize(("raw", "reason"), [
    ("11.222.333/0001-82", "checksum"),
    ("11.222.333/0001-91", "checksum"),
    ("07.195.358/0001-67", "checksum"),
    ("00.000.000/0000-00", "component"),
    ("11.111.111/1111-11", "component"),
    ("11.222.333/0001-8", "length"),
    ("11.222.333/00001-81", "length"),
    ("11.222.333/0001-8I", "format"),
    ("", "empty"),
])
def test_cnpj_invalid(raw: str, reason: str) -> None:
    with pytest.raises(CheckError) as info:
        validate_cnpj_br(raw)
    assert info.value.reason == reason
    assert info.value.check == "CNPJ_BR"


@given(st.text(alphabet=DIGITS, min_size=9, max_size=9))
def test_cpf_property(first9: str) -> None:
    good = first9 + ref_cpf_digits(first9)
    if len(set(good)) == 1:
        with pytest.raises(CheckError):
            validate_cpf_br(good)
        return
    assert validate_cpf_br(f"{good[:3]}.{good[3:6]}.{good[6:9]}-{good[9:]}") == good
    for position in (9, 10):
        for digit in set(DIGITS) - {good[position]}:
            with pytest.raises(CheckError):
                validate_cpf_br(good[:position] + digit + good[position + 1:])


@given(st.text(alphabet=DIGITS, min_size=12, max_size=12))
def test_cnpj_property(first12: str) -> None:
    good = first12 + ref_cnpj_digits(first12)
    if len(set(good)) == 1:
        with pytest.raises(CheckError):
            validate_cnpj_br(good)
        return
    formatted = f"{good[:2]}.{good[2:5]}.{good[5:8]}/{good[8:12]}-{good[12:]}"
    assert validate_cnpj_br(formatted) == good
    for position in (12, 13):
        for digit in set(DIGITS) - {good[position]}:
            with pytest.raises(CheckError):
                validate_cnpj_br(good[:position] + digit + good[position + 1:])
