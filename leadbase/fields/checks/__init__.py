"""Value checks for custom lead fields: national identifiers, bank keys, plates, masks.

Pure Python, no I/O. Every check has one shape, :data:`Check`::

    check(value: str) -> str

It returns the value's **canonical form** (formatting removed, letters upper-cased; see
each function) or raises :class:`CheckError`, a ``ValueError`` whose text is a complete
English sentence for the user (``"CUIT: the check digit (last digit) is wrong."``) and
which also carries ``check`` (the registry name) and ``reason`` (``"type"``, ``"empty"``,
``"too_long"``, ``"length"``, ``"format"``, ``"component"`` or ``"checksum"``). Store the
returned value, not the raw input, so equal identifiers compare equal.

Formatting accepted everywhere: whitespace, dots and dashes (including Unicode dashes)
anywhere in the value; ``/`` also for CNPJ. Input longer than
``MAX_INPUT_LENGTH`` (64) characters is refused before any work. Only ASCII digits and
letters count (no other scripts' digits, no case-folding tricks such as ``ß`` -> ``SS``).

Validation rules name checks through :data:`CHECKSUMS` (``get_check``, ``normalise``,
``is_valid``); an unknown name raises :class:`UnknownCheckError` (a ``LookupError``), so a
misconfigured rule is never mistaken for a bad value. Input masks (``#``, ``A``, ``*``)
are in :mod:`leadbase.fields.checks.masks`: ``mask_regex`` and ``matches_mask``.

The registered names and their algorithms:

``DNI_ARG``
    7-8 digits, 1.000.000-99.999.999. The DNI has no check digit; only format and range.
``CUIT_ARG`` / ``CUIL_ARG``
    11 digits, prefix 20/23/24/27/30/33/34 (CUIL: people only, 20/23/24/27), mod-11 digit
    with weights 5,4,3,2,7,6,5,4,3,2; 11 -> 0; 10 -> invalid (AFIP then issues the number
    under prefix 23/33, which satisfies the plain formula).
``CBU_ARG``
    22 digits, two blocks with their own mod-10 digit (weights 7,1,3,9,... and 3,9,7,1,...).
``PATENTE_ARG``
    ``AAA999`` or Mercosur ``AA999AA``; no check digit.
``CPF_BR`` / ``CNPJ_BR``
    11 / 14 digits, two mod-11 check digits each; one-repeated-digit numbers refused.
``RUT_CL``
    7-8 digit body and mod-11 check character (0-9 or K) with weights 2..7 cycling.
``CURP_MX``
    18 characters: RENAPO structure, real birth date, state code, mod-10 check digit.
``RFC_MX`` / ``RFC_MX_STRUCTURE``
    12 (companies) or 13 (people) characters with a real date; ``RFC_MX`` also verifies SAT's
    mod-11 check digit, ``RFC_MX_STRUCTURE`` does not (some RFCs in use fail it).
``LUHN``
    Any digit string of 2+ digits with a Luhn check digit (payment cards, IMEI).
"""

from __future__ import annotations

from leadbase.fields.checks._common import MAX_INPUT_LENGTH, Check, CheckError, Reason
from leadbase.fields.checks.ar import (
    validate_cbu_arg,
    validate_cuil_arg,
    validate_cuit_arg,
    validate_dni_arg,
    validate_patente_arg,
)
from leadbase.fields.checks.br import validate_cnpj_br, validate_cpf_br
from leadbase.fields.checks.cl import validate_rut_cl
from leadbase.fields.checks.generic import validate_luhn
from leadbase.fields.checks.masks import MAX_MASK_LENGTH, MaskError, mask_regex, matches_mask
from leadbase.fields.checks.mx import validate_curp_mx, validate_rfc_mx, validate_rfc_mx_structure
from leadbase.fields.checks.registry import (
    CHECKSUMS,
    UnknownCheckError,
    get_check,
    is_valid,
    normalise,
)

__all__ = [
    "CHECKSUMS",
    "MAX_INPUT_LENGTH",
    "MAX_MASK_LENGTH",
    "Check",
    "CheckError",
    "MaskError",
    "Reason",
    "UnknownCheckError",
    "get_check",
    "is_valid",
    "mask_regex",
    "matches_mask",
    "normalise",
    "validate_cbu_arg",
    "validate_cnpj_br",
    "validate_cpf_br",
    "validate_cuil_arg",
    "validate_cuit_arg",
    "validate_curp_mx",
    "validate_dni_arg",
    "validate_luhn",
    "validate_patente_arg",
    "validate_rfc_mx",
    "validate_rfc_mx_structure",
    "validate_rut_cl",
]
