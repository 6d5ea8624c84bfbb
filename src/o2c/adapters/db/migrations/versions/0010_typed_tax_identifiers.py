"""typed tax identifiers and e-invoice data: a customer's VAT id holds only VAT identifiers
(a US EIN or a Mexican RFC moves to tax_code); companies keep their register data
(registration: codice fiscale, REA office and number, share capital, sole shareholder);
products say whether they are goods or a service (cross-border services are reverse charged)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# Kept here as they were when this migration was written (domain.parties.VAT_COUNTRIES).
VAT_COUNTRIES = ("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR",
                 "HR", "HU", "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE",
                 "SI", "SK", "GB", "CH", "NO")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # ADD COLUMN in place: a batch copy would drop the master-data triggers.
        op.execute("ALTER TABLE companies ADD COLUMN registration JSON DEFAULT '{}' NOT NULL")
        op.execute("ALTER TABLE products ADD COLUMN kind VARCHAR(16) DEFAULT 'goods' NOT NULL "
                   "CONSTRAINT ck_products_product_kind CHECK (kind IN ('goods', 'service'))")
    else:
        op.add_column("companies", sa.Column("registration", sa.JSON(), nullable=False,
                                             server_default="{}"))
        op.add_column("products", sa.Column("kind", sa.String(length=16), nullable=False,
                                            server_default="goods"))
        op.create_check_constraint(op.f("ck_products_product_kind"), "products",
                                   "kind IN ('goods', 'service')")
    countries = ", ".join(f"'{c}'" for c in VAT_COUNTRIES)
    op.execute("UPDATE customers SET tax_code = vat_id, vat_id = '' "
               f"WHERE vat_id <> '' AND tax_code = '' AND country NOT IN ({countries})")
    op.execute("UPDATE customers SET vat_id = '' "
               f"WHERE vat_id <> '' AND country NOT IN ({countries})")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("ALTER TABLE products DROP COLUMN kind")
        op.execute("ALTER TABLE companies DROP COLUMN registration")
    else:
        op.drop_constraint(op.f("ck_products_product_kind"), "products", type_="check")
        op.drop_column("products", "kind")
        op.drop_column("companies", "registration")
