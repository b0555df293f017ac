"""The import service called directly: roles, other workspaces, job states."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from leadbase.auth.context import Context, Principal
from leadbase.config import Settings
from leadbase.db.session import Database
from leadbase.imports import service
from leadbase.imports.schemas import ImportOptions
from leadbase.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tests.factories import make_workspace


def _ctx(tenant_id: uuid.UUID, role: str) -> Context:
    return Context(tenant_id=tenant_id, principal=Principal(role=role, tenant_id=tenant_id,
                                                            user_id=uuid.uuid4()))


def _upload(tmp_path: Path, content: bytes) -> service.Upload:
    path = tmp_path / uuid.uuid4().hex
    path.write_bytes(content)
    return service.Upload(path=path, name="leads.csv", size=len(content))


async def test_service_rules(client: httpx.AsyncClient, db: Database, settings: Settings,
                             tmp_path: Path) -> None:
    owner = await make_workspace(client, "Service")
    other = await make_workspace(client, "Service other")
    data_dir = settings.resolved_data_dir()
    options = ImportOptions()
    for role in ("agent", "viewer"):
        async with db.transaction(owner.tenant_id) as session:
            with pytest.raises(Forbidden):
                await service.create_job(session, ctx=_ctx(owner.tenant_id, role),
                                         upload=_upload(tmp_path, b"email\na@example.com\n"),
                                         options=options, data_dir=data_dir,
                                         max_uncompressed=10**9)
    async with db.transaction(owner.tenant_id) as session:
        with pytest.raises(ValidationFailed) as exc:
            await service.create_job(session, ctx=_ctx(owner.tenant_id, "manager"),
                                     upload=_upload(tmp_path, b"\x00\x01\x02" * 50),
                                     options=options, data_dir=data_dir,
                                     max_uncompressed=10**9)
        assert exc.value.code == "IMPORT_BINARY_FILE"
    upload = _upload(tmp_path, b"email\na@example.com\n")
    async with db.transaction(owner.tenant_id) as session:
        job = await service.create_job(session, ctx=_ctx(owner.tenant_id, "manager"),
                                       upload=upload, options=options, data_dir=data_dir,
                                       max_uncompressed=10**9)
    assert job["status"] == "queued" and not upload.path.exists()
    assert (service.job_dir(data_dir, owner.tenant_id, job["id"]) / "source.csv").exists()
    async with db.transaction(other.tenant_id) as session:
        with pytest.raises(NotFound):
            await service.get_job(session, ctx=_ctx(other.tenant_id, "owner"),
                                  job_id=job["id"])
        with pytest.raises(NotFound):
            await service.cancel_job(session, ctx=_ctx(other.tenant_id, "owner"),
                                     job_id=job["id"])
    async with db.transaction(owner.tenant_id) as session:
        cancelled = await service.cancel_job(session, ctx=_ctx(owner.tenant_id, "admin"),
                                             job_id=job["id"])
        assert cancelled["status"] == "cancelled"
        with pytest.raises(Conflict):
            await service.cancel_job(session, ctx=_ctx(owner.tenant_id, "admin"),
                                     job_id=job["id"])
        rows, total = await service.list_jobs(session, ctx=_ctx(owner.tenant_id, "manager"),
                                              statuses=["cancelled"], offset=0, limit=10)
        assert total == 1 and rows[0]["id"] == job["id"]
        with pytest.raises(Forbidden):
            await service.list_jobs(session, ctx=_ctx(owner.tenant_id, "agent"),
                                    statuses=None, offset=0, limit=10)
