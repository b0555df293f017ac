"""In the browser: sign in, see the leads, switch language, sign out."""

from __future__ import annotations

from typing import Any

import httpx

from tests.console.conftest import shot, sign_in_page
from tests.factories import make_lead, make_workspace


async def test_sign_in_and_out(client: httpx.AsyncClient, page: Any) -> None:
    owner = await make_workspace(client, "Browser Realty")
    await make_lead(client, owner, first_name="Marta", last_name="Quiroga", company="Quiroga SA")
    await page.goto("/app/leads")
    assert "/app/login" in page.url
    await page.get_by_label("Email").fill(owner.email)
    await page.get_by_label("Password").fill("not-the-password")
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("alert").wait_for()
    assert "Wrong email or password." in await page.get_by_role("alert").inner_text()
    await shot(page, "sign-in")
    await sign_in_page(page, owner.email)
    assert page.url.endswith("/app/leads")
    await page.get_by_role("link", name="Marta Quiroga").wait_for()
    cookies = await page.context.cookies()
    session = next(c for c in cookies if c["name"] == "leadbase_console")
    assert session["httpOnly"] and session["sameSite"] == "Lax"
    assert await page.evaluate("document.cookie") == ""
    await page.get_by_label("Language").select_option("es")
    await page.get_by_role("heading", name="Prospectos").wait_for()
    await page.get_by_role("button", name="Cerrar sesión").click()
    await page.wait_for_url("**/app/login?signed_out=1")
