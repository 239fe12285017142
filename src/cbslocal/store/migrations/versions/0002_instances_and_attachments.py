"""instances, disk attachments, the recycle bin and type changes

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# New NOT NULL columns of `disks` get a server default so that existing rows can take them.
# Plain ADD COLUMN, not a batch rebuild: rebuilding `disks` on SQLite would drop its triggers.
_DISK_COLUMNS = [
    sa.Column('instance_ids', sa.Text(), nullable=False, server_default='[]'),
    sa.Column('recycle_reason', sa.String(length=16), nullable=False, server_default=''),
    sa.Column('refunded_before', sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column('returnable', sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.Column('migrate_to', sa.String(length=32), nullable=True),
    sa.Column('op_started_at', sa.Float(), nullable=True),
    sa.Column('op_due_at', sa.Float(), nullable=True),
]


def upgrade() -> None:
    op.create_table('instances',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('instance_id', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('region', sa.String(length=64), nullable=False),
    sa.Column('zone', sa.String(length=64), nullable=False),
    sa.Column('project_id', sa.BigInteger(), nullable=False),
    sa.Column('instance_name', sa.String(length=256), nullable=False),
    sa.Column('instance_type', sa.String(length=64), nullable=False),
    sa.Column('cpu', sa.Integer(), nullable=False),
    sa.Column('memory', sa.Integer(), nullable=False),
    sa.Column('image_id', sa.String(length=32), nullable=False),
    sa.Column('os_name', sa.String(length=128), nullable=False),
    sa.Column('charge_type', sa.String(length=32), nullable=False),
    sa.Column('renew_flag', sa.String(length=40), nullable=False),
    sa.Column('instance_state', sa.String(length=32), nullable=False),
    sa.Column('restrict_state', sa.String(length=16), nullable=False),
    sa.Column('private_ip', sa.String(length=64), nullable=False),
    sa.Column('public_ip', sa.String(length=64), nullable=True),
    sa.Column('internet_charge_type', sa.String(length=32), nullable=False),
    sa.Column('bandwidth_out', sa.Integer(), nullable=False),
    sa.Column('host_name', sa.String(length=128), nullable=False),
    sa.Column('uuid', sa.String(length=64), nullable=False),
    sa.Column('security_group_ids', sa.Text(), nullable=False),
    sa.Column('tags', sa.Text(), nullable=False),
    sa.Column('max_attach_count', sa.Integer(), nullable=False),
    sa.Column('supports_cbs', sa.Boolean(), nullable=False),
    sa.Column('online_resize', sa.Boolean(), nullable=False),
    sa.Column('vpc_id', sa.String(length=32), nullable=False),
    sa.Column('subnet_id', sa.String(length=32), nullable=False),
    sa.Column('stop_charging_mode', sa.String(length=32), nullable=False),
    sa.Column('disable_api_termination', sa.Boolean(), nullable=False),
    sa.Column('latest_operation', sa.String(length=64), nullable=True),
    sa.Column('latest_operation_state', sa.String(length=16), nullable=True),
    sa.Column('latest_operation_request_id', sa.String(length=64), nullable=True),
    sa.Column('expired_at', sa.Float(), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('instance_id')
    )
    op.create_index('ix_instances_scope_created', 'instances', ['account_id', 'region', 'created_at', 'seq'], unique=False)
    op.create_index('ix_instances_scope_state', 'instances', ['account_id', 'region', 'instance_state'], unique=False)
    op.create_index('ix_instances_scope_name', 'instances', ['account_id', 'region', 'instance_name'], unique=False)
    op.create_table('disk_attachments',
    sa.Column('disk_id', sa.String(length=32), nullable=False),
    sa.Column('instance_id', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('region', sa.String(length=64), nullable=False),
    sa.Column('disk_usage', sa.String(length=16), nullable=False),
    sa.Column('attached_at', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['disk_id'], ['disks.disk_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('disk_id', 'instance_id')
    )
    op.create_index('ix_disk_attachments_scope_instance', 'disk_attachments', ['account_id', 'region', 'instance_id'], unique=False)
    for column in _DISK_COLUMNS:
        op.add_column('disks', column)


def downgrade() -> None:
    for column in reversed(_DISK_COLUMNS):
        op.drop_column('disks', column.name)
    op.drop_index('ix_disk_attachments_scope_instance', table_name='disk_attachments')
    op.drop_table('disk_attachments')
    op.drop_index('ix_instances_scope_name', table_name='instances')
    op.drop_index('ix_instances_scope_state', table_name='instances')
    op.drop_index('ix_instances_scope_created', table_name='instances')
    op.drop_table('instances')
