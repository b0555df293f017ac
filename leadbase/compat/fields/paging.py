"""FastAPI-style ``?skip=&limit=`` windows, handed to services as their page parameters."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query

from leadbase.compat.fields.schemas import BIGINT_MAX
from leadbase.kit.pagination import MAX_PER_PAGE
from leadbase.kit.pagination import OffsetWindow as Window

DEFAULT_LIMIT = 100


def window(
    skip: Annotated[int, Query(ge=0, le=10_000_000, description="Rows to skip")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PER_PAGE,
                                description="Rows to return (max 200)")] = DEFAULT_LIMIT,
) -> Window:
    return Window(page=1, per_page=limit, cursor=None, count="none", skip=skip)


Paging = Annotated[Window, Depends(window)]
Id = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
