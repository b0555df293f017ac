"""The bounds of the document's lists: optional ``?limit=`` (default 100, at most 200) and
``?offset=``, handed to services as their page parameters; the total goes in
``X-Total-Count``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from leadbase.kit.pagination import MAX_PER_PAGE
from leadbase.kit.pagination import OffsetWindow as Window

DEFAULT_LIMIT = 100
MAX_OFFSET = 10_000_000

Limit = Annotated[int, Query(ge=1, le=MAX_PER_PAGE,
                             description=f"Rows to return (default {DEFAULT_LIMIT}, "
                                         f"at most {MAX_PER_PAGE})")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip")]


def window(limit: int, offset: int, *, count: str = "auto") -> Window:
    return Window(page=1, per_page=limit, cursor=None, count=count, skip=offset)
