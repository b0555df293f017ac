"""Console test harness.

- ``console``: an httpx client of the app (ASGI) with helpers to sign in through the
  sign-in form and to post with the page's CSRF token (``ConsoleClient``).
- ``live_url``: the same application served by uvicorn in a thread, on its own port,
  against the test database (its own ``Database``: the server runs its own event loop).
- ``browser`` / ``page``: Playwright driving the system's chromium
  (``LEADBASE_CHROMIUM``, default /usr/bin/chromium; one browser per test session, a
  fresh context per test). Browser tests skip, saying so, when chromium is absent.
- ``shot(page, name)``: screenshots at desktop (1280) and phone (390) width into
  docs/console/.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import uvicorn
from fastapi import FastAPI

from leadbase.app import create_app
from leadbase.config import Settings
from leadbase.db.session import Database
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "console"
CHROMIUM = os.environ.get("LEADBASE_CHROMIUM", "/usr/bin/chromium")
_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
_skipped: list[str] = []


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no csrf meta tag in the page"
    return found.group(1)


@dataclass
class ConsoleClient:
    """An httpx client with the console's session cookie and its CSRF token."""

    http: httpx.AsyncClient
    csrf: str = ""

    async def get(self, url: str, **kw: Any) -> httpx.Response:
        resp = await self.http.get(url, **kw)
        if resp.headers.get("content-type", "").startswith("text/html") and \
                'name="csrf-token"' in resp.text:
            self.csrf = csrf_of(resp.text)
        return resp

    async def post(self, url: str, data: dict[str, Any] | None = None, *,
                   csrf: bool = True, **kw: Any) -> httpx.Response:
        body = dict(data or {})
        if csrf:
            if not self.csrf:
                await self.get("/app/login")
            body.setdefault("csrf_token", self.csrf)
        return await self.http.post(url, data=body, **kw)

    async def sign_in(self, email: str, password: str = PASSWORD) -> httpx.Response:
        await self.get("/app/login")
        resp = await self.post("/app/login", {"email": email, "password": password})
        assert resp.status_code == 303, resp.text
        await self.get(resp.headers["location"])
        return resp


@pytest_asyncio.fixture(loop_scope="session")
async def console(app: FastAPI) -> AsyncIterator[ConsoleClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield ConsoleClient(c)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def live_url(libpq: str, settings: Settings) -> Iterator[str]:
    """The app served over HTTP by uvicorn in a thread (for the browser)."""
    port = _free_port()
    holder: dict[str, Any] = {}

    def serve() -> None:
        async def main() -> None:
            database = Database(libpq, settings)
            holder["app"] = create_app(settings, database=database, run_worker=False)
            config = uvicorn.Config(holder["app"], host="127.0.0.1", port=port,
                                    log_level="warning", lifespan="on")
            server = uvicorn.Server(config)
            holder["server"] = server
            try:
                await server.serve()
            finally:
                await database.dispose()

        asyncio.run(main())

    thread = threading.Thread(target=serve, name="console-live-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code < 500:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        raise RuntimeError("the console's live server did not start")
    yield url
    holder["server"].should_exit = True
    thread.join(10)


def chromium_missing() -> str | None:
    if not Path(CHROMIUM).exists() and shutil.which(CHROMIUM) is None:
        return (f"chromium not found at {CHROMIUM}: the console's browser tests were "
                "skipped (apt-get install chromium, or set LEADBASE_CHROMIUM)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed: the console's browser tests were skipped"
    return None


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Any]:
    reason = chromium_missing()
    if reason:
        _skipped.append(reason)
        pytest.skip(reason)
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-dev-shm-usage",
                                           "--disable-gpu"])
        yield b
        await b.close()


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser: Any, live_url: str) -> AsyncIterator[Any]:
    context = await browser.new_context(base_url=live_url, locale="en-US",
                                        viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    pg = await context.new_page()
    yield pg
    await context.close()


async def sign_in_page(page: Any, email: str, password: str = PASSWORD) -> None:
    await page.goto("/app/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(re.compile(r"/app/(?!login)"))


async def shot(page: Any, name: str) -> None:
    """Screenshots of the page at desktop and phone width (docs/console/<name>-*.png)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    for label, width in (("desktop", 1280), ("phone", 390)):
        await page.set_viewport_size({"width": width, "height": 900 if width > 500 else 844})
        await page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    if size:
        await page.set_viewport_size(size)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for reason in sorted(set(_skipped)):
        terminalreporter.write_line(f"NOTE: {reason}", yellow=True, bold=True)
