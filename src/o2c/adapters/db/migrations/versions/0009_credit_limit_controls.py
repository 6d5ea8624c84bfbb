"""dual control of credit limits: each customer keeps the limit last approved (raises are
measured from it), and each company has a default limit for new customers

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 18:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import o2c.adapters.db.types

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def _amount() -> o2c.adapters.db.types.ExactDecimal:
    return o2c.adapters.db.types.ExactDecimal(4, precision=24)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # ADD COLUMN in place: a batch copy of the tables would drop their triggers (the
        # master data generation counters). Amounts are scaled integers on SQLite.
        op.execute("ALTER TABLE customers ADD COLUMN approved_credit_limit BIGINT "
                   "CONSTRAINT ck_customers_approved_credit_limit_positive "
                   "CHECK (approved_credit_limit IS NULL OR approved_credit_limit >= 0)")
        op.execute("ALTER TABLE companies ADD COLUMN default_credit_limit BIGINT DEFAULT 0 "
                   "NOT NULL CONSTRAINT ck_companies_default_credit_limit_positive "
                   "CHECK (default_credit_limit >= 0)")
    else:
        op.add_column("customers", sa.Column("approved_credit_limit", _amount(),
                                             nullable=True))
        op.create_check_constraint(
            op.f("ck_customers_approved_credit_limit_positive"), "customers",
            "approved_credit_limit IS NULL OR approved_credit_limit >= 0")
        op.add_column("companies", sa.Column("default_credit_limit", _amount(),
                                             nullable=False, server_default="0"))
        op.create_check_constraint(op.f("ck_companies_default_credit_limit_positive"),
                                   "companies", "default_credit_limit >= 0")
    # What exists was set before dual control measured raises this way: it counts as approved.
    op.execute("UPDATE customers SET approved_credit_limit = credit_limit")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("ALTER TABLE companies DROP COLUMN default_credit_limit")
        op.execute("ALTER TABLE customers DROP COLUMN approved_credit_limit")
    else:
        op.drop_constraint(op.f("ck_companies_default_credit_limit_positive"), "companies",
                           type_="check")
        op.drop_column("companies", "default_credit_limit")
        op.drop_constraint(op.f("ck_customers_approved_credit_limit_positive"), "customers",
                           type_="check")
        op.drop_column("customers", "approved_credit_limit")
