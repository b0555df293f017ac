"""Small HTTP helpers shared by endpoints: JSON responses from models, ETags."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel
from starlette.responses import Response


def json_response(body: BaseModel | dict[str, Any] | list[Any], status_code: int = 200,
                  headers: dict[str, str] | None = None) -> Response:
    content = (body.model_dump_json().encode() if isinstance(body, BaseModel)
               else orjson.dumps(body))
    return Response(content, status_code=status_code, media_type="application/json",
                    headers=headers)


def etag(version: int) -> str:
    return f'"{version}"'
