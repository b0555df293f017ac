"""Access and errors in a FastAPI service's shape (``{"detail": ...}``), and the
profile mounted at ``/`` (``LEADBASE_ROOT_PROFILE=fields``)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from leadbase.app import create_app
from leadbase.db.session import Database
from tests.compat.fields.helpers import (
    BASE,
    assert_detail,
    assert_validation,
    call,
    example,
    make_world,
    ok,
)
from tests.conftest import make_settings
from tests.factories import add_member


async def test_a_token_is_required(client: httpx.AsyncClient) -> None:
    for method, path in (("GET", "/lead_fields"), ("GET", "/lead_fields/templates"),
                         ("GET", "/lead_fields/1"), ("POST", "/lead_fields"),
                         ("PUT", "/lead_fields/active/1"), ("DELETE", "/lead_fields/1"),
                         ("GET", "/validation_rules"), ("GET", "/lead_field_sections"),
                         ("GET", "/nomenclators"), ("GET", "/campaigns")):
        resp = await call(client, method, path, None, {} if method != "GET" else None)
        assert_detail(resp, 401, "AUTH_REQUIRED")
        assert resp.headers["www-authenticate"] == "Bearer"
    bad = await client.get(BASE + "/lead_fields", headers={"Authorization": "Bearer nope"})
    assert_detail(bad, 401)


async def test_api_keys_work_too(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    keys = {}
    for scopes in (["read", "write"], ["read"]):
        resp = await client.post("/api/v1/api-keys", headers=w.headers,
                                 json={"name": "x", "role": "admin", "scopes": scopes})
        assert resp.status_code == 201, resp.text
        keys[len(scopes)] = {"Authorization": f"Bearer {resp.json()['secret']}"}
    resp = await client.post(BASE + "/lead_fields", headers=keys[2],
                             json=w.ids(example("option_b1")))
    assert resp.status_code == 200, resp.text
    found = await client.get(f"{BASE}/lead_fields/{resp.json()['id']}", headers=keys[1])
    assert found.json() == resp.json()
    refused = await client.delete(f"{BASE}/lead_fields/{resp.json()['id']}", headers=keys[1])
    assert_detail(refused, 403, "INSUFFICIENT_SCOPE")


async def test_other_workspaces_ids_are_not_found(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    field = await ok(client, "POST", "/lead_fields", w.owner, w.ids(example("option_a")))
    rule = field["validation_rules"][0]["id"]
    them = await make_world(client, "Otra")
    # Ids are numbered per workspace: name objects of w's whose numbers the other
    # workspace does not use (its own campaign 2 is its own, not w's).
    campaign = (await ok(client, "POST", "/campaigns", w.owner, {"name": "Campaña 3"}))["id"]
    section = (await ok(client, "POST", "/lead_field_sections", w.owner,
                        {"name": "Más", "campaign_id": campaign}))["id"]
    nomenclator = (await ok(client, "POST", "/nomenclators", w.owner, {"name": "Tallas", "items": [
        {"code": c, "name": c} for c in ("S", "M", "L", "XL")]}))
    item = nomenclator["items"][-1]
    w.section1, w.nomenclator2, w.campaign1 = section, nomenclator["id"], campaign
    for method, path, code in (
            ("GET", f"/lead_fields/{field['id']}", "FIELD_NOT_FOUND"),
            ("DELETE", f"/lead_fields/{field['id']}", "FIELD_NOT_FOUND"),
            ("PUT", f"/lead_fields/active/{field['id']}", "FIELD_NOT_FOUND"),
            ("GET", f"/validation_rules/{rule}", "RULE_NOT_FOUND"),
            ("DELETE", f"/validation_rules/{rule}", "RULE_NOT_FOUND"),
            ("GET", f"/lead_field_sections/{w.section1}", "SECTION_NOT_FOUND"),
            ("DELETE", f"/lead_field_sections/{w.section1}", "SECTION_NOT_FOUND"),
            ("GET", f"/nomenclators/{w.nomenclator2}", "CODE_LIST_NOT_FOUND"),
            ("GET", f"/nomenclators/{w.nomenclator2}/items", "CODE_LIST_NOT_FOUND"),
            ("GET", f"/nomenclators/{them.nomenclator2}/items/{item['id']}",
             "ITEM_NOT_FOUND"),
            ("GET", f"/campaigns/{w.campaign1}", "LIST_NOT_FOUND"),
            ("DELETE", f"/campaigns/{w.campaign1}", "LIST_NOT_FOUND")):
        assert_detail(await call(client, method, path, them.owner), 404, code)
    put = them.ids(example("put"))
    assert_detail(await call(client, "PUT", f"/lead_fields/{field['id']}", them.owner, put),
                  404, "FIELD_NOT_FOUND")
    assert_detail(await call(client, "GET", "/lead_fields", them.owner,
                             campaign_id=w.campaign1), 404, "LIST_NOT_FOUND")
    assert_detail(await call(client, "GET", "/validation_rules", them.owner,
                             lead_field_id=field["id"]), 404, "FIELD_NOT_FOUND")
    # Ids in a body that name nothing here: 422 naming the attribute.
    body = {**them.ids(example("option_b2")), "nomenclator_id": w.nomenclator2}
    detail = assert_detail(await call(client, "POST", "/lead_fields", them.owner, body), 422,
                           "CODE_LIST_NOT_FOUND")
    assert detail.startswith("nomenclator_id: ")
    body = {**them.ids(example("option_b1")), "campaign_id": w.campaign1}
    assert assert_detail(await call(client, "POST", "/lead_fields", them.owner, body),
                         422, "LIST_NOT_FOUND").startswith("campaign_id: ")
    # Nothing of theirs was touched, and lists show only one's own.
    assert (await ok(client, "GET", f"/lead_fields/{field['id']}", w.owner))["active"]
    assert await ok(client, "GET", "/lead_fields", them.owner) == []


async def test_a_viewer_reads_but_cannot_write(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    field = await ok(client, "POST", "/lead_fields", w.owner, w.ids(example("option_b1")))
    viewer = await add_member(client, w.owner, "viewer")
    assert await ok(client, "GET", f"/lead_fields/{field['id']}", viewer) == field
    assert len(await ok(client, "GET", "/lead_fields/templates", viewer)) >= 20
    agent = await add_member(client, w.owner, "agent")
    for member in (viewer, agent):
        for method, path, body in (
                ("POST", "/lead_fields", w.ids(example("option_a"))),
                ("PUT", f"/lead_fields/{field['id']}", w.ids(example("put"))),
                ("DELETE", f"/lead_fields/{field['id']}", None),
                ("PUT", f"/lead_fields/active/{field['id']}", None),
                ("POST", "/campaigns", {"name": "X"}),
                ("POST", "/lead_field_sections", {"name": "X"}),
                ("POST", "/nomenclators", {"name": "X"})):
            assert_detail(await call(client, method, path, member, body), 403)
    assert (await ok(client, "GET", f"/lead_fields/{field['id']}", w.owner))["active"]


async def test_error_shapes(client: httpx.AsyncClient) -> None:
    w = await make_world(client)
    # Request validation: FastAPI's own list, in the document's names.
    errors = assert_validation(await call(client, "POST", "/lead_fields", w.owner, {
        **w.ids(example("option_b1")), "order": "first", "field_type_code": "TEXTO"}),
        ("body", "field_type_code"), ("body", "order"))
    assert errors[1]["type"] == "int_parsing"
    # The canonical limits, reported the same way.
    assert_validation(await call(client, "POST", "/lead_fields", w.owner, {
        **w.ids(example("option_b1")), "order": -1}), ("body", "order"))
    assert_validation(await call(client, "POST", "/lead_fields", w.owner,
                                 {"campaign_id": w.campaign1}),
                      ("body", "order"), ("body", "lead_field_section_id"))
    # Option B without a name or a type (and no template): FastAPI's "missing".
    body = w.ids(example("option_b1"))
    del body["name"], body["field_type_code"]
    errors = assert_validation(await call(client, "POST", "/lead_fields", w.owner, body),
                               ("body", "name"), ("body", "field_type_code"))
    assert {e["type"] for e in errors} == {"missing"}
    assert_validation(await call(client, "GET", "/lead_fields/abc", w.owner),
                      ("path", "id"))
    resp = await client.post(BASE + "/lead_fields", headers={**w.headers,
                             "content-type": "application/json"}, content=b"{nope")
    assert resp.status_code == 422 and resp.json()["detail"][0]["type"] == "json_invalid"
    # Service errors: {"detail": message, "code": stable code}.
    assert_detail(await call(client, "POST", "/lead_fields", w.owner, {
        **w.ids(example("option_a")), "field_template_code": "NOPE"}), 422,
        "TEMPLATE_NOT_FOUND")
    detail = assert_detail(await call(client, "POST", "/lead_fields", w.owner, {
        **w.ids(example("option_b1")), "field_type_code": "INT"}), 422)
    assert detail.startswith("input_mask: ")
    # Unknown routes and methods: FastAPI's defaults.
    assert (await call(client, "GET", "/nope", w.owner)).json() == {"detail": "Not Found"}
    resp = await call(client, "PATCH", "/lead_fields/1", w.owner, {})
    assert resp.status_code == 405 and resp.json() == {"detail": "Method Not Allowed"}
    # The canonical API keeps its own format.
    canonical = await client.get("/api/v1/fields/00000000-0000-0000-0000-000000000000",
                                 headers=w.headers)
    assert canonical.status_code == 404
    assert canonical.headers["content-type"] == "application/problem+json"


async def test_root_profile(db: Database, tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, root_profile="fields"), database=db,
                     run_worker=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        w = await make_world(client)  # through /compat/fields and /api/v1
        templates = await client.get("/lead_fields/templates", headers=w.headers)
        assert templates.status_code == 200 and templates.json()
        created = await client.post("/lead_fields", headers=w.headers,
                                    json=w.ids(example("option_b1")))
        assert created.status_code == 200, created.text
        same = await client.get(f"{BASE}/lead_fields/{created.json()['id']}",
                                headers=w.headers)
        assert same.json() == created.json()
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/openapi.json")).json()["info"]["title"] == "Leadbase"
        assert (await client.get("/api/v1/auth/me", headers=w.headers)).status_code == 200
        assert (await client.get("/nope")).json() == {"detail": "Not Found"}
    with pytest.raises(ValueError, match="names no profile"):
        create_app(make_settings(tmp_path, root_profile="nope"), database=db,
                   run_worker=False)


async def test_profile_docs(client: httpx.AsyncClient) -> None:
    spec = (await client.get(BASE + "/openapi.json")).json()
    assert {"/lead_fields", "/lead_fields/templates", "/lead_fields/{id}",
            "/lead_fields/active/{id}", "/validation_rules", "/validation_rules/{id}",
            "/lead_field_sections", "/lead_field_sections/{id}", "/nomenclators",
            "/nomenclators/{id}", "/nomenclators/{id}/items",
            "/nomenclators/{id}/items/{item_id}", "/campaigns",
            "/campaigns/{id}"} <= set(spec["paths"])
    assert (await client.get(BASE + "/docs")).status_code == 200
