"""snapshots, their shares, images and automatic snapshot policies

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

from cbslocal.store import census


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# New NOT NULL columns of `disks` get a server default so that existing rows can take them.
# Plain ADD COLUMN, not a batch rebuild: rebuilding `disks` on SQLite would drop its triggers.
_DISK_COLUMNS = [
    sa.Column('snapshot_count', sa.Integer(), nullable=False, server_default='0'),
    sa.Column('snapshot_size', sa.BigInteger(), nullable=False, server_default='0'),
    sa.Column('rolled_back', sa.Boolean(), nullable=False, server_default=sa.false()),
]


def upgrade() -> None:
    op.create_table('auto_snapshot_policies',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('policy_id', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('region', sa.String(length=64), nullable=False),
    sa.Column('policy_name', sa.String(length=256), nullable=False),
    sa.Column('policy_state', sa.String(length=16), nullable=False),
    sa.Column('is_activated', sa.Boolean(), nullable=False),
    sa.Column('is_permanent', sa.Boolean(), nullable=False),
    sa.Column('retention_days', sa.Integer(), nullable=False),
    sa.Column('schedule', sa.Text(), nullable=False),
    sa.Column('anchor_at', sa.Float(), nullable=False),
    sa.Column('next_trigger_at', sa.Float(), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('policy_id')
    )
    with op.batch_alter_table('auto_snapshot_policies', schema=None) as batch_op:
        batch_op.create_index('ix_auto_snapshot_policies_scope_created', ['account_id', 'region', 'created_at', 'seq'], unique=False)

    op.create_table('images',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('image_id', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('region', sa.String(length=64), nullable=False),
    sa.Column('image_name', sa.String(length=256), nullable=False),
    sa.Column('image_description', sa.String(length=256), nullable=False),
    sa.Column('image_state', sa.String(length=24), nullable=False),
    sa.Column('os_name', sa.String(length=128), nullable=False),
    sa.Column('platform', sa.String(length=64), nullable=False),
    sa.Column('architecture', sa.String(length=16), nullable=False),
    sa.Column('image_size', sa.BigInteger(), nullable=False),
    sa.Column('source_instance_id', sa.String(length=32), nullable=True),
    sa.Column('tags', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('image_id')
    )
    with op.batch_alter_table('images', schema=None) as batch_op:
        batch_op.create_index('ix_images_scope_created', ['account_id', 'region', 'created_at', 'seq'], unique=False)

    op.create_table('snapshots',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('snapshot_id', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('region', sa.String(length=64), nullable=False),
    sa.Column('zone', sa.String(length=64), nullable=False),
    sa.Column('project_id', sa.BigInteger(), nullable=False),
    sa.Column('snapshot_name', sa.String(length=256), nullable=False),
    sa.Column('snapshot_state', sa.String(length=24), nullable=False),
    sa.Column('disk_id', sa.String(length=32), nullable=False),
    sa.Column('disk_size', sa.BigInteger(), nullable=False),
    sa.Column('disk_usage', sa.String(length=16), nullable=False),
    sa.Column('encrypt', sa.Boolean(), nullable=False),
    sa.Column('snapshot_mode', sa.String(length=24), nullable=False),
    sa.Column('copy_from_remote', sa.Boolean(), nullable=False),
    sa.Column('copying_to_regions', sa.Text(), nullable=False),
    sa.Column('share_reference', sa.Integer(), nullable=False),
    sa.Column('time_start_share', sa.Float(), nullable=True),
    sa.Column('images', sa.Text(), nullable=False),
    sa.Column('tags', sa.Text(), nullable=False),
    sa.Column('auto_snapshot_policy_id', sa.String(length=32), nullable=True),
    sa.Column('deadline_at', sa.Float(), nullable=True),
    sa.Column('op_started_at', sa.Float(), nullable=True),
    sa.Column('op_due_at', sa.Float(), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('modified_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('snapshot_id')
    )
    with op.batch_alter_table('snapshots', schema=None) as batch_op:
        batch_op.create_index('ix_snapshots_scope_created', ['account_id', 'region', 'created_at', 'seq'], unique=False)
        batch_op.create_index('ix_snapshots_scope_disk', ['account_id', 'region', 'disk_id', 'created_at', 'seq'], unique=False)
        batch_op.create_index('ix_snapshots_scope_state', ['account_id', 'region', 'snapshot_state', 'created_at', 'seq'], unique=False)
        batch_op.create_index('ix_snapshots_scope_name', ['account_id', 'region', 'snapshot_name'], unique=False)
        batch_op.create_index('ix_snapshots_state', ['snapshot_state'], unique=False)

    op.create_table('image_snapshots',
    sa.Column('image_id', sa.String(length=32), nullable=False),
    sa.Column('snapshot_id', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('region', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['image_id'], ['images.image_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('image_id', 'snapshot_id')
    )
    with op.batch_alter_table('image_snapshots', schema=None) as batch_op:
        batch_op.create_index('ix_image_snapshots_snapshot', ['snapshot_id'], unique=False)

    op.create_table('policy_disks',
    sa.Column('policy_id', sa.String(length=32), nullable=False),
    sa.Column('disk_id', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('region', sa.String(length=64), nullable=False),
    sa.Column('bound_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['disk_id'], ['disks.disk_id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['policy_id'], ['auto_snapshot_policies.policy_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('policy_id', 'disk_id')
    )
    with op.batch_alter_table('policy_disks', schema=None) as batch_op:
        batch_op.create_index('ix_policy_disks_disk', ['disk_id'], unique=False)

    op.create_table('snapshot_shares',
    sa.Column('snapshot_id', sa.String(length=32), nullable=False),
    sa.Column('shared_with', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('region', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshots.snapshot_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('snapshot_id', 'shared_with')
    )
    with op.batch_alter_table('snapshot_shares', schema=None) as batch_op:
        batch_op.create_index('ix_snapshot_shares_receiver', ['shared_with', 'region'], unique=False)

    for column in _DISK_COLUMNS:
        op.add_column('disks', column)
    op.create_table('snapshot_census',
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('region', sa.String(length=64), nullable=False),
    sa.Column('zone', sa.String(length=64), nullable=False),
    sa.Column('snapshot_state', sa.String(length=24), nullable=False),
    sa.Column('disk_usage', sa.String(length=16), nullable=False),
    sa.Column('encrypt', sa.Boolean(), nullable=False),
    sa.Column('project_id', sa.BigInteger(), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.UniqueConstraint('account_id', 'region', 'zone', 'snapshot_state', 'disk_usage', 'encrypt', 'project_id', name='uq_snapshot_census_key')
    )
    census.create_triggers(op.get_bind(), TRIGGERS)


# The census triggers of this revision.
TRIGGERS = ("snapshots_census_insert", "snapshots_census_delete", "snapshots_census_update")



def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in TRIGGERS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}() CASCADE")
    op.drop_table('snapshot_census')
    for column in reversed(_DISK_COLUMNS):
        op.drop_column('disks', column.name)

    with op.batch_alter_table('snapshot_shares', schema=None) as batch_op:
        batch_op.drop_index('ix_snapshot_shares_receiver')

    op.drop_table('snapshot_shares')
    with op.batch_alter_table('policy_disks', schema=None) as batch_op:
        batch_op.drop_index('ix_policy_disks_disk')

    op.drop_table('policy_disks')
    with op.batch_alter_table('image_snapshots', schema=None) as batch_op:
        batch_op.drop_index('ix_image_snapshots_snapshot')

    op.drop_table('image_snapshots')
    with op.batch_alter_table('snapshots', schema=None) as batch_op:
        batch_op.drop_index('ix_snapshots_state')
        batch_op.drop_index('ix_snapshots_scope_name')
        batch_op.drop_index('ix_snapshots_scope_state')
        batch_op.drop_index('ix_snapshots_scope_disk')
        batch_op.drop_index('ix_snapshots_scope_created')

    op.drop_table('snapshots')
    with op.batch_alter_table('images', schema=None) as batch_op:
        batch_op.drop_index('ix_images_scope_created')

    op.drop_table('images')
    with op.batch_alter_table('auto_snapshot_policies', schema=None) as batch_op:
        batch_op.drop_index('ix_auto_snapshot_policies_scope_created')

    op.drop_table('auto_snapshot_policies')
