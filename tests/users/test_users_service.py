"""leadbase.users.service called directly with a scoped session and a Context."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from leadbase.auth.context import system_context
from leadbase.db.session import Database
from leadbase.kit.errors import Conflict, Forbidden, NotFound, PreconditionFailed, ValidationFailed
from leadbase.kit.pagination import PageParams
from leadbase.users import service
from leadbase.users.schemas import UserCreate, UserUpdate
from tests.auth.helpers import ctx_for, member_ctx, scalar
from tests.factories import PASSWORD, add_member, make_workspace, unique_email

PARAMS = PageParams(page=1, per_page=25, cursor=None, count="auto")


def _create(role: str = "agent", **over: object) -> UserCreate:
    return UserCreate.model_validate({"email": unique_email(role), "name": "Svc User",
                                      "password": PASSWORD, "role": role, **over})


async def test_create_and_audit(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    ctx = member_ctx(owner, request_id="req-users-1")
    async with db.transaction(owner.tenant_id) as session:
        user = await service.create_user(session, ctx=ctx, body=_create("manager"))
        rows, total = await service.list_users(session, ctx=ctx, params=PARAMS, role="manager",
                                               is_active=True, q=None)
    assert user["tenant_id"] == owner.tenant_id and user["role"] == "manager"
    assert total == 1 and rows[0]["id"] == user["id"]
    assert await scalar(db, owner.tenant_id, "SELECT actor_user_id::text || ' ' || request_id "
                        "FROM audit_entries WHERE entity_id = :e AND action = 'user.created'",
                        e=user["id"]) == f"{owner.user_id} req-users-1"


@pytest.mark.parametrize(("actor", "grant", "allowed"), [
    ("admin", "owner", False), ("admin", "admin", True), ("manager", "admin", False),
    ("manager", "manager", True), ("agent", "manager", False), ("viewer", "agent", False),
    ("owner", "owner", True),
])
async def test_grant_ceiling(client: httpx.AsyncClient, db: Database, actor: str, grant: str,
                             allowed: bool) -> None:
    owner = await make_workspace(client)
    ctx = ctx_for(owner.tenant_id, actor, owner.user_id)
    async with db.transaction(owner.tenant_id) as session:
        if allowed:
            user = await service.create_user(session, ctx=ctx, body=_create(grant))
            assert user["role"] == grant
        else:
            with pytest.raises(Forbidden) as exc:
                await service.create_user(session, ctx=ctx, body=_create(grant))
            assert exc.value.code == "ROLE_NOT_ALLOWED"


async def test_weak_password_and_duplicate(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    ctx = member_ctx(owner)
    async with db.transaction(owner.tenant_id) as session:
        with pytest.raises(ValidationFailed) as weak:
            await service.create_user(session, ctx=ctx, body=_create(password="abcdefgh"))
        assert weak.value.code == "PASSWORD_NO_UPPERCASE"
        assert [e["rule"] for e in weak.value.errors or []] == ["PASSWORD_NO_UPPERCASE",
                                                               "PASSWORD_NO_DIGIT"]
        with pytest.raises(Conflict) as dup:
            await service.create_user(session, ctx=ctx, body=_create(email=owner.email))
        assert dup.value.code == "EMAIL_TAKEN"
        # The failed insert rolled back to its savepoint; the transaction is still usable.
        user = await service.create_user(session, ctx=ctx, body=_create())
    assert await scalar(db, owner.tenant_id, "SELECT count(*) FROM users WHERE id = :u",
                        u=user["id"]) == 1


async def test_other_workspaces_users_are_not_found(client: httpx.AsyncClient,
                                                    db: Database) -> None:
    a = await make_workspace(client)
    b = await make_workspace(client)
    ctx = member_ctx(a)
    async with db.transaction(a.tenant_id) as session:
        with pytest.raises(NotFound):
            await service.get_user(session, ctx=ctx, user_id=b.user_id)
        with pytest.raises(NotFound):
            await service.update_user(session, ctx=ctx, user_id=b.user_id,
                                      body=UserUpdate(name="x"), expected_version=None)
        with pytest.raises(NotFound):
            await service.deactivate_user(session, ctx=ctx, user_id=b.user_id,
                                          expected_version=None)


async def test_row_level_security_backs_up_scoping(client: httpx.AsyncClient,
                                                   db: Database) -> None:
    """A context naming workspace B inside a transaction scoped to A (a scoping bug) still
    cannot read or change B's users: PostgreSQL hides the rows."""
    a = await make_workspace(client)
    b = await make_workspace(client)
    ctx_b = member_ctx(b)
    async with db.transaction(a.tenant_id) as session:
        with pytest.raises(NotFound):
            await service.get_user(session, ctx=ctx_b, user_id=b.user_id)
        rows, total = await service.list_users(session, ctx=ctx_b, params=PARAMS, role=None,
                                               is_active=None, q=None)
        assert (rows, total) == ([], 0)
        with pytest.raises(NotFound):
            await service.update_user(session, ctx=ctx_b, user_id=b.user_id,
                                      body=UserUpdate(name="Pwned"), expected_version=None)
    assert await scalar(db, b.tenant_id, "SELECT name FROM users WHERE id = :u",
                        u=b.user_id) == "Owner"


