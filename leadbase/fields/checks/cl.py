"""Chile: RUT / RUN (Rol Único Tributario / Nacional)."""

from __future__ import annotations

import itertools
import re

from leadbase.fields.checks._common import clean, fail


def rut_check_digit(body: str) -> str:
    """Mod-11 check character: weights 2,3,4,5,6,7 repeating from the rightmost digit;
    ``11 - sum % 11`` with 11 written ``0`` and 10 written ``K``."""
    weights = itertools.cycle(range(2, 8))
    result = 11 - sum(int(d) * w for d, w in zip(reversed(body), weights, strict=False)) % 11
    return {11: "0", 10: "K"}.get(result, str(result))


def validate_rut_cl(value: str) -> str:
    """Chilean RUT/RUN, e.g. ``12.345.678-5`` or ``14.684.927-K`` (``k`` is accepted).

    The body must have 7 or 8 digits (1.000.000-99.999.999; zero-padding is ignored).
    Returns ``"<body>-<check>"`` without dots and with an upper-case ``K``, e.g.
    ``"12345678-5"``.
    """
    check, label = "RUT_CL", "RUT"
    compact = clean(value, check=check, label=label)
    if not re.fullmatch(r"[0-9]+[0-9Kk]", compact):
        raise fail(check, label, "format",
                   "must be digits followed by a check digit 0-9 or K, as in 12.345.678-5")
    body, given = compact[:-1].lstrip("0"), compact[-1].upper()
    if not 7 <= len(body) <= 8:
        raise fail(check, label, "length",
                   f"the number before the check digit must have 7 or 8 digits, got {len(body)}")
    if rut_check_digit(body) != given:
        raise fail(check, label, "checksum", "the check digit (after the dash) is wrong")
    return f"{body}-{given}"
