"""Page and keyset (cursor) pagination shared by every list endpoint.

``?page=&per_page=`` counts rows (offset); ``?cursor=`` continues after the last
row of the previous page along the same sort (keyset: constant time at any depth).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
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


@dataclass(frozen=True)
class OffsetWindow(PageParams):
    """Page parameters whose offset is any ``skip`` (not only a multiple of the size): the
    ``skip``/``offset`` + ``limit`` windows of the profiles' documents."""

    skip: int = 0

    @property
    def offset(self) -> int:
        return self.skip


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


# Cursors are signed (HMAC-SHA256): a hand-made or altered one is refused, never run.
# The key comes from the application's secret (:func:`configure_cursors`, at start-up),
# so that every process of a deployment accepts the others' cursors; until then, a key
# of this process only.
_cursor_key = secrets.token_bytes(32)
_SIGNATURE_BYTES = 16


def configure_cursors(secret: str) -> None:
    global _cursor_key
    _cursor_key = hmac.new(secret.encode(), b"leadbase cursor", hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _signature(payload: str) -> str:
    digest = hmac.new(_cursor_key, payload.encode(), hashlib.sha256).digest()
    return _b64(digest[:_SIGNATURE_BYTES])


def encode_cursor(sort_key: str, values: list[Any]) -> str:
    payload = _b64(orjson.dumps({"k": sort_key, "v": [_tag(v) for v in values]}))
    return f"{payload}.{_signature(payload)}"


def invalid_cursor(detail: str = "The cursor is malformed or belongs to another sort "
                                 "order.") -> ValidationFailed:
    return ValidationFailed(detail, code="INVALID_CURSOR",
                            errors=[{"field": "cursor", "message": "invalid cursor"}])


def decode_cursor(cursor: str, sort_key: str,
                  types: tuple[type, ...] | None = None) -> list[Any]:
    """The values of a cursor made by :func:`encode_cursor` for ``sort_key``; with
    ``types``, each value must be of its type (or None). Anything else: 422."""
    try:
        payload, _, signature = cursor.partition(".")
        if not hmac.compare_digest(signature.encode(), _signature(payload).encode()):
            raise ValueError("bad signature")
        data = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        if data["k"] != sort_key:
            raise ValueError("sort changed")
        values = [_untag(v) for v in data["v"]]
    except (ValueError, KeyError, TypeError, orjson.JSONDecodeError) as exc:
        raise invalid_cursor() from exc
    if types is not None and (len(values) != len(types) or not all(
            v is None or _is_a(v, t) for v, t in zip(values, types, strict=True))):
        raise invalid_cursor()
    return values


def _is_a(value: Any, kind: type) -> bool:
    return isinstance(value, kind) and (kind is bool or not isinstance(value, bool))


def _python_type(column: ColumnElement[Any]) -> type | None:
    try:
        kind: type = column.type.python_type
    except NotImplementedError:
        return None
    return kind


@dataclass(frozen=True)
class SortColumn:
    name: str
    column: ColumnElement[Any]
    descending: bool
    nullable: bool


def keyset_after(sort: list[SortColumn], values: list[Any]) -> ColumnElement[bool]:
    """Rows strictly after ``values`` in ``sort`` order (NULLS LAST in both directions)."""
    if len(values) != len(sort) or any(
            value is not None and (kind := _python_type(c.column)) is not None
            and not _is_a(value, kind) for c, value in zip(sort, values, strict=False)):
        raise invalid_cursor("The cursor does not match the sort.")
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
