"""fault injection rules and their firings

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('fault_rules',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('service', sa.String(length=16), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=True),
    sa.Column('account_id', sa.String(length=32), nullable=True),
    sa.Column('region', sa.String(length=64), nullable=True),
    sa.Column('code', sa.String(length=128), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('latency', sa.Float(), nullable=True),
    sa.Column('close', sa.Boolean(), nullable=False),
    sa.Column('remaining', sa.Integer(), nullable=True),
    sa.Column('probability', sa.Float(), nullable=True),
    sa.Column('seed', sa.BigInteger(), nullable=True),
    sa.Column('fired', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('fault_firings',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.Float(), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=False),
    sa.Column('service', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('region', sa.String(length=64), nullable=False),
    sa.Column('effect', sa.String(length=160), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_fault_firings_rule_id'), 'fault_firings', ['rule_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_fault_firings_rule_id'), table_name='fault_firings')
    op.drop_table('fault_firings')
    op.drop_table('fault_rules')
