"""``Idempotency-Key`` on POST: the first response is stored for 24 hours and replayed.

The key row is inserted in the request's own transaction before the work is done, so a
concurrent request with the same key waits on it and then replays; if the work fails,
the row is rolled back with it. A key belongs to its sender (the user or the API key,
within the workspace): another sender's same key is another key, so it neither replays
their response nor tells them the key was used. A JSON body is compared canonically
(key order and whitespace do not matter). (Shared infrastructure, so its few statements
live here rather than in a domain repository.)
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import orjson
from fastapi import Request
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from leadbase.auth.context import Principal
from leadbase.db.base import table_of
from leadbase.kit.errors import ValidationFailed
from leadbase.models import IdempotencyKey

T = table_of(IdempotencyKey)
HEADER = "idempotency-key"
REPLAYED_HEADER = "Idempotency-Replayed"
_KEEP_HEADERS = ("etag", "location", "content-type")


def _canonical(body: bytes, content_type: str) -> bytes:
    """A JSON body with its keys sorted and no whitespace; any other body as sent."""
    if "json" not in content_type.lower():
        return body
    try:
        return orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS)
    except orjson.JSONDecodeError:
        return body


async def _request_hash(request: Request, body_digest: bytes | None) -> str:
    body = body_digest if body_digest is not None else _canonical(
        await request.body(), request.headers.get("content-type", ""))
    h = hashlib.sha256()
    h.update(request.method.encode())
    h.update(b"\0" + request.url.path.encode() + b"\0" + str(request.url.query).encode() + b"\0")
    h.update(body)
    return h.hexdigest()


def _sender(request: Request) -> uuid.UUID:
    """The API key or user that authenticated the request (``get_principal`` ran)."""
    principal: Principal = request.state.principal
    sender = principal.api_key_id or principal.user_id
    assert sender is not None, "get_principal admits only users and API keys"
    return sender


async def idempotent(
    request: Request, session: AsyncSession, tenant_id: uuid.UUID, ttl_seconds: int,
    work: Callable[[], Awaitable[Response]], *, body_digest: bytes | None = None,
) -> Response:
    """Run ``work`` once per key. ``body_digest`` stands for the body where it was
    streamed to disk (uploads): a digest of what the request sent."""
    key = request.headers.get(HEADER)
    if key is None:
        return await work()
    key = key.strip()
    if not 1 <= len(key) <= 255:
        raise ValidationFailed("Idempotency-Key must be 1 to 255 characters.",
                               code="INVALID_IDEMPOTENCY_KEY",
                               errors=[{"field": "Idempotency-Key", "message": "1-255 chars"}])
    digest = await _request_hash(request, body_digest)
    now = datetime.now(UTC)
    mine = (T.c.tenant_id == tenant_id, T.c.principal_id == _sender(request), T.c.key == key)
    await session.execute(delete(T).where(*mine, T.c.expires_at < now))
    inserted = (await session.execute(
        insert(T).values(tenant_id=tenant_id, principal_id=_sender(request), key=key,
                         request_hash=digest, expires_at=now + timedelta(seconds=ttl_seconds))
        .on_conflict_do_nothing().returning(T.c.key)
    )).first()
    if inserted is None:
        row = (await session.execute(select(T).where(*mine))).mappings().one()
        if row["request_hash"] != digest:
            raise ValidationFailed(
                "This Idempotency-Key was already used with a different request.",
                code="IDEMPOTENCY_KEY_REUSED",
                errors=[{"field": "Idempotency-Key", "message": "used with another body"}],
            )
        headers = dict(row["response_headers"] or {})
        headers[REPLAYED_HEADER] = "true"
        return Response(row["response_body"] or b"", status_code=row["status_code"] or 200,
                        headers=headers)
    response = await work()
    if response.status_code < 500:
        kept = {k: v for k, v in response.headers.items() if k.lower() in _KEEP_HEADERS}
        await session.execute(
            update(T).where(*mine).values(
                status_code=response.status_code, response_body=bytes(response.body),
                response_headers=kept,
            )
        )
    return response


async def purge_expired(session: AsyncSession) -> int:
    result = await session.execute(delete(T).where(T.c.expires_at < datetime.now(UTC)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
