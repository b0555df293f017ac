"""The import pages over HTTP: upload, mapping, dry run then the import, progress, the
buckets and the rows to fix; roles and other workspaces."""

from __future__ import annotations

import csv
import io
import re

import httpx

from tests.console.conftest import ConsoleClient
from tests.console.work import signed_in
from tests.factories import add_member, make_workspace

CSV = (b"Correo,Nombre,Empresa,Extra\n"
       b"ana@example.com,Ana,Acme,x\n"
       b"not-an-email,Bea,Beta,y\n"
       b"carl@example.com,Carl,Gamma,z\n")


async def _upload(console: ConsoleClient, content: bytes = CSV,
                  name: str = "leads.csv") -> httpx.Response:
    await console.get("/app/imports/new")
    return await console.http.post("/app/imports/new", data={
        "csrf_token": console.csrf, "on_duplicate": "skip"},
        files={"file": (name, content, "text/csv")})


async def test_upload_map_dry_run_and_import(client: httpx.AsyncClient,
                                             console: ConsoleClient) -> None:
    owner = await make_workspace(client, "Import Co")
    await console.sign_in(owner.email)
    resp = await _upload(console)
    assert resp.status_code == 303, resp.text
    draft = resp.headers["location"]
    page = await console.get(draft)
    assert page.status_code == 200
    # The detected mapping, ready to change: Correo → email, Nombre → first_name.
    assert re.search(r'<select id="map-0" name="map-0">.*?<option value="email" selected>',
                     page.text, re.S)
    assert re.search(r'id="map-1".*?<option value="first_name" selected>', page.text, re.S)
    start = f"{draft}/start"
    dry = await console.post(start, {"map-0": "email", "map-1": "first_name",
                                     "map-2": "company", "map-3": "ignore",
                                     "dry_run": "true"})
    assert dry.status_code == 303
    job = await console.get(dry.headers["location"])
    assert 'data-status="completed"' in job.text, job.text
    assert 'hx-trigger="every 1s"' not in job.text and 'value="100"' in job.text
    assert re.search(r'data-bucket="created"><strong>2<', job.text)
    assert re.search(r'data-bucket="invalid"><strong>1<', job.text)
    listed = (await client.get("/api/v1/leads", headers=owner.headers)).json()
    assert listed["data"] == []  # a dry run writes nothing
    real = re.search(r'id="run-for-real"', job.text)
    assert real, "no 'import for real' after the dry run"
    again = await console.post(start, {"map-0": "email", "map-1": "first_name",
                                       "map-2": "company", "map-3": "ignore",
                                       "dry_run": "false"})
    done = await console.get(again.headers["location"])
    assert 'data-status="completed"' in done.text
    leads = (await client.get("/api/v1/leads", headers=owner.headers)).json()["data"]
    assert {x["email"] for x in leads} == {"ana@example.com", "carl@example.com"}
    assert all(x["metadata"] == {} for x in leads)  # Extra ignored
    link = re.search(r'id="import-errors" href="([^"]+)"', done.text)
    assert link
    rows = await console.get(link.group(1))
    assert rows.status_code == 200 and rows.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(rows.content.decode("utf-8-sig"))))
    assert table[0][:2] == ["import_line", "import_status"] and table[1][1] == "invalid"
    assert "not-an-email" in table[1]
    # The progress partial (htmx polling) is the section alone.
    part = await console.http.get(again.headers["location"], headers={"HX-Request": "true"})
    assert part.text.lstrip().startswith('<section id="import-progress"')


async def test_bad_files_and_mappings(client: httpx.AsyncClient,
                                      console: ConsoleClient) -> None:
    owner = await make_workspace(client, "Import errors")
    await console.sign_in(owner.email)
    empty = await _upload(console, b"", "empty.csv")
    assert empty.status_code == 422 and 'id="import-problem"' in empty.text
    nothing = await _upload(console, b"colour,size\nred,4\n")
    assert nothing.status_code == 422 and "name, an email or a phone" in nothing.text
    ok = await _upload(console)
    twice = await console.post(f"{ok.headers['location']}/start", {
        "map-0": "email", "map-1": "email", "dry_run": "true"})
    assert twice.status_code == 422 and "both fill" in twice.text
    assert (await console.get("/app/imports/drafts/" + "0" * 32)).status_code == 404


async def test_roles_and_workspaces(client: httpx.AsyncClient, console: ConsoleClient) -> None:
    owner = await make_workspace(client, "Import roles")
    agent = await add_member(client, owner, "agent")
    await console.sign_in(owner.email)
    draft = (await _upload(console)).headers["location"]
    other = await make_workspace(client, "Import stranger")
    for who in (agent, other):
        async with signed_in(console, who) as c:
            expected = 403 if who is agent else 404
            assert (await c.get(draft)).status_code == expected
            resp = await c.post(f"{draft}/start", {"map-0": "email", "dry_run": "true"})
            assert resp.status_code == expected
            if who is agent:
                assert (await c.get("/app/imports/new")).status_code == 403
