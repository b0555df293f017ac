"""The upload itself: what is refused at once (422, 413), roles, other workspaces,
Idempotency-Key, and what an import leaves in the audit log and the outbox."""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import AsyncIterator

import httpx
import psycopg
import pytest_asyncio

from leadbase.app import create_app
from leadbase.config import Settings
from leadbase.db.session import Database
from tests.conftest import make_settings
from tests.factories import add_member, make_lead, make_workspace
from tests.imports.conftest import import_file, run, upload

CSV = b"email,first_name\nana@example.com,Ana\n"


async def _refused(client: httpx.AsyncClient, owner: object, content: bytes, code: str,
                   filename: str = "f.csv", status: int = 422, **form: object) -> dict:
    resp = await upload(client, owner, content, filename, **form)  # type: ignore[arg-type]
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    body = resp.json()
    assert body["code"] == code, body
    return body  # type: ignore[no-any-return]


async def test_bad_files_are_refused_with_a_reason(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Bad files")
    await _refused(client, owner, b"", "IMPORT_EMPTY_FILE")
    await _refused(client, owner, b"\xef\xbb\xbf\r\n  \n", "IMPORT_EMPTY_FILE")
    await _refused(client, owner, b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "IMPORT_BINARY_FILE")
    await _refused(client, owner, bytes(range(256)) * 4, "IMPORT_BINARY_FILE")
    await _refused(client, owner, b"email,first_name\n", "IMPORT_NO_ROWS")
    body = await _refused(client, owner, b"Ciudad;Edad\nMadrid;30\n", "IMPORT_NO_COLUMNS")
    assert body["columns"] == ["Ciudad", "Edad"] and "name, an email" in body["detail"]
    plain_zip = io.BytesIO()
    with zipfile.ZipFile(plain_zip, "w") as z:
        z.writestr("notes.txt", "hello")
    await _refused(client, owner, plain_zip.getvalue(), "IMPORT_UNSUPPORTED_FORMAT", "a.xlsx")
    await _refused(client, owner, b"PK\x03\x04 truncated", "IMPORT_CORRUPT_FILE", "a.xlsx")
    await _refused(client, owner, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,
                   "IMPORT_CORRUPT_FILE", "a.xls")
    # Nothing was queued.
    listing = (await client.get("/api/v1/imports", headers=owner.headers)).json()
    assert listing["total"] == 0


async def test_a_zip_bomb_disguised_as_xlsx_is_refused(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Bomb")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (60 * 1024 * 1024))
    assert len(bomb.getvalue()) < 200_000
    body = await _refused(client, owner, bomb.getvalue(), "IMPORT_ZIP_BOMB", "leads.xlsx")
    assert "zip bomb" in body["detail"]


async def test_bad_options_are_refused(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client, "Options")
    other = await make_workspace(client, "Options other")
    other_list = (await client.get("/api/v1/lists", headers=other.headers)).json()["data"][0]
    await _refused(client, owner, CSV, "INVALID_IMPORT_OPTIONS", on_duplicate="merge")
    await _refused(client, owner, CSV, "INVALID_IMPORT_OPTIONS", default_region="XX")
    await _refused(client, owner, CSV, "INVALID_IMPORT_OPTIONS", encoding="klingon")
    await _refused(client, owner, CSV, "INVALID_IMPORT_OPTIONS", mapping="{not json")
    await _refused(client, owner, CSV, "INVALID_IMPORT_OPTIONS", mapping='["email"]')
    await _refused(client, owner, CSV, "INVALID_IMPORT_OPTIONS", delimiter="#")
    await _refused(client, owner, CSV, "INVALID_IMPORT_OPTIONS", list_id="not-a-uuid")
    await _refused(client, owner, CSV, "LIST_NOT_FOUND", list_id=other_list["id"])
    await _refused(client, owner, CSV, "LIST_NOT_FOUND", list_id=str(uuid.uuid4()))
    await _refused(client, owner, CSV, "INVALID_MATCH_ON", match_on="DNI")
    await _refused(client, owner, CSV, "INVALID_MAPPING", mapping='{"email": "fax"}')
    await _refused(client, owner, CSV, "INVALID_MAPPING", mapping='{"email": "fields.Nope"}')
    await _refused(client, owner, CSV, "MAPPING_UNKNOWN_COLUMN", mapping='{"Mail": "email"}')
    await _refused(client, owner, b"email,Correo\na@example.com,b@example.com\n",
                   "DUPLICATE_MAPPING")
    no_file = await client.post("/api/v1/imports", headers=owner.headers,
                                data={"dry_run": "true"})
    assert no_file.status_code == 422 and no_file.json()["code"] == "VALIDATION_ERROR"


async def test_roles(client: httpx.AsyncClient, db: Database, settings: Settings) -> None:
    owner = await make_workspace(client, "Roles")
    job = await import_file(client, owner, db, settings, CSV)
    manager = await add_member(client, owner, "manager")
    assert (await upload(client, manager, b"email\nm@example.com\n")).status_code == 202
    assert (await client.get(f"/api/v1/imports/{job['id']}",
                             headers=manager.headers)).status_code == 200
    for role in ("agent", "viewer"):
        member = await add_member(client, owner, role)
        resp = await upload(client, member, CSV)
        assert resp.status_code == 403 and resp.json()["code"] == "ROLE_REQUIRED", resp.text
        for path in ("", f"/{job['id']}", f"/{job['id']}/errors"):
            got = await client.get(f"/api/v1/imports{path}", headers=member.headers)
            assert got.status_code == 403, (role, path)
        cancel = await client.post(f"/api/v1/imports/{job['id']}/cancel",
                                   headers=member.headers)
        assert cancel.status_code == 403
    anonymous = await client.post("/api/v1/imports", files={"file": ("a.csv", CSV)})
    assert anonymous.status_code == 401


async def test_other_workspaces_ids_answer_404(client: httpx.AsyncClient, db: Database,
                                               settings: Settings) -> None:
    owner = await make_workspace(client, "Mine")
    stranger = await make_workspace(client, "Theirs")
    job = await import_file(client, owner, db, settings, b"email\nbad\n")
    for method, path in (("GET", ""), ("GET", "/errors"), ("GET", "/errors?format=csv"),
                         ("POST", "/cancel")):
        resp = await client.request(method, f"/api/v1/imports/{job['id']}{path}",
                                    headers=stranger.headers)
        assert resp.status_code == 404 and resp.json()["code"] == "IMPORT_NOT_FOUND", path
    assert (await client.get(f"/api/v1/imports/{uuid.uuid4()}",
                             headers=owner.headers)).status_code == 404
    listing = (await client.get("/api/v1/imports", headers=stranger.headers)).json()
    assert listing["data"] == []


async def test_idempotency_key(client: httpx.AsyncClient, settings: Settings) -> None:
    owner = await make_workspace(client, "Idem")
    key = {"Idempotency-Key": "import-1"}
    first = await upload(client, owner, CSV, headers=key)
    again = await upload(client, owner, CSV, headers=key)
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotency-replayed"] == "true"
    other = await upload(client, owner, b"email\nzed@example.com\n", headers=key)
    assert other.status_code == 422 and other.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    options = await upload(client, owner, CSV, headers=key, dry_run=True)
    assert options.status_code == 422
    listing = (await client.get("/api/v1/imports", headers=owner.headers)).json()
    assert listing["total"] == 1
    # The replayed and refused uploads left no file behind; the queued one has its folder.
    root = settings.resolved_data_dir() / "imports" / str(owner.tenant_id)
    assert list((root / "incoming").iterdir()) == []
    assert [p.name for p in root.iterdir() if p.name != "incoming"] == [first.json()["id"]]


async def test_audit_and_one_event_per_job(client: httpx.AsyncClient, db: Database,
                                           settings: Settings, libpq: str) -> None:
    owner = await make_workspace(client, "Trail")
    content = b"email\n" + b"".join(f"p{i}@example.com\n".encode() for i in range(30))
    job = await import_file(client, owner, db, settings, content)
    assert job["created"] == 30
    audit = (await client.get("/api/v1/audit-log?per_page=50",
                              headers=owner.headers)).json()["data"]
    actions = [a["action"] for a in audit if a["entity_id"] == job["id"]]
    assert sorted(actions) == ["import.completed", "import.created"]
    assert not [a for a in audit if a["action"] == "lead.created"]
    with psycopg.connect(libpq) as conn:
        rows = conn.execute(
            "SELECT type, payload FROM events WHERE tenant_id = %s ORDER BY created_at",
            (owner.tenant_id,)).fetchall()
    types = [r[0] for r in rows]
    assert types.count("import.completed") == 1 and "lead.created" not in types
    payload = next(r[1] for r in rows if r[0] == "import.completed")
    assert payload["created"] == 30 and payload["id"] == job["id"]


@pytest_asyncio.fixture(loop_scope="session")
async def small_client(db: Database, tmp_path_factory) -> AsyncIterator[httpx.AsyncClient]:
    """An app whose uploads are capped at 2 kB and spreadsheets at 1 MB expanded."""
    small: Settings = make_settings(tmp_path_factory.mktemp("small"),
                                    import_max_upload_bytes=2048,
                                    import_max_uncompressed_bytes=1024 * 1024)
    app = create_app(small, database=db, run_worker=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as c:
        yield c


async def test_uploads_over_the_limit_answer_413(small_client: httpx.AsyncClient) -> None:
    owner = await make_workspace(small_client, "Limit")
    big = b"email\n" + b"x" * (1024 * 1024 + 10_000)
    resp = await upload(small_client, owner, big)
    assert resp.status_code == 413 and resp.json()["code"] == "IMPORT_TOO_LARGE", resp.text

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
        boundary = b"--xyz\r\nContent-Disposition: form-data; name=\"file\"; " \
                   b"filename=\"a.csv\"\r\n\r\nemail\n"
        yield boundary
        for _ in range(40):
            yield b"y" * 65_536

    streamed = await small_client.post(
        "/api/v1/imports", content=chunks(),
        headers={**owner.headers, "Content-Type": "multipart/form-data; boundary=xyz"})
    assert streamed.status_code == 413, streamed.text
    # Under the multipart allowance but over the file limit: refused after the upload.
    just_over = await upload(small_client, owner, b"email\n" + b"z" * 3000)
    assert just_over.status_code == 413
    assert (await upload(small_client, owner, CSV)).status_code == 202
    expands = io.BytesIO()
    with zipfile.ZipFile(expands, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", b" " * (1100 * 1024))
    assert len(expands.getvalue()) < 2048
    bomb = await upload(small_client, owner, expands.getvalue(), "a.xlsx")
    assert bomb.status_code == 422 and bomb.json()["code"] == "IMPORT_ZIP_BOMB"


async def test_other_lists_and_regions(client: httpx.AsyncClient, db: Database,
                                       settings: Settings) -> None:
    owner = await make_workspace(client, "Regions")
    target = (await client.post("/api/v1/lists", headers=owner.headers,
                                json={"name": "Feria"})).json()
    job = await import_file(client, owner, db, settings,
                            b"phone,first_name\n11 2345-6789,Ana\n", list_id=target["id"],
                            default_region="AR")
    assert job["created"] == 1 and job["list_id"] == target["id"], job
    lead = (await client.get(f"/api/v1/leads?list_id={target['id']}",
                             headers=owner.headers)).json()["data"][0]
    assert lead["phone"] == "+541123456789" and lead["country"] == "AR"
    await make_lead(client, owner, first_name="x")  # the default list is untouched
    assert job["detected"]["region"] == "AR"


async def test_a_deleted_list_fails_the_queued_job(client: httpx.AsyncClient, db: Database,
                                                   settings: Settings) -> None:
    owner = await make_workspace(client, "Gone")
    target = (await client.post("/api/v1/lists", headers=owner.headers,
                                json={"name": "Temporal"})).json()
    queued = (await upload(client, owner, CSV, list_id=target["id"])).json()
    assert (await client.delete(f"/api/v1/lists/{target['id']}",
                                headers=owner.headers)).status_code == 204
    job = await run(client, owner, db, settings, queued)
    assert job["status"] == "failed" and job["error_code"] == "LIST_NOT_FOUND", job
    assert job["finished_at"] is not None
