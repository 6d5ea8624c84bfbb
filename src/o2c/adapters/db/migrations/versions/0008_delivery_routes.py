"""warehouses choose their delivery route (pick, pack, ship; pick, ship; ship only) and each
shipment keeps the route it was created with

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

ROUTES = "('pick_pack_ship', 'pick_ship', 'ship_only')"
# (table, column, check constraint name)
COLUMNS = (("warehouses", "delivery_route", "ck_warehouses_known_delivery_route"),
           ("shipments", "route", "ck_shipments_known_route"))


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, column, check in COLUMNS:
        if sqlite:
            # ADD COLUMN in place: a batch copy of the table would drop its triggers (the
            # master data generation counters on warehouses).
            op.execute(f"ALTER TABLE {table} ADD COLUMN {column} VARCHAR(16) "
                       f"DEFAULT 'pick_pack_ship' NOT NULL "
                       f"CONSTRAINT {check} CHECK ({column} IN {ROUTES})")
        else:
            op.add_column(table, sa.Column(column, sa.String(16), nullable=False,
                                           server_default="pick_pack_ship"))
            op.create_check_constraint(op.f(check), table, f"{column} IN {ROUTES}")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, column, check in reversed(COLUMNS):
        if sqlite:
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        else:
            op.drop_constraint(op.f(check), table, type_="check")
            op.drop_column(table, column)
