"""Input PostgreSQL cannot hold (NUL, lone surrogates) and non-JSON numbers (NaN,
Infinity) are refused with a 422 naming the field, on every route (issue 17, points 1
and 3)."""

from __future__ import annotations

import math
import uuid
from typing import Any

import httpx
import pytest

from tests.factories import Member, make_lead, make_workspace

NUL = "\u0000"


def assert_refused(resp: httpx.Response, field: str, words: str = "NUL") -> None:
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert body["code"] == "VALIDATION_ERROR", body
    assert [e["field"] for e in body["errors"]] == [field], body
    assert words in body["errors"][0]["message"], body


# (method, path, body, field named): every JSON body of the canonical API that stores text.
BODIES: list[tuple[str, str, dict[str, Any], str]] = [
    ("POST", "/api/v1/leads", {"first_name": f"A{NUL}b"}, "first_name"),
    ("POST", "/api/v1/leads", {"first_name": "A", "metadata": {"a": {"b": [1, f"x{NUL}"]}}},
     "metadata.a.b.1"),
    ("POST", "/api/v1/leads", {"first_name": "A", "metadata": {f"k{NUL}": 1}},
     "metadata.k\\u0000"),
    ("POST", "/api/v1/leads", {"first_name": "A", "tags": [f"t{NUL}"]}, "tags.0"),
    ("POST", "/api/v1/lists", {"name": f"L{NUL}"}, "name"),
    ("POST", "/api/v1/users", {"email": "a@example.com", "name": f"N{NUL}",
                               "password": "Secret123", "role": "agent"}, "name"),
    ("POST", "/api/v1/users", {"email": "b@example.com", "name": "N", "password": "Secret123",
                               "role": "agent", "working_hours": {f"mon{NUL}": []}},
     "working_hours.mon\\u0000"),
    ("POST", "/api/v1/api-keys", {"name": f"K{NUL}"}, "name"),
    ("POST", "/api/v1/fields", {"code": "c", "label": f"L{NUL}", "type": "STRING"}, "label"),
    ("POST", "/api/v1/field-sections", {"name": f"S{NUL}"}, "name"),
    ("POST", "/api/v1/code-lists", {"name": f"C{NUL}"}, "name"),
    ("POST", f"/api/v1/code-lists/{uuid.uuid4()}/items", {"code": f"c{NUL}", "label": "l"},
     "code"),
    ("POST", "/api/v1/exports", {"format": "csv", "filters": {"q": f"a{NUL}"}}, "filters.q"),
    ("POST", "/api/v1/leads/bulk", {"action": "update", "filters": {"source": f"s{NUL}"},
                                    "changes": {"source": "x"}}, "filters.source"),
    ("PATCH", f"/api/v1/fields/{uuid.uuid4()}", {"label": f"L{NUL}"}, "label"),
    ("PATCH", f"/api/v1/code-lists/{uuid.uuid4()}", {"name": f"C{NUL}"}, "name"),
    ("POST", "/api/v1/auth/login", {"email": f"a{NUL}@example.com", "password": "x"}, "email"),
]


@pytest.mark.parametrize(("method", "path", "body", "field"), BODIES,
                         ids=[f"{m} {p.split('/api/v1/')[-1][:30]} {f}" for m, p, _, f in BODIES])
async def test_nul_in_a_json_body(client: httpx.AsyncClient, method: str, path: str,
                                  body: dict[str, Any], field: str) -> None:
    owner = await make_workspace(client)
    resp = await client.request(method, path, headers=owner.headers, json=body)
    assert_refused(resp, field)


