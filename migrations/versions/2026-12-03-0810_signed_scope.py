"""Least privilege: a signed transaction scope, no writable ``alembic_version``.

The tenant (``app.tenant_id``) and the system scope (``app.scope``) were plain settings:
SQL run in a request's transaction could ``set_config`` them and read another workspace.
They now count only with ``app.scope_sig``, an HMAC-SHA256 of both under a key that
only the schema owner reads (``lb_scope_key``; the app reads it once at start through
the owner's connection and signs each transaction's scope). ``lb_scope_valid()``
(SECURITY DEFINER, owned by the schema owner) checks it; ``lb_current_tenant()`` and
``lb_system_scope()`` return nothing without it. Every policy calls them through
``(SELECT ...)``, so the check runs once per statement (an InitPlan), not per row.

Requests run as a login role per database (``leadbase.db.roles``: not a superuser,
NOINHERIT, member of ``leadbase_app`` only); ``leadbase_app`` loses its rights on
``alembic_version`` but reading it (``/readyz``).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 08:10:00
"""

import secrets
from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "leadbase_app"

# HMAC-SHA256 (RFC 2104) with the built-in sha256() (pgcrypto is not on every server):
# the key's inner and outer pads are kept beside it.
UPGRADE = f"""
CREATE TABLE lb_scope_key (key bytea NOT NULL, ipad bytea NOT NULL, opad bytea NOT NULL);
REVOKE ALL ON lb_scope_key FROM PUBLIC, {APP_ROLE};

-- The scope of this transaction counts when its signature is the key's HMAC of it.
CREATE FUNCTION lb_scope_valid() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(current_setting('app.scope_sig', true), '') = encode(sha256(
        k.opad || sha256(k.ipad || convert_to(
            coalesce(current_setting('app.tenant_id', true), '') || '|'
            || coalesce(current_setting('app.scope', true), ''), 'UTF8'))), 'hex')
    FROM public.lb_scope_key k
$$;
REVOKE ALL ON FUNCTION lb_scope_valid() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lb_scope_valid() TO {APP_ROLE};

CREATE OR REPLACE FUNCTION lb_current_tenant() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN coalesce(current_setting('app.tenant_id', true), '') = '' THEN NULL
                  WHEN lb_scope_valid() THEN current_setting('app.tenant_id', true)::uuid
             END $$;

CREATE OR REPLACE FUNCTION lb_system_scope() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN coalesce(current_setting('app.scope', true), '') = 'system'
                  THEN lb_scope_valid() ELSE false END $$;

REVOKE ALL ON alembic_version FROM {APP_ROLE};
GRANT SELECT ON alembic_version TO {APP_ROLE};  -- /readyz compares it with the head
"""

DOWNGRADE = f"""
CREATE OR REPLACE FUNCTION lb_current_tenant() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid $$;

CREATE OR REPLACE FUNCTION lb_system_scope() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT coalesce(current_setting('app.scope', true), '') = 'system' $$;

DROP FUNCTION lb_scope_valid();
DROP TABLE lb_scope_key;
GRANT SELECT, INSERT, UPDATE, DELETE ON alembic_version TO {APP_ROLE};
"""

# Each policy's expressions, with the scope functions called once per statement.
_POLICIES = "SELECT tablename, policyname, qual, with_check FROM pg_policies " \
    "WHERE schemaname = current_schema()"


def _rewrite(old: str, new: str) -> None:
    conn = op.get_bind()
    for table, name, qual, check in conn.exec_driver_sql(_POLICIES).all():
        parts = []
        if qual:
            parts.append(f"USING ({qual.replace(old, new)})")
        if check:
            parts.append(f"WITH CHECK ({check.replace(old, new)})")
        op.execute(f'ALTER POLICY "{name}" ON "{table}" ' + " ".join(parts))


def _pads(key: bytes) -> tuple[bytes, bytes]:
    block = key.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)


def upgrade() -> None:
    op.execute(UPGRADE)
    key = secrets.token_bytes(32)
    ipad, opad = _pads(key)
    op.get_bind().exec_driver_sql(
        "INSERT INTO lb_scope_key VALUES (%(k)s, %(i)s, %(o)s)", {"k": key, "i": ipad, "o": opad})
    for fn in ("lb_current_tenant()", "lb_system_scope()"):
        _rewrite(fn, f"( SELECT {fn} AS {fn[:-2]})")


def downgrade() -> None:
    for fn in ("lb_current_tenant()", "lb_system_scope()"):
        _rewrite(f"( SELECT {fn} AS {fn[:-2]})", fn)
    op.execute(DOWNGRADE)
