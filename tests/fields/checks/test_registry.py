"""The registry of named checks, and properties every check shares."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadbase.fields import checks
from leadbase.fields.checks import (
    CHECKSUMS,
    MAX_INPUT_LENGTH,
    CheckError,
    UnknownCheckError,
    get_check,
    is_valid,
    normalise,
)

# One valid value per check, written the way a user might type it, and its canonical form.
EXAMPLES = {
    "DNI_ARG": ("12.345.678", "12345678"),
    "CUIT_ARG": ("20-12345678-6", "20123456786"),
    "CUIL_ARG": ("27-10345678-4", "27103456784"),
    "CBU_ARG": ("28505909 40090418135201", "2850590940090418135201"),
    "PATENTE_ARG": ("ab 123 cd", "AB123CD"),
    "CPF_BR": ("111.444.777-35", "11144477735"),
    "CNPJ_BR": ("11.222.333/0001-81", "11222333000181"),
    "RUT_CL": ("12.345.678-5", "12345678-5"),
    "CURP_MX": ("hegg560427mvzrrl04", "HEGG560427MVZRRL04"),
    "RFC_MX": ("GODE 561231 GR8", "GODE561231GR8"),
    "RFC_MX_STRUCTURE": ("SIN 931116 9P8", "SIN9311169P8"),
    "LUHN": ("4111 1111 1111 1111", "4111111111111111"),
}


def test_registry_names() -> None:
    assert set(CHECKSUMS) == set(EXAMPLES)
    assert all(name == name.upper() for name in CHECKSUMS)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_examples_normalise_and_are_idempotent(name: str) -> None:
    raw, canonical = EXAMPLES[name]
    assert normalise(name, raw) == canonical
    assert normalise(name, canonical) == canonical
    assert is_valid(name, raw)
    assert get_check(name) is CHECKSUMS[name]


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_errors_name_their_check(name: str) -> None:
    _raw, canonical = EXAMPLES[name]
    broken = canonical[:-1] + "%"
    assert not is_valid(name, broken)
    with pytest.raises(CheckError) as info:
        normalise(name, broken)
    assert info.value.check == name
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert message.endswith(".") and ": " in message


@pytest.mark.parametrize("name", sorted(EXAMPLES))
@pytest.mark.parametrize(("raw", "reason"), [
    ("", "empty"),
    ("  - . ", "empty"),
    ("1" * (MAX_INPUT_LENGTH + 1), "too_long"),
    (12345678, "type"),
    (None, "type"),
])
def test_common_refusals(name: str, raw: object, reason: str) -> None:
    with pytest.raises(CheckError) as info:
        normalise(name, raw)  # type: ignore[arg-type]
    assert info.value.reason == reason


def test_unknown_check() -> None:
    with pytest.raises(UnknownCheckError) as info:
        get_check("CBU_AR")
    assert isinstance(info.value, LookupError)
    assert not isinstance(info.value, ValueError)  # a bad rule, not a bad value
    assert "CBU_AR" in str(info.value) and "CBU_ARG" in str(info.value)
    with pytest.raises(UnknownCheckError):
        is_valid("cbu_arg", "2850590940090418135201")  # names are exact


def test_package_exports() -> None:
    for name in checks.__all__:
        assert hasattr(checks, name), name


@given(st.sampled_from(sorted(EXAMPLES)), st.text(max_size=80))
def test_any_text_returns_or_raises_check_error(name: str, text: str) -> None:
    try:
        result = normalise(name, text)
    except CheckError as error:
        assert error.check == name
        assert error.reason in ("empty", "too_long", "length", "format", "component", "checksum")
    else:
        assert normalise(name, result) == result  # the canonical form is a fixed point
