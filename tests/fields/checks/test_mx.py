"""Mexico: CURP and RFC."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadbase.fields.checks import (
    CheckError,
    validate_curp_mx,
    validate_rfc_mx,
    validate_rfc_mx_structure,
)

DIGITS = "0123456789"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def ref_char_value(char: str, *, amp_or_enie: str) -> int:
    """Digits 0-9, A-N 10-23, then ``amp_or_enie`` takes 24 and O-Z are 25-36."""
    if char in DIGITS:
        return int(char)
    if char == amp_or_enie:
        return 24
    value = ord(char) - ord("A") + 10
    return value if char <= "N" else value + 1


def ref_curp_digit(first17: str) -> int:
    total = 0
    for i in range(17):
        total += ref_char_value(first17[i], amp_or_enie="Ñ") * (18 - i)
    return (10 - total % 10) % 10


def ref_rfc_digit(without_check: str) -> str:
    """SAT: companies get a leading space (37), Ñ is 38; weights 13..2; mod 11, 10 -> A."""
    text = without_check if len(without_check) == 12 else " " + without_check
    total = 0
    for i in range(12):
        char = text[i]
        value = {" ": 37, "Ñ": 38}.get(char)
        if value is None:
            value = ref_char_value(char, amp_or_enie="&")
        total += value * (13 - i)
    remainder = total % 11
    if remainder == 0:
        return "0"
    return "A" if remainder == 1 else str(11 - remainder)


def test_reference_agrees_with_hand_computation() -> None:
    # H17*18 + E14*17 + G16*16 + G16*15 + 5*14 + 6*13 + 0*12 + 4*11 + 2*10 + 7*9 + M22*8
    # + V32*7 + Z36*6 + R28*5 + R28*4 + L21*3 + 0*2 = 2246 -> (10 - 6) % 10 = 4
    assert ref_curp_digit("HEGG560427MVZRRL0") == 4
    # G16*13 + O25*12 + D13*11 + E14*10 + 5*9 + 6*8 + 1*7 + 2*6 + 3*5 + 1*4 + G16*3 + R28*2
    # = 1026; 1026 % 11 = 3 -> 8
    assert ref_rfc_digit("GODE561231GR") == "8"
    # space37*13 + M22*12 + A10*11 + B11*10 + 9*9 + 3*8 + 0*7 + 7*6 + 1*5 + 4*4 + 8*3 + T30*2
    # = 1217; 1217 % 11 = 7 -> 4
    assert ref_rfc_digit("MAB9307148T") == "4"
    # space37*13 + B11*12 + A10*11 + Ñ38*10 + 9*9 + 3*8 + 0*7 + 6*6 + 1*5 + 6*4 + R28*3 + 6*2
    # = 1369; 1369 % 11 = 5 -> 6
    assert ref_rfc_digit("BAÑ930616R6") == "6"


# --- CURP ------------------------------------------------------------------------------------

CURP_VALID = [  # python-stdnum's examples and numbers found online
    "HEGG560427MVZRRL04",  # hand-checked above
    "BOXW310820HNERXN09",
    "BEML920313HMCLNS09",
    "PEGL890909MJCRMS08",
    "AAAA000101HDFCCC09",
    "OOMG890727HMNRSR06",
    "VIAA900930MMNCLL08",
]


@pytest.mark.parametrize("raw", CURP_VALID)
def test_curp_valid(raw: str) -> None:
    assert validate_curp_mx(raw) == raw
    assert validate_curp_mx(f" {raw[:4]}-{raw[4:10]}-{raw[10:]} ".lower()) == raw


@pytest.mark.parametrize(("raw", "reason"), [
    ("HEGG560427MVZRRL05", "checksum"),
    ("HEGG560427MVZRRL03", "checksum"),
    ("PEGL890909MJCRMS09", "checksum"),
    ("PEGL891313MJCRMS06", "component"),  # month 13
    ("PEGL890230MJCRMS08", "component"),  # 30 February
    ("PEGL890909QJCRMS08", "component"),  # sex Q
    ("PEGL890909MQQRMS02", "component"),  # state QQ
    ("PBGL890909MJCRMS08", "component"),  # second letter must be a vowel or X
    ("PEGL890909MJCAMS08", "component"),  # a vowel among the inner consonants
    ("HEGG560427MVZRRL0", "length"),
    ("HEGG560427MVZRRL044", "length"),
    ("123ZZZZZZZZZZZZZ90", "format"),
    ("HEGG560427MVZRRL0O", "format"),  # letter O for the final digit
    ("HEGG56O427MVZRRL04", "format"),
    ("HEGG560427MVZRRÑ04", "format"),  # RENAPO writes Ñ as X
])
def test_curp_invalid(raw: str, reason: str) -> None:
    with pytest.raises(CheckError) as info:
        validate_curp_mx(raw)
    assert info.value.reason == reason
    assert info.value.check == "CURP_MX"


def test_curp_century_comes_from_the_homonym_character() -> None:
    # 29 February exists in 2000 (homonym is a letter) but not in 1900 (a digit).
    for_2000 = "HEGG000229MVZRRLA"
    assert validate_curp_mx(for_2000 + str(ref_curp_digit(for_2000))) == (
        for_2000 + str(ref_curp_digit(for_2000)))
    for_1900 = "HEGG000229MVZRRL0"
    with pytest.raises(CheckError) as info:
        validate_curp_mx(for_1900 + str(ref_curp_digit(for_1900)))
    assert info.value.reason == "component"


CURP_STATES = [
    "AS", "BC", "BS", "CC", "CL", "CM", "CS", "CH", "DF", "DG", "GT", "GR", "HG", "JC", "MC",
    "MN", "MS", "NT", "NL", "OC", "PL", "QT", "QR", "SP", "SL", "SR", "TC", "TS", "TL", "VZ",
    "YN", "ZS", "NE",
]


@st.composite
def curp_bodies(draw: st.DrawFn) -> str:
    born = draw(st.dates(dt.date(1900, 1, 1), dt.date(2099, 12, 31)))
    return "".join([
        draw(st.sampled_from(LETTERS)),
        draw(st.sampled_from("AEIOUX")),
        draw(st.text(LETTERS, min_size=2, max_size=2)),
        born.strftime("%y%m%d"),
        draw(st.sampled_from("HMX")),
        draw(st.sampled_from(CURP_STATES)),
        draw(st.text("BCDFGHJKLMNPQRSTVWXYZ", min_size=3, max_size=3)),
        draw(st.sampled_from(DIGITS if born.year < 2000 else LETTERS)),
    ])


@given(curp_bodies())
def test_curp_property(body: str) -> None:
    good = ref_curp_digit(body)
    assert validate_curp_mx(f"{body}{good}".lower()) == f"{body}{good}"
    for wrong in set(range(10)) - {good}:
        with pytest.raises(CheckError) as info:
            validate_curp_mx(f"{body}{wrong}")
        assert info.value.reason == "checksum"


# --- RFC -------------------------------------------------------------------------------------

RFC_VALID = [  # python-stdnum's examples and numbers found online with a valid check digit
    ("GODE 561231 GR8", "GODE561231GR8"),  # hand-checked above
    ("MAB-930714-8T4", "MAB9307148T4"),  # hand-checked above
    ("gode561231gr8", "GODE561231GR8"),
    ("&&&030828PX7", "&&&030828PX7"),
    ("AP&0305026J9", "AP&0305026J9"),
    ("MUÑ110218LJ6", "MUÑ110218LJ6"),
    ("muñ110218lj6", "MUÑ110218LJ6"),
    ("MUN\u0303110218LJ6", "MUÑ110218LJ6"),  # decomposed Ñ (N + combining tilde)
    ("BAÑ930616R66", "BAÑ930616R66"),  # hand-checked above
    ("AEL7407151YA", "AEL7407151YA"),  # check character A
    ("NOCJ750806BJA", "NOCJ750806BJA"),
    ("AAA390128530", "AAA390128530"),
    ("CGB000229SW0", "CGB000229SW0"),  # 29 February 2000
    ("XAXX010101000", "XAXX010101000"),  # SAT's generic RFC (general public)
    ("XEXX010101000", "XEXX010101000"),  # SAT's generic RFC (foreigners)
]


@pytest.mark.parametrize(("raw", "expected"), RFC_VALID)
def test_rfc_valid(raw: str, expected: str) -> None:
    assert validate_rfc_mx(raw) == expected
    assert validate_rfc_mx_structure(raw) == expected


@pytest.mark.parametrize(("raw", "reason"), [
    ("GODE561231GR9", "checksum"),
    ("GODE561231GRA", "checksum"),
    ("MAB9307148T5", "checksum"),
    ("XAXX010101001", "component"),  # the generic RFCs are exempt only exactly as written
    ("GODE561331GR8", "component"),  # month 13
    ("GODE560230GR8", "component"),  # 30 February
    ("ABCD123456", "length"),  # no homoclave
    ("GODE561231GR", "format"),  # 12 characters: a company RFC has 3 letters
    ("GOD1561231GR8", "format"),
    ("GODE561231GRB", "format"),  # the last character is 0-9 or A
    ("GODÉ561231GR8", "format"),
    ("", "empty"),
])
def test_rfc_invalid(raw: str, reason: str) -> None:
    with pytest.raises(CheckError) as info:
        validate_rfc_mx(raw)
    assert info.value.reason == reason
    assert info.value.check == "RFC_MX"


@pytest.mark.parametrize("raw", ["GODE561231GR9", "GODE561231GRA", "MAB9307148T5"])
def test_rfc_structure_check_ignores_the_check_digit(raw: str) -> None:
    assert validate_rfc_mx_structure(raw) == raw


@pytest.mark.parametrize(("raw", "reason"), [
    ("SIN9311169P8", "checksum"),  # in use and registered at SAT, wrong check digit
    ("VACE460910SX6", "checksum"),
    ("CCM650122I06", "component"),  # a 0 in the homoclave, which SAT's table never yields
])
def test_rfc_in_use_with_bad_check_digit(raw: str, reason: str) -> None:
    with pytest.raises(CheckError) as info:
        validate_rfc_mx(raw)
    assert info.value.reason == reason
    assert validate_rfc_mx_structure(raw) == raw


@st.composite
def rfc_bodies(draw: st.DrawFn) -> str:
    person = draw(st.booleans())
    size = 4 if person else 3
    born = draw(st.dates(dt.date(1900, 1, 1), dt.date(2099, 12, 31)))
    return "".join([
        draw(st.text(LETTERS + "&Ñ", min_size=size, max_size=size)),
        born.strftime("%y%m%d"),
        draw(st.sampled_from("123456789ABCDEFGHIJKLMNPQRSTUV")),
        draw(st.sampled_from("123456789ABCDEFGHIJKLMNPQRSTUVWXYZ")),
    ])


@given(rfc_bodies())
def test_rfc_property(body: str) -> None:
    good = ref_rfc_digit(body)
    assert validate_rfc_mx(body + good) == body + good
    for other in "0123456789A":
        assert validate_rfc_mx_structure(body + other) == body + other
        if other != good:
            with pytest.raises(CheckError) as info:
                validate_rfc_mx(body + other)
            assert info.value.reason == "checksum"
