"""Public ids are UUIDv7: unique, unguessable, and ordered by creation time."""

from __future__ import annotations

import uuid

import uuid_utils.compat as _uuid


def new_id() -> uuid.UUID:
    return _uuid.uuid7()  # type: ignore[no-any-return]


def parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return None
