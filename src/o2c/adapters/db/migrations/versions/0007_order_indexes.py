"""the credit check reads a customer's uninvoiced orders from the index alone; only
backordered order lines are indexed for backorder allocation; journal lines lose their index
by account (the trial balance scans faster without it, and postings write less)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

BACKORDERED = sa.text("backorder_qty > 0")


def upgrade() -> None:
    with op.batch_alter_table('sales_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_orders_customer_state')
        batch_op.create_index('ix_sales_orders_customer_state',
                              ['customer_id', 'state', 'uninvoiced_amount'], unique=False)
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_order_lines_backorder')
        batch_op.create_index('ix_order_lines_backorder', ['product_id', 'backorder_qty'],
                              unique=False, sqlite_where=BACKORDERED,
                              postgresql_where=BACKORDERED)
    with op.batch_alter_table('journal_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_journal_lines_account')


def downgrade() -> None:
    with op.batch_alter_table('journal_lines', schema=None) as batch_op:
        batch_op.create_index('ix_journal_lines_account', ['company_id', 'account'],
                              unique=False)
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_order_lines_backorder')
        batch_op.create_index('ix_order_lines_backorder', ['product_id', 'backorder_qty'],
                              unique=False)
    with op.batch_alter_table('sales_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_orders_customer_state')
        batch_op.create_index('ix_sales_orders_customer_state', ['customer_id', 'state'],
                              unique=False)