async def test_nul_in_patches_of_real_rows(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    lead = await make_lead(client, owner)
    resp = await client.patch(f"/api/v1/leads/{lead['id']}", headers=owner.headers,
                              json={"company": f"Acme{NUL}"})
    assert_refused(resp, "company")
    made = await client.post("/api/v1/lists", headers=owner.headers, json={"name": "Spring"})
    assert made.status_code == 201, made.text
    resp = await client.patch(f"/api/v1/lists/{made.json()['id']}", headers=owner.headers,
                              json={"description": f"d{NUL}"})
    assert_refused(resp, "description")
    resp = await client.patch(f"/api/v1/users/{owner.user_id}", headers=owner.headers,
                              json={"working_hours": {f"tue{NUL}": ["09:00", "17:00"]}})
    assert_refused(resp, "working_hours.tue\\u0000")
    # Nothing changed.
    again = await client.get(f"/api/v1/leads/{lead['id']}", headers=owner.headers)
    assert again.json()["company"] == lead["company"]


@pytest.mark.parametrize(("query", "field"), [
    ("q=a%00", "q"), ("tags=a,b%00", "tags"), ("source=web%00", "source"),
    ("fields.color=red%00", "fields.color"), ("fields.co%00lor=red", "fields.co\\u0000lor"),
    ("sort=name%00", "sort"), ("cursor=%00", "cursor"),
])
async def test_nul_in_a_query_filter(client: httpx.AsyncClient, query: str, field: str) -> None:
    owner = await make_workspace(client)
    await make_lead(client, owner)
    for path in ("/api/v1/leads", "/api/v1/leads/export"):
        assert_refused(await client.get(f"{path}?{query}", headers=owner.headers), field)


async def test_nul_in_the_path(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    resp = await client.get("/api/v1/code-lists/ab%00c", headers=owner.headers)
    assert_refused(resp, "path")


async def test_the_fields_profile_answers_in_its_own_shape(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    for path, body, loc in (
            ("/campaigns", {"name": f"C{NUL}"}, ["body", "name"]),
            ("/nomenclators", {"name": "N", "items": [{"code": f"c{NUL}"}]},
             ["body", "items", 0, "code"]),
            ("/lead_field_sections", {"name": f"S{NUL}", "campaign_id": 1}, ["body", "name"]),
            ("/lead_fields", {"name": f"F{NUL}"}, ["body", "name"]),
            ("/validation_rules", {"value": f"v{NUL}"}, ["body", "value"])):
        resp = await client.post(f"/compat/fields{path}", headers=owner.headers, json=body)
        assert resp.status_code == 422, resp.text
        assert [e["loc"] for e in resp.json()["detail"]] == [loc], resp.text


@pytest.mark.parametrize(("raw", "field", "words"), [
    (b'{"first_name": "A", "metadata": {"x": NaN}}', "metadata.x", "finite"),
    (b'{"first_name": "A", "metadata": {"x": [Infinity]}}', "metadata.x.0", "finite"),
    (b'{"first_name": "A", "fields": {"n": -Infinity}}', "fields.n", "finite"),
    (b'{"first_name": "A\\ud800"}', "first_name", "surrogate"),
])
async def test_non_json_numbers_and_lone_surrogates(client: httpx.AsyncClient, raw: bytes,
                                                    field: str, words: str) -> None:
    owner: Member = await make_workspace(client)
    resp = await client.post("/api/v1/leads", content=raw, headers={
        **owner.headers, "Content-Type": "application/json"})
    assert_refused(resp, field, words)
    listed = await client.get("/api/v1/leads", headers=owner.headers)
    assert listed.json()["data"] == []  # nothing stored


async def test_ordinary_text_passes(client: httpx.AsyncClient) -> None:
    """Escapes that only look alike are fine: an escaped backslash before u0000, emoji
    written as surrogate pairs, "NaN" inside a string."""
    owner = await make_workspace(client)
    raw = (b'{"first_name": "NaN \\ud83d\\ude00", "metadata": {"p": "C:\\\\u0000",'
           b' "Infinity": "Infinity"}}')
    resp = await client.post("/api/v1/leads", content=raw, headers={
        **owner.headers, "Content-Type": "application/json"})
    assert resp.status_code == 201, resp.text
    assert resp.json()["first_name"] == "NaN \U0001f600"
    assert resp.json()["metadata"] == {"p": "C:\\u0000", "Infinity": "Infinity"}


def test_bad_values_walks_every_string_key_and_number() -> None:
    from leadbase.kit.input import bad_values

    found = list(bad_values({"a": [1, "ok", f"x{NUL}"], f"k{NUL}": {"n": math.nan},
                             "s": "\ud800", "fine": {"t": "text", "i": 10**30}}))
    assert found == [
        (("a", 2), "must not contain the NUL character (\\u0000)"),
        (("k\\u0000",), "the key must not contain the NUL character (\\u0000)"),
        (("k\\u0000", "n"), "must be a finite number (NaN and Infinity are not JSON)"),
        (("s",), "must not contain lone UTF-16 surrogates"),
    ]


async def test_nul_in_form_fields(client: httpx.AsyncClient) -> None:
    """The import upload's form: its fields, and the JSON text some of them hold."""
    from tests.imports.conftest import upload

    owner = await make_workspace(client)
    csv = b"email,first_name\na@example.com,Ana\n"
    assert_refused(await upload(client, owner, csv, tags=f"a{NUL}b"), "tags")
    assert_refused(await upload(client, owner, csv, default_region=f"U{NUL}S"),
                   "default_region")
    resp = await upload(client, owner, csv, mapping='{"first_name": "first_name\\u0000"}')
    assert resp.status_code == 422, resp.text
    assert resp.json()["code"] == "INVALID_IMPORT_OPTIONS"
    assert resp.json()["errors"][0]["field"] == "mapping.first_name"
    listed = await client.get("/api/v1/imports", headers=owner.headers)
    assert listed.json()["data"] == []
