"""Any sequence of order-to-cash commands keeps the books and the warehouse true.

A Hypothesis state machine drives the real service layer on a real database (SQLite, and
PostgreSQL when O2C_TEST_PG_URL is set) with
random sequences: orders in EUR and USD, credit holds, releases, rejections, cancellations,
partial shipments, stock receipts and backorders, payments (short, exact and over), automatic
allocation, un-allocation, payment reversals, credit notes and their application. After every
step the invariants below must hold; a command the rules refuse must leave every table as it
was. Set O2C_PROPERTY_EXAMPLES to explore more sequences than CI does.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from o2c.adapters.db import tables as t
from o2c.adapters.db.engine import make_engine
from o2c.bootstrap import SettableClock, bootstrap
from o2c.config import Settings
from o2c.domain import commands as c
from o2c.domain.errors import DomainError
from tests.conftest import empty_postgres
from tests.fixtures.world import build_world
from tests.services import support as s

D = Decimal
EXAMPLES = int(os.environ.get("O2C_PROPERTY_EXAMPLES", "12"))

pick = st.integers(min_value=0, max_value=10**6)  # an index into whatever exists right now
quantity = st.sampled_from([D(1), D(2), D(3), D("0.5"), D(7), D(40)])
share = st.sampled_from([D("0.25"), D("0.5"), D("0.999"), D(1), D("1.2")])  # of a residual


def _choose(items: list[Any], index: int) -> Any:
    return items[index % len(items)] if items else None


class OrderToCash(RuleBasedStateMachine):
    template: Path | None = None  # SQLite: each example copies the migrated template
    pg_url: str = ""  # PostgreSQL: each example empties the migrated test database

    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.mkdtemp(prefix="o2c-property-")
        if self.template is not None:
            target = Path(self.folder) / "o2c.db"
            shutil.copyfile(self.template, target)
            url = f"sqlite:///{target}"
        else:
            empty_postgres(self.pg_url)
            url = self.pg_url
        self.engine = make_engine(url)
        self.clock = SettableClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
        self.bus = bootstrap(Settings(database_url=url), engine=self.engine,
                             clock=self.clock).bus
        self.world = build_world(self.bus, stock=D(10))
        self.ready: dict[str, int] = {}
        self.take_stock()

    def teardown(self) -> None:
        self.engine.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)

    # -- running commands --------------------------------------------------------------------

    def run(self, command: c.Command) -> Any:
        """The command's result, or None when the rules refused it (then nothing changed)."""
        before = s.row_counts(self.engine)
        try:
            return self.bus.handle(command)
        except DomainError:
            assert s.row_counts(self.engine) == before, f"{command} left rows behind"
            return None

    def take_stock(self) -> None:
        """What exists now, so that rules with nothing to act on are not drawn (every step
        then moves something)."""
        o, sh, oi, p, a = t.sales_orders, t.shipments, t.open_items, t.payments, t.allocations
        self.ready = {
            "draft": len(self.ids(o, o.c.state == "draft")),
            "held": len(self.ids(o, o.c.state == "credit_hold")),
            "open_orders": len(self.ids(o, o.c.state.in_(["draft", "credit_hold", "confirmed"]))),
            "shipments": len(self.ids(sh, sh.c.state.in_(["ready", "picked", "packed"]))),
            "unpicked": len(self.ids(sh, sh.c.state.in_(["ready", "picked"]))),
            "unpaid": len(self.ids(oi, oi.c.kind == "invoice", oi.c.residual > 0)),
            "unapplied": len(self.ids(p, p.c.unapplied > 0, p.c.state != "reversed")),
            "payments": len(self.ids(p, p.c.state != "reversed")),
            "allocations": len(self.ids(a, a.c.reversed_on.is_(None))),
            "invoices": len(self.ids(t.invoices, t.invoices.c.kind == "invoice")),
            "credits": len(self.ids(oi, oi.c.kind == "credit_note", oi.c.residual > 0)),
        }

    def ids(self, table: Any, *where: Any) -> list[int]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(table.c.id).where(*where).order_by(table.c.id))
                        .scalars())

    def open_item(self, kind: str, index: int, *where: Any) -> dict[str, Any] | None:
        """The index-th (modulo) invoice or credit note with something left open."""
        oi = t.open_items
        found = _choose(self.ids(oi, oi.c.kind == kind, oi.c.residual > 0, *where), index)
        return None if found is None else s.row(self.engine, oi, found)

    # -- rules -------------------------------------------------------------------------------

    @rule(customer=st.sampled_from(["rossi", "dupont", "acme_us"]),
          products=st.lists(st.sampled_from(["CHAIR", "DESK", "BOOK"]), min_size=1,
                            max_size=3, unique=True),
          quantities=st.lists(quantity, min_size=3, max_size=3))
    def create_order(self, customer: str, products: list[str], quantities: list[Decimal]
                     ) -> None:
        lines = tuple(c.OrderLineInput(self.world.products[sku], qty)
                      for sku, qty in zip(products, quantities, strict=False))
        self.run(c.CreateOrder(self.world.customers[customer], lines))

    @rule(customer=st.sampled_from(["rossi", "dupont", "acme_us"]),
          sku=st.sampled_from(["CHAIR", "DESK", "BOOK"]), qty=quantity)
    def sell(self, customer: str, sku: str, qty: Decimal) -> None:
        """The whole way to an invoice at once, so that later stages are reached often."""
        order = self.run(c.CreateOrder(self.world.customers[customer],
                                       (c.OrderLineInput(self.world.products[sku], qty),)))
        result = order and self.run(c.ConfirmOrder(order))
        if result and result.state == "credit_hold":
            result = self.run(c.ReleaseOrder(order, "known customer"))
        for shipment in (result.shipment_ids if result else ()):
            for command in (c.PickShipment(shipment), c.PackShipment(shipment),
                            c.ShipShipment(shipment, carrier="GLS", tracking_number="S")):
                self.run(command)

    @precondition(lambda self: self.ready["draft"] > 0)
    @rule(index=pick)
    def confirm_order(self, index: int) -> None:
        order = _choose(self.ids(t.sales_orders, t.sales_orders.c.state == "draft"), index)
        if order is not None:
            self.run(c.ConfirmOrder(order))

    @precondition(lambda self: self.ready["held"] > 0)
    @rule(index=pick, release=st.booleans())
    def decide_credit_hold(self, index: int, release: bool) -> None:
        order = _choose(self.ids(t.sales_orders, t.sales_orders.c.state == "credit_hold"),
                        index)
        if order is not None:
            self.run(c.ReleaseOrder(order, "approved after a call") if release
                     else c.RejectOrder(order, "too risky"))

    @precondition(lambda self: self.ready["open_orders"] > 0)
    @rule(index=pick)
    def cancel_order(self, index: int) -> None:
        order = _choose(self.ids(t.sales_orders, t.sales_orders.c.state.in_(
            ["draft", "credit_hold", "confirmed"])), index)
        if order is not None:
            self.run(c.CancelOrder(order, "customer changed their mind"))

    @precondition(lambda self: self.ready["shipments"] > 0)
    @rule(index=pick, part=st.sampled_from([None, D("0.5"), D(1)]))
    def ship(self, index: int, part: Decimal | None) -> None:
        """Picks, packs and ships a shipment (all of it, or part: the rest stays behind)."""
        shipment = _choose(self.ids(t.shipments, t.shipments.c.state.in_(
            ["ready", "picked", "packed"])), index)
        state = s.row(self.engine, t.shipments, shipment)["state"]
        if state == "ready" and self.run(c.PickShipment(shipment)) is None:
            return
        if state in ("ready", "picked") and self.run(c.PackShipment(shipment)) is None:
            return
        quantities = None
        if part is not None:
            quantities = {line["order_line_id"]: min(line["quantity"], max(
                D(1), (line["quantity"] * part).quantize(D(1))))
                for line in s.shipment_lines(self.engine, shipment)}
        self.run(c.ShipShipment(shipment, carrier="BRT", tracking_number="T",
                                quantities=quantities))

    @precondition(lambda self: self.ready["unpicked"] > 0)
    @rule(index=pick)
    def cancel_shipment(self, index: int) -> None:
        shipment = _choose(self.ids(t.shipments, t.shipments.c.state.in_(["ready", "picked"])),
                           index)
        if shipment is not None:
            self.run(c.CancelShipment(shipment, "damaged while picking"))

    @rule(sku=st.sampled_from(["CHAIR", "DESK", "BOOK", "SCREW"]), qty=quantity)
    def receive_stock_and_fill_backorders(self, sku: str, qty: Decimal) -> None:
        self.run(c.ReceiveStock(self.world.warehouse_id, self.world.products[sku], qty, "PO"))
        self.run(c.ReserveBackorders())

    @precondition(lambda self: self.ready["unpaid"] > 0)
    @rule(index=pick, part=share, allocate=st.booleans())
    def record_payment(self, index: int, part: Decimal, allocate: bool) -> None:
        item = self.open_item("invoice", index)
        if item is None:
            return
        amount = (item["residual"] * part).quantize(D("0.01"))
        if amount <= 0:
            return
        allocations = ((c.AllocationInput(item["invoice_id"], min(amount, item["residual"])),)
                       if allocate else ())
        self.run(c.RecordPayment(item["customer_id"], amount, item["currency"],
                                 reference=f"payment of {item['number']}",
                                 allocations=allocations))

    @precondition(lambda self: self.ready["unapplied"] > 0)
    @rule(index=pick)
    def allocate_unapplied_cash(self, index: int) -> None:
        payment = _choose(self.ids(t.payments, t.payments.c.unapplied > 0,
                                   t.payments.c.state != "reversed"), index)
        if payment is not None:
            self.run(c.AllocatePayment(payment, auto=True))

    @precondition(lambda self: self.ready["allocations"] > 0)
    @rule(index=pick)
    def unallocate(self, index: int) -> None:
        allocation = _choose(self.ids(t.allocations, t.allocations.c.reversed_on.is_(None)),
                             index)
        if allocation is not None:
            self.run(c.Unallocate(allocation, "allocated to the wrong invoice"))

    @precondition(lambda self: self.ready["payments"] > 0)
    @rule(index=pick)
    def reverse_payment(self, index: int) -> None:
        payment = _choose(self.ids(t.payments, t.payments.c.state != "reversed"), index)
        if payment is not None:
            self.run(c.ReversePayment(payment, "returned by the bank"))

    @precondition(lambda self: self.ready["invoices"] > 0)
    @rule(index=pick, whole=st.booleans())
    def credit_note(self, index: int, whole: bool) -> None:
        invoice = _choose(self.ids(t.invoices, t.invoices.c.kind == "invoice"), index)
        if invoice is None:
            return
        lines = None
        if not whole:
            first = s.rows(self.engine, t.invoice_lines, t.invoice_lines.c.invoice_id == invoice)[0]
            lines = (c.CreditLineInput(first["id"], quantity=min(D(1), first["quantity"])),)
        self.run(c.CreateCreditNote(invoice, "goods returned", lines=lines))

    @precondition(lambda self: self.ready["credits"] > 0)
    @rule(index=pick, target_index=pick)
    def apply_credit_note(self, index: int, target_index: int) -> None:
        credit = self.open_item("credit_note", index)
        if credit is None:
            return
        target = self.open_item("invoice", target_index,
                                t.open_items.c.customer_id == credit["customer_id"],
                                t.open_items.c.currency == credit["currency"])
        if target is not None:
            self.run(c.ApplyCreditNote(credit["invoice_id"], target["invoice_id"]))

    @rule(days=st.sampled_from([1, 15, 45]))
    def time_passes(self, days: int) -> None:
        self.clock.set(self.clock() + timedelta(days=days))

    # -- invariants --------------------------------------------------------------------------

    @invariant()
    def refresh(self) -> None:
        self.take_stock()

    @invariant()
    def books_balance_and_receivables_match_the_control_accounts(self) -> None:
        s.assert_ledger_ok(self.engine)

    @invariant()
    def stock_is_never_oversold_and_reservations_are_held_by_open_lines(self) -> None:
        held: dict[int, Decimal] = defaultdict(Decimal)
        for line in s.rows(self.engine, t.order_lines):
            assert line["reserved_qty"] >= 0 and line["shipped_qty"] >= 0
            assert line["reserved_qty"] + line["shipped_qty"] <= line["quantity"], line
            assert line["invoiced_qty"] <= line["quantity"], line
            held[line["product_id"]] += line["reserved_qty"]
        for level in s.rows(self.engine, t.stock_levels):
            assert 0 <= level["reserved"] <= level["on_hand"], level
            assert level["reserved"] == held[level["product_id"]], level

    @invariant()
    def every_residual_is_its_amount_less_what_was_applied(self) -> None:
        applied: dict[int, Decimal] = defaultdict(Decimal)
        used: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
        for allocation in s.rows(self.engine, t.allocations, t.allocations.c.reversed_on.is_(None)):
            applied[allocation["invoice_id"]] += allocation["amount"]
            source = (("payment", allocation["payment_id"]) if allocation["payment_id"]
                      else ("credit_note", allocation["credit_note_id"]))
            used[source] += allocation["amount"]
        for item in s.rows(self.engine, t.open_items):
            assert 0 <= item["residual"] <= item["amount"], item
            if item["kind"] == "invoice":
                assert item["residual"] == item["amount"] - applied[item["invoice_id"]], item
            else:
                assert item["residual"] == item["amount"] - used[
                    ("credit_note", item["invoice_id"])], item
        for payment in s.rows(self.engine, t.payments, t.payments.c.state != "reversed"):
            assert payment["unapplied"] == payment["amount"] - used[("payment", payment["id"])]
            assert 0 <= payment["unapplied"] <= payment["amount"], payment

    @invariant()
    def invoice_numbers_are_gapless_per_series_and_year(self) -> None:
        numbers: dict[tuple[str, str], list[int]] = defaultdict(list)
        for invoice in s.rows(self.engine, t.invoices):
            series, year, sequence = invoice["number"].rsplit("-", 2)
            numbers[(series, year)].append(int(sequence))
        for sequence in numbers.values():
            assert sorted(sequence) == list(range(1, len(sequence) + 1)), sequence


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def machine(request: pytest.FixtureRequest) -> type[OrderToCash]:
    class OnThisDatabase(OrderToCash):
        pass
    if request.param == "sqlite":
        OnThisDatabase.template = request.getfixturevalue("sqlite_template")
    else:
        OnThisDatabase.pg_url = request.getfixturevalue("pg_session_url")
    return OnThisDatabase


def test_any_sequence_of_commands_keeps_books_stock_and_numbering_true(
        machine: type[OrderToCash]) -> None:
    run_state_machine_as_test(machine, settings=settings(
        max_examples=EXAMPLES if machine.template else max(1, EXAMPLES // 2),
        stateful_step_count=40, deadline=None,
        derandomize="O2C_PROPERTY_EXAMPLES" not in os.environ,  # CI: the same sequences
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        database=None))


pytestmark = pytest.mark.timeout(600)
