"""Migrations build exactly the schema the code declares, and can be undone and redone."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from o2c.adapters.db.engine import make_engine
from o2c.adapters.db.migrate import current, downgrade, upgrade
from o2c.adapters.db.tables import metadata


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        # procrastinate's job tables (PostgreSQL, migration 0015) are its own, not declared
        return [d for d in compare_metadata(context, metadata) if not _procrastinate(d)]


def _procrastinate(difference: object) -> bool:
    if not (isinstance(difference, tuple) and len(difference) > 1):
        return False
    item = difference[1]
    table = getattr(item, "table", None)
    names = (getattr(item, "name", ""), getattr(table, "name", ""))
    return any(str(name).startswith(("procrastinate_", "idx_procrastinate"))
               for name in names)


def _tables(engine: Engine) -> set[str]:
    return {name for name in inspect(engine).get_table_names()
            if not name.startswith("procrastinate_")}


def _check_constraints(engine: Engine) -> dict[str, set[str]]:
    inspector = inspect(engine)
    return {table.name: {str(c["name"]) for c in inspector.get_check_constraints(table.name)}
            for table in metadata.sorted_tables}


def _declared_check_constraints() -> dict[str, set[str]]:
    from sqlalchemy import CheckConstraint

    return {table.name: {str(c.name) for c in table.constraints
                         if isinstance(c, CheckConstraint)}
            for table in metadata.sorted_tables}


def test_upgrading_an_empty_database_yields_the_declared_schema(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        assert current(engine) is None
        upgrade(engine)
        assert current(engine) == "0015"
        assert _differences(engine) == []
        assert _tables(engine) == {*metadata.tables, "alembic_version"}
        # Alembic does not compare CHECK constraints: the invariants they back are checked here.
        assert _check_constraints(engine) == _declared_check_constraints()
    finally:
        engine.dispose()


def test_downgrading_to_base_and_upgrading_again_gives_the_same_schema(
        empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        upgrade(engine)
        downgrade(engine, "base")
        assert current(engine) is None
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)
        assert _differences(engine) == []
        assert _check_constraints(engine) == _declared_check_constraints()
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                triggers = conn.exec_driver_sql(
                    "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
                    "AND tgname NOT LIKE 'procrastinate%%' ORDER BY tgname"
                ).scalars().all()
            assert triggers == ["audit_log_moves_head", "journal_entry_balanced"]
    finally:
        engine.dispose()
