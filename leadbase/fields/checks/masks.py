"""Input masks: ``#`` a digit, ``A`` a letter, ``*`` a letter or digit, anything else literal.

Only ASCII counts: ``#`` is ``[0-9]`` (not Arabic-Indic or other digits) and ``A`` is
``[A-Za-z]`` (not ``é``, nor the Kelvin sign that case-insensitive matching would fold to
``k``). A value matches only when the whole of it fits the mask: ``"AAA-###"`` accepts
``"ABC-123"`` and refuses ``"ABC123"``, ``"AB-1234"`` and ``"ABC-123\\n"``.
"""

from __future__ import annotations

import functools
import re

MAX_MASK_LENGTH = 100

_PLACEHOLDERS = {"#": "[0-9]", "A": "[A-Za-z]", "*": "[A-Za-z0-9]"}


class MaskError(ValueError):
    """The mask itself is unusable (not a value failing a mask)."""


@functools.lru_cache(maxsize=512)
def mask_regex(mask: str) -> re.Pattern[str]:
    """Compile ``mask`` to an anchored pattern (``\\A...\\Z``); compiled once per mask.

    Raises :class:`MaskError` (a ``ValueError``) when the mask is not text, is empty or is
    longer than ``MAX_MASK_LENGTH`` characters.
    """
    if not isinstance(mask, str):
        raise MaskError(f"A mask must be text, got {type(mask).__name__}.")
    if not mask:
        raise MaskError("A mask must not be empty.")
    if len(mask) > MAX_MASK_LENGTH:
        raise MaskError(
            f"A mask can have at most {MAX_MASK_LENGTH} characters, this one has {len(mask)}."
        )
    body = "".join(_PLACEHOLDERS.get(char) or re.escape(char) for char in mask)
    return re.compile(rf"\A{body}\Z")


def matches_mask(mask: str, value: str) -> bool:
    """True when all of ``value`` fits ``mask``. Raises :class:`MaskError` for a bad mask."""
    return mask_regex(mask).fullmatch(value) is not None
