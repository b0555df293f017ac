"""Field sections belong to the workspace, not to one list.

A field of any list may sit in any live section of its workspace (one "Datos personales"
serves every list); each field keeps its own ``position``, sections are ordered by theirs
across the workspace. ``field_sections.list_id`` goes, with its index and foreign key.

Sections of a list deleted before this migration were out of sight with it: they are
soft-deleted here, so they do not reappear as workspace sections. The owner does that
update across workspaces (``NO FORCE`` for its duration, as 0009 does for its backfill).

Downgrade: each section goes back to the list of one of its fields (the oldest), else to
its workspace's default list; fields of other lists lose the section.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_HIDE_SECTIONS_OF_DELETED_LISTS = """
UPDATE field_sections s SET deleted_at = l.deleted_at
FROM lead_lists l
WHERE l.id = s.list_id AND l.deleted_at IS NOT NULL AND s.deleted_at IS NULL
"""

_BACK_TO_A_LIST = """
UPDATE field_sections s SET list_id = coalesce(
    (SELECT f.list_id FROM field_definitions f WHERE f.section_id = s.id
     ORDER BY f.created_at, f.number LIMIT 1),
    (SELECT l.id FROM lead_lists l WHERE l.tenant_id = s.tenant_id AND l.is_default
     ORDER BY l.deleted_at IS NULL DESC, l.created_at LIMIT 1));
DELETE FROM field_sections WHERE list_id IS NULL;
UPDATE field_definitions f SET section_id = NULL
FROM field_sections s WHERE s.id = f.section_id AND s.list_id <> f.list_id;
"""


def _as_owner(sql: str) -> None:
    tables = ("field_sections", "field_definitions", "lead_lists")
    for table in tables:
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(sql)
    for table in tables:
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


def upgrade() -> None:
    _as_owner(_HIDE_SECTIONS_OF_DELETED_LISTS)
    op.drop_index("ix_field_sections_tenant_list", table_name="field_sections")
    op.drop_constraint("fk_field_sections_list_id_lead_lists", "field_sections",
                       type_="foreignkey")
    op.drop_column("field_sections", "list_id")
    op.create_index("ix_field_sections_tenant_position", "field_sections",
                    ["tenant_id", "position"])


def downgrade() -> None:
    op.drop_index("ix_field_sections_tenant_position", table_name="field_sections")
    op.add_column("field_sections", sa.Column("list_id", sa.UUID(), nullable=True))
    _as_owner(_BACK_TO_A_LIST)
    op.alter_column("field_sections", "list_id", nullable=False)
    op.create_foreign_key("fk_field_sections_list_id_lead_lists", "field_sections",
                          "lead_lists", ["list_id"], ["id"], ondelete="CASCADE")
    op.create_index("ix_field_sections_tenant_list", "field_sections",
                    ["tenant_id", "list_id", "position"])
