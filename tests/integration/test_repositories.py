"""The mapper and the repositories on both databases: optimistic versions, gapless numbers
assigned in the posting transaction, immutable posted documents, and the constraints that
back the cross-row invariants."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from o2c.adapters.db import tables as t
from o2c.adapters.db.mapper import Repository
from o2c.adapters.db.repositories import CUSTOMERS, ORDERS
from o2c.bootstrap import App
from o2c.domain import commands as c
from o2c.domain.errors import ConcurrentModification, DocumentPosted, InvalidInput
from o2c.services.invoicing import invoice_order
from tests.conftest import START
from tests.fixtures.world import World, build_world, line
from tests.services import support as s

D = Decimal


@pytest.fixture
def world(any_app: App) -> World:
    return build_world(any_app.bus)


def test_a_stale_copy_cannot_overwrite_a_newer_version(any_app: App, world: World) -> None:
    rossi = world.customers["rossi"]
    with any_app.engine.connect() as conn:
        repository = Repository(conn, CUSTOMERS, START)
        with conn.begin():
            stale = repository.get(rossi)
        assert stale.version == 0
        any_app.bus.handle(c.UpdateCustomer(rossi, {"name": "Rossi Arredamenti S.r.l."}))
        stale.name = "Rossi & Figli"
        with pytest.raises(ConcurrentModification) as error, conn.begin():
            repository.flush()
    assert error.value.details == {"object_type": "customer", "object_id": str(rossi)}
    customer = s.row(any_app.engine, t.customers, rossi)
    assert (customer["name"], customer["version"]) == ("Rossi Arredamenti S.r.l.", 1)


def test_each_change_of_an_aggregate_bumps_its_version_once_per_transaction(
        any_app: App, world: World) -> None:
    order_id = any_app.bus.handle(c.CreateOrder(world.customers["rossi"], (
        line(world.products["CHAIR"], 2),)))
    assert s.row(any_app.engine, t.sales_orders, order_id)["version"] == 0
    # Confirming changes the order several times (confirm, reserve) in one transaction.
    any_app.bus.handle(c.ConfirmOrder(order_id))
    assert s.row(any_app.engine, t.sales_orders, order_id)["version"] == 1
    with any_app.engine.connect() as conn, conn.begin():
        loaded = Repository(conn, ORDERS, START).get(order_id)
    assert (loaded.number, loaded.state.value, loaded.gross_amount) == (
        f"SO-{order_id:06d}", "confirmed", D("292.80"))
    assert [(x.quantity, x.reserved_qty, x.unit_price) for x in loaded.lines] == [
        (D(2), D(2), D("120.00"))]


def test_posting_assigns_the_next_number_in_the_same_transaction(
        any_app: App, world: World) -> None:
    with any_app.bus.uow_factory("test") as uow:
        assert [uow.lookups.next_number(world.company_id, "INV", 2026) for _ in range(3)] \
            == [1, 2, 3]
        assert uow.lookups.next_number(world.company_id, "CN", 2026) == 1
        assert uow.lookups.next_number(world.company_id, "INV", 2027) == 1
        # not committed: every number goes back
    with any_app.bus.uow_factory("test") as uow:
        assert uow.lookups.next_number(world.company_id, "INV", 2026) == 1
        uow.commit()
    with any_app.bus.uow_factory("test") as uow:
        assert uow.lookups.next_number(world.company_id, "INV", 2026) == 2


def test_a_failed_posting_gives_its_number_back(any_app: App, world: World) -> None:
    order_id = any_app.bus.handle(c.CreateOrder(world.customers["rossi"], (
        line(world.products["CHAIR"], 2),)))
    [shipment_id] = any_app.bus.handle(c.ConfirmOrder(order_id)).shipment_ids
    [order_line] = s.order_lines(any_app.engine, order_id)
    with pytest.raises(RuntimeError), any_app.bus.uow_factory("test") as uow:
        posted = invoice_order(uow, uow.orders.get(order_id, for_update=True),
                               {order_line["id"]: D(1)}, date(2026, 3, 2))
        assert posted.number == "INV-2026-00001"
        uow.flush()
        raise RuntimeError("something after the posting failed")
    assert s.rows(any_app.engine, t.invoices) == []
    s.ship(any_app.bus, shipment_id)
    [invoice] = s.invoices_of_order(any_app.engine, order_id)
    assert invoice["number"] == "INV-2026-00001"
    [sequence] = s.rows(any_app.engine, t.number_sequences)
    assert (sequence["series"], sequence["year"], sequence["last_value"]) == ("INV", 2026, 1)


def test_numbers_are_counted_per_company(any_app: App, world: World) -> None:
    bus = any_app.bus
    other = bus.handle(c.CreateCompany("BETA", "Beta SARL", "FR", "EUR"))
    warehouse = bus.handle(c.CreateWarehouse(other, "PAR", "Paris"))
    product = bus.handle(c.CreateProduct(other, "LAMP", "Lamp", D("30.00")))
    bus.handle(c.ReceiveStock(warehouse, product, D(10)))
    customer = bus.handle(c.CreateCustomer(other, "Client", "FR", credit_limit=None))
    numbers = []
    for customer_id, product_id in ((world.customers["rossi"], world.products["BOOK"]),
                                    (customer, product), (customer, product),
                                    (world.customers["rossi"], world.products["BOOK"])):
        order_id = bus.handle(c.CreateOrder(customer_id, (line(product_id, 1),)))
        [shipment_id] = bus.handle(c.ConfirmOrder(order_id)).shipment_ids
        s.ship(bus, shipment_id)
        [invoice] = s.invoices_of_order(any_app.engine, order_id)
        numbers.append((invoice["company_id"], invoice["number"]))
    assert numbers == [(world.company_id, "INV-2026-00001"), (other, "INV-2026-00001"),
                       (other, "INV-2026-00002"), (world.company_id, "INV-2026-00002")]
    s.assert_ledger_ok(any_app.engine)


def test_a_posted_invoice_is_refused_by_the_mapper_on_both_databases(
        any_app: App, world: World) -> None:
    order_id = any_app.bus.handle(c.CreateOrder(world.customers["rossi"], (
        line(world.products["BOOK"], 1),)))
    [shipment_id] = any_app.bus.handle(c.ConfirmOrder(order_id)).shipment_ids
    s.ship(any_app.bus, shipment_id)
    [invoice] = s.invoices_of_order(any_app.engine, order_id)
    with any_app.bus.uow_factory("test") as uow:
        loaded = uow.invoices.get(invoice["id"])
        loaded.taxes[0].tax_amount = D(0)
        with pytest.raises(DocumentPosted):
            uow.flush()
    assert s.row(any_app.engine, t.invoices, invoice["id"]) == invoice


def test_writing_the_same_external_effect_twice_queues_it_once(any_app: App,
                                                              world: World) -> None:
    with any_app.bus.uow_factory("test") as uow:
        uow.outbox.add("invoice.posted", "invoice.posted:42", {"invoice_id": 42})
        uow.outbox.add("invoice.posted", "invoice.posted:42", {"invoice_id": 42})
        uow.commit()
    with any_app.bus.uow_factory("test") as uow:
        uow.outbox.add("invoice.posted", "invoice.posted:42", {"invoice_id": 42})
        uow.commit()
    [message] = s.outbox(any_app.engine)
    assert (message["dedup_key"], message["payload"], message["attempts"]) == (
        "invoice.posted:42", {"invoice_id": 42}, 0)


BROKEN_INVARIANTS = {
    "stock reserved beyond on hand": "UPDATE stock_levels SET reserved = on_hand + 10000",
    "negative stock": "UPDATE stock_levels SET on_hand = -10000, reserved = 0",
    "order line reserved and shipped beyond ordered":
        "UPDATE order_lines SET reserved_qty = quantity + 10000",
    "invoice residual below zero": "UPDATE open_items SET residual = -10000",
    "invoice residual above its amount": "UPDATE open_items SET residual = amount + 10000",
    "payment applied beyond its amount": "UPDATE payments SET unapplied = -10000",
    "journal line on both sides": "UPDATE journal_lines SET debit = 10000, credit = 10000",
}


@pytest.mark.parametrize("statement", list(BROKEN_INVARIANTS.values()),
                         ids=list(BROKEN_INVARIANTS))
def test_the_database_refuses_rows_that_break_an_invariant(
        any_app: App, world: World, statement: str) -> None:
    order_id = any_app.bus.handle(c.CreateOrder(world.customers["rossi"], (
        line(world.products["CHAIR"], 2),)))
    [shipment_id] = any_app.bus.handle(c.ConfirmOrder(order_id)).shipment_ids
    s.ship(any_app.bus, shipment_id, quantities={
        s.order_lines(any_app.engine, order_id)[0]["id"]: D(1)})
    any_app.bus.handle(c.RecordPayment(world.customers["rossi"], D("10.00"), "EUR",
                                       auto_allocate=True))
    with pytest.raises(IntegrityError), any_app.engine.begin() as conn:
        conn.execute(text(statement))


@pytest.mark.postgres
def test_postgresql_refuses_to_commit_an_unbalanced_journal_entry(pg_url: str,
                                                                 ) -> None:
    from o2c.adapters.db.engine import make_engine
    from o2c.bootstrap import SettableClock, bootstrap
    from o2c.config import Settings

    engine: Engine = make_engine(pg_url)
    try:
        app = bootstrap(Settings(database_url=pg_url), engine=engine, clock=SettableClock(START))
        build_world(app.bus)
        with pytest.raises(DBAPIError) as error, engine.begin() as conn:
            entry = conn.execute(text(
                "INSERT INTO journal_entries (company_id, entry_date, source_type, memo, "
                "created_at) VALUES (1, '2026-03-02', 'manual', 'typo', now()) RETURNING id"
            )).scalar_one()
            conn.execute(text(
                "INSERT INTO journal_lines (entry_id, company_id, account, debit, credit, "
                "currency, amount_currency) VALUES (:e, 1, '1100', 10, 0, '', 0), "
                "(:e, 1, '4000', 0, 9, '', 0)"), {"e": entry})
        assert "does not balance" in str(error.value)
        assert s.rows(engine, t.journal_entries) == []
    finally:
        engine.dispose()


def test_an_amount_too_large_for_the_database_is_refused_as_invalid_input(
        any_app: App, world: World) -> None:
    """The rules accept any positive amount in cents; the column holds less. The database's
    refusal must reach the caller as InvalidInput (422 at the API), with nothing written."""
    before = s.row_counts(any_app.engine)
    with pytest.raises(InvalidInput):
        any_app.bus.handle(c.RecordPayment(world.customers["rossi"], D("1" + "0" * 21),
                                           "EUR"))
    assert s.row_counts(any_app.engine) == before


@pytest.mark.postgres
def test_a_text_too_long_for_its_column_is_refused_as_invalid_input_on_postgresql(
        any_app: App, world: World) -> None:
    if any_app.engine.dialect.name != "postgresql":
        pytest.skip("SQLite does not enforce VARCHAR lengths")
    before = s.row_counts(any_app.engine)
    with pytest.raises(InvalidInput):
        any_app.bus.handle(c.CreateOrder(world.customers["rossi"], (
            line(world.products["CHAIR"], 1),), customer_reference="x" * 101))
    assert s.row_counts(any_app.engine) == before
