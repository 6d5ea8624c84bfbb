"""invoice documents and e-invoicing: customer document settings, invoice deliveries

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-29 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import o2c.adapters.db.types

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('customer_document_settings',
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('format', sa.String(length=16), nullable=False),
    sa.Column('peppol_id', sa.String(length=100), server_default='', nullable=False),
    sa.Column('codice_destinatario', sa.String(length=7), server_default='', nullable=False),
    sa.Column('pec', sa.String(length=200), server_default='', nullable=False),
    sa.Column('public_administration', sa.Boolean(), nullable=False),
    sa.Column('delivery_email', sa.String(length=200), server_default='', nullable=False),
    sa.Column('attach_xml', sa.Boolean(), nullable=False),
    sa.Column('updated_at', o2c.adapters.db.types.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_document_settings_customer_id_customers')),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_customer_document_settings'))
    )
    op.create_table('invoice_deliveries',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('outbox_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('recipient', sa.String(length=200), server_default='', nullable=False),
    sa.Column('formats', sa.String(length=64), server_default='', nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('message_id', sa.String(length=200), server_default='', nullable=False),
    sa.Column('last_error', sa.Text(), server_default='', nullable=False),
    sa.Column('sent_at', o2c.adapters.db.types.UtcDateTime(), nullable=True),
    sa.Column('updated_at', o2c.adapters.db.types.UtcDateTime(), nullable=False),
    sa.CheckConstraint("status IN ('retrying', 'sent', 'failed', 'skipped')", name=op.f('ck_invoice_deliveries_delivery_status')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_invoice_deliveries_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], name=op.f('fk_invoice_deliveries_outbox_id_outbox')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_deliveries')),
    sa.UniqueConstraint('invoice_id', 'channel', name=op.f('uq_invoice_deliveries_invoice_id_channel'))
    )


def downgrade() -> None:
    op.drop_table('invoice_deliveries')
    op.drop_table('customer_document_settings')
