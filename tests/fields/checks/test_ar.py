"""Argentina: DNI, CUIT/CUIL, CBU, plates."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadbase.fields.checks import (
    CheckError,
    validate_cbu_arg,
    validate_cuil_arg,
    validate_cuit_arg,
    validate_dni_arg,
    validate_patente_arg,
)

DIGITS = "0123456789"


# --- reference implementations (textbook versions, independent of the library) -------------


def ref_cuit_digit(first10: str) -> int | None:
    """AFIP: sum of digit * weight, 11 - (sum mod 11); 11 -> 0, 10 -> no valid digit."""
    weights = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]
    total = 0
    for i in range(10):
        total += int(first10[i]) * weights[i]
    result = 11 - (total % 11)
    if result == 11:
        return 0
    if result == 10:
        return None
    return result


def ref_cbu_digit(block: str) -> int:
    """Weights 3,1,7,9 repeating from the rightmost digit; (10 - sum mod 10) mod 10."""
    cycle = [3, 1, 7, 9]
    total = 0
    for i, char in enumerate(reversed(block)):
        total += int(char) * cycle[i % 4]
    return (10 - total % 10) % 10


def test_reference_agrees_with_hand_computation() -> None:
    # 2*5 + 0*4 + 1*3 + 2*2 + 3*7 + 4*6 + 5*5 + 6*4 + 7*3 + 8*2 = 148; 148 % 11 = 5; 11 - 5 = 6
    assert ref_cuit_digit("2012345678") == 6
    # 2*7 + 8*1 + 5*3 + 0*9 + 5*7 + 9*1 + 0*3 = 81 -> 9 ; second block sums to 139 -> 1
    assert ref_cbu_digit("2850590") == 9
    assert ref_cbu_digit("4009041813520") == 1


# --- DNI -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [
    ("12345678", "12345678"),
    ("12.345.678", "12345678"),
    ("12 345 678", "12345678"),
    (" 1.234.567 ", "1234567"),
    ("01.234.567", "1234567"),
    ("99.999.999", "99999999"),
    ("1.000.000", "1000000"),
])
def test_dni_valid(raw: str, expected: str) -> None:
    assert validate_dni_arg(raw) == expected


@pytest.mark.parametrize(("raw", "reason"), [
    ("123456", "length"),
    ("999.999", "length"),
    ("123456789", "length"),
    ("0000000", "length"),
    ("12.345.67A", "format"),
    ("12,345,678", "format"),
    ("١٢٣٤٥٦٧٨", "format"),  # Arabic-Indic digits: str.isdigit() is True for these
    ("", "empty"),
    (" . - ", "empty"),
    ("1" * 65, "too_long"),
])
def test_dni_invalid(raw: str, reason: str) -> None:
    with pytest.raises(CheckError) as info:
        validate_dni_arg(raw)
    assert info.value.reason == reason
    assert info.value.check == "DNI_ARG"
    assert str(info.value).startswith("DNI: ")


@given(st.integers(min_value=1_000_000, max_value=99_999_999), st.booleans())
def test_dni_accepts_dotted_form(number: int, dotted: bool) -> None:
    text = f"{number:,}".replace(",", ".") if dotted else str(number)
    assert validate_dni_arg(text) == str(number)


# --- CUIT / CUIL -----------------------------------------------------------------------------

# Found online (python-stdnum's test data) and hand-checked where noted.
CUIT_VALID = [
    "20-12345678-6",  # hand-computed above
    "20-05536168-2",  # 10+0+0+10+35+18+30+4+18+16 = 141; 141 % 11 = 9 -> 2
    "20101234569",
    "23000052264",
    "24117166062",
    "27-10345678-4",
    "27937240444",
    "30-71042263-6",
    "30653311857",
    "33-69345023-9",  # 145 % 11 = 2 -> 9
    "33500001599",
    "34546198105",
]


@pytest.mark.parametrize("raw", CUIT_VALID)
def test_cuit_valid(raw: str) -> None:
    expected = "".join(c for c in raw if c.isdigit())
    assert validate_cuit_arg(raw) == expected
    assert validate_cuit_arg(f" {raw[:2]} {raw[2:].replace('-', '.')} ") == expected


@pytest.mark.parametrize(("raw", "reason"), [
    ("20-12345678-7", "checksum"),
    ("20-12345678-5", "checksum"),
    ("20-05536168-3", "checksum"),
    ("30-71042263-7", "checksum"),
    ("2026756539", "length"),
    ("202675653933", "length"),
    ("2026756A393", "format"),
    ("٢٠-١٢٣٤٥٦٧٨-٦", "format"),  # 20-12345678-6 in Arabic-Indic digits (int() accepts them)
    ("２０-１２３４５６７８-６", "format"),  # full-width digits
    ("99-05536168-8", "component"),
    ("21-12345678-6", "component"),
    ("50-00000000-0", "component"),
    # 20-12345676 gives 10 (144 % 11 == 1): AFIP never issues it, so neither digit is
    # accepted; the folk rule "10 -> 9" would wrongly accept the first one.
    ("20-12345676-9", "checksum"),
    ("20-12345676-0", "checksum"),
])
def test_cuit_invalid(raw: str, reason: str) -> None:
    with pytest.raises(CheckError) as info:
        validate_cuit_arg(raw)
    assert info.value.reason == reason


@pytest.mark.parametrize("raw", [
    "23-12345676-9",  # a man whose 20-prefix result is 10: 144 + 3*4 = 156; 156 % 11 = 2 -> 9
    "23-12345673-4",  # a woman: 27-12345673 gives 166 % 11 == 1; 23 gives 150 % 11 = 7 -> 4
    "33-50000002-9",  # a company: 30-50000002 gives 34 % 11 == 1; 33 gives 46 % 11 = 2 -> 9
])
def test_afip_23_33_reassignment_validates(raw: str) -> None:
    assert validate_cuit_arg(raw) == raw.replace("-", "")


def test_cuil_is_for_people_only() -> None:
    assert validate_cuil_arg("20-12345678-6") == "20123456786"
    assert validate_cuil_arg("27-10345678-4") == "27103456784"
    with pytest.raises(CheckError) as info:
        validate_cuil_arg("30-71042263-6")  # a valid company CUIT
    assert info.value.reason == "component"
    assert info.value.check == "CUIL_ARG"
    assert "20, 23, 24, 27" in str(info.value)


CUIT_PREFIXES = ["20", "23", "24", "27", "30", "33", "34"]


def _passes(check: Callable[[str], str], value: str) -> bool:
    try:
        check(value)
    except CheckError:
        return False
    return True


@given(st.sampled_from(CUIT_PREFIXES), st.text(alphabet=DIGITS, min_size=8, max_size=8))
def test_cuit_property(prefix: str, body: str) -> None:
    good = ref_cuit_digit(prefix + body)
    accepted = [d for d in range(10) if _passes(validate_cuit_arg, f"{prefix}-{body}-{d}")]
    assert accepted == ([] if good is None else [good])
    if good is not None:
        assert validate_cuit_arg(f"{prefix} {body} {good}") == f"{prefix}{body}{good}"


@given(st.sampled_from(CUIT_PREFIXES), st.text(alphabet=DIGITS, min_size=8, max_size=8))
def test_cuil_property(prefix: str, body: str) -> None:
    good = ref_cuit_digit(prefix + body)
    accepted = [d for d in range(10) if _passes(validate_cuil_arg, f"{prefix}{body}{d}")]
    people = prefix in ("20", "23", "24", "27")
    assert accepted == ([good] if people and good is not None else [])


# --- CBU -------------------------------------------------------------------------------------

CBU_VALID = [  # found online (python-stdnum's test data)
    "2850590940090418135201",  # hand-checked in test_reference_agrees_with_hand_computation
    "0070034420000002310035",
    "0110097630009704213797",
    "0140313601697100515896",
    "0720000720000001681136",
    "1910104255110401549353",
    "3860060703000013990500",
    "01505016-02000120967405",
    "0168888-1-0000827441015-8",
    "03400562 00560007577005",
    "0 1400 236 – 01 5068 0262 5874",  # en dash, as pasted from a word processor
]


@pytest.mark.parametrize("raw", CBU_VALID)
def test_cbu_valid(raw: str) -> None:
    expected = "".join(c for c in raw if c in DIGITS)
    assert len(expected) == 22
    assert validate_cbu_arg(raw) == expected


@pytest.mark.parametrize(("raw", "reason", "where"), [
    ("2850590940090418135202", "checksum", "22nd"),  # last digit changed
    ("0940099324001313220038", "checksum", "22nd"),  # error in the second block
    ("1940099324001313220028", "checksum", "8th"),  # error in the first block
    ("2850590840090418135201", "checksum", "8th"),  # 8th digit changed
    ("285059094009041", "length", "22 digits"),
    ("28505909400904181352011", "length", "22 digits"),
    ("A850590940090418135201", "format", "digits"),
])
def test_cbu_invalid(raw: str, reason: str, where: str) -> None:
    with pytest.raises(CheckError) as info:
        validate_cbu_arg(raw)
    assert info.value.reason == reason
    assert where in str(info.value)


@given(st.text(alphabet=DIGITS, min_size=7, max_size=7),
       st.text(alphabet=DIGITS, min_size=13, max_size=13))
def test_cbu_property(block1: str, block2: str) -> None:
    d1, d2 = ref_cbu_digit(block1), ref_cbu_digit(block2)
    assert validate_cbu_arg(f"{block1}{d1} {block2}{d2}") == f"{block1}{d1}{block2}{d2}"
    for wrong in set(range(10)) - {d1}:
        with pytest.raises(CheckError):
            validate_cbu_arg(f"{block1}{wrong}{block2}{d2}")
    for wrong in set(range(10)) - {d2}:
        with pytest.raises(CheckError):
            validate_cbu_arg(f"{block1}{d1}{block2}{wrong}")


# --- Patente ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [
    ("ABC123", "ABC123"),
    ("ABC-123", "ABC123"),
    ("ABC 123", "ABC123"),
    ("abc 123", "ABC123"),
    ("AB123CD", "AB123CD"),
    ("AB 123 CD", "AB123CD"),
    ("ab-123-cd", "AB123CD"),
    ("AA.000.AA", "AA000AA"),
])
def test_patente_valid(raw: str, expected: str) -> None:
    assert validate_patente_arg(raw) == expected


@pytest.mark.parametrize(("raw", "reason"), [
    ("AB-1234", "format"),
    ("ABCD123", "format"),
    ("AB12CD", "format"),
    ("123ABC", "format"),  # old motorcycle layout, not a car plate
    ("A123BCD", "format"),  # Mercosur motorcycle layout
    ("ABC1234", "format"),
    ("AB123C", "format"),
    ("ÁBC123", "format"),
    ("AB123ß", "format"),  # "ß".upper() == "SS" would otherwise make AB123SS
    ("", "empty"),
])
def test_patente_invalid(raw: str, reason: str) -> None:
    with pytest.raises(CheckError) as info:
        validate_patente_arg(raw)
    assert info.value.reason == reason


LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@given(
    st.text(alphabet=LETTERS, min_size=3, max_size=3),
    st.text(alphabet=DIGITS, min_size=3, max_size=3),
    st.text(alphabet=LETTERS, min_size=2, max_size=2),
    st.sampled_from(["", " ", "-"]),
)
def test_patente_property(letters: str, digits: str, tail: str, sep: str) -> None:
    assert validate_patente_arg(f"{letters}{sep}{digits}".lower()) == letters + digits
    assert validate_patente_arg(f"{letters[:2]}{sep}{digits}{sep}{tail}") == (
        letters[:2] + digits + tail)
    with pytest.raises(CheckError):
        validate_patente_arg(f"{letters}{digits}{tail}")
