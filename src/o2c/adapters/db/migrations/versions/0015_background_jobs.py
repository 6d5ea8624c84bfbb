"""background jobs (issue 19): procrastinate's job tables in o2c's own PostgreSQL database,
so a command enqueues its jobs in its own transaction; the errors of failed job attempts
(procrastinate keeps none) for the failed-jobs view; chunked runs and their progress.

Procrastinate's schema is applied here, from the version pinned in pyproject.toml, rather
than by `procrastinate schema --apply`: `o2c db upgrade` is the one step that brings a
database up to date, and the job tables must exist before the first command defers a job.
Upgrading procrastinate past the pinned minor version means a new o2c migration that runs
procrastinate's own migration files for that step (procrastinate/sql/migrations).
SQLite has no job tables: its jobs run in-process (adapters/jobs.py).

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-05 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from o2c.adapters.db.types import UtcDateTime

revision = '0015'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        from procrastinate.schema import SchemaManager

        raw = bind.connection.driver_connection  # no parameter substitution in the schema
        assert raw is not None
        with raw.cursor() as cursor:
            cursor.execute(SchemaManager.get_schema())
    op.create_table(
        "job_errors",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("task", sa.String(100), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_job_errors_job", "job_errors", ["job_id"])
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(60), nullable=False),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("as_of", UtcDateTime(), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "job_run_chunks",
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("job_runs.id"), primary_key=True),
        sa.Column("chunk", sa.Integer(), primary_key=True),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("done_at", UtcDateTime(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("job_run_chunks")
    op.drop_table("job_runs")
    op.drop_index("ix_job_errors_job", "job_errors")
    op.drop_table("job_errors")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, "
                   "procrastinate_jobs, procrastinate_workers CASCADE")
        op.execute("DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, "
                   "procrastinate_job_event_type, procrastinate_job_status CASCADE")
        op.execute("""DO $$ DECLARE f record; BEGIN
            FOR f IN SELECT p.oid::regprocedure AS sig FROM pg_proc p
                     JOIN pg_namespace n ON n.oid = p.pronamespace
                     WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate%'
            LOOP EXECUTE 'DROP FUNCTION ' || f.sig || ' CASCADE'; END LOOP; END $$""")
