"""Row-level security for new tables, in one call from a migration::

    from leadbase.db import rls

    def upgrade() -> None:
        op.create_table("deals", ...)
        rls.protect("deals")

A protected table grants the application role (``leadbase_app``) its four statements,
enables and forces row-level security (``FORCE``: a table owner that is not a superuser
is held by the policies too) and gets the policy ``tenant_isolation``: rows whose
``tenant_id`` is the transaction's ``app.tenant_id`` (``lb_current_tenant()``, migration
0001). ``system_scope=True`` also admits the ``app.scope = 'system'`` setting, for the
plumbing tables sign-in and the sweeps read across workspaces; tenant data never takes
it (see docs/DECISIONS.md, "Row-level security: one role, two settings").

A table is ``numbered`` by default (DESIGN.md: every tenant-owned table has a ``number``,
counted per workspace from 1, migration 0015): it gets the ``lb_number`` trigger that
takes the workspace's next number where an insert gives none, the unique index on
``(tenant_id, number)``, and the sequences of the workspaces present (a workspace's
sequence is otherwise made on its first insert). ``numbered=False`` for a table without
``number``.

Migrations written before this module spell the same statements out; they stay as they
are."""

from __future__ import annotations

import re

from leadbase.db.session import APP_ROLE

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def statements(table: str, *, system_scope: bool = False,
               numbered: bool = True) -> list[str]:
    """The SQL that puts ``table`` (with a ``tenant_id`` column) under row-level security."""
    if not _IDENTIFIER.match(table):
        raise ValueError(f"not a plain table name: {table!r}")
    # Each called once per statement (an InitPlan), not per row: they check the scope's
    # signature (migration 0014).
    rows = "tenant_id = (SELECT lb_current_tenant())" + (
        " OR (SELECT lb_system_scope())" if system_scope else "")
    sql = [
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP_ROLE}",
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_isolation ON {table} USING ({rows}) WITH CHECK ({rows})",
    ]
    if numbered:
        sql += [
            f"CREATE TRIGGER lb_number BEFORE INSERT ON {table} FOR EACH ROW "
            "WHEN (NEW.number IS NULL) EXECUTE FUNCTION lb_assign_number()",
            f"CREATE UNIQUE INDEX uq_{table}_tenant_number ON {table} (tenant_id, number)",
            f"SELECT lb_number_seq(id, '{table}') FROM tenants",
        ]
    return sql


def protect(table: str, *, system_scope: bool = False, numbered: bool = True) -> None:
    """In a migration's ``upgrade()``: put the new ``table`` under row-level security.
    (Dropping the table drops its policy; a ``downgrade()`` needs nothing more.)"""
    from alembic import op

    for sql in statements(table, system_scope=system_scope, numbered=numbered):
        op.execute(sql)
