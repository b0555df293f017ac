"""Checks every service repeats: a stale ``If-Match``, an update that sends nothing, a
row looked up by id or ``number`` that is not there."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, TypeVar

from leadbase.kit.errors import AppError, PreconditionFailed, ValidationFailed

R = TypeVar("R")


def version_mismatch(what: str, current_version: int) -> PreconditionFailed:
    """The 412 of every resource: ``VERSION_MISMATCH`` answering ``current_version``."""
    return PreconditionFailed(f"The {what} was changed by someone else; reload it.",
                              code="VERSION_MISMATCH",
                              extra={"current_version": current_version})


def check_version(row: Mapping[str, Any], expected_version: int | None, *, what: str) -> None:
    """412 when ``If-Match`` named another version than the row's (no ``If-Match``: no
    check)."""
    if expected_version is not None and expected_version != row["version"]:
        raise version_mismatch(what, row["version"])


def require_changes(sent: Collection[Any] | None, *, detail: str = "Nothing to update.",
                    field: str | None = None) -> None:
    """422 ``EMPTY_UPDATE`` when an update sends no attribute (``field``: the attribute
    named in ``errors``)."""
    if not sent:
        raise ValidationFailed(detail, code="EMPTY_UPDATE",
                               errors=[{"field": field, "message": detail}] if field else None)


def found(row: R | None, not_found: Callable[[], AppError]) -> R:
    """The row a lookup (by id or by ``number``) answered, or the resource's 404."""
    if row is None:
        raise not_found()
    return row
