"""Mexico: CURP (population registry key) and RFC (taxpayer registry key)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from leadbase.fields.checks._common import clean, fail

# --- CURP ------------------------------------------------------------------------------------

CURP_ALPHABET = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ"
"""Character values for the CURP check digit (RENAPO's table: ``0``=0 ... ``Z``=36)."""

CURP_STATES = frozenset({
    "AS", "BC", "BS", "CC", "CH", "CL", "CM", "CS", "DF", "DG", "GR", "GT", "HG", "JC", "MC",
    "MN", "MS", "NE", "NL", "NT", "OC", "PL", "QR", "QT", "SL", "SP", "SR", "TC", "TL", "TS",
    "VZ", "YN", "ZS",
})
"""The 32 state codes plus ``NE`` (nacido en el extranjero, born abroad)."""

_CURP_SHAPE = re.compile(r"[A-Z]{4}[0-9]{6}[A-Z]{6}[0-9A-Z][0-9]")
_VOWEL_OR_X = frozenset("AEIOUX")
_CONSONANTS = re.compile(r"[B-DF-HJ-NP-TV-Z]{3}")
_ASCII_ALNUM = re.compile(r"[A-Za-z0-9]+")


def curp_check_digit(first17: str) -> int:
    """``(10 - sum(value(c_i) * (18 - i)) % 10) % 10`` over the first 17 characters."""
    total = sum(CURP_ALPHABET.index(c) * (18 - i) for i, c in enumerate(first17))
    return (10 - total % 10) % 10


def validate_curp_mx(value: str) -> str:
    """CURP (Clave Única de Registro de Población), 18 characters, e.g. ``HEGG560427MVZRRL04``.

    Structure (RENAPO): first letter of the first surname, its first inner vowel (or X),
    initial of the second surname and of the first name; birth date YYMMDD; sex ``H``/``M``
    (``X``, the non-binary marker, is also accepted); state of birth (or ``NE``); the first
    inner consonants of surname, second surname and name; a homonym character (a digit for
    people born before 2000, a letter from 2000 on, which also fixes the century of the
    date); and the check digit. Returns the CURP in upper case.
    """
    check, label = "CURP_MX", "CURP"
    compact = clean(value, check=check, label=label)
    if not _ASCII_ALNUM.fullmatch(compact):
        raise fail(check, label, "format", "must contain only letters A-Z and digits")
    curp = compact.upper()
    if len(curp) != 18:
        raise fail(check, label, "length", f"must have 18 characters, got {len(curp)}")
    if not _CURP_SHAPE.fullmatch(curp):
        raise fail(check, label, "format",
                   "must be 4 letters, 6 digits (birth date), 6 letters, a letter or digit "
                   "and a final digit")
    if curp[1] not in _VOWEL_OR_X:
        raise fail(check, label, "component", "the second character must be a vowel or X")
    century = 1900 if curp[16].isdigit() else 2000
    try:
        dt.date(century + int(curp[4:6]), int(curp[6:8]), int(curp[8:10]))
    except ValueError:
        raise fail(check, label, "component", "characters 5-10 are not a valid date (YYMMDD)"
                   ) from None
    if curp[10] not in "HMX":
        raise fail(check, label, "component", "the 11th character (sex) must be H, M or X")
    if curp[11:13] not in CURP_STATES:
        raise fail(check, label, "component", f"{curp[11:13]} is not a Mexican state code")
    if not _CONSONANTS.fullmatch(curp[13:16]):
        raise fail(check, label, "component", "characters 14-16 must be consonants")
    if curp_check_digit(curp[:17]) != int(curp[17]):
        raise fail(check, label, "checksum", "the check digit (last character) is wrong")
    return curp


# --- RFC -------------------------------------------------------------------------------------

RFC_ALPHABET = "0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ Ñ"
"""SAT's table for the RFC check digit: ``0``-``9``=0-9, ``A``-``N``=10-23, ``&``=24,
``O``-``Z``=25-36, space=37, ``Ñ``=38."""

_RFC_CHARS = re.compile(r"[A-Za-z0-9&Ññ]+")
_RFC_SHAPE = re.compile(r"[A-ZÑ&]{3,4}[0-9]{6}[0-9A-Z]{2}[0-9A]")
# The name-derived homoclave uses "123456789ABCDEFGHIJKLMNPQRSTUVWXYZ" (no 0, no O); its first
# character is a quotient of at most 29, so it stops at V.
_HOMOCLAVE = re.compile(r"[1-9A-NP-V][1-9A-NP-Z]")

GENERIC_RFCS = frozenset({"XAXX010101000", "XEXX010101000"})
"""SAT's generic RFCs (general public, foreigners). They break the homoclave and check-digit
rules, but SAT accepts them on invoices, so both RFC checks accept them."""


def rfc_check_digit(first: str) -> str:
    """SAT check digit of an RFC without its last character (11 or 12 characters).

    The text is left-padded with spaces to 12 characters (companies get one space), each
    character's table value is multiplied by 13, 12, ..., 2 and summed;
    ``(11 - sum % 11) % 11`` is the digit, with 10 written ``A``.
    """
    padded = first.rjust(12)
    total = sum(RFC_ALPHABET.index(c) * (13 - i) for i, c in enumerate(padded))
    return "0123456789A"[(11 - total % 11) % 11]


def _rfc(value: str, *, check: str, verify_check_digit: bool) -> str:
    label = "RFC"
    compact = clean(value, check=check, label=label)
    compact = unicodedata.normalize("NFC", compact)  # "N" + combining tilde -> "Ñ"
    if not _RFC_CHARS.fullmatch(compact):
        raise fail(check, label, "format", "must contain only letters, digits and &")
    rfc = compact.upper()
    if len(rfc) not in (12, 13):
        raise fail(check, label, "length",
                   f"must have 12 characters (companies) or 13 (people), got {len(rfc)}")
    if not _RFC_SHAPE.fullmatch(rfc):
        kind = "4 letters" if len(rfc) == 13 else "3 letters"
        raise fail(check, label, "format",
                   f"must be {kind}, 6 digits (date YYMMDD) and a 3-character homoclave")
    start = len(rfc) - 9
    try:
        # The century is not encoded; 20YY accepts every date 19YY would (and 29 Feb 2000).
        dt.date(2000 + int(rfc[start:start + 2]), int(rfc[start + 2:start + 4]),
                int(rfc[start + 4:start + 6]))
    except ValueError:
        raise fail(check, label, "component", "the 6 digits are not a valid date (YYMMDD)"
                   ) from None
    if verify_check_digit and rfc not in GENERIC_RFCS:
        if not _HOMOCLAVE.fullmatch(rfc[-3:-1]):
            raise fail(check, label, "component", "the homoclave has characters SAT never uses")
        if rfc_check_digit(rfc[:-1]) != rfc[-1]:
            raise fail(check, label, "checksum", "the check digit (last character) is wrong")
    return rfc


def validate_rfc_mx(value: str) -> str:
    """RFC (Registro Federal de Contribuyentes) with its check digit verified.

    13 characters for people (``GODE561231GR8``: 4 letters from the name, birth date
    YYMMDD, homoclave) and 12 for companies (3 letters, date of incorporation, homoclave).
    The first two homoclave characters come from the full name and cannot be verified; the
    last is SAT's mod-11 check digit (see :func:`rfc_check_digit`). Returns the RFC in upper
    case without separators.

    SAT's generic ``XAXX010101000`` and ``XEXX010101000`` are accepted as they are.

    Some RFCs in real use (about 1.5% in python-stdnum's sample) carry a wrong check digit;
    use :func:`validate_rfc_mx_structure` (``RFC_MX_STRUCTURE``) to accept those too.
    """
    return _rfc(value, check="RFC_MX", verify_check_digit=True)


def validate_rfc_mx_structure(value: str) -> str:
    """RFC checked for structure and date only; the check digit is not verified."""
    return _rfc(value, check="RFC_MX_STRUCTURE", verify_check_digit=False)
