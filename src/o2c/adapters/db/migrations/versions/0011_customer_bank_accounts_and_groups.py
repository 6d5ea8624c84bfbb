"""customers' bank accounts and groups: payer IBANs say where they come from (master data,
payment history, learned from an applied bank line); a customer may belong to a parent that
pays for it; bank lines keep the ultimate debtor (camt UltmtDbtr) and the amount the payer
sent in another currency (camt InstdAmt)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 07:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from o2c.adapters.db.types import ExactDecimal

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("bank_lines", sa.Column("ultimate_debtor", sa.String(length=200),
                                          nullable=False, server_default=""))
    op.add_column("bank_lines", sa.Column("instructed_amount", ExactDecimal(4, precision=24),
                                          nullable=True))
    op.add_column("bank_lines", sa.Column("instructed_currency", sa.String(length=3),
                                          nullable=False, server_default=""))
    op.add_column("bank_payer_accounts", sa.Column("source", sa.String(length=16),
                                                   nullable=False, server_default="learned"))
    op.create_index("ix_bank_payer_accounts_customer", "bank_payer_accounts", ["customer_id"])
    op.create_table(
        "customer_groups",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("parent_id <> customer_id",
                           name=op.f("ck_customer_groups_not_own_parent")),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"],
                                name=op.f("fk_customer_groups_company_id_companies")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name=op.f("fk_customer_groups_customer_id_customers")),
        sa.ForeignKeyConstraint(["parent_id"], ["customers.id"],
                                name=op.f("fk_customer_groups_parent_id_customers")),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_groups")))
    op.create_index("ix_customer_groups_parent", "customer_groups", ["parent_id"])


def downgrade() -> None:
    op.drop_index("ix_customer_groups_parent", table_name="customer_groups")
    op.drop_table("customer_groups")
    op.drop_index("ix_bank_payer_accounts_customer", table_name="bank_payer_accounts")
    with op.batch_alter_table("bank_payer_accounts") as batch:
        batch.drop_column("source")
    with op.batch_alter_table("bank_lines") as batch:
        batch.drop_column("instructed_currency")
        batch.drop_column("instructed_amount")
        batch.drop_column("ultimate_debtor")
