"""The leads table and a lead's page over HTTP: the services' rules, roles and tenants."""

from __future__ import annotations

import re

import httpx

from tests.console.conftest import ConsoleClient
from tests.console.helpers import masked_field, task
from tests.factories import add_member, make_lead, make_workspace


def lead_ids(html: str) -> list[str]:
    return re.findall(r'<tr data-id="([0-9a-f-]{36})">', html)


async def test_filters_sort_and_keyset_pages(client: httpx.AsyncClient,
                                             console: ConsoleClient) -> None:
    owner = await make_workspace(client)
    for i in range(30):
        await make_lead(client, owner, first_name=f"P{i:02d}", company="Zeta" if i % 3 else "Alfa",
                        status="contacted" if i % 2 else "new", tags=["vip"] if i < 5 else [])
    await console.sign_in(owner.email)
    first = await console.get("/app/leads")
    assert len(lead_ids(first.text)) == 25
    assert "30 leads" in first.text
    nxt = re.search(r'id="next-page"[^>]*|href="(/app/leads\?[^"]*cursor=[^"]+)"', first.text)
    assert nxt
    cursor_url = re.search(r'href="(/app/leads\?cursor=[^"]+)" hx-get', first.text)
    assert cursor_url
    second = await console.get(cursor_url.group(1).replace("&amp;", "&"),
                               headers={"HX-Request": "true", "HX-Target": "leads-results"})
    assert "<html" not in second.text  # a partial
    assert len(lead_ids(second.text)) == 5
    assert not set(lead_ids(second.text)) & set(lead_ids(first.text))
    new = await console.get("/app/leads?status=new&tags=vip")
    assert len(lead_ids(new.text)) == 3
    alfa = await console.get("/app/leads?q=Alfa&sort=first_name")
    names = re.findall(r'>(P\d\d) López</a>', alfa.text)
    assert names == sorted(names) and len(names) == 10
    desc = await console.get("/app/leads?q=Alfa&sort=-first_name")
    assert re.findall(r'>(P\d\d) López</a>', desc.text) == names[::-1]
    bad = await console.get("/app/leads?status=nonsense")
    assert bad.status_code == 422


async def test_column_choice_is_kept_per_user(client: httpx.AsyncClient,
                                              console: ConsoleClient) -> None:
    owner = await make_workspace(client)
    await make_lead(client, owner, phone="+14155550123")
    await console.sign_in(owner.email)
    resp = await console.post("/app/leads/columns", {"columns": ["name", "phone"]})
    assert resp.status_code == 303
    page = await console.get("/app/leads")
    head = page.text.split("<thead>")[1].split("</thead>")[0]
    assert "Phone" in head and "Email" not in head and "Company" not in head
    other = await add_member(client, owner, "manager")
    second = ConsoleClient(console.http.__class__(transport=console.http._transport,
                                                  base_url="http://test"))
    async with second.http:
        await second.sign_in(other.email)
        head = (await second.get("/app/leads")).text.split("<thead>")[1]
        assert "Email" in head.split("</thead>")[0]


async def test_export_of_the_current_view(client: httpx.AsyncClient,
                                          console: ConsoleClient) -> None:
    owner = await make_workspace(client)
    await make_lead(client, owner, first_name="Keep", status="qualified")
    await make_lead(client, owner, first_name="Drop", status="new")
    await console.sign_in(owner.email)
    page = await console.get("/app/leads?status=qualified")
    link = re.search(r'href="(/app/leads/export\?[^"]+format=csv)"', page.text)
    assert link
    resp = await console.get(link.group(1).replace("&amp;", "&"))
    assert resp.status_code == 200
    assert "Keep" in resp.text and "Drop" not in resp.text


