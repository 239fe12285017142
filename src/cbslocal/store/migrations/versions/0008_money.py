"""money: each account's balance and payment permission, each key's payment permission, the
ledger of every change of a balance, and what each prepaid disk's term cost

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# Accounts of an earlier release start with the emulator's default balance, 1,000,000.00 CNY
# (what a new account gets unless the configuration says otherwise), in fen.
DEFAULT_BALANCE_FEN = '100000000'


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy of the table): SQLite keeps everything else as it is.
    op.add_column('accounts', sa.Column('balance', sa.BigInteger(),
                                        server_default=DEFAULT_BALANCE_FEN, nullable=False))
    op.add_column('accounts', sa.Column('payment_allowed', sa.Boolean(),
                                        server_default=sa.true(), nullable=False))
    op.add_column('accounts', sa.Column('usage_billed_until', sa.Float(), nullable=True))
    op.add_column('accounts', sa.Column('unsettled', sa.Text(), server_default='0',
                                        nullable=False))
    op.add_column('api_keys', sa.Column('payment_allowed', sa.Boolean(),
                                        server_default=sa.true(), nullable=False))
    for column in (sa.Column('paid_fen', sa.BigInteger(), server_default='0', nullable=False),
                   sa.Column('term_started_at', sa.Float(), nullable=True),
                   sa.Column('auto_renew_period', sa.Integer(), server_default='1',
                             nullable=False),
                   sa.Column('billed_from', sa.Float(), nullable=True),
                   sa.Column('order_pending_until', sa.Float(), nullable=True)):
        op.add_column('disks', column)
    op.create_table('ledger',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('at', sa.Float(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('balance_after', sa.BigInteger(), nullable=False),
    sa.Column('deal_name', sa.String(length=32), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('region', sa.String(length=64), nullable=False),
    sa.Column('resource_ids', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_ledger_account', 'ledger', ['account_id', 'id'])
    # Elastic prepaid disks now expire at their deadline (cbs/prepaid.py): what they wait for.
    op.execute("INSERT INTO transitions (kind, resource_id, account_id, region, due_at, payload) "
               "SELECT 'disk.deadline', disk_id, account_id, region, deadline_at, '{}' FROM disks "
               "WHERE charge_type = 'PREPAID' AND portable AND disk_usage = 'DATA_DISK' "
               "AND deadline_at IS NOT NULL AND disk_state != 'TORECYCLE'")
    # Their opening entries, as a new account gets: the ledger sums to the balance.
    op.execute("INSERT INTO ledger (account_id, at, kind, amount, balance_after, deal_name, "
               "action, region, resource_ids, description) SELECT account_id, created_at, "
               "'OPENING', balance, balance, '', '', '', '[]', 'opening balance' FROM accounts")


def downgrade() -> None:
    op.execute("DELETE FROM transitions WHERE kind = 'disk.deadline'")
    op.drop_index('ix_ledger_account', table_name='ledger')
    op.drop_table('ledger')
    for table, column in (('disks', 'order_pending_until'), ('disks', 'billed_from'),
                          ('disks', 'auto_renew_period'), ('disks', 'term_started_at'),
                          ('disks', 'paid_fen'),
                          ('api_keys', 'payment_allowed'), ('accounts', 'unsettled'),
                          ('accounts', 'usage_billed_until'), ('accounts', 'payment_allowed'),
                          ('accounts', 'balance')):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
