"""disk tags carry their disk's creation order: a `tag:<key>` filter pages through an index

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

from cbslocal.store import census


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

TRIGGERS = ("disk_tags_order",)


def upgrade() -> None:
    op.add_column('disk_tags', sa.Column('created_at', sa.Float(), server_default='0',
                                         nullable=False))
    op.add_column('disk_tags', sa.Column('disk_seq', sa.Integer(), server_default='0',
                                         nullable=False))
    op.execute("UPDATE disk_tags SET "
               "created_at = (SELECT created_at FROM disks WHERE disks.disk_id = disk_tags.disk_id), "
               "disk_seq = (SELECT seq FROM disks WHERE disks.disk_id = disk_tags.disk_id)")
    op.drop_index('ix_disk_tags_scope_key_value', table_name='disk_tags')
    op.create_index('ix_disk_tags_scope_key_value', 'disk_tags',
                    ['account_id', 'region', 'tag_key', 'tag_value', 'created_at', 'disk_seq',
                     'disk_id'])
    census.create_triggers(op.get_bind(), TRIGGERS)


def downgrade() -> None:
    bind = op.get_bind()
    op.execute("DROP TRIGGER disk_tags_order" if bind.dialect.name == "sqlite"
               else "DROP TRIGGER disk_tags_order ON disk_tags")
    if bind.dialect.name != "sqlite":
        op.execute("DROP FUNCTION disk_tags_order()")
    op.drop_index('ix_disk_tags_scope_key_value', table_name='disk_tags')
    op.create_index('ix_disk_tags_scope_key_value', 'disk_tags',
                    ['account_id', 'region', 'tag_key', 'tag_value'])
    for column in ('disk_seq', 'created_at'):
        op.execute(f"ALTER TABLE disk_tags DROP COLUMN {column}")
