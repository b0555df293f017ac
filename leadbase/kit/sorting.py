"""Parsing ``sort=-created_at,name`` against a whitelist of columns."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement

from leadbase.kit.errors import ValidationFailed
from leadbase.kit.pagination import SortColumn


def parse_sort(
    raw: str | None,
    allowed: dict[str, tuple[ColumnElement[Any], bool]],
    *,
    default: str,
    tiebreak: tuple[str, ColumnElement[Any]],
) -> tuple[str, list[SortColumn]]:
    """Return the normalised sort key and its columns, always ending with the id tiebreak.

    ``allowed`` maps a public name to ``(column, nullable)``.
    """
    spec = (raw or default).strip() or default
    out: list[SortColumn] = []
    seen: set[str] = set()
    for part in spec.split(","):
        part = part.strip()
        if not part:
            raise ValidationFailed(
                "The sort has an empty field (two commas in a row, or one at an end).",
                code="INVALID_SORT",
                errors=[{"field": "sort", "message": "empty sort field"}])
        descending = part.startswith("-")
        name = part[1:] if part[0] in "-+" else part
        if name not in allowed:
            raise ValidationFailed(
                f"Cannot sort by '{name}'. Allowed: {', '.join(sorted(allowed))}.",
                code="INVALID_SORT",
                errors=[{"field": "sort", "message": f"unknown sort field '{name}'"}],
            )
        if name in seen:
            continue
        seen.add(name)
        column, nullable = allowed[name]
        out.append(SortColumn(name, column, descending, nullable))
    tb_name, tb_col = tiebreak
    if tb_name not in seen:
        direction = out[-1].descending if out else True
        out.append(SortColumn(tb_name, tb_col, direction, False))
    key = ",".join(("-" if c.descending else "") + c.name for c in out)
    return key, out


def order_by(sort: list[SortColumn]) -> list[Any]:
    """ORDER BY clauses; NULLS LAST only on nullable columns, so that indexes on
    non-nullable ones (``created_at DESC``) still serve the order."""
    out = []
    for c in sort:
        clause = c.column.desc() if c.descending else c.column.asc()
        out.append(clause.nulls_last() if c.nullable else clause)
    return out
