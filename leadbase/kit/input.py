"""Input the database or the JSON model cannot hold, refused where a request is parsed.

PostgreSQL refuses the NUL character in ``text`` and ``jsonb`` (and lone UTF-16
surrogates cannot be encoded at all), and ``NaN``/``Infinity`` are not JSON numbers
(Python's parser accepts them; JSONB would store them as null). :func:`check_request`
runs before every route of the API and of the profiles (an application dependency) and
answers the application's own 422 naming the field: the path, a query parameter, or the
place inside a JSON body.
"""

from __future__ import annotations

import email.message
import math
from collections.abc import Iterator
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError

NUL = "\x00"
NUL_MESSAGE = "must not contain the NUL character (\\u0000)"
# A JSON body can hold the characters refused here only written as these escapes, and
# a non-finite number only spelled so: a body without any of them needs no walk.
_SUSPECT = (b"\\u0000", b"\\ud", b"\\uD", b"NaN", b"Infinity")


def _bad_text(text: str) -> str | None:
    if NUL in text:
        return NUL_MESSAGE
    try:
        text.encode()
    except UnicodeEncodeError:
        return "must not contain lone UTF-16 surrogates"
    return None


def _escaped(key: str) -> str:
    """``key`` with the characters refused written as JSON escapes (``a\\u0000b``)."""
    if not _bad_text(key):
        return key
    return "".join(f"\\u{ord(c):04x}" if c == NUL or 0xD800 <= ord(c) <= 0xDFFF else c
                   for c in key)


def bad_values(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[
        tuple[tuple[str | int, ...], str]]:
    """``(path, message)`` for every string, key or number in ``value`` (parsed JSON) that
    cannot be stored: NUL characters, lone surrogates, ``NaN`` and infinities."""
    if isinstance(value, str):
        problem = _bad_text(value)
        if problem:
            yield path, problem
    elif isinstance(value, float):
        if not math.isfinite(value):
            yield path, "must be a finite number (NaN and Infinity are not JSON)"
    elif isinstance(value, dict):
        for key, item in value.items():
            inner = (*path, _escaped(key))
            problem = _bad_text(key)
            if problem:
                yield inner, "the key " + problem
            yield from bad_values(item, inner)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from bad_values(item, (*path, i))


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json"))


def _is_form(content_type: str | None) -> bool:
    return content_type is not None and content_type.split(";", 1)[0].strip().lower() in (
        "multipart/form-data", "application/x-www-form-urlencoded")


def _refuse(errors: list[tuple[tuple[str | int, ...], str]], value: Any = None) -> None:
    if errors:
        raise RequestValidationError([
            {"type": "value_error", "loc": loc, "msg": msg, "input": value}
            for loc, msg in errors[:20]])


async def check_request(request: Request) -> None:
    """Refuse NUL characters in the path, the query string and form fields, and NUL
    characters, lone surrogates and non-finite numbers anywhere in a JSON body (keys
    included)."""
    if NUL in request.scope["path"]:
        _refuse([(("path", "path"), NUL_MESSAGE)])
    query = request.scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        _refuse([(("query", _escaped(key)), ("" if NUL in value else "the name ") + NUL_MESSAGE)
                 for key, value in request.query_params.multi_items()
                 if NUL in key or NUL in value])
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    content_type = request.headers.get("content-type")
    if _is_form(content_type):
        # Parsed already by the route (Starlette keeps it): the fields, not the files.
        form = await request.form()
        _refuse([(("body", _escaped(key)), ("" if isinstance(value, str) and NUL in value
                                              else "the name ") + NUL_MESSAGE)
                 for key, value in form.multi_items()
                 if NUL in key or (isinstance(value, str) and NUL in value)])
        return
    if not _is_json(content_type):
        return
    body = await request.body()
    if not any(token in body for token in _SUSPECT):
        return
    try:
        parsed = await request.json()  # cached: the route parsed the same body
    except (ValueError, UnicodeDecodeError):
        return  # not JSON at all: the route's own parsing answers
    _refuse([(("body", *loc), msg) for loc, msg in bad_values(parsed)])


__all__ = ["bad_values", "check_request"]
