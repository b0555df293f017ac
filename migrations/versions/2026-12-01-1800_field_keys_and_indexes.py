"""Primary-field keys kept by a trigger, custom-field indexes on request, search statistics.

* ``lead_field_keys``: one row per live lead and primary field value, with a real UNIQUE
  key ``(tenant_id, list_id, code, value)``. Triggers on ``leads`` keep it for every writer
  (the API, and set-based SQL such as ``INSERT ... SELECT`` or ``UPDATE ... FROM``): a lead
  whose primary value another live lead of its list holds is refused with
  ``unique_violation`` (constraint name ``lead_field_keys_taken``, the holder's id in the
  detail). This replaces the advisory lock and GIN lookup per lead write. Existing leads
  are backfilled (the oldest lead keeps a value several leads share).
* ``field_definitions.indexed``: a field asked to be indexed gets an expression index on
  ``leads`` for sorting and ranges, built by a worker job (``CREATE INDEX CONCURRENTLY``
  cannot run in a migration's or request's transaction).
* Conditions on custom fields usable by those indexes under row-level security: PostgreSQL
  evaluates the RLS policy before any condition whose functions are not LEAKPROOF, so
  ``lb_jsonb_numeric(fields -> 'Edad') >= 85`` or ``(fields ->> 'Alta') >= '2025-03-01'``
  could only filter rows an index scan had already fetched, never bound the scan. The
  functions behind them raise no error that depends on a row's value (``->``/``->>`` give
  NULL for a missing key, numeric comparisons never fail, ``lb_jsonb_numeric`` now also
  refuses numbers of more than 100 characters instead of casting them), so marking them
  LEAKPROOF reveals nothing across workspaces. As in 0005 this needs a superuser; otherwise
  a warning says so and ranges on indexed fields stay filters.
* ``leads.search_text`` keeps a 500-entry histogram (default 100): ``q=`` patterns are
  estimated from it, and at 100 entries a term in 1-4% of the leads could be estimated
  at 0.01% and planned as a bitmap scan plus a sort of tens of thousands of rows.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "leadbase_app"
SEARCH_STATISTICS = 500

NUMERIC = r"""
CREATE OR REPLACE FUNCTION lb_jsonb_numeric(value jsonb) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$
    SELECT CASE
        WHEN jsonb_typeof(value) = 'number' THEN (value #>> '{}')::numeric
        WHEN jsonb_typeof(value) = 'string' AND length(value #>> '{}') <= 100
             AND (value #>> '{}') ~ '^-?[0-9]+(\.[0-9]+)?$'
            THEN (value #>> '{}')::numeric
    END
$$
"""

NUMERIC_BEFORE = r"""
CREATE OR REPLACE FUNCTION lb_jsonb_numeric(value jsonb) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$
    SELECT CASE
        WHEN jsonb_typeof(value) = 'number' THEN (value #>> '{}')::numeric
        WHEN jsonb_typeof(value) = 'string' AND (value #>> '{}') ~ '^-?[0-9]+(\.[0-9]+)?$'
            THEN (value #>> '{}')::numeric
    END
$$
"""

LEAKPROOF = (
    "pg_catalog.jsonb_object_field(jsonb, text)",
    "pg_catalog.jsonb_object_field_text(jsonb, text)",
    *(f"pg_catalog.numeric_{op}(numeric, numeric)" for op in ("eq", "ne", "lt", "le", "gt", "ge")),
    "lb_jsonb_numeric(jsonb)",
)


def _leakproof(on: bool) -> None:
    statements = " ".join(
        f"ALTER FUNCTION {fn} {'LEAKPROOF' if on else 'NOT LEAKPROOF'};" for fn in LEAKPROOF)
    op.execute(f"""
DO $$
BEGIN
    {statements}
EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'leadbase: could not mark custom-field operators LEAKPROOF (needs a '
        'superuser); range filters on indexed custom fields will not bound index scans';
END
$$
""")


FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION lb_field_key(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT CASE WHEN octet_length(value) <= 1000 THEN value ELSE 'md5:' || md5(value) END $$;

COMMENT ON FUNCTION lb_field_key(text) IS
'The key of a primary custom-field value in lead_field_keys: the value as text '
'(fields ->> code), or md5:<hex> beyond 1000 bytes (index entries have a size limit).';

CREATE OR REPLACE FUNCTION lb_lead_field_keys() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_code text;
    v_key text;
    v_holder uuid;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE lead_field_keys;
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM lead_field_keys WHERE tenant_id = OLD.tenant_id AND lead_id = OLD.id;
        IF TG_OP = 'DELETE' THEN
            RETURN NULL;
        END IF;
    END IF;
    IF NEW.deleted_at IS NOT NULL THEN
        RETURN NULL;
    END IF;
    FOR v_code IN
        SELECT d.code FROM field_definitions d
        WHERE d.tenant_id = NEW.tenant_id AND d.list_id = NEW.list_id AND d.is_primary
          AND d.active
    LOOP
        v_key := lb_field_key(NEW.fields ->> v_code);
        CONTINUE WHEN v_key IS NULL OR v_key IN ('', '[]');
        LOOP
            INSERT INTO lead_field_keys (tenant_id, list_id, code, value, lead_id)
            VALUES (NEW.tenant_id, NEW.list_id, v_code, v_key, NEW.id)
            ON CONFLICT DO NOTHING;
            EXIT WHEN FOUND;
            SELECT k.lead_id INTO v_holder FROM lead_field_keys k
            WHERE k.tenant_id = NEW.tenant_id AND k.list_id = NEW.list_id
              AND k.code = v_code AND k.value = v_key;
            EXIT WHEN FOUND;  -- else the holder went away meanwhile: try again
        END LOOP;
        CONTINUE WHEN v_holder IS NULL OR v_holder = NEW.id;
        -- A value this live lead already had in this list before the change is not
        -- re-checked (it predates the field being primary): only changed values are.
        CONTINUE WHEN TG_OP = 'UPDATE' AND OLD.deleted_at IS NULL
            AND OLD.list_id = NEW.list_id
            AND lb_field_key(OLD.fields ->> v_code) IS NOT DISTINCT FROM v_key;
        RAISE EXCEPTION 'leadbase: the value of primary field % is taken in this list', v_code
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'lead_field_keys_taken',
                  TABLE = 'lead_field_keys', COLUMN = v_code, DETAIL = v_holder::text;
    END LOOP;
    RETURN NULL;
END
$$;
"""

# A transaction that sets leadbase.bulk_insert = 'on' (imports do) has its inserts
# checked once per statement over all its rows (a transition table): 10,000 leads cost
# a few set-based statements instead of 10,000 function calls and field-definition
# lookups (~7 us a row in a bulk insert, even on lists without a primary field). Single
# inserts keep the row trigger, which does not even fire for leads without custom values
# (a statement trigger on every API create measured 622 creates/s against ~750). Same
# refusal either way: unique_violation, constraint lead_field_keys_taken, the code as
# column, the holder's id as detail.
INSERTED = r"""
CREATE OR REPLACE FUNCTION lb_lead_field_keys_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_code text;
    v_holder uuid;
    v_missing boolean;
BEGIN
    -- Most inserts carry no value of a primary field (no custom values, or a list
    -- without primary fields): one cheap look, and nothing more.
    PERFORM 1 FROM new_rows n
    JOIN field_definitions d ON d.tenant_id = n.tenant_id AND d.list_id = n.list_id
        AND d.is_primary AND d.active
    WHERE n.deleted_at IS NULL AND n.fields <> '{}'::jsonb AND n.fields ? d.code
    LIMIT 1;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    FOR attempt IN 1..3 LOOP
        INSERT INTO lead_field_keys (tenant_id, list_id, code, value, lead_id)
        SELECT n.tenant_id, n.list_id, d.code, lb_field_key(n.fields ->> d.code), n.id
        FROM new_rows n
        JOIN field_definitions d ON d.tenant_id = n.tenant_id AND d.list_id = n.list_id
            AND d.is_primary AND d.active
        WHERE n.deleted_at IS NULL AND n.fields <> '{}'::jsonb
          AND lb_field_key(n.fields ->> d.code) NOT IN ('', '[]')
        ON CONFLICT DO NOTHING;
        SELECT d.code, k.lead_id INTO v_code, v_holder
        FROM new_rows n
        JOIN field_definitions d ON d.tenant_id = n.tenant_id AND d.list_id = n.list_id
            AND d.is_primary AND d.active
        JOIN lead_field_keys k ON k.tenant_id = n.tenant_id AND k.list_id = n.list_id
            AND k.code = d.code AND k.value = lb_field_key(n.fields ->> d.code)
        WHERE n.deleted_at IS NULL AND n.fields <> '{}'::jsonb AND k.lead_id <> n.id
        LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'leadbase: the value of primary field % is taken in this list',
                v_code USING ERRCODE = 'unique_violation',
                CONSTRAINT = 'lead_field_keys_taken', TABLE = 'lead_field_keys',
                COLUMN = v_code, DETAIL = v_holder::text;
        END IF;
        -- A conflicting holder deleted meanwhile leaves a value without its key: again.
        SELECT EXISTS (
            SELECT 1 FROM new_rows n
            JOIN field_definitions d ON d.tenant_id = n.tenant_id AND d.list_id = n.list_id
                AND d.is_primary AND d.active
            WHERE n.deleted_at IS NULL AND n.fields <> '{}'::jsonb
              AND lb_field_key(n.fields ->> d.code) NOT IN ('', '[]')
              AND NOT EXISTS (SELECT 1 FROM lead_field_keys k WHERE k.tenant_id = n.tenant_id
                  AND k.list_id = n.list_id AND k.code = d.code
                  AND k.value = lb_field_key(n.fields ->> d.code))) INTO v_missing;
        EXIT WHEN NOT v_missing;
    END LOOP;
    RETURN NULL;
END
$$;
"""

TRIGGERS = """
CREATE TRIGGER lb_lead_field_keys_insert AFTER INSERT ON leads FOR EACH ROW
    WHEN (NEW.fields <> '{}'::jsonb AND NEW.deleted_at IS NULL
          AND current_setting('leadbase.bulk_insert', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION lb_lead_field_keys();
CREATE TRIGGER lb_lead_field_keys_insert_bulk AFTER INSERT ON leads
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    WHEN (current_setting('leadbase.bulk_insert', true) = 'on')
    EXECUTE FUNCTION lb_lead_field_keys_inserted();
CREATE TRIGGER lb_lead_field_keys_update AFTER UPDATE OF fields, list_id, deleted_at ON leads
    FOR EACH ROW
    WHEN (OLD.fields IS DISTINCT FROM NEW.fields OR OLD.list_id IS DISTINCT FROM NEW.list_id
          OR (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL))
    EXECUTE FUNCTION lb_lead_field_keys();
CREATE TRIGGER lb_lead_field_keys_delete AFTER DELETE ON leads FOR EACH ROW
    WHEN (OLD.fields <> '{}'::jsonb AND OLD.deleted_at IS NULL)
    EXECUTE FUNCTION lb_lead_field_keys();
CREATE TRIGGER lb_lead_field_keys_truncate AFTER TRUNCATE ON leads FOR EACH STATEMENT
    EXECUTE FUNCTION lb_lead_field_keys();
"""

BACKFILL = """
INSERT INTO lead_field_keys (tenant_id, list_id, code, value, lead_id)
SELECT l.tenant_id, l.list_id, d.code, lb_field_key(l.fields ->> d.code), l.id
FROM field_definitions d
JOIN leads l ON l.tenant_id = d.tenant_id AND l.list_id = d.list_id
WHERE d.is_primary AND d.active AND l.deleted_at IS NULL
  AND lb_field_key(l.fields ->> d.code) NOT IN ('', '[]')
ORDER BY l.created_at, l.id
ON CONFLICT DO NOTHING
"""


def upgrade() -> None:
    op.add_column("field_definitions", sa.Column(
        "indexed", sa.Boolean(), server_default=sa.text("false"), nullable=False))
    op.create_index("ix_field_definitions_primary", "field_definitions",
                    ["tenant_id", "list_id"], postgresql_where=sa.text("is_primary AND active"))
    op.create_table(
        "lead_field_keys",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("list_id", sa.UUID(), nullable=False),
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("lead_id", sa.UUID(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "list_id", "code", "value",
                                name="pk_lead_field_keys"),
    )
    op.create_index("ix_lead_field_keys_lead", "lead_field_keys", ["tenant_id", "lead_id"])
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON lead_field_keys TO {APP_ROLE}")
    op.execute("ALTER TABLE lead_field_keys ENABLE ROW LEVEL SECURITY")
    op.execute("CREATE POLICY tenant_isolation ON lead_field_keys "
               "USING (tenant_id = lb_current_tenant()) "
               "WITH CHECK (tenant_id = lb_current_tenant())")
    op.execute(FUNCTIONS)
    op.execute(INSERTED)
    # The owner backfills across workspaces (FORCE would apply the policies to it too).
    for table in ("leads", "field_definitions", "lead_field_keys"):
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(BACKFILL)
    for table in ("leads", "field_definitions", "lead_field_keys"):
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(TRIGGERS)
    op.execute(NUMERIC)
    _leakproof(True)
    op.execute(f"ALTER TABLE leads ALTER COLUMN search_text SET STATISTICS {SEARCH_STATISTICS}")
    op.execute("ANALYZE leads")


def downgrade() -> None:
    op.execute("ALTER TABLE leads ALTER COLUMN search_text SET STATISTICS -1")
    _leakproof(False)
    op.execute(NUMERIC_BEFORE)
    op.execute("""
DO $$
DECLARE name text;
BEGIN
    FOR name IN SELECT indexname FROM pg_indexes
                WHERE schemaname = current_schema() AND tablename = 'leads'
                  AND indexname LIKE 'ix_leads_l%\\_f%' LOOP
        EXECUTE format('DROP INDEX %I', name);
    END LOOP;
END
$$
""")
    for name in ("insert", "insert_bulk", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER IF EXISTS lb_lead_field_keys_{name} ON leads")
    op.execute("DROP FUNCTION IF EXISTS lb_lead_field_keys_inserted()")
    op.execute("DROP FUNCTION IF EXISTS lb_lead_field_keys()")
    op.drop_table("lead_field_keys")
    op.execute("DROP FUNCTION IF EXISTS lb_field_key(text)")
    op.drop_index("ix_field_definitions_primary", table_name="field_definitions")
    op.drop_column("field_definitions", "indexed")
