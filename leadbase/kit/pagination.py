"""Page and keyset (cursor) pagination shared by every list endpoint.

``?page=&per_page=`` counts rows (offset); ``?cursor=`` continues after the last
row of the previous page along the same sort (keyset: constant time at any depth).
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import orjson
from fastapi import Query
from sqlalchemy import ColumnElement, and_, or_, tuple_

from leadbase.kit.errors import ValidationFailed

MAX_PER_PAGE = 200
DEFAULT_PER_PAGE = 25


@dataclass(frozen=True)
class PageParams:
    page: int
    per_page: int
    cursor: str | None
    count: str  # "auto" | "exact" | "none"

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


async def page_params(
    page: Annotated[int, Query(ge=1, le=1_000_000, description="1-based page number")] = 1,
    per_page: Annotated[
        int, Query(ge=1, le=MAX_PER_PAGE, description="Rows per page (max 200)")
    ] = DEFAULT_PER_PAGE,
    cursor: Annotated[
        str | None, Query(max_length=2048, description="Opaque cursor from next_cursor")
    ] = None,
    count: Annotated[
        str,
        Query(
            pattern="^(auto|exact|none)$",
            description="auto: exact up to COUNT_EXACT_LIMIT (1,000) then estimated; exact; none",
        ),
    ] = "auto",
) -> PageParams:
    return PageParams(page=page, per_page=per_page, cursor=cursor, count=count)


def _tag(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
        return {"i": str(value)}  # beyond what JSON numbers carry safely
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, datetime):
        return {"d": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return {"u": str(value)}
    if isinstance(value, Decimal):
        return {"n": str(value)}
    if isinstance(value, float):
        return {"f": value}
    return {"s": str(value)}


def _untag(value: Any) -> Any:
    if isinstance(value, dict):
        if "d" in value:
            return datetime.fromisoformat(value["d"])
        if "u" in value:
            return uuid.UUID(value["u"])
        if "n" in value:
            return Decimal(value["n"])
        if "f" in value:
            return float(value["f"])
        if "i" in value:
            return int(value["i"])
        return value.get("s")
    return value


def encode_cursor(sort_key: str, values: list[Any]) -> str:
    raw = orjson.dumps({"k": sort_key, "v": [_tag(v) for v in values]})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort_key: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = orjson.loads(base64.urlsafe_b64decode(padded))
        if data["k"] != sort_key:
            raise ValueError("sort changed")
        return [_untag(v) for v in data["v"]]
    except (ValueError, KeyError, TypeError, orjson.JSONDecodeError) as exc:
        raise ValidationFailed(
            "The cursor is malformed or belongs to another sort order.",
            code="INVALID_CURSOR",
            errors=[{"field": "cursor", "message": "invalid cursor"}],
        ) from exc


@dataclass(frozen=True)
class SortColumn:
    name: str
    column: ColumnElement[Any]
    descending: bool
    nullable: bool


def keyset_after(sort: list[SortColumn], values: list[Any]) -> ColumnElement[bool]:
    """Rows strictly after ``values`` in ``sort`` order (NULLS LAST in both directions)."""
    if len(values) != len(sort):
        raise ValidationFailed("The cursor does not match the sort.", code="INVALID_CURSOR")
    same_direction = len({c.descending for c in sort}) == 1
    if same_direction and not any(c.nullable or values[i] is None for i, c in enumerate(sort)):
        # Row comparison: an index range scan on (tenant_id, a, b, id).
        left = tuple_(*[c.column for c in sort])
        right = tuple_(*values)
        return left < right if sort[0].descending else left > right
    clauses: list[ColumnElement[bool]] = []
    equal: list[ColumnElement[bool]] = []
    for col, value in zip(sort, values, strict=True):
        if value is None:
            after = None  # nothing comes after NULL except within the NULL group
            same = col.column.is_(None)
        else:
            beyond = col.column < value if col.descending else col.column > value
            after = or_(beyond, col.column.is_(None)) if col.nullable else beyond
            same = col.column == value
        if after is not None:
            clauses.append(and_(*equal, after))
        equal.append(same)
    return or_(*clauses)


def page_body(
    rows: list[Any],
    *,
    total: int | None,
    params: PageParams,
    next_cursor: str | None,
    total_is_estimate: bool = False,
) -> dict[str, Any]:
    return {
        "data": rows,
        "total": total,
        "total_is_estimate": total_is_estimate,
        "page": params.page if params.cursor is None else None,
        "per_page": params.per_page,
        "next_cursor": next_cursor,
    }


# Query parameters shared by the simple named resources (lists, code lists).
NameQuery = Annotated[str | None, Query(min_length=1, max_length=200,
                                        description="Part of the name (case-insensitive)")]
NamedSort = Annotated[str | None, Query(max_length=200,
                                        description="number, name, created_at, updated_at; "
                                                    "'-' for descending")]