async def test_deactivate_rules_and_token_revocation(client: httpx.AsyncClient,
                                                     db: Database) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    ctx = member_ctx(owner)
    async with db.transaction(owner.tenant_id) as session:
        with pytest.raises(Conflict) as self_exc:
            await service.deactivate_user(session, ctx=ctx, user_id=owner.user_id,
                                          expected_version=None)
        assert self_exc.value.code == "CANNOT_DEACTIVATE_SELF"
        with pytest.raises(PreconditionFailed):
            await service.deactivate_user(session, ctx=ctx, user_id=agent.user_id,
                                          expected_version=7)
        done = await service.deactivate_user(session, ctx=ctx, user_id=agent.user_id,
                                             expected_version=1)
    assert done["is_active"] is False and done["version"] == 2
    assert await scalar(db, None, "SELECT count(*) FROM refresh_tokens WHERE user_id = :u "
                        "AND revoked_at IS NULL", u=agent.user_id) == 0
    assert await scalar(db, None, "SELECT count(*) FROM refresh_tokens WHERE user_id = :u "
                        "AND revoked_at IS NULL", u=owner.user_id) >= 1


async def test_last_owner_is_protected(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    ctx = system_context(owner.tenant_id)  # platform work: no user of its own
    async with db.transaction(owner.tenant_id) as session:
        with pytest.raises(Conflict) as deact:
            await service.deactivate_user(session, ctx=ctx, user_id=owner.user_id,
                                          expected_version=None)
        with pytest.raises(Conflict) as demote:
            await service.update_user(session, ctx=ctx, user_id=owner.user_id,
                                      body=UserUpdate(role="admin"), expected_version=None)
    assert deact.value.code == demote.value.code == "LAST_OWNER"


async def test_two_owners_removing_each_other_at_once_leave_one(client: httpx.AsyncClient,
                                                                db: Database) -> None:
    first = await make_workspace(client)
    second = await add_member(client, first, "owner")

    async def remove_first() -> None:
        async with db.transaction(first.tenant_id) as s2:
            await service.deactivate_user(s2, ctx=member_ctx(second), user_id=first.user_id,
                                          expected_version=None)

    async with db.transaction(first.tenant_id) as s1:
        await service.deactivate_user(s1, ctx=member_ctx(first), user_id=second.user_id,
                                      expected_version=None)
        task = asyncio.create_task(remove_first())
        await asyncio.sleep(0.3)
        assert not task.done(), "the second removal must wait for the first to commit"
    with pytest.raises(Conflict) as exc:
        await task
    assert exc.value.code == "LAST_OWNER"
    assert await scalar(db, first.tenant_id, "SELECT count(*) FROM users WHERE role = 'owner' "
                        "AND is_active") == 1


async def test_update_records_changed_field_names_only(client: httpx.AsyncClient,
                                                       db: Database) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    async with db.transaction(owner.tenant_id) as session:
        user = await service.update_user(
            session, ctx=member_ctx(owner), user_id=agent.user_id,
            body=UserUpdate(name="Renamed", password="Another123", capacity=3),
            expected_version=1)
    assert user["name"] == "Renamed" and user["capacity"] == 3 and user["version"] == 2
    changes = await scalar(db, owner.tenant_id, "SELECT changes FROM audit_entries WHERE "
                           "entity_id = :e AND action = 'user.updated'", e=agent.user_id)
    assert changes == {"fields": ["capacity", "name", "password"]}
    assert "Another123" not in str(changes) and "Renamed" not in str(changes)


async def test_unknown_user_id(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    async with db.transaction(owner.tenant_id) as session:
        with pytest.raises(NotFound) as exc:
            await service.get_user(session, ctx=member_ctx(owner), user_id=uuid.uuid4())
    assert exc.value.code == "USER_NOT_FOUND"
