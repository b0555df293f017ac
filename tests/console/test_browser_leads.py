"""In the browser: the leads table, a lead's page and its tasks, roles and CSRF."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx

from tests.console.conftest import shot, sign_in_page
from tests.console.helpers import masked_field, task
from tests.factories import add_member, make_lead, make_workspace

FIRST = ["Ana", "Bruno", "Carla", "Diego", "Elena", "Fabián", "Gina", "Hugo", "Inés", "Jorge"]
LAST = ["Pérez", "Gómez", "Ruiz", "Díaz", "Sosa", "Vega", "Rojas", "Luna", "Paz", "Ortiz"]


async def test_create_a_lead_mask_error_then_success(client: httpx.AsyncClient,
                                                      page: Any) -> None:
    owner = await make_workspace(client, "Autos del Sur")
    await masked_field(client, owner)
    await sign_in_page(page, owner.email)
    await page.get_by_role("link", name="New lead").click()
    await page.get_by_label("First name").fill("Rosa")
    await page.get_by_label("Last name").fill("Medina")
    await page.get_by_label("Email").fill("rosa.medina@example.com")
    await page.get_by_label("Patente").fill("12-ABC")
    await page.get_by_role("button", name="Create lead").click()
    error = page.locator("#err-fields-Patente")
    await error.wait_for()
    assert "mask" in (await error.inner_text()).lower() or await error.inner_text()
    patente = page.get_by_label("Patente")
    assert await patente.get_attribute("aria-invalid") == "true"
    assert await page.get_by_label("First name").input_value() == "Rosa"
    await shot(page, "new-lead-error")
    await patente.fill("ABC-123")
    await page.get_by_role("button", name="Create lead").click()
    await page.get_by_text("Lead created.").wait_for()
    assert re.search(r"/app/leads/[0-9a-f-]{36}", page.url)
    assert await page.get_by_label("Patente").input_value() == "ABC-123"


async def test_filter_and_page_the_leads_table(client: httpx.AsyncClient, page: Any) -> None:
    owner = await make_workspace(client, "Inmobiliaria Norte")
    for i in range(32):
        await make_lead(client, owner, first_name=FIRST[i % 10], last_name=LAST[i // 10 + i % 3],
                        company=["Acme", "Globex", "Initech"][i % 3],
                        status=["new", "contacted", "qualified"][i % 3],
                        source=["web", "referral"][i % 2], tags=["vip"] if i % 4 == 0 else [])
    await sign_in_page(page, owner.email)
    rows = page.locator("#leads-table tbody tr")
    await rows.first.wait_for()
    assert await rows.count() == 25
    assert await page.locator("#leads-total").inner_text() == "32 leads"
    await shot(page, "leads")
    await page.locator("#next-page").click()
    await page.wait_for_function(
        "document.querySelectorAll('#leads-table tbody tr').length === 7")
    assert "cursor=" in page.url
    await page.locator("#first-page").click()
    await page.wait_for_function(
        "document.querySelectorAll('#leads-table tbody tr').length === 25")
    filters = page.locator("#lead-filters")
    await filters.get_by_label("Status").select_option("qualified")
    await page.wait_for_function(
        "document.querySelectorAll('#leads-table tbody tr').length === 10")
    assert "status=qualified" in page.url
    await filters.get_by_label("Search").fill("Globex")
    await page.wait_for_function(
        "document.querySelectorAll('#leads-table tbody tr').length === 0 || "
        "document.getElementById('leads-empty') !== null || "
        "[...document.querySelectorAll('#leads-table tbody tr')].every("
        "r => r.textContent.includes('Globex'))")
    # qualified = i % 3 == 2 → all Initech: Globex and qualified match nothing.
    await page.locator("#leads-empty").wait_for()
    await page.get_by_role("link", name="Clear").click()
    await page.wait_for_url(re.compile(r"/app/leads$"))
    # Select two leads and qualify them at once.
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.get_by_role("checkbox", name=re.compile("^Select (?!all)")).nth(0).check()
    await page.get_by_role("checkbox", name=re.compile("^Select (?!all)")).nth(1).check()
    await page.get_by_label("With the selected leads").select_option("tag")
    await page.get_by_label("Tag", exact=True).fill("hot-list")
    await page.get_by_role("button", name="Apply").nth(1).click()
    await page.locator("#bulk-done").wait_for()
    assert await page.locator("#bulk-done").inner_text() == "2 leads changed."
    tagged = await client.get("/api/v1/leads?tags=hot-list", headers=owner.headers)
    assert len(tagged.json()["data"]) == 2
    await page.get_by_role("link", name=re.compile("Score")).click()
    await page.wait_for_url(re.compile(r"sort=score"))
    await page.get_by_role("columnheader", name=re.compile("Score")).wait_for()
    assert await page.get_by_role("columnheader", name=re.compile("Score")).get_attribute(
        "aria-sort") == "ascending"


async def test_reorder_tasks_by_drag_and_keyboard(client: httpx.AsyncClient,
                                                  page: Any) -> None:
    owner = await make_workspace(client)
    lead = await make_lead(client, owner, first_name="Tomás", last_name="Reyes")
    for title in ("Call back", "Send brochure", "Book a visit"):
        await task(client, owner, lead["id"], title)
    await sign_in_page(page, owner.email)
    await page.goto(f"/app/leads/{lead['id']}")
    items = page.locator("#task-list > li")
    await items.first.wait_for()

    async def titles() -> list[str]:
        return [t.strip() for t in await page.locator("#task-list > li .title").all_inner_texts()]

    assert await titles() == ["Call back", "Send brochure", "Book a visit"]
    async with page.expect_response(lambda r: r.url.endswith("/tasks/order")) as answer:
        await page.locator("#task-list > li", has_text="Book a visit").drag_to(
            page.locator("#task-list > li", has_text="Call back"),
            target_position={"x": 10, "y": 2})
    assert (await answer.value).status == 200
    assert await titles() == ["Book a visit", "Call back", "Send brochure"]
    listed = await client.get(f"/api/v1/tasks?lead_id={lead['id']}", headers=owner.headers)
    assert [t["title"] for t in listed.json()["data"]] == ["Book a visit", "Call back",
                                                           "Send brochure"]
    # The keyboard: focus "Move down" of the first task, press Enter.
    down = page.get_by_role("button", name="Move down: Book a visit")
    await down.focus()
    async with page.expect_response(lambda r: r.url.endswith("/tasks/order")) as answer:
        await page.keyboard.press("Enter")
    assert (await answer.value).status == 200
    await page.wait_for_function(
        "document.activeElement && document.activeElement.getAttribute('aria-label') === "
        "'Move down: Book a visit'")  # the focus stays on the button pressed
    listed = await client.get(f"/api/v1/tasks?lead_id={lead['id']}", headers=owner.headers)
    assert [t["title"] for t in listed.json()["data"]] == ["Call back", "Book a visit",
                                                           "Send brochure"]
    # Log a call in place.
    await page.get_by_label("Type").select_option("call")
    await page.get_by_label("Outcome").fill("Interested")
    await page.get_by_label("What happened").fill("Wants a visit on Saturday")
    await page.get_by_role("button", name="Log it").click()
    await page.locator("#timeline").get_by_text("Wants a visit on Saturday").wait_for()
    await shot(page, "lead")


async def test_an_agent_cannot_see_another_agents_lead(client: httpx.AsyncClient,
                                                      page: Any) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    other = await add_member(client, owner, "agent")
    await make_lead(client, owner, first_name="Own", last_name="Lead",
                    owner_id=str(agent.user_id))
    theirs = await make_lead(client, owner, first_name="Hidden", last_name="Lead",
                             owner_id=str(other.user_id))
    await sign_in_page(page, agent.email)
    await page.get_by_role("link", name="Own Lead").wait_for()
    assert await page.get_by_text("Hidden Lead").count() == 0
    resp = await page.goto(f"/app/leads/{theirs['id']}")
    assert resp.status == 404
    assert await page.get_by_text("Hidden").count() == 0


async def test_csrf_less_posts_are_refused(client: httpx.AsyncClient, page: Any) -> None:
    owner = await make_workspace(client)
    lead = await make_lead(client, owner, first_name="Safe")
    await sign_in_page(page, owner.email)
    await page.goto(f"/app/leads/{lead['id']}")
    status = await page.evaluate(
        """async (url) => (await fetch(url, {method: 'POST', body: new URLSearchParams(
            {first_name: 'Hacked'})})).status""", f"/app/leads/{lead['id']}")
    assert status == 403
    forged = await page.evaluate(
        """async (url) => (await fetch(url, {method: 'POST', headers: {'X-CSRF-Token': 'x'},
            body: new URLSearchParams({first_name: 'Hacked'})})).status""",
        f"/app/leads/{lead['id']}")
    assert forged == 403
    got = (await client.get(f"/api/v1/leads/{lead['id']}", headers=owner.headers)).json()
    assert got["first_name"] == "Safe"
    # The page's own form (token from the meta tag via htmx) goes through.
    await page.get_by_label("First name").fill("Saved")
    await page.get_by_role("button", name="Save").click()
    await page.locator("#saved").wait_for()
    got = (await client.get(f"/api/v1/leads/{lead['id']}", headers=owner.headers)).json()
    assert got["first_name"] == "Saved"
