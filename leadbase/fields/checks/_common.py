"""Shared pieces of the checks: the error type, the ``Check`` alias and input cleaning."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal, TypeAlias

Check: TypeAlias = Callable[[str], str]
"""A check takes the raw text and returns its canonical form, or raises :class:`CheckError`."""

Reason: TypeAlias = Literal[
    "type", "empty", "too_long", "length", "format", "component", "checksum"
]

MAX_INPUT_LENGTH = 64
"""Longest raw input any check looks at (formatting included); longer text is refused early."""

# Hyphen-minus plus the Unicode hyphens and dashes that word processors substitute for it.
_DASHES = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2015\u2212")

_DIGITS = re.compile(r"[0-9]+")


class CheckError(ValueError):
    """A value failed a check. ``str(error)`` is a complete English sentence for the user.

    ``check`` is the registry name of the failed check (e.g. ``"CUIT_ARG"``) and ``reason``
    a stable machine-readable cause, so callers can translate or count failures.
    """

    def __init__(self, message: str, *, check: str, reason: Reason) -> None:
        super().__init__(message)
        self.message = message
        self.check = check
        self.reason = reason


def fail(check: str, label: str, reason: Reason, problem: str) -> CheckError:
    """Build the error for ``check``; ``problem`` completes the sentence after the label."""
    return CheckError(f"{label}: {problem}.", check=check, reason=reason)


def clean(value: str, *, check: str, label: str, extra: str = "") -> str:
    """Drop formatting: whitespace, dots, dashes (and the characters in ``extra``).

    Refuses non-text, over-long and empty input with a :class:`CheckError`.
    """
    if not isinstance(value, str):
        raise fail(check, label, "type", f"expected text, got {type(value).__name__}")
    if len(value) > MAX_INPUT_LENGTH:
        raise fail(check, label, "too_long", f"too long (at most {MAX_INPUT_LENGTH} characters)")
    compact = "".join(
        ch for ch in value if not (ch.isspace() or ch == "." or ch in _DASHES or ch in extra)
    )
    if not compact:
        raise fail(check, label, "empty", "no value given")
    return compact


def require_digits(compact: str, *, check: str, label: str, length: int) -> str:
    """Require exactly ``length`` ASCII digits (``str.isdigit`` would accept other scripts)."""
    if not _DIGITS.fullmatch(compact):
        raise fail(check, label, "format", "must contain only digits")
    if len(compact) != length:
        raise fail(check, label, "length", f"must have {length} digits, got {len(compact)}")
    return compact


def is_ascii_digits(text: str) -> bool:
    """True when ``text`` is non-empty and made only of the ASCII digits 0-9."""
    return _DIGITS.fullmatch(text) is not None
