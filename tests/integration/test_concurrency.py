"""Cross-row invariants under concurrent commands on PostgreSQL: many threads, each with its
own bus, unit of work and connection, released together by a barrier. Every test asserts the
invariant afterwards (never a timing), so a missing lock shows up as a broken invariant or as
an error other than the business refusal the test allows."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from o2c.adapters.db import tables as t
from o2c.adapters.db.engine import make_engine
from o2c.bootstrap import App, SettableClock, bootstrap
from o2c.config import Settings
from o2c.domain import commands as c
from o2c.domain.errors import OverAllocation
from o2c.services.bus import MessageBus
from o2c.services.uow import UnitOfWork
from tests.conftest import START
from tests.fixtures.world import World, build_world, line
from tests.services import support as s

pytestmark = pytest.mark.postgres
D = Decimal
THREADS = 24


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url)
    yield engine
    engine.dispose()


@pytest.fixture
def setup_app(pg_url: str, pg_engine: Engine) -> App:
    return bootstrap(Settings(database_url=pg_url), engine=pg_engine,
                     clock=SettableClock(START))


def run_together(app: App, commands: list[c.Command],
                 make_bus: Callable[[], MessageBus] | None = None) -> list[Any]:
    """Handle each command in its own thread, with its own bus; all start at the same moment.
    Returns each command's result or the exception it raised."""
    barrier = threading.Barrier(len(commands))
    results: list[Any] = [None] * len(commands)

    def worker(index: int, command: c.Command, bus: MessageBus) -> None:
        try:
            barrier.wait(timeout=60)
            results[index] = bus.handle(command, actor=f"thread-{index}")
        except BaseException as error:
            results[index] = error

    buses = [make_bus() if make_bus else
             bootstrap(app.settings, engine=app.engine, clock=app.clock).bus for _ in commands]
    threads = [threading.Thread(target=worker, args=(i, command, buses[i]), daemon=True)
               for i, command in enumerate(commands)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not any(thread.is_alive() for thread in threads), "a command never finished"
    return results


def errors(results: list[Any]) -> list[BaseException]:
    return [r for r in results if isinstance(r, BaseException)]


def _sum(engine: Engine, column: Any, *where: Any) -> Decimal:
    with engine.connect() as conn:
        return D(conn.execute(select(func.coalesce(func.sum(column), 0)).where(*where))
                 .scalar_one())


def test_concurrent_confirmations_never_oversell_limited_stock(setup_app: App) -> None:
    app = setup_app
    world = build_world(app.bus, stock=D(0))
    chair, desk = world.products["CHAIR"], world.products["DESK"]
    app.bus.handle(c.ReceiveStock(world.warehouse_id, chair, D(50)))
    app.bus.handle(c.ReceiveStock(world.warehouse_id, desk, D(30)))
    orders = []
    for i in range(THREADS):
        customer = app.bus.handle(c.CreateCustomer(world.company_id, f"Buyer {i}", "IT",
                                                   tax_code="RSSMRA80A01H501U",
                                                   credit_limit=None))
        lines = (line(chair, 3), line(desk, 2)) if i % 2 else (line(desk, 2), line(chair, 3))
        orders.append(app.bus.handle(c.CreateOrder(customer, lines)))
    results = run_together(app, [c.ConfirmOrder(order_id) for order_id in orders])

    assert errors(results) == []
    assert {r.state.value for r in results} == {"confirmed"}
    ol = t.order_lines
    for product, on_hand, demand in ((chair, D(50), D(3 * THREADS)),
                                     (desk, D(30), D(2 * THREADS))):
        stock_on_hand, stock_reserved = s.stock(app.engine, product)
        assert stock_on_hand == on_hand
        assert D(0) <= stock_reserved <= stock_on_hand
        assert stock_reserved == min(on_hand, demand)  # no reservation was lost either
        assert _sum(app.engine, ol.c.reserved_qty, ol.c.product_id == product) == stock_reserved
        assert _sum(app.engine, ol.c.backorder_qty, ol.c.product_id == product) == \
            demand - stock_reserved
        shipped_out = _sum(app.engine, t.shipment_lines.c.quantity,
                           t.shipment_lines.c.product_id == product)
        assert shipped_out == stock_reserved  # every reservation is on exactly one shipment
    confirmed = [e for e in s.events(app.engine, "order") if e[2] == "confirmed"]
    assert len(confirmed) == THREADS  # retried transactions leave no duplicate events
    s.assert_ledger_ok(app.engine)


def test_concurrent_orders_of_one_customer_never_exceed_the_credit_limit(
        setup_app: App) -> None:
    app = setup_app
    world = build_world(app.bus)
    customer = app.bus.handle(c.CreateCustomer(world.company_id, "Tight Limit Srl", "IT",
                                               tax_code="RSSMRA80A01H501U",
                                               credit_limit=D("1000.00")))
    # 2 chairs = 292.80 with VAT: each order fits alone, three fit together, four do not.
    orders = [app.bus.handle(c.CreateOrder(customer, (line(world.products["CHAIR"], 2),)))
              for _ in range(12)]
    results = run_together(app, [c.ConfirmOrder(order_id) for order_id in orders])

    assert errors(results) == []
    states = Counter(r.state.value for r in results)
    assert states == {"confirmed": 3, "credit_hold": 9}
    so = t.sales_orders
    exposure = _sum(app.engine, so.c.uninvoiced_amount, so.c.customer_id == customer,
                    so.c.state == "confirmed")
    assert exposure == D("878.40") <= D("1000.00")
    for result in results:
        if result.state.value == "credit_hold":
            assert "would exceed the credit limit" in result.decision.reasons[0]
            assert result.decision.exposure_after == D("1171.20")
    assert s.stock(app.engine, world.products["CHAIR"]) == (D(100), D(6))


def test_concurrent_allocations_never_over_apply_an_invoice(setup_app: App) -> None:
    app = setup_app
    world = build_world(app.bus)
    customer = app.bus.handle(c.CreateCustomer(world.company_id, "Many Payments Srl", "IT",
                                               tax_code="RSSMRA80A01H501U",
                                               credit_limit=None))
    order_id = app.bus.handle(c.CreateOrder(customer, (line(world.products["CHAIR"], 10),)))
    [shipment_id] = app.bus.handle(c.ConfirmOrder(order_id)).shipment_ids
    s.ship(app.bus, shipment_id)
    [invoice] = s.invoices_of_order(app.engine, order_id)
    assert invoice["gross_amount"] == D("1464.00")
    payments = [app.bus.handle(c.RecordPayment(customer, D("200.00"), "EUR"))
                for _ in range(12)]
    results = run_together(app, [
        c.AllocatePayment(payment_id, (c.AllocationInput(invoice["id"], D("200.00")),))
        for payment_id in payments])

    failures = errors(results)
    assert all(isinstance(f, OverAllocation) for f in failures), failures
    assert len(failures) == 5  # 7 x 200.00 fit into 1464.00, the 8th does not
    item = s.open_item(app.engine, invoice["id"])
    allocated = _sum(app.engine, t.allocations.c.amount,
                     t.allocations.c.invoice_id == invoice["id"])
    assert allocated == D("1400.00") <= invoice["gross_amount"]
    assert item["residual"] == invoice["gross_amount"] - allocated == D("64.00")
    assert item["residual"] >= 0
    unapplied = sorted(s.row(app.engine, t.payments, p)["unapplied"] for p in payments)
    assert unapplied == [D(0)] * 7 + [D("200.00")] * 5
    s.assert_ledger_ok(app.engine)


def test_concurrent_shipping_numbers_invoices_without_gaps_or_duplicates(
        setup_app: App) -> None:
    app = setup_app
    world = build_world(app.bus)
    bus = app.bus
    other = bus.handle(c.CreateCompany("BETA", "Beta SARL", "FR", "EUR"))
    other_warehouse = bus.handle(c.CreateWarehouse(other, "PAR", "Paris"))
    # One customer and one product per shipment: nothing but the number sequence is shared,
    # so the sequence alone must keep the numbers gapless and unique.
    sellers: list[tuple[int, int]] = []  # (customer, product)
    tax_codes = {"IT": "RSSMRA80A01H501U", "FR": ""}  # an Italian consumer needs its CF
    for i in range(24):
        company, warehouse, country = ((world.company_id, world.warehouse_id, "IT") if i < 16
                                       else (other, other_warehouse, "FR"))
        product = bus.handle(c.CreateProduct(company, f"P{i}", f"Product {i}", D("30.00")))
        bus.handle(c.ReceiveStock(warehouse, product, D(1)))
        sellers.append((bus.handle(c.CreateCustomer(company, f"Buyer {i}", country,
                                                    tax_code=tax_codes[country],
                                                    credit_limit=None)), product))
    shipments = []
    for customer, product in sellers:
        order_id = bus.handle(c.CreateOrder(customer, (line(product, 1),)))
        [shipment_id] = bus.handle(c.ConfirmOrder(order_id)).shipment_ids
        bus.handle(c.PickShipment(shipment_id))
        bus.handle(c.PackShipment(shipment_id))
        shipments.append(shipment_id)
    results = run_together(app, [c.ShipShipment(sid, on=date(2026, 3, 2))
                                 for sid in shipments])

    assert errors(results) == []
    numbers: dict[int, list[str]] = {world.company_id: [], other: []}
    for invoice in s.rows(app.engine, t.invoices):
        numbers[invoice["company_id"]].append(invoice["number"])
    assert sorted(numbers[world.company_id]) == [f"INV-2026-{n:05d}" for n in range(1, 17)]
    assert sorted(numbers[other]) == [f"INV-2026-{n:05d}" for n in range(1, 9)]
    sequences = {(r["company_id"], r["series"], r["year"]): r["last_value"]
                 for r in s.rows(app.engine, t.number_sequences)}
    assert sequences == {(world.company_id, "INV", 2026): 16, (other, "INV", 2026): 8}
    assert len(s.outbox(app.engine)) == 24
    s.assert_ledger_ok(app.engine)


def test_the_harness_reports_what_each_thread_raised(setup_app: App) -> None:
    """The helper the tests above rely on starts every command and returns its failure."""
    app = setup_app
    world: World = build_world(app.bus)
    order_id = app.bus.handle(c.CreateOrder(world.customers["rossi"], (
        line(world.products["BOOK"], 1),)))
    results = run_together(app, [c.ConfirmOrder(order_id) for _ in range(4)])
    assert sum(1 for r in results if not isinstance(r, BaseException)) == 1
    assert {type(e).__name__ for e in errors(results)} == {"InvalidTransition"}


@dataclass(frozen=True)
class LockTwoCustomers(c.Command):
    """A probe for the bus: lock two customer rows in the given order, the first time waiting
    until the other transaction holds its first row, which makes a deadlock certain."""

    first: int
    second: int


def test_the_bus_retries_a_deadlocked_transaction_until_it_succeeds(setup_app: App) -> None:
    app = setup_app
    world = build_world(app.bus)
    rossi, dupont = world.customers["rossi"], world.customers["dupont"]
    holding = {rossi: threading.Event(), dupont: threading.Event()}
    attempts: Counter[int] = Counter()

    def lock_two(command: LockTwoCustomers, uow: UnitOfWork) -> int:
        attempts[command.first] += 1
        uow.customers.get(command.first, for_update=True)
        holding[command.first].set()
        holding[command.second].wait(timeout=30)
        customer = uow.customers.get(command.second, for_update=True)
        customer.change(email=f"locked-by-{command.first}@example.com")
        return command.first

    def probe_bus() -> MessageBus:
        return MessageBus(app.bus.uow_factory, {LockTwoCustomers: lock_two}, {})

    results = run_together(app, [LockTwoCustomers(rossi, dupont),
                                 LockTwoCustomers(dupont, rossi)], make_bus=probe_bus)
    # PostgreSQL broke the deadlock by aborting one transaction; the bus ran it again.
    assert results == [rossi, dupont]
    assert sum(attempts.values()) == 3
    emails = {s.row(app.engine, t.customers, i)["email"] for i in (rossi, dupont)}
    assert emails == {f"locked-by-{rossi}@example.com", f"locked-by-{dupont}@example.com"}
