"""Numbers per workspace: each workspace numbers its rows of each table from 1.

``number`` was one identity sequence per table for all workspaces, so a workspace could
count the others' activity (its lead numbers jumped by what others created; the
``fields`` profile's integer ids showed it too). Now each workspace has a sequence per
numbered table, ``lb_n_<table>_<tenant>`` (``lb_number_seq(tenant, table)`` names it):

* Sequences never wait: ``nextval`` takes no lock a transaction keeps, so concurrent
  writers in one workspace (each request writes audit entries and events) and a long
  import never queue behind one another, as they would on a counter row updated in their
  transactions (tried first: requests of one workspace serialised and a test deadlocked).
  Numbers of rolled-back inserts are skipped, as with an identity.
* A ``BEFORE INSERT`` row trigger, fired only ``WHEN (NEW.number IS NULL)``, takes the
  next number; a bulk insert (the import's ``INSERT ... SELECT``) resolves the sequence
  once and calls ``nextval`` per row itself.
* A new workspace gets its sequences from an ``AFTER INSERT`` trigger on ``tenants``;
  ``lb_number_seq`` creates a missing one (SECURITY DEFINER: the schema owner owns them,
  ``leadbase_app`` may only use them). Platform superadmins (no workspace) count under
  the nil uuid.
* The identity is dropped from ``number`` in every table with a ``tenant_id``; the rows
  present are renumbered per workspace in their old order (through negatives, so
  ``(tenant_id, number)`` stays unique throughout). ``tenants.number`` keeps its
  identity: workspaces are the platform's.

Cost: one sequence (a relation) per workspace and numbered table.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 08:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "leadbase_app"
NIL = "00000000-0000-0000-0000-000000000000"

FUNCTIONS = f"""
CREATE FUNCTION lb_number_seq(tenant uuid, tbl text) RETURNS regclass
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    name text := 'lb_n_' || tbl || '_' || replace(coalesce(tenant, '{NIL}'::uuid)::text, '-', '');
    found regclass;
BEGIN
    IF length(name) > 63 THEN
        name := 'lb_n_' || md5(tbl || coalesce(tenant, '{NIL}'::uuid)::text);
    END IF;
    found := to_regclass('public.' || quote_ident(name));
    IF found IS NULL THEN
        EXECUTE format('CREATE SEQUENCE IF NOT EXISTS public.%I', name);
        EXECUTE format('GRANT USAGE ON SEQUENCE public.%I TO {APP_ROLE}', name);
        found := to_regclass('public.' || quote_ident(name));
    END IF;
    RETURN found;
END
$$;

CREATE FUNCTION lb_assign_number() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    NEW.number := nextval(lb_number_seq(NEW.tenant_id, TG_TABLE_NAME));
    RETURN NEW;
END
$$;

CREATE FUNCTION lb_tenant_sequences() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tbl text;
BEGIN
    FOREACH tbl IN ARRAY TG_ARGV LOOP
        PERFORM public.lb_number_seq(NEW.id, tbl);
    END LOOP;
    RETURN NULL;
END
$$;
"""


_TABLES = """
SELECT c.relname FROM pg_class c
WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace
  AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'number'
              AND NOT a.attisdropped)
  AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
              AND a.attname = 'tenant_id' AND NOT a.attisdropped)
ORDER BY 1
"""


def _tables() -> list[str]:
    return [r[0] for r in op.get_bind().exec_driver_sql(_TABLES).all()]


def upgrade() -> None:
    op.execute(FUNCTIONS)
    tables = _tables()
    for table in tables:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN number DROP IDENTITY IF EXISTS")
        # Through negatives, so that no row takes a number another still holds.
        op.execute(f"UPDATE {table} SET number = -number")
        op.execute(
            f"UPDATE {table} t SET number = r.n FROM (SELECT id, row_number() OVER "
            f"(PARTITION BY tenant_id ORDER BY number DESC) AS n FROM {table}) r "
            "WHERE t.id = r.id")
        op.execute(
            f"SELECT setval(lb_number_seq(tenant_id, '{table}'), max(number)) "
            f"FROM {table} GROUP BY tenant_id")
        op.execute(f"CREATE TRIGGER lb_number BEFORE INSERT ON {table} FOR EACH ROW "
                   "WHEN (NEW.number IS NULL) EXECUTE FUNCTION lb_assign_number()")
        op.execute(f"CREATE UNIQUE INDEX IF NOT EXISTS uq_{table}_tenant_number "
                   f"ON {table} (tenant_id, number)")
    op.execute("SELECT lb_number_seq(id, t) FROM tenants, unnest(%s::text[]) AS t"
               .replace("%s", "'{" + ",".join(tables) + "}'"))
    args = ", ".join(f"'{t}'" for t in tables)
    op.execute("CREATE TRIGGER lb_tenant_sequences AFTER INSERT ON tenants FOR EACH ROW "
               f"EXECUTE FUNCTION lb_tenant_sequences({args})")


def downgrade() -> None:
    op.execute("DROP TRIGGER lb_tenant_sequences ON tenants")
    for table in _tables():
        op.execute(f"DROP TRIGGER lb_number ON {table}")
        op.execute(f"UPDATE {table} SET number = -number")
        op.execute(f"UPDATE {table} t SET number = r.n FROM (SELECT id, row_number() OVER "
                   f"(ORDER BY created_at, id) AS n FROM {table}) r WHERE t.id = r.id")
        op.execute(f"ALTER TABLE {table} ALTER COLUMN number ADD GENERATED BY DEFAULT AS "
                   "IDENTITY")
        op.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'number'), "
                   f"(SELECT coalesce(max(number), 0) + 1 FROM {table}), false)")
    op.execute("DO $$ DECLARE s text; BEGIN FOR s IN SELECT relname FROM pg_class "
               "WHERE relkind = 'S' AND relname LIKE 'lb\\_n\\_%' LOOP "
               "EXECUTE format('DROP SEQUENCE %I', s); END LOOP; END $$")
    op.execute("DROP FUNCTION lb_tenant_sequences(); DROP FUNCTION lb_assign_number(); "
               "DROP FUNCTION lb_number_seq(uuid, text)")