async def test_an_agent_sees_only_its_leads(client: httpx.AsyncClient,
                                            console: ConsoleClient) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    other = await add_member(client, owner, "agent")
    mine = await make_lead(client, owner, first_name="Mine", owner_id=str(agent.user_id))
    theirs = await make_lead(client, owner, first_name="Theirs", owner_id=str(other.user_id))
    await console.sign_in(agent.email)
    page = await console.get("/app/leads")
    assert lead_ids(page.text) == [mine["id"]]
    assert (await console.get(f"/app/leads/{mine['id']}")).status_code == 200
    for url in (f"/app/leads/{theirs['id']}",):
        assert (await console.get(url)).status_code == 404
    for url, data in ((f"/app/leads/{theirs['id']}", {"first_name": "X"}),
                      (f"/app/leads/{theirs['id']}/activities", {"type": "note", "text": "x"}),
                      (f"/app/leads/{theirs['id']}/tasks", {"title": "x"}),
                      (f"/app/leads/{theirs['id']}/stage", {"stage": "new"})):
        assert (await console.post(url, data)).status_code == 404, url
    export = await console.get("/app/leads/export?format=csv")
    assert "Mine" in export.text and "Theirs" not in export.text


async def test_another_workspace_lead_is_not_found(client: httpx.AsyncClient,
                                                   console: ConsoleClient) -> None:
    owner = await make_workspace(client)
    stranger = await make_workspace(client, "Elsewhere")
    foreign = await make_lead(client, stranger, first_name="Foreign")
    foreign_task = await task(client, stranger, foreign["id"], "Theirs")
    await console.sign_in(owner.email)
    assert (await console.get(f"/app/leads/{foreign['id']}")).status_code == 404
    resp = await console.post(f"/app/leads/{foreign['id']}/tasks/order",
                              {"ids": [foreign_task["id"]]})
    assert resp.status_code == 404
    assert "Foreign" not in (await console.get("/app/leads")).text


async def test_create_shows_mask_errors_next_to_the_input(client: httpx.AsyncClient,
                                                         console: ConsoleClient) -> None:
    owner = await make_workspace(client)
    await masked_field(client, owner)
    await console.sign_in(owner.email)
    form = await console.get("/app/leads/new")
    assert '<legend>Vehicle</legend>' in form.text
    assert 'for="in-fields-Patente"' in form.text
    bad = await console.post("/app/leads/new", {"first_name": "Rosa", "email": "rosa@example.com",
                                                "fields.Patente": "12-ABC"})
    assert bad.status_code == 422
    assert 'id="err-fields-Patente"' in bad.text
    assert 'aria-invalid="true"' in bad.text
    assert 'value="Rosa"' in bad.text  # what was typed is kept
    listed = await client.get("/api/v1/leads?q=Rosa", headers=owner.headers)
    assert listed.json()["data"] == []  # nothing was written
    ok = await console.post("/app/leads/new", {"first_name": "Rosa", "email": "rosa@example.com",
                                               "fields.Patente": "ABC-123", "tags": "a, b"})
    assert ok.status_code == 303, ok.text
    lead = (await client.get("/api/v1/leads?q=Rosa", headers=owner.headers)).json()["data"][0]
    assert lead["fields"] == {"Patente": "ABC-123"} and lead["tags"] == ["a", "b"]
    page = await console.get(ok.headers["location"])
    assert "Lead created." in page.text


