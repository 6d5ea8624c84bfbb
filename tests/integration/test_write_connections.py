"""Units of work on SQLite reuse the connection the previous one gave back; on PostgreSQL every
connection goes back to the pool. A kept connection never carries a transaction over."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from o2c.adapters.db.engine import SQLiteWriteTransaction, make_engine, write_connections
from o2c.bootstrap import App, SettableClock
from o2c.domain import commands as c
from o2c.domain.errors import DomainError
from o2c.services.uow import UnitOfWork
from tests.fixtures.world import build_world
from tests.services import support as s


def test_sqlite_units_of_work_reuse_the_returned_connection(app: App) -> None:
    with UnitOfWork(app.engine, app.clock) as first:
        used = first.conn
        first.commit()
    assert not used.closed  # kept, not given back to the pool
    with UnitOfWork(app.engine, app.clock) as second:
        assert second.conn is used  # no checkout from the pool
        assert second.conn.connection.dbapi_connection.in_transaction  # type: ignore[union-attr]


def test_a_unit_of_work_holds_the_sqlite_write_lock_from_its_start(app: App) -> None:
    other = sqlite3.connect(app.engine.url.database or "", timeout=0, isolation_level=None)
    try:
        with UnitOfWork(app.engine, app.clock) as uow:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            uow.commit()
        other.execute("BEGIN IMMEDIATE")  # released at commit
        other.rollback()
    finally:
        other.close()


def test_core_statements_inside_a_unit_of_work_commit_and_roll_back_with_it(app: App) -> None:
    build_world(app.bus)
    rename = text("UPDATE warehouses SET name = :name")
    with UnitOfWork(app.engine, app.clock) as uow:
        uow.conn.execute(rename, {"name": "Renamed"})  # SQLAlchemy Core, inside our BEGIN
        uow.commit()
    with UnitOfWork(app.engine, app.clock) as uow:
        uow.conn.execute(rename, {"name": "Rolled back"})
        # no commit: leaving the block rolls back
    with app.engine.connect() as conn:
        assert set(conn.execute(text("SELECT name FROM warehouses")).scalars()) == {"Renamed"}
    idle = write_connections(app.engine)._idle
    assert idle is not None and not idle.in_transaction()
    assert not idle.connection.dbapi_connection.in_transaction  # type: ignore[union-attr]


def test_a_refused_command_leaves_no_transaction_on_the_kept_connection(app: App) -> None:
    world = build_world(app.bus)
    before = s.row_counts(app.engine)
    with pytest.raises(DomainError):
        app.bus.handle(c.ConfirmOrder(999_999))
    idle = write_connections(app.engine)._idle
    assert idle is not None and not idle.in_transaction()
    assert not idle.connection.dbapi_connection.in_transaction  # type: ignore[union-attr]
    # The next command takes SQLite's write lock again and goes through.
    order = app.bus.handle(c.CreateOrder(world.customers["rossi"], (
        c.OrderLineInput(world.products["BOOK"], s.D(1)),)))
    assert s.row_counts(app.engine)["sales_orders"] == before["sales_orders"] + 1
    assert order


def test_disposing_the_engine_closes_the_kept_connection(app: App, engine: Engine) -> None:
    with UnitOfWork(engine, app.clock) as uow:
        uow.commit()
    source = write_connections(engine)
    kept = source._idle
    assert kept is not None
    engine.dispose()
    assert source._idle is None and kept.closed


def test_threads_share_the_kept_connection_one_at_a_time(app: App) -> None:
    world = build_world(app.bus)
    errors: list[BaseException] = []

    def place_orders() -> None:
        try:
            for _ in range(10):
                app.bus.handle(c.CreateOrder(world.customers["dupont"], (
                    c.OrderLineInput(world.products["CHAIR"], s.D(1)),)))
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=place_orders) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert s.row_counts(app.engine)["sales_orders"] == 40


@pytest.mark.postgres
def test_postgres_connections_go_back_to_the_pool(pg_url: str, clock: SettableClock) -> None:
    engine = make_engine(pg_url)
    try:
        with UnitOfWork(engine, clock) as uow:
            uow.commit()
        assert write_connections(engine)._idle is None
        assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        engine.dispose()


def test_a_busy_write_lock_is_reported_as_sqlalchemy_reports_it(app: App) -> None:
    # The bus retries "database is locked" (a DBAPIError): the direct BEGIN must raise that,
    # not sqlite3's own exception.
    other = sqlite3.connect(app.engine.url.database or "", timeout=0, isolation_level=None)
    connection = app.engine.connect()
    try:
        connection.connection.dbapi_connection.execute(  # type: ignore[union-attr]
            "PRAGMA busy_timeout=0")
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(OperationalError, match="database is locked"):
            SQLiteWriteTransaction(connection)
    finally:
        other.rollback()
        other.close()
        connection.close()
