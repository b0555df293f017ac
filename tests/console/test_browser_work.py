"""In the browser: move a card on the board and see its stage history; run an import and
watch its progress reach the end; the dashboard's charts drawn with data; an API key's
secret shown once. Screenshots at desktop and phone width into docs/console/."""

from __future__ import annotations

from typing import Any

import httpx

from tests.console.conftest import shot, sign_in_page
from tests.factories import make_lead, make_workspace
from tests.imports.conftest import upload
from tests.opportunities.helpers import lead_pipeline, make_opportunity


async def test_move_a_card_by_drag_and_drop(client: httpx.AsyncClient, page: Any) -> None:
    owner = await make_workspace(client, "Board Realty")
    lead = await make_lead(client, owner, first_name="Dora", last_name="Drag",
                           company="Drag SRL")
    for i in range(3):
        await make_lead(client, owner, first_name=f"Lead {i}", company=f"Co {i}")
    pipeline = await lead_pipeline(client, owner)
    first, second, third = pipeline["stages"][:3]
    await sign_in_page(page, owner.email)
    await page.goto(f"/app/pipelines/{pipeline['id']}/board")
    card = page.locator(f'[data-lead-id="{lead["id"]}"]')
    await card.wait_for()
    target = page.locator(f'.column[data-stage-id="{second["id"]}"]')
    await card.drag_to(target, source_position={"x": 4, "y": 4})  # its edge, not a link
    moved = page.locator(f'.column[data-stage-id="{second["id"]}"] '
                         f'.lead-card.moved[data-lead-id="{lead["id"]}"]')
    await moved.wait_for()
    history = moved.locator("[data-history] li").first
    assert f"{first['name']} → {second['name']}" in await history.inner_text()
    assert await target.locator("[data-count]").inner_text() == "1"
    # The keyboard way: the card's own stage menu and button.
    select = page.get_by_label("Move to (Dora Drag)")
    await select.focus()
    await select.select_option(third["id"])
    await page.locator(f'[data-lead-id="{lead["id"]}"]').get_by_role(
        "button", name="Move").press("Enter")
    again = page.locator(f'.column[data-stage-id="{third["id"]}"] '
                         f'.lead-card.moved[data-lead-id="{lead["id"]}"]')
    await again.wait_for()
    assert f"{second['name']} → {third['name']}" in await again.locator(
        "[data-history] li").first.inner_text()
    await shot(page, "board")


async def test_run_an_import_and_watch_it_finish(client: httpx.AsyncClient,
                                                 page: Any) -> None:
    owner = await make_workspace(client, "Import Realty")
    rows = "".join(f"lead{i}@example.com,Name {i},Company {i}\n" for i in range(3000))
    content = ("email,first_name,company\n" + rows + "broken-email,Bad,Row\n").encode()
    await sign_in_page(page, owner.email)
    await page.goto("/app/imports/new")
    await page.get_by_label("File (CSV, XLSX, XLS or ODS)").set_input_files(
        {"name": "fair-leads.csv", "mimeType": "text/csv", "buffer": content})
    await page.get_by_role("button", name="Upload and check columns").click()
    await page.locator("#mapping").wait_for()
    assert await page.locator("#map-0").input_value() == "email"
    await shot(page, "import-mapping")
    await page.get_by_role("button", name="Import", exact=True).click()
    await page.wait_for_url("**/app/imports/*")
    section = page.locator('#import-progress[data-status="completed"]')
    await section.wait_for(timeout=60_000)
    assert await page.locator("#import-bar").get_attribute("value") == "100"
    assert "3,001 of 3,001 rows" in await page.locator("#import-rows").inner_text()
    created = page.locator('[data-bucket="created"] strong')
    assert await created.inner_text() == "3,000"
    assert await page.locator('[data-bucket="invalid"] strong').inner_text() == "1"
    async with page.expect_download() as info:
        await page.locator("#import-errors").click()
    download = await info.value
    assert download.suggested_filename.endswith("-errors.csv")
    await shot(page, "import-result")


async def test_the_dashboard_draws_its_charts(client: httpx.AsyncClient, page: Any) -> None:
    owner = await make_workspace(client, "Dash Realty")
    for source, n in (("web", 4), ("fair", 2), ("referral", 1)):
        for _ in range(n):
            await make_lead(client, owner, source=source, status="contacted" if n > 2 else "new")
    await make_opportunity(client, owner, value="12000.00")
    resp = await upload(client, owner, b"email\nz@example.com\n")
    assert resp.status_code == 202
    await sign_in_page(page, owner.email)
    await page.goto("/app/dashboard")
    for chart in ("by_source", "funnel", "pipeline", "activities", "imports"):
        drawn = page.locator(f'[data-chart="{chart}"][data-rendered="true"] canvas')
        await drawn.first.wait_for()
    legend = await page.locator('[data-chart="by_source"] .u-legend').inner_text()
    assert "web" in legend and "fair" in legend
    # The figures behind the charts, as a table.
    await page.locator("#c-source-h ~ details summary").click()
    assert "web" in await page.locator("#c-source-h ~ details table").inner_text()
    await page.locator("#c-source-h ~ details summary").click()
    await shot(page, "dashboard")


async def test_create_an_api_key_and_see_its_secret_once(client: httpx.AsyncClient,
                                                         page: Any) -> None:
    owner = await make_workspace(client, "Keys Realty")
    await sign_in_page(page, owner.email)
    await page.goto("/app/settings/api-keys")
    await page.get_by_label("Name").fill("Website form")
    await page.get_by_label("Role").select_option("agent")
    await page.get_by_role("button", name="Create key").click()
    secret = page.locator("#key-secret")
    await secret.wait_for()
    key = (await secret.inner_text()).strip()
    assert len(key) > 20
    assert (await client.get("/api/v1/leads", headers={
        "Authorization": f"Bearer {key}"})).status_code == 200
    await shot(page, "api-keys")
    await page.goto("/app/settings/api-keys")
    await page.locator('[data-key="Website form"]').wait_for()
    assert await page.locator("#key-secret").count() == 0
    assert key not in await page.content()
