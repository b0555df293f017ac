"""The memoized FastAPI helpers (leadbase.kit.fastpath) answer what FastAPI's own answer,
for every parameter of every route of the application."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies import utils

from leadbase.app import create_app
from leadbase.config import Settings
from leadbase.kit import fastpath
from tests.kit.routes import served


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    return create_app(Settings(data_dir=tmp_path_factory.mktemp("fastpath")),
                      run_worker=False)


def _fields(app: FastAPI) -> list[Any]:
    found: list[Any] = []
    for _path, route in served(app):
        stack = [route.dependant] if hasattr(route, "dependant") else []
        while stack:
            d = stack.pop()
            stack.extend(d.dependencies)
            for params in (d.query_params, d.header_params, d.cookie_params, d.path_params):
                for field in params:
                    found.append(field)
                    model = utils._get_param_model(field)
                    if model is not None:
                        found.extend(utils.get_cached_model_fields(model))
    return found


def test_installed(app: FastAPI) -> None:
    assert fastpath.install()
    for name in fastpath.NAMES:
        assert hasattr(getattr(utils, name), "__wrapped__"), name


def test_same_answers_as_fastapi(app: FastAPI) -> None:
    fields = _fields(app)
    assert len(fields) > 300
    seq: Any = utils.field_annotation_is_sequence
    aliases: Any = utils._get_param_aliases
    json_field: Any = utils._is_json_field
    param_model: Any = utils._get_param_model
    for _ in range(2):  # the second round answers from the cache
        for field in fields:
            annotation = field.field_info.annotation
            assert seq(annotation) == seq.__wrapped__(annotation)
            assert json_field(field) == json_field.__wrapped__(field)
            assert param_model(field) is param_model.__wrapped__(field)
            for convert in (False, True):
                got = aliases(field, convert_underscores=convert)
                assert got == aliases.__wrapped__(field, convert_underscores=convert)
                got.append(("mutated", "mutated"))  # a caller's change stays its own
    for annotation in (list[str] | None, str | None, tuple[int, ...]):
        assert seq(annotation) == seq.__wrapped__(annotation)
        assert seq(annotation) == seq(annotation)
    assert seq(list[str] | None) is True


def test_unhashable_annotation_is_computed() -> None:
    class Odd:
        __hash__ = None  # type: ignore[assignment]

    assert utils.field_annotation_is_sequence(Odd()) is False
