"""Argentina: DNI, CUIT/CUIL, CBU and vehicle plates (patentes)."""

from __future__ import annotations

import re

from leadbase.fields.checks._common import clean, fail, is_ascii_digits, require_digits

# --- DNI -------------------------------------------------------------------------------------

DNI_MIN = 1_000_000
DNI_MAX = 99_999_999


def validate_dni_arg(value: str) -> str:
    """Argentine DNI (Documento Nacional de Identidad): 7 or 8 digits, e.g. ``12.345.678``.

    The DNI has **no check digit**, so only the format and the range are checked:
    1.000.000-99.999.999 (zero-padded input such as ``01.234.567`` is accepted).
    Returns the number without leading zeros, e.g. ``"12345678"``.
    """
    check, label = "DNI_ARG", "DNI"
    compact = clean(value, check=check, label=label)
    if not is_ascii_digits(compact):
        raise fail(check, label, "format", "must contain only digits")
    stripped = compact.lstrip("0")
    if len(compact) > 8 or not DNI_MIN <= int(compact) <= DNI_MAX:
        raise fail(check, label, "length", f"must have 7 or 8 digits, got {len(stripped)}")
    return stripped


# --- CUIT / CUIL -----------------------------------------------------------------------------

CUIT_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
CUIT_PREFIXES = ("20", "23", "24", "27", "30", "33", "34")
CUIL_PREFIXES = ("20", "23", "24", "27")


def cuit_check_digit(first10: str) -> int | None:
    """AFIP's mod-11 check digit for the first 10 digits, or None when no digit exists.

    ``11 - sum(d * w) % 11`` with weights 5,4,3,2,7,6,5,4,3,2; a result of 11 becomes 0 and
    a result of 10 means the number cannot be issued with that prefix (see the module notes
    on the 23/33 reassignment).
    """
    result = 11 - sum(int(d) * w for d, w in zip(first10, CUIT_WEIGHTS, strict=True)) % 11
    if result == 11:
        return 0
    if result == 10:
        return None
    return result


def _cuit_like(value: str, *, check: str, label: str, prefixes: tuple[str, ...]) -> str:
    compact = require_digits(clean(value, check=check, label=label), check=check, label=label,
                             length=11)
    if compact[:2] not in prefixes:
        raise fail(check, label, "component",
                   f"prefix {compact[:2]} is not valid (expected one of {', '.join(prefixes)})")
    if cuit_check_digit(compact[:10]) != int(compact[10]):
        raise fail(check, label, "checksum", "the check digit (last digit) is wrong")
    return compact


def validate_cuit_arg(value: str) -> str:
    """CUIT (Clave Única de Identificación Tributaria), e.g. ``20-12345678-6``.

    11 digits: type prefix (20, 23, 24, 27 people; 30, 33, 34 companies), 8-digit DNI or
    company number, mod-11 check digit. Returns the 11 digits without separators.

    When AFIP's formula gives 10 for a new number it does not issue that number: it changes
    the prefix to 23 (people, digit 9 for 20 and 4 for 27) or 33 (companies, digit 9). The
    reassigned number satisfies the ordinary formula, so no special case is needed when
    validating, and a result of 10 is always invalid. (The folk rule "10 becomes 9", used by
    some libraries, accepts numbers AFIP never issues, so it is not used here.)
    """
    return _cuit_like(value, check="CUIT_ARG", label="CUIT", prefixes=CUIT_PREFIXES)


def validate_cuil_arg(value: str) -> str:
    """CUIL (Código Único de Identificación Laboral): a CUIT for people (20, 23, 24, 27)."""
    return _cuit_like(value, check="CUIL_ARG", label="CUIL", prefixes=CUIL_PREFIXES)


# --- CBU -------------------------------------------------------------------------------------

CBU_BLOCK1_WEIGHTS = (7, 1, 3, 9, 7, 1, 3)
CBU_BLOCK2_WEIGHTS = (3, 9, 7, 1, 3, 9, 7, 1, 3, 9, 7, 1, 3)


def cbu_check_digit(digits: str, weights: tuple[int, ...]) -> int:
    """Check digit of one CBU block: ``(10 - sum(d * w) % 10) % 10``."""
    return (10 - sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 10) % 10


def validate_cbu_arg(value: str) -> str:
    """CBU (Clave Bancaria Uniforme), 22 digits in two blocks with their own check digit.

    Block 1 (8 digits): bank (3), branch (4), check digit over digits 1-7 with weights
    7,1,3,9,7,1,3. Block 2 (14 digits): account (13), check digit over digits 9-21 with
    weights 3,9,7,1,3,9,7,1,3,9,7,1,3. Returns the 22 digits without separators.
    """
    check, label = "CBU_ARG", "CBU"
    compact = require_digits(clean(value, check=check, label=label), check=check, label=label,
                             length=22)
    if cbu_check_digit(compact[:7], CBU_BLOCK1_WEIGHTS) != int(compact[7]):
        raise fail(check, label, "checksum",
                   "the check digit of the first block (8th digit) is wrong")
    if cbu_check_digit(compact[8:21], CBU_BLOCK2_WEIGHTS) != int(compact[21]):
        raise fail(check, label, "checksum",
                   "the check digit of the second block (22nd digit) is wrong")
    return compact


# --- Patente ---------------------------------------------------------------------------------

_PLATE_OLD = re.compile(r"[A-Z]{3}[0-9]{3}")
_PLATE_MERCOSUR = re.compile(r"[A-Z]{2}[0-9]{3}[A-Z]{2}")
_ASCII_ALNUM = re.compile(r"[A-Za-z0-9]+")


def validate_patente_arg(value: str) -> str:
    """Argentine car plate: ``AAA999`` (1995-2016) or Mercosur ``AA999AA`` (since 2016).

    Spaces, dots and dashes are ignored (``"ABC-123"``, ``"AB 123 CD"``); letters may be
    lower case. Plates carry no check digit. Motorcycle formats are not accepted.
    Returns the plate in upper case without separators, e.g. ``"AB123CD"``.
    """
    check, label = "PATENTE_ARG", "Licence plate"
    compact = clean(value, check=check, label=label)
    # Test for ASCII before upper-casing: "ß".upper() is "SS", "ı".upper() is "I".
    if not _ASCII_ALNUM.fullmatch(compact):
        raise fail(check, label, "format", "must contain only letters A-Z and digits")
    plate = compact.upper()
    if not (_PLATE_OLD.fullmatch(plate) or _PLATE_MERCOSUR.fullmatch(plate)):
        raise fail(check, label, "format", "must look like ABC 123 or AB 123 CD")
    return plate
