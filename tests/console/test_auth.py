"""The console's sign-in, session cookie, CSRF and error pages, over HTTP."""

from __future__ import annotations

import httpx

from tests.console.conftest import ConsoleClient
from tests.factories import add_member, make_workspace


async def test_root_redirects_to_the_console(client: httpx.AsyncClient) -> None:
    resp = await client.get("/")
    assert resp.status_code == 307
    assert resp.headers["location"] == "/app"


async def test_pages_need_a_session(console: ConsoleClient) -> None:
    resp = await console.http.get("/app/leads")
    assert resp.status_code == 303
    assert resp.headers["location"] == "/app/login?next=/app/leads"
    resp = await console.http.get("/app/leads", headers={"HX-Request": "true"})
    assert resp.status_code == 204
    assert resp.headers["hx-redirect"].startswith("/app/login")


async def test_sign_in_and_out(client: httpx.AsyncClient, console: ConsoleClient) -> None:
    owner = await make_workspace(client, "Console Co")
    page = await console.get("/app/login")
    assert page.status_code == 200
    assert 'for="email"' in page.text and 'for="password"' in page.text
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/app" in cookie
    resp = await console.post("/app/login", {"email": owner.email, "password": "wrong-pass"})
    assert resp.status_code == 401
    assert "Wrong email or password." in resp.text
    resp = await console.post("/app/login", {"email": owner.email, "password": "Secret123",
                                             "next": "/app/leads?status=new"})
    assert resp.status_code == 303
    assert resp.headers["location"] == "/app/leads?status=new"
    leads = await console.get("/app/leads")
    assert leads.status_code == 200
    assert "Console Co" in leads.text
    old = dict(console.http.cookies)
    resp = await console.post("/app/logout")
    assert resp.status_code == 303
    assert (await console.http.get("/app/leads")).status_code == 303
    # The old cookie is dead too: sign-out revoked its session.
    async with httpx.AsyncClient(transport=console.http._transport,
                                 base_url="http://test", cookies=old) as replay:
        assert (await replay.get("/app/leads")).status_code == 303


async def test_open_redirects_are_refused(client: httpx.AsyncClient,
                                          console: ConsoleClient) -> None:
    owner = await make_workspace(client)
    await console.get("/app/login")
    resp = await console.post("/app/login", {"email": owner.email, "password": "Secret123",
                                             "next": "//evil.example/app/"})
    assert resp.headers["location"] == "/app/leads"


async def test_posts_without_csrf_are_refused(client: httpx.AsyncClient,
                                              console: ConsoleClient) -> None:
    owner = await make_workspace(client)
    await console.get("/app/login")
    resp = await console.post("/app/login", {"email": owner.email, "password": "Secret123"},
                              csrf=False)
    assert resp.status_code == 403
    assert "CSRF_FAILED" in resp.text
    resp = await console.post("/app/login", {"email": owner.email, "password": "Secret123",
                                             "csrf_token": "forged"})
    assert resp.status_code == 403
    await console.sign_in(owner.email)
    resp = await console.post("/app/logout", csrf=False)
    assert resp.status_code == 403
    assert (await console.get("/app/leads")).status_code == 200  # still signed in
    # A cookie-less post (another site's form) is refused whatever token it sends.
    async with httpx.AsyncClient(transport=console.http._transport,
                                 base_url="http://test") as stranger:
        resp = await stranger.post("/app/logout", data={"csrf_token": console.csrf})
        assert resp.status_code == 403
    # htmx sends the token in a header.
    resp = await console.http.post("/app/leads/columns", data={"columns": ["email"]},
                                   headers={"X-CSRF-Token": console.csrf})
    assert resp.status_code == 303


async def test_language_from_the_browser_or_the_user(client: httpx.AsyncClient,
                                                     console: ConsoleClient) -> None:
    page = await console.http.get("/app/login", headers={"Accept-Language": "es-AR,es;q=0.9"})
    assert '<html lang="es">' in page.text and "Iniciar sesión" in page.text
    page = await console.get("/app/login", headers={"Accept-Language": "fr, en;q=0.5"})
    assert '<html lang="en">' in page.text
    resp = await console.post("/app/language", {"lang": "es", "back": "/app/login"})
    assert resp.status_code == 303
    page = await console.http.get("/app/login", headers={"Accept-Language": "en"})
    assert "Contraseña" in page.text


async def test_viewer_changes_nothing(client: httpx.AsyncClient,
                                      console: ConsoleClient) -> None:
    owner = await make_workspace(client)
    viewer = await add_member(client, owner, "viewer")
    await console.sign_in(viewer.email)
    resp = await console.post("/app/leads/columns", {"columns": ["email"]})
    assert resp.status_code == 403
    assert "ROLE_REQUIRED" in resp.text


async def test_static_files_are_served(client: httpx.AsyncClient) -> None:
    resp = await client.get("/app/static/vendor/htmx-2.0.11.min.js")
    assert resp.status_code == 200
    assert len(resp.content) < 60_000
    assert (await client.get("/app/static/console.css")).status_code == 200


async def test_unknown_console_paths_are_pages(console: ConsoleClient) -> None:
    resp = await console.http.get("/app/nowhere")
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith("text/html")