async def test_edit_log_and_tasks(client: httpx.AsyncClient, console: ConsoleClient) -> None:
    owner = await make_workspace(client)
    lead = await make_lead(client, owner, first_name="Edit")
    tasks = [await task(client, owner, lead["id"], f"T{i}") for i in range(3)]
    await console.sign_in(owner.email)
    page = await console.get(f"/app/leads/{lead['id']}")
    assert "T0" in page.text
    bad = await console.post(f"/app/leads/{lead['id']}", {"first_name": "Edited",
                                                          "status": "nonsense",
                                                          "version": str(lead["version"])},
                             headers={"HX-Request": "true"})
    assert bad.status_code == 422 and 'id="err-status"' in bad.text
    ok = await console.post(f"/app/leads/{lead['id']}", {"first_name": "Edited",
                                                         "status": "contacted",
                                                         "version": str(lead["version"])},
                            headers={"HX-Request": "true"})
    assert ok.status_code == 200 and 'id="saved"' in ok.text
    got = (await client.get(f"/api/v1/leads/{lead['id']}", headers=owner.headers)).json()
    assert got["first_name"] == "Edited" and got["status"] == "contacted"
    logged = await console.post(f"/app/leads/{lead['id']}/activities",
                                {"type": "call", "text": "Talked", "outcome": "interested",
                                 "minutes": "5"})
    assert logged.status_code == 200 and "Talked" in logged.text
    empty = await console.post(f"/app/leads/{lead['id']}/activities", {"type": "note"})
    assert empty.status_code == 422 and 'id="err-act-text"' in empty.text
    order = [tasks[2]["id"], tasks[0]["id"], tasks[1]["id"]]
    resp = await console.post(f"/app/leads/{lead['id']}/tasks/order", {"ids": order})
    assert resp.status_code == 200
    assert re.findall(r'<li data-id="([0-9a-f-]{36})"', resp.text) == order
    listed = await client.get(f"/api/v1/tasks?lead_id={lead['id']}", headers=owner.headers)
    assert [t["id"] for t in listed.json()["data"]] == order


async def test_viewer_reads_but_changes_nothing(client: httpx.AsyncClient,
                                                console: ConsoleClient) -> None:
    owner = await make_workspace(client)
    viewer = await add_member(client, owner, "viewer")
    lead = await make_lead(client, owner, first_name="Look")
    await console.sign_in(viewer.email)
    page = await console.get(f"/app/leads/{lead['id']}")
    assert page.status_code == 200 and "Look" in page.text
    assert 'id="activity-form"' not in page.text and "New lead" not in page.text
    for url, data in ((f"/app/leads/{lead['id']}", {"first_name": "X"}),
                      (f"/app/leads/{lead['id']}/activities", {"type": "note", "text": "x"}),
                      ("/app/leads/new", {"first_name": "New"})):
        assert (await console.post(url, data)).status_code == 403, url
    got = (await client.get(f"/api/v1/leads/{lead['id']}", headers=owner.headers)).json()
    assert got["first_name"] == "Look"


async def test_bulk_update_and_delete(client: httpx.AsyncClient, console: ConsoleClient) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    leads = [await make_lead(client, owner, first_name=f"B{i}") for i in range(3)]
    foreign = await make_lead(client, await make_workspace(client), first_name="Far")
    await console.sign_in(owner.email)
    resp = await console.post("/app/leads/bulk", {
        "ids": [leads[0]["id"], leads[1]["id"], foreign["id"]], "action": "status",
        "status": "qualified", "back": "q=B"})
    assert resp.status_code == 303
    assert resp.headers["location"] == "/app/leads?q=B&done=2&failed=1"
    page = await console.get(resp.headers["location"])
    assert "2 leads changed." in page.text
    assert "1 could not be changed." in page.text
    got = (await client.get("/api/v1/leads?status=qualified", headers=owner.headers)).json()
    assert sorted(r["id"] for r in got["data"]) == sorted([leads[0]["id"], leads[1]["id"]])
    resp = await console.post("/app/leads/bulk", {"ids": [leads[2]["id"]], "action": "owner",
                                                  "owner_id": str(agent.user_id)})
    assert resp.headers["location"].endswith("done=1&failed=0")
    resp = await console.post("/app/leads/bulk", {"ids": [leads[0]["id"]], "action": "delete"})
    assert resp.headers["location"].endswith("done=1&failed=0")
    assert (await client.get(f"/api/v1/leads/{leads[0]['id']}",
                             headers=owner.headers)).status_code == 404
    assert (await client.get(f"/api/v1/leads/{foreign['id']}",
                             headers=owner.headers)).status_code == 404
