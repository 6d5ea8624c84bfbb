"""Shared fixtures: a real, migrated database per test (SQLite always, PostgreSQL when
O2C_TEST_PG_URL is set), the app wired to it, and a clock tests move by hand."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from o2c.adapters.db.engine import make_engine
from o2c.adapters.db.migrate import upgrade
from o2c.adapters.db.tables import metadata
from o2c.bootstrap import App, SettableClock, bootstrap
from o2c.config import Settings

PG_URL = os.environ.get("O2C_TEST_PG_URL", "")
# Tests never touch var/secret_key: the key comes from the environment, as in production.
os.environ.setdefault("O2C_SECRET_KEY", "tests-only-secret-key-" + uuid.uuid4().hex)
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: runs only when O2C_TEST_PG_URL is set")


# -- SQLite: one migrated template per session, copied for each test -------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "o2c.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:  # fold the WAL into the file so a copy is complete
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    target = tmp_path / "o2c.db"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite:///{target}"


# -- PostgreSQL: one migrated database per session, emptied before each test ------------------


@pytest.fixture(scope="session")
def pg_session_url() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("PostgreSQL tests need O2C_TEST_PG_URL")
    name = f"o2c_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def empty_postgres(url: str) -> None:
    engine = create_engine(url)
    names = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def pg_url(pg_session_url: str) -> str:
    empty_postgres(pg_session_url)
    return pg_session_url


# -- the database a test runs on ------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_db_url(request: pytest.FixtureRequest) -> str:
    """Parametrises a test over both databases (PostgreSQL skipped without O2C_TEST_PG_URL)."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    """SQLite only (service tests)."""
    return sqlite_url


def _engine(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    yield from _engine(db_url)


@pytest.fixture
def any_engine(any_db_url: str) -> Iterator[Engine]:
    yield from _engine(any_db_url)


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(START)


@pytest.fixture
def app(engine: Engine, db_url: str, clock: SettableClock) -> App:
    return bootstrap(Settings(database_url=db_url), engine=engine, clock=clock)


@pytest.fixture
def any_app(any_engine: Engine, any_db_url: str, clock: SettableClock) -> App:
    return bootstrap(Settings(database_url=any_db_url), engine=any_engine, clock=clock)
