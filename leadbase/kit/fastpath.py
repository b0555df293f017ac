"""Memoized pure helpers on FastAPI's per-request path.

For each request FastAPI (0.16x) recomputes facts about each declared parameter that
never change after start-up: whether a field's annotation is a sequence (a recursive
walk over ``Union`` and ``Annotated``), whether it is a JSON field, its aliases, whether
it is a parameter model. For the leads list's query model (~20 fields) that was about a
fifth of the request's Python calls (``bench/profile_requests.py --profile``).

Each helper here answers what FastAPI's own function answers (``tests/kit/test_fastpath.py``
compares them for every parameter of every route) and remembers it per field object; the
cache holds the field itself, so its ``id`` cannot be reused while the entry exists. When
FastAPI's private functions are not there, nothing is changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_INSTALLED = False
NAMES = ("field_annotation_is_sequence", "_is_json_field", "_get_param_aliases",
         "_get_param_model")


def _by_annotation(original: Callable[[Any], bool]) -> Callable[[Any], bool]:
    cache: dict[Any, bool] = {}

    def memo(annotation: Any) -> bool:
        try:
            return cache[annotation]
        except KeyError:
            value = cache[annotation] = original(annotation)
            return value
        except TypeError:  # an unhashable annotation
            return original(annotation)

    memo.__wrapped__ = original  # type: ignore[attr-defined]
    return memo


def _by_field(original: Callable[..., Any], *, copy: bool = False) -> Callable[..., Any]:
    cache: dict[tuple[int, tuple[tuple[str, Any], ...]], tuple[Any, Any]] = {}

    def memo(field: Any, **kwargs: Any) -> Any:
        key = (id(field), tuple(sorted(kwargs.items())))
        hit = cache.get(key)
        if hit is None or hit[0] is not field:
            hit = cache[key] = (field, original(field, **kwargs))
        return list(hit[1]) if copy else hit[1]

    memo.__wrapped__ = original  # type: ignore[attr-defined]
    return memo


def install() -> bool:
    """Memoize the helpers in ``fastapi.dependencies.utils`` (once per process)."""
    global _INSTALLED
    if _INSTALLED:
        return True
    try:
        from fastapi.dependencies import utils
    except ImportError:
        return False
    if not all(callable(getattr(utils, name, None)) for name in NAMES):
        return False
    target: Any = utils
    target.field_annotation_is_sequence = _by_annotation(target.field_annotation_is_sequence)
    target._is_json_field = _by_field(target._is_json_field)
    target._get_param_aliases = _by_field(target._get_param_aliases, copy=True)
    target._get_param_model = _by_field(target._get_param_model)
    _INSTALLED = True
    return True
