"""The database login requests run as, and the key that signs each transaction's scope.

Migrations run as the configured user (the schema owner; on the embedded server and in
CI a superuser). Requests do not: :func:`prepare` makes, through the owner's connection,
a login role of this database's own (``leadbase_login_<database>``: LOGIN, NOSUPERUSER,
NOCREATEDB, NOCREATEROLE, NOREPLICATION, NOBYPASSRLS, NOINHERIT, member of
``leadbase_app`` only) and returns a URL that signs in as it. NOINHERIT means the login
itself can read nothing: every transaction sets the role ``leadbase_app`` (``SET LOCAL``),
and ``RESET ROLE`` falls back to no rights at all. Roles are cluster-wide, so each
database has its own login (concurrent test databases on one server never share or
reset each other's). Its password is derived from the database's scope key (an HMAC),
so every process that can read the key computes the same one and nothing is stored.

The scope key (``lb_scope_key``, readable by the owner only) signs the tenant and system
scope a transaction sets (see migration 0014 and ``leadbase.db.session``).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy.engine import make_url

APP_ROLE = "leadbase_app"
_LOCK = 7403991002


@dataclass(frozen=True)
class Access:
    login_url: str
    scope_key: bytes
    login_role: str


def login_role_name(database: str) -> str:
    safe = "".join(c if c.isalnum() or c == "_" else "_" for c in database.lower())
    if len(safe) > 40 or safe != database:
        safe = safe[:27] + "_" + hashlib.sha256(database.encode()).hexdigest()[:12]
    return f"leadbase_login_{safe}"


def sign(key: bytes, tenant: str, scope: str) -> str:
    """The signature ``lb_scope_valid()`` expects for this (tenant, scope)."""
    return hmac.new(key, f"{tenant}|{scope}".encode(), hashlib.sha256).hexdigest()


def prepare(owner_libpq: str) -> Access:
    """Create or correct this database's login role; its URL and the scope key."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(owner_libpq, autocommit=True) as conn:
        (database,) = conn.execute("SELECT current_database()").fetchone() or ("",)
        row = conn.execute("SELECT key FROM lb_scope_key").fetchone()
        assert row is not None, "migrations not applied"
        key = bytes(row[0])
        role = login_role_name(database)
        password = hmac.new(key, b"login:" + role.encode(), hashlib.sha256).hexdigest()
        ident = sql.Identifier(role)
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s",
                                  (role,)).fetchone()
            verb = "ALTER" if exists else "CREATE"
            conn.execute(sql.SQL(
                "{} ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
                "NOBYPASSRLS NOINHERIT PASSWORD {}").format(
                    sql.SQL(verb), ident, sql.Literal(password)))
            # Member of the application role only.
            for (other,) in conn.execute(
                    "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
                    "WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = %s) "
                    "AND r.rolname <> %s", (role, APP_ROLE)).fetchall():
                conn.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(other), ident))
            conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(APP_ROLE), ident))
            conn.execute(sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(
                sql.Identifier(database), ident))
    url = make_url(owner_libpq).set(username=role, password=password)
    return Access(login_url=url.render_as_string(hide_password=False), scope_key=key,
                  login_role=role)


def drop_login(owner_libpq: str) -> None:
    """Drop this database's login role (before dropping a test database)."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(owner_libpq, autocommit=True) as conn:
        row = conn.execute("SELECT current_database()").fetchone()
        assert row is not None
        role = login_role_name(row[0])
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
