"""Small helpers the voice providers share: header lookup, signatures, payload values."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

# Metadata keys Leadbase sends with each call, echoed back by the providers' webhooks.
CALL_ID_KEY = "leadbase_call_id"
TENANT_ID_KEY = "leadbase_tenant_id"

# A callee who ends a call within this many seconds of answering hung up on the agent.
HUNG_UP_SECONDS = 10


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time string comparison."""
    return hmac.compare_digest(a.encode(), b.encode())


def signature_matches(secret: str, message: bytes, signature: str) -> bool:
    """Whether ``signature`` (hex, optionally ``sha256=``-prefixed) is the HMAC-SHA256 of
    ``message`` under ``secret``."""
    sig = signature.strip()
    if sig.lower().startswith("sha256="):
        sig = sig[7:]
    return same(hmac_hex(secret, message), sig.lower())


def load_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a JSON body: {exc}") from None


def digest(*parts: object) -> str:
    """A stable event id made from what identifies one report."""
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 text, or a Unix time in seconds or milliseconds; always aware (UTC)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 1e11 else value
        return datetime.fromtimestamp(seconds, UTC)
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"not a time: {value!r}") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise ValueError(f"not a time: {value!r}")


def parse_decimal(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def parse_uuid(value: Any) -> UUID | None:
    if not value:
        return None
    try:
        return UUID(str(value))
    except ValueError:
        return None


def seconds_between(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, round((end - start).total_seconds()))


def text_or_none(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value
    return None
