"""Let row-level security keep the search, tag and custom-field indexes usable.

PostgreSQL evaluates the RLS policy before any condition whose function is not
LEAKPROOF, so under RLS ``search_text LIKE ...`` (textlike), ``tags && ...``
(arrayoverlap) and ``fields @> ...`` (jsonb_contains) could neither use their GIN
indexes nor column statistics: a search over a million leads walked the table.
These functions raise no error that depends on a row's value, so marking them LEAKPROOF
reveals nothing across tenants. It needs a superuser: where the migrating role is not
one, a warning says so and the indexes stay unused for these filters until a DBA runs
the same statements.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 18:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTIONS = (
    "pg_catalog.textlike(text, text)",
    "pg_catalog.arrayoverlap(anyarray, anyarray)",
    "pg_catalog.jsonb_contains(jsonb, jsonb)",
)


def _set(leakproof: bool) -> None:
    statements = " ".join(
        f"ALTER FUNCTION {fn} {'LEAKPROOF' if leakproof else 'NOT LEAKPROOF'};"
        for fn in FUNCTIONS)
    op.execute(f"""
DO $$
BEGIN
    {statements}
EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'leadbase: could not mark search operators LEAKPROOF (needs a superuser); '
        'searches under row-level security will not use their indexes';
END
$$
""")


def upgrade() -> None:
    _set(True)


def downgrade() -> None:
    _set(False)
