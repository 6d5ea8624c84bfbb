"""partial indexes on what is still open: open items with a residual, payments with
unapplied money, so the credit check, aging and matching never read the paid history

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

OPEN_ITEM = sa.text("residual > 0")
UNAPPLIED = sa.text("unapplied > 0")


def upgrade() -> None:
    with op.batch_alter_table('open_items', schema=None) as batch_op:
        batch_op.create_index('ix_open_items_customer_open',
                              ['customer_id', 'kind', 'due_date', 'residual'], unique=False,
                              sqlite_where=OPEN_ITEM, postgresql_where=OPEN_ITEM)
        batch_op.create_index('ix_open_items_company_open',
                              ['company_id', 'kind', 'due_date', 'residual_company'],
                              unique=False, sqlite_where=OPEN_ITEM, postgresql_where=OPEN_ITEM)
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index('ix_payments_customer_unapplied', ['customer_id', 'unapplied'],
                              unique=False, sqlite_where=UNAPPLIED, postgresql_where=UNAPPLIED)


def downgrade() -> None:
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index('ix_payments_customer_unapplied')
    with op.batch_alter_table('open_items', schema=None) as batch_op:
        batch_op.drop_index('ix_open_items_company_open')
        batch_op.drop_index('ix_open_items_customer_open')
