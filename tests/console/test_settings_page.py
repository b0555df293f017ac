"""The settings pages over HTTP: lists and fields, users and roles, API keys (the secret
shown once), with the API's roles."""

from __future__ import annotations

import re

import httpx

from tests.console.conftest import ConsoleClient
from tests.console.work import signed_in
from tests.factories import add_member, make_workspace, unique_email


async def test_api_keys_secret_shown_once(client: httpx.AsyncClient,
                                          console: ConsoleClient) -> None:
    owner = await make_workspace(client, "Keys Co")
    await console.sign_in(owner.email)
    page = await console.get("/app/settings/api-keys")
    assert page.status_code == 200
    created = await console.post("/app/settings/api-keys", {"name": "Zapier", "role": "agent"})
    assert created.status_code == 201
    secret = re.search(r'id="key-secret">([^<]+)<', created.text)
    assert secret
    key = secret.group(1).strip()
    listed = await client.get("/api/v1/leads", headers={"Authorization": f"Bearer {key}"})
    assert listed.status_code == 200
    again = await console.get("/app/settings/api-keys")
    assert key not in again.text and "Zapier" in again.text
    key_id = re.search(r'/app/settings/api-keys/([0-9a-f-]{36})/revoke', again.text)
    assert key_id
    revoked = await console.post(f"/app/settings/api-keys/{key_id.group(1)}/revoke")
    assert revoked.status_code == 303
    assert (await client.get("/api/v1/leads", headers={
        "Authorization": f"Bearer {key}"})).status_code == 401
    refused = await console.post("/app/settings/api-keys", {"name": "x"}, csrf=False)
    assert refused.status_code == 403


async def test_users_and_roles(client: httpx.AsyncClient, console: ConsoleClient) -> None:
    owner = await make_workspace(client, "Users Co")
    viewer = await add_member(client, owner, "viewer")
    await console.sign_in(owner.email)
    email = unique_email("new")
    resp = await console.post("/app/settings/users", {
        "email": email, "name": "New Agent", "password": "Secret123", "role": "agent"})
    assert resp.status_code == 303
    page = await console.get("/app/settings/users")
    assert email in page.text
    user_id = re.search(rf'data-user="{re.escape(email)}".*?'
                        r'/app/settings/users/([0-9a-f-]{36})/role', page.text, re.S)
    assert user_id
    changed = await console.post(f"/app/settings/users/{user_id.group(1)}/role",
                                 {"role": "manager"})
    assert changed.status_code == 303
    got = (await client.get(f"/api/v1/users/{user_id.group(1)}", headers=owner.headers)).json()
    assert got["role"] == "manager"
    short = await console.post("/app/settings/users", {
        "email": unique_email(), "name": "X", "password": "short", "role": "agent"})
    assert short.status_code == 422 and 'id="settings-problem"' in short.text
    async with signed_in(console, viewer) as v:
        seen = await v.get("/app/settings/users")
        assert seen.status_code == 200 and "/role" not in seen.text
        assert (await v.post(f"/app/settings/users/{user_id.group(1)}/role",
                             {"role": "owner"})).status_code == 403
        assert (await v.get("/app/settings/api-keys")).status_code == 403


async def test_lists_and_field_builder(client: httpx.AsyncClient,
                                       console: ConsoleClient) -> None:
    owner = await make_workspace(client, "Fields Co")
    await console.sign_in(owner.email)
    resp = await console.post("/app/settings/lists", {"name": "Fairs 2027"})
    assert resp.status_code == 303
    list_id = resp.headers["location"].split("list_id=")[1]
    made = await console.post("/app/settings/fields", {"list_id": list_id,
                                                       "template_code": "DNI_ARG"})
    assert made.status_code == 303, made.text
    typed = await console.post("/app/settings/fields", {
        "list_id": list_id, "name": "Budget", "type": "DECIMAL", "required": "true"})
    assert typed.status_code == 303, typed.text
    page = await console.get(f"/app/settings?list_id={list_id}")
    assert "Fairs 2027" in page.text and "<code>budget</code>" in page.text.lower()
    fields = (await client.get(f"/api/v1/fields?list_id={list_id}",
                               headers=owner.headers)).json()["data"]
    assert {f["type"] for f in fields} >= {"DECIMAL"} and len(fields) == 2
    bad = await console.post("/app/settings/fields", {"list_id": list_id,
                                                      "template_code": "NOPE"})
    assert bad.status_code == 422 and 'id="settings-problem"' in bad.text
