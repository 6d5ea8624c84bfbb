"""master data generations: counters that let SQLite units of work cache master data

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# The tables o2c.adapters.db.master_data_cache caches (kept literal: a migration must not
# change when the code does).
CACHED_TABLES = ("companies", "customers", "products", "warehouses", "payment_terms",
                 "vat_rates")
EVENTS = ("insert", "update", "delete")


def upgrade() -> None:
    op.create_table('master_data_generations',
    sa.Column('table_name', sa.String(length=40), nullable=False),
    sa.Column('generation', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('table_name', name=op.f('pk_master_data_generations'))
    )
    if op.get_bind().dialect.name != "sqlite":
        return  # the cache is SQLite-only; PostgreSQL keeps the table empty
    op.bulk_insert(sa.table("master_data_generations", sa.column("table_name", sa.String),
                            sa.column("generation", sa.BigInteger)),
                   [{"table_name": name, "generation": 1} for name in CACHED_TABLES])
    for name in CACHED_TABLES:
        for event in EVENTS:
            op.execute(f"""
CREATE TRIGGER {name}_{event}_moves_generation AFTER {event.upper()} ON {name}
BEGIN
    UPDATE master_data_generations SET generation = generation + 1
    WHERE table_name = '{name}';
END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in CACHED_TABLES:
            for event in EVENTS:
                op.execute(f"DROP TRIGGER IF EXISTS {name}_{event}_moves_generation")
    op.drop_table('master_data_generations')
