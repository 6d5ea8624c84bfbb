"""On SQLite, units of work keep master data (customers, companies, products, warehouses,
payment terms, VAT rates) in memory between commands. Whoever changes those rows (a command,
another process, a statement inside the same transaction) is seen by the next read; a rolled
back transaction leaves nothing behind in the cache."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from sqlalchemy import Engine, event, text

from o2c.adapters.db.master_data_cache import CACHED_TABLES, master_data_cache
from o2c.bootstrap import App
from o2c.domain import commands as c
from o2c.services.uow import UnitOfWork
from tests.fixtures.world import World, build_world, line

D = Decimal


@contextmanager
def statements_run(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement SQLite runs on connections the engine opens from now on."""
    seen: list[str] = []
    engine.dispose()  # so the next unit of work opens a traced connection

    def trace(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.set_trace_callback(seen.append)

    event.listen(engine, "connect", trace)
    try:
        yield seen
    finally:
        event.remove(engine, "connect", trace)


def master_data_reads(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith("SELECT")
            and any(f"FROM {table}" in s for table in CACHED_TABLES)]


def place_order(app: App, world: World, customer: str = "rossi", quantity: str = "1") -> int:
    return int(app.bus.handle(c.CreateOrder(world.customers[customer],
                                            (line(world.products["CHAIR"], quantity),))))


def other_process(engine: Engine) -> sqlite3.Connection:
    """A plain sqlite3 connection to the same file, as another program would open it."""
    database = engine.url.database
    assert database
    return sqlite3.connect(database, isolation_level=None)


def test_repeated_orders_read_master_data_from_memory(app: App) -> None:
    world = build_world(app.bus)
    place_order(app, world)  # the first order reads and keeps what it needs
    with statements_run(app.engine) as seen:
        place_order(app, world)
    assert any("INSERT INTO sales_orders" in s for s in seen)
    assert master_data_reads(seen) == []


def test_a_credit_limit_lowered_by_a_command_holds_the_next_order(app: App) -> None:
    world = build_world(app.bus)
    first = place_order(app, world)
    assert app.bus.handle(c.ConfirmOrder(first)).state == "confirmed"
    app.bus.handle(c.UpdateCustomer(world.customers["rossi"], {"credit_limit": D(100)}))
    second = place_order(app, world)
    assert app.bus.handle(c.ConfirmOrder(second)).state == "credit_hold"


def test_changes_written_by_another_process_are_seen(app: App) -> None:
    world = build_world(app.bus)
    first = place_order(app, world)
    app.bus.handle(c.ConfirmOrder(first))
    outside = other_process(app.engine)
    try:
        outside.execute("UPDATE customers SET credit_blocked = 1 WHERE id = ?",
                        (world.customers["rossi"],))
        outside.execute("UPDATE products SET unit_price = unit_price * 2 WHERE id = ?",
                        (world.products["CHAIR"],))
    finally:
        outside.close()
    second = place_order(app, world)
    with UnitOfWork(app.engine, app.clock) as uow:
        order = uow.orders.get(second)
        assert order.lines[0].unit_price == D("240.00")
    assert app.bus.handle(c.ConfirmOrder(second)).state == "credit_hold"


def test_a_unit_of_work_sees_its_own_writes_to_master_data(app: App) -> None:
    world = build_world(app.bus)
    place_order(app, world, "rossi")
    place_order(app, world, "dupont")  # both customers are now kept in memory
    with UnitOfWork(app.engine, app.clock) as uow:
        assert uow.customers.get(world.customers["rossi"]).credit_limit == D(5000)
        uow.conn.execute(text("UPDATE customers SET credit_limit = 770000 WHERE id = :id"),
                         {"id": world.customers["dupont"]})
        assert uow.customers.get(world.customers["dupont"]).credit_limit == D(77)
        uow.commit()


def test_a_rolled_back_unit_of_work_leaves_nothing_in_the_cache(app: App) -> None:
    world = build_world(app.bus)
    rossi = world.customers["rossi"]
    place_order(app, world)
    with UnitOfWork(app.engine, app.clock) as uow:  # never commits
        uow.conn.execute(text("UPDATE customers SET credit_limit = 10000 WHERE id = :id"),
                         {"id": rossi})
        assert uow.customers.get(rossi).credit_limit == D(1)
    with UnitOfWork(app.engine, app.clock) as uow:
        assert uow.customers.get(rossi).credit_limit == D(5000)


def test_without_generation_counters_every_read_goes_to_the_database(app: App) -> None:
    world = build_world(app.bus)
    place_order(app, world)
    with app.engine.begin() as conn:
        conn.execute(text("DELETE FROM master_data_generations"))
    outside = other_process(app.engine)
    try:
        outside.execute("UPDATE customers SET credit_blocked = 1 WHERE id = ?",
                        (world.customers["rossi"],))
    finally:
        outside.close()
    with statements_run(app.engine) as seen:
        order = place_order(app, world)
    assert any("FROM customers" in s for s in master_data_reads(seen))
    assert app.bus.handle(c.ConfirmOrder(order)).state == "credit_hold"


def test_every_write_to_a_cached_table_moves_its_counter(app: App) -> None:
    build_world(app.bus)

    def generations() -> dict[str, int]:
        with app.engine.connect() as conn:
            rows = conn.execute(text("SELECT table_name, generation FROM "
                                     "master_data_generations")).all()
        return {name: generation for name, generation in rows}

    before = generations()
    assert set(before) == set(CACHED_TABLES)  # the migration and the cache name the same
    with app.engine.connect() as conn:
        triggers = set(conn.execute(text(
            "SELECT tbl_name || ':' || name FROM sqlite_master WHERE type = 'trigger' "
            "AND name LIKE '%moves_generation'")).scalars())
    assert triggers == {f"{table}:{table}_{event}_moves_generation"
                        for table in CACHED_TABLES for event in ("insert", "update", "delete")}
    outside = other_process(app.engine)
    try:
        outside.execute("UPDATE vat_rates SET rate = rate WHERE country = 'IT'")
        outside.execute("DELETE FROM payment_terms WHERE code = 'NET30' AND 0")  # no row
    finally:
        outside.close()
    after = generations()
    assert after["vat_rates"] > before["vat_rates"]
    assert after["payment_terms"] == before["payment_terms"]
    assert {k: v for k, v in after.items() if k != "vat_rates"} == \
        {k: v for k, v in before.items() if k != "vat_rates"}


def test_postgresql_reads_master_data_from_the_database(any_app: App) -> None:
    cache = master_data_cache(any_app.engine)
    assert (cache is None) == (any_app.engine.dialect.name == "postgresql")
