"""what the processes sharing one database must agree on: a generation on the clock, shared
settings (configuration, timing, the control plane's token), request rates

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy of the table): SQLite keeps everything else as it is.
    op.add_column('clock', sa.Column('generation', sa.BigInteger(), server_default='0',
                                     nullable=False))
    op.create_table('shared_settings',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('request_rates',
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('region', sa.String(length=64), nullable=False),
    sa.Column('recent', sa.Text(), nullable=False),
    sa.Column('admitted', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'action', 'region')
    )


def downgrade() -> None:
    op.drop_table('request_rates')
    op.drop_table('shared_settings')
    with op.batch_alter_table('clock') as batch:
        batch.drop_column('generation')
