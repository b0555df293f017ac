"""Least privilege: SQL run inside a request's transaction cannot widen its scope.

Whatever it runs (SET ROLE, RESET ROLE, SET SESSION AUTHORIZATION, set_config of the
tenant or system settings), it sees one workspace at most, and it cannot write the
migration state."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db import roles
from leadbase.db.session import Database
from tests.factories import Member, make_lead, make_workspace


async def _visible(session: AsyncSession, b: Member) -> dict[str, Any]:
    """What of workspace ``b`` this transaction can read (None where refused outright)."""
    out: dict[str, Any] = {}
    for name, sql in (("leads", "SELECT count(*) FROM leads WHERE tenant_id = :b"),
                      ("users", "SELECT count(*) FROM users WHERE tenant_id = :b"),
                      ("tenant", "SELECT count(*) FROM tenants WHERE id = :b")):
        try:
            async with session.begin_nested():
                out[name] = (await session.execute(text(sql), {"b": b.tenant_id})).scalar()
        except DBAPIError:
            out[name] = None
    return out


ESCAPES = {
    "reset_role": "RESET ROLE",
    "set_role_owner": "SET ROLE {owner}",
    "set_role_none": "SET ROLE NONE",
    "session_authorization": "SET SESSION AUTHORIZATION {owner}",
    "reset_session_authorization": "RESET SESSION AUTHORIZATION",
    "set_config_role": "SELECT set_config('role', '{owner}', false)",
    "tenant_setting": "SELECT set_config('app.tenant_id', '{b}', true)",
    "tenant_setting_session": "SET app.tenant_id = '{b}'",
    "system_setting": "SELECT set_config('app.scope', 'system', true)",
    "tenant_and_system": "SELECT set_config('app.tenant_id', '{b}', true), "
                         "set_config('app.scope', 'system', true)",
    "copied_signature": "SELECT set_config('app.tenant_id', '{b}', true), "
                        "set_config('app.scope_sig', current_setting('app.scope_sig'), true)",
    "reset_all": "RESET ALL",
}


@pytest.mark.parametrize("escape", sorted(ESCAPES))
async def test_sql_in_a_request_cannot_reach_another_workspace(
        client: httpx.AsyncClient, db: Database, escape: str) -> None:
    a = await make_workspace(client)
    b = await make_workspace(client)
    await make_lead(client, b)
    owner = (await db.access()).login_role  # a role name to try; the owner is tried too
    async with db.transaction(a.tenant_id) as session:
        owner = (await session.execute(text(
            "SELECT tableowner FROM pg_tables WHERE tablename = 'leads'"))).scalar() or owner
        try:
            async with session.begin_nested():
                await session.execute(text(ESCAPES[escape].format(owner=owner, b=b.tenant_id)))
        except DBAPIError:
            pass  # refused outright: fine, and the transaction goes on
        seen = await _visible(session, b)
    assert all(v in (0, None) for v in seen.values()), (escape, seen)


async def test_the_login_cannot_become_anything_more(db: Database) -> None:
    access = await db.access()
    async with db.transaction(uuid.uuid4()) as session:
        row = (await session.execute(text(
            "SELECT r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolbypassrls, r.rolinherit, "
            "r.rolreplication, session_user FROM pg_roles r WHERE r.rolname = session_user"
        ))).one()
        member_of = set((await session.execute(text(
            "SELECT b.rolname FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid "
            "JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = session_user"))).scalars())
    assert tuple(row) == (False, False, False, False, False, False, access.login_role)
    assert member_of == {"leadbase_app"}


async def test_the_app_role_cannot_write_the_migration_state(db: Database) -> None:
    async with db.transaction(None, system=True) as session:
        for sql in ("UPDATE alembic_version SET version_num = version_num",
                    "DELETE FROM alembic_version", "SELECT * FROM lb_scope_key"):
            with pytest.raises(DBAPIError, match="permission denied"):
                async with session.begin_nested():
                    await session.execute(text(sql))


async def test_a_signed_scope_is_what_admits_rows(client: httpx.AsyncClient,
                                                  db: Database) -> None:
    """Service level: the same settings with a wrong signature admit nothing."""
    a = await make_workspace(client)
    await make_lead(client, a)
    key = (await db.access()).scope_key
    async with db.transaction(None) as session:
        count = text("SELECT count(*) FROM leads")
        await session.execute(text("SELECT set_config('app.tenant_id', :t, true), "
                                   "set_config('app.scope_sig', :s, true)"),
                              {"t": str(a.tenant_id), "s": roles.sign(key, str(a.tenant_id), "")})
        assert (await session.execute(count)).scalar() == 1
        await session.execute(text("SELECT set_config('app.scope_sig', :s, true)"),
                              {"s": roles.sign(b"another key", str(a.tenant_id), "")})
        assert (await session.execute(count)).scalar() == 0


def test_login_role_names_fit_and_differ() -> None:
    assert roles.login_role_name("leadbase") == "leadbase_login_leadbase"
    long = roles.login_role_name("x" * 63)
    assert len(long) <= 63 and long != roles.login_role_name("x" * 62)
    assert roles.login_role_name("My-DB") != roles.login_role_name("my_db")
