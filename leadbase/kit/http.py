"""Small HTTP helpers shared by endpoints: JSON responses from models, ETags."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel
from starlette.responses import Response


def json_response(body: BaseModel | dict[str, Any] | list[Any], status_code: int = 200,
                  headers: dict[str, str] | None = None) -> Response:
    content = (body.model_dump_json().encode() if isinstance(body, BaseModel)
               else orjson.dumps(body))
    return Response(content, status_code=status_code, media_type="application/json",
                    headers=headers)


T = TypeVar("T")


async def read_ahead(stream: AsyncIterator[T], items: int = 1) -> AsyncIterator[T]:
    """``stream`` with its first ``items`` already produced: await it before the response
    starts, so that what a streamed body needs (its query, its first rows) fails as an
    error response rather than as a body cut after a 200."""
    ready: list[T] = []
    try:
        for _ in range(items):
            ready.append(await anext(stream))
    except StopAsyncIteration:
        pass

    async def replay() -> AsyncIterator[T]:
        for item in ready:
            yield item
        async for item in stream:
            yield item

    return replay()


def etag(version: int) -> str:
    return f'"{version}"'
