"""instalments as separately due amounts: one row per instalment of each open item, with
its company-currency share and what the later instalments add up to, so that aging, overdue
and the credit check sum what is actually due (not the whole residual once the first
instalment falls due)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 07:00:00
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

import o2c.adapters.db.types
from o2c.adapters.db.types import AMOUNT
from o2c.domain.money import allocate

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    op.create_table('open_item_installments',
    sa.Column('open_item_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('amount', o2c.adapters.db.types.ExactDecimal(4, precision=24), nullable=False),
    sa.Column('amount_company', o2c.adapters.db.types.ExactDecimal(4, precision=24), nullable=False),
    sa.Column('later', o2c.adapters.db.types.ExactDecimal(4, precision=24), nullable=False),
    sa.Column('later_company', o2c.adapters.db.types.ExactDecimal(4, precision=24), nullable=False),
    sa.ForeignKeyConstraint(['open_item_id'], ['open_items.id'], name=op.f('fk_open_item_installments_open_item_id_open_items')),
    sa.PrimaryKeyConstraint('open_item_id', 'seq', name=op.f('pk_open_item_installments'))
    )
    _backfill()


def _backfill() -> None:
    """Existing open items get their instalments from the JSON schedule they carry (one
    instalment due on the final due date when it is empty)."""
    conn = op.get_bind()
    items = sa.table('open_items', sa.column('id', sa.Integer()), sa.column('amount', AMOUNT),
                     sa.column('amount_company', AMOUNT), sa.column('company_currency'),
                     sa.column('final_due_date', sa.Date()), sa.column('installments', sa.JSON()))
    target = sa.table('open_item_installments', sa.column('open_item_id', sa.Integer()),
                      sa.column('seq', sa.Integer()), sa.column('due_date', sa.Date()),
                      sa.column('amount', AMOUNT), sa.column('amount_company', AMOUNT),
                      sa.column('later', AMOUNT), sa.column('later_company', AMOUNT))
    last = 0
    while True:
        rows = conn.execute(sa.select(items).where(items.c.id > last)
                            .order_by(items.c.id).limit(BATCH)).mappings().all()
        if not rows:
            return
        last = rows[-1]['id']
        out = []
        for r in rows:
            schedule = sorted(((date.fromisoformat(i['due_date']), Decimal(i['amount']))
                               for i in r['installments'] or []), key=lambda i: i[0]) \
                or [(r['final_due_date'], r['amount'])]
            amount, company = r['amount'], r['amount_company']
            parts = (allocate(company, [a for _, a in schedule], r['company_currency'])
                     if amount else [Decimal(0)] * len(schedule))
            later, later_company = amount, company
            for seq, ((due, part), share) in enumerate(zip(schedule, parts, strict=True), 1):
                later -= part
                later_company -= share
                out.append({'open_item_id': r['id'], 'seq': seq, 'due_date': due,
                            'amount': part, 'amount_company': share, 'later': later,
                            'later_company': later_company})
        conn.execute(sa.insert(target), out)


def downgrade() -> None:
    op.drop_table('open_item_installments')
