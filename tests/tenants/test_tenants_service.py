"""leadbase.tenants.service called directly (platform work runs in the system scope)."""

from __future__ import annotations

import uuid

import pytest

from leadbase.auth.context import Principal
from leadbase.db.session import Database
from leadbase.kit.errors import Conflict, NotFound, ValidationFailed
from leadbase.tenants import service
from tests.auth.helpers import scalar
from tests.factories import PASSWORD, unique_email


@pytest.mark.parametrize(("name", "slug"), [
    ("Acme Sales", "acme-sales"), ("  Café & Crème!  ", "cafe-creme"), ("日本", "workspace"),
    ("a" * 100, "a" * 60),
])
def test_slugify(name: str, slug: str) -> None:
    assert service.slugify(name) == slug


async def _create(db: Database, name: str = "Svc Workspace", **over: object) -> tuple[
        dict[str, object], dict[str, object]]:
    args: dict[str, object] = {"name": name, "owner_email": unique_email("svcown"),
                               "owner_name": "Own", "owner_password": PASSWORD, **over}
    async with db.transaction(None, system=True) as session:
        return await service.create_with_owner(session, **args)  # type: ignore[arg-type]


async def test_create_with_owner(db: Database) -> None:
    actor = Principal(role="superadmin", tenant_id=None, user_id=uuid.uuid4())
    tenant, owner = await _create(db, name="Same Name", actor=actor, request_id="rq-ws",
                                  default_region="gb", currency="gbp", timezone="Europe/London")
    tid = tenant["id"]
    assert isinstance(tid, uuid.UUID)
    assert tenant["default_region"] == "GB" and tenant["currency"] == "GBP"
    assert owner["role"] == "owner" and owner["tenant_id"] == tid
    assert await scalar(db, tid, "SELECT count(*) FROM lead_lists") == 1
    assert await scalar(db, tid, "SELECT actor_user_id FROM audit_entries WHERE "
                        "action = 'workspace.created' AND request_id = 'rq-ws'") == actor.user_id
    # The same name twice gets a distinct slug.
    again, _ = await _create(db, name="Same Name")
    assert again["slug"] != tenant["slug"]
    assert str(again["slug"]).startswith(str(tenant["slug"]).split("-")[0])


async def test_create_rejects_bad_input_and_leaves_nothing(db: Database) -> None:
    before = await scalar(db, None, "SELECT count(*) FROM tenants")
    with pytest.raises(ValidationFailed) as weak:
        await _create(db, owner_password="nodigitsHere")
    assert weak.value.code == "PASSWORD_NO_DIGIT"
    with pytest.raises(ValidationFailed) as region:
        await _create(db, default_region="XX")
    assert region.value.code == "INVALID_REGION"
    _, owner = await _create(db)
    with pytest.raises(Conflict) as dup:
        await _create(db, owner_email=str(owner["email"]).upper())
    assert dup.value.code == "EMAIL_TAKEN"
    assert await scalar(db, None, "SELECT count(*) FROM tenants") == before + 1


async def test_get_update_and_list(db: Database) -> None:
    tenant, _ = await _create(db, name=f"Listed {uuid.uuid4().hex[:6]}")
    tid = tenant["id"]
    assert isinstance(tid, uuid.UUID)
    async with db.transaction(None, system=True) as session:
        got = await service.get_workspace(session, tenant_id=tid)
        assert got["name"] == tenant["name"]
        updated = await service.update_workspace(session, tenant_id=tid,
                                                 values={"default_region": "de"})
        assert updated["default_region"] == "DE" and updated["version"] == 2
        rows, total = await service.list_workspaces(session, offset=0, limit=5,
                                                    q=str(tenant["slug"]))
        assert total == 1 and rows[0]["user_count"] == 1
        with pytest.raises(NotFound):
            await service.get_workspace(session, tenant_id=uuid.uuid4())
        with pytest.raises(NotFound):
            await service.update_workspace(session, tenant_id=uuid.uuid4(), values={"name": "x"})
        with pytest.raises(ValidationFailed):
            await service.update_workspace(session, tenant_id=tid, values={"default_region": "??"})


async def test_update_refreshes_cached_defaults(db: Database) -> None:
    tenant, _ = await _create(db)
    tid = tenant["id"]
    assert isinstance(tid, uuid.UUID)
    async with db.transaction(tid) as session:
        assert (await service.defaults(session, tenant_id=tid)).region == "US"
    async with db.transaction(None, system=True) as session:
        await service.update_workspace(session, tenant_id=tid, values={"default_region": "AR"})
    async with db.transaction(tid) as session:
        assert (await service.defaults(session, tenant_id=tid)).region == "AR"


async def test_workspace_scope_cannot_see_other_workspaces(db: Database) -> None:
    a, _ = await _create(db)
    b, _ = await _create(db)
    a_id, b_id = a["id"], b["id"]
    assert isinstance(a_id, uuid.UUID) and isinstance(b_id, uuid.UUID)
    async with db.transaction(a_id) as session:
        assert (await service.get_workspace(session, tenant_id=a_id))["id"] == a_id
        with pytest.raises(NotFound):
            await service.get_workspace(session, tenant_id=b_id)
        rows, total = await service.list_workspaces(session, offset=0, limit=200, q=None)
        assert [r["id"] for r in rows] == [a_id] and total == 1
        with pytest.raises(NotFound):
            await service.update_workspace(session, tenant_id=b_id, values={"name": "Pwned"})
    assert await scalar(db, b_id, "SELECT name FROM tenants WHERE id = :t", t=b_id) == b["name"]
