"""row versions of disks and snapshots: what a rendered API object is checked against

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

from cbslocal.store import row_versions


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, not a batch rebuild: rebuilding a table on SQLite would drop its triggers.
    # Existing rows start at 0 (distinct rows: their IDs tell them apart); the triggers take over.
    for table in row_versions.VERSIONED:
        op.add_column(table, sa.Column('version', sa.BigInteger(), server_default='0',
                                       nullable=False))
    row_versions.create_triggers(op.get_bind())


def downgrade() -> None:
    bind = op.get_bind()
    for table in row_versions.VERSIONED:
        if bind.dialect.name == "sqlite":
            op.execute(f"DROP TRIGGER {table}_version_insert")
            op.execute(f"DROP TRIGGER {table}_version_update")
        else:
            op.execute(f"DROP TRIGGER {table}_version ON {table}")
        # ALTER TABLE … DROP COLUMN (SQLite 3.35+), not a batch rebuild: the triggers stay.
        op.execute(f"ALTER TABLE {table} DROP COLUMN version")
    if bind.dialect.name != "sqlite":
        op.execute("DROP FUNCTION row_version()")
