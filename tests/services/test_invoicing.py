"""Invoices are posted by shipping (or by confirming, for customers billed on order): numbered,
booked, opened as receivables and queued for delivery in the same transaction. Credit notes
correct them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from stdnum import iso11649

from o2c.adapters.db import queries
from o2c.adapters.db import tables as t
from o2c.bootstrap import App
from o2c.domain import commands as c
from o2c.domain.errors import DocumentPosted, RuleViolation
from o2c.domain.ledger import CUSTOMER_CREDIT, RECEIVABLE, REVENUE, VAT_PAYABLE
from o2c.services.invoicing import invoice_order
from tests.fixtures.world import World, line
from tests.services import support as s

D = Decimal


def _shipped(app: App, world: World, customer: str, *lines: c.OrderLineInput,
             on: date = date(2026, 3, 2)) -> tuple[int, int]:
    """An order confirmed and shipped in full; (order id, invoice id)."""
    order_id = app.bus.handle(c.CreateOrder(world.customers[customer], lines, order_date=on))
    [shipment_id] = app.bus.handle(c.ConfirmOrder(order_id, on=on)).shipment_ids
    s.ship(app.bus, shipment_id, on=on)
    [invoice] = s.invoices_of_order(app.engine, order_id)
    return order_id, invoice["id"]


def test_shipping_posts_the_invoice_books_it_opens_the_receivable_and_queues_delivery(
        app: App, world: World) -> None:
    order_id, invoice_id = _shipped(app, world, "rossi", line(world.products["CHAIR"], 2),
                                    line(world.products["BOOK"], 3))
    invoice = s.row(app.engine, t.invoices, invoice_id)
    assert (invoice["number"], invoice["state"], invoice["kind"]) == (
        "INV-2026-00001", "posted", "invoice")
    assert (invoice["net_amount"], invoice["tax_amount"], invoice["gross_amount"]) == (
        D("299.70"), D("55.19"), D("354.89"))
    assert (invoice["issue_date"], invoice["due_date"]) == (date(2026, 3, 2), date(2026, 4, 1))
    assert invoice["payment_terms_text"] == "Net 30 days"
    assert invoice["order_number"] == f"SO-{order_id:06d}"
    assert iso11649.is_valid(invoice["remittance_reference"])
    item = s.open_item(app.engine, invoice_id)
    assert (item["kind"], item["amount"], item["residual"], item["due_date"]) == (
        "invoice", D("354.89"), D("354.89"), date(2026, 4, 1))
    [entry] = s.entries(app.engine, "invoice", invoice_id)
    assert entry["lines"] == {RECEIVABLE: (D("354.89"), D(0)), REVENUE: (D(0), D("299.70")),
                              VAT_PAYABLE: (D(0), D("55.19"))}
    [message] = s.outbox(app.engine)
    assert (message["topic"], message["dedup_key"], message["delivered_at"]) == (
        "invoice.posted", f"invoice.posted:{invoice_id}", None)
    assert message["payload"] == {"invoice_id": invoice_id, "number": "INV-2026-00001",
                                  "kind": "invoice", "customer_id": world.customers["rossi"],
                                  "email": "ap@rossi.example"}
    assert ("invoice", invoice_id, "posted", "warehouse") in s.events(app.engine)
    [invoiced] = s.event_data(app.engine, "order", order_id, "invoiced")
    assert invoiced["invoice"] == "INV-2026-00001"
    order = s.row(app.engine, t.sales_orders, order_id)
    assert (order["invoiced_amount"], order["invoicing_status"]) == (D("354.89"), "invoiced")


def test_customers_billed_on_order_are_invoiced_at_confirmation_and_not_again(
        app: App, world: World) -> None:
    customer = app.bus.handle(c.CreateCustomer(
        world.company_id, "Prepay Srl", "IT", tax_code="RSSMRA80A01H501U",
        invoice_policy="on_order", credit_limit=None))
    order_id = app.bus.handle(c.CreateOrder(customer, (line(world.products["DESK"], 2),)))
    [shipment_id] = app.bus.handle(c.ConfirmOrder(order_id)).shipment_ids
    [invoice] = s.invoices_of_order(app.engine, order_id)
    assert (invoice["gross_amount"], invoice["shipment_id"], invoice["issue_date"]) == (
        D("1099.22"), None, date(2026, 3, 2))  # 901.00 + 22% VAT
    assert s.row(app.engine, t.sales_orders, order_id)["invoicing_status"] == "invoiced"
    s.ship(app.bus, shipment_id, on=date(2026, 3, 5))
    assert len(s.invoices_of_order(app.engine, order_id)) == 1
    assert s.row(app.engine, t.sales_orders, order_id)["state"] == "completed"


@pytest.mark.parametrize(("customer", "due_date", "installments", "discount"), [
    ("rossi", date(2026, 4, 9), [(date(2026, 4, 9), "146.40")], None),
    ("dupont", date(2026, 5, 31), [(date(2026, 5, 31), "120.00")], None),  # 60 days EOM
    ("acme_us", date(2026, 5, 9), [(date(2026, 4, 9), "66.00"), (date(2026, 5, 9), "66.00")],
     (D(2), date(2026, 3, 20), D("2.64"))),
])
def test_due_dates_instalments_and_discounts_come_from_the_customers_terms(
        app: App, world: World, customer: str, due_date: date,
        installments: list[tuple[date, str]],
        discount: tuple[Decimal, date, Decimal] | None) -> None:
    _, invoice_id = _shipped(app, world, customer, line(world.products["CHAIR"], 1),
                             on=date(2026, 3, 10))
    with app.engine.connect() as conn:
        invoice = queries.invoice(conn, invoice_id, as_of=date(2026, 3, 10))
    assert invoice["due_date"] == due_date
    assert [(i["due_date"], i["amount"]) for i in invoice["installments"]] == [
        (d, D(a)) for d, a in installments]
    early = invoice["early_payment_discount"]
    assert (None if early is None else (early["percent"], early["until"], early["amount"])) \
        == discount
    assert s.open_item(app.engine, invoice_id)["due_date"] == installments[0][0]


def test_invoice_numbers_are_consecutive_per_series_and_year(app: App, world: World) -> None:
    # The customer pays late; the credit check lets it (overdue invoices would hold orders).
    app.bus.handle(c.UpdateCustomer(world.customers["dupont"], {"overdue_hold_days": 3650}))
    numbers = []
    for on in (date(2026, 3, 2), date(2026, 6, 1), date(2026, 12, 31), date(2027, 1, 4)):
        _, invoice_id = _shipped(app, world, "dupont", line(world.products["BOOK"], 1), on=on)
        numbers.append(s.row(app.engine, t.invoices, invoice_id)["number"])
    note = app.bus.handle(c.CreateCreditNote(invoice_id, "returned", on=date(2027, 1, 5)))
    assert numbers == ["INV-2026-00001", "INV-2026-00002", "INV-2026-00003", "INV-2027-00001"]
    assert s.row(app.engine, t.invoices, note)["number"] == "CN-2027-00001"


def test_a_posting_that_fails_gives_its_number_back(app: App, world: World) -> None:
    order_id = app.bus.handle(c.CreateOrder(world.customers["rossi"], (
        line(world.products["CHAIR"], 1),)))
    [shipment_id] = app.bus.handle(c.ConfirmOrder(order_id)).shipment_ids
    [order_line] = s.order_lines(app.engine, order_id)
    with pytest.raises(RuntimeError), app.bus.uow_factory("test") as uow:
        invoice = invoice_order(uow, uow.orders.get(order_id), {order_line["id"]: D(1)},
                                date(2026, 3, 2))
        assert invoice.number == "INV-2026-00001"
        raise RuntimeError("the transaction fails after numbering")
    assert s.rows(app.engine, t.invoices) == []
    assert s.rows(app.engine, t.number_sequences) == []
    s.ship(app.bus, shipment_id)
    [invoice_row] = s.invoices_of_order(app.engine, order_id)
    assert invoice_row["number"] == "INV-2026-00001"


def test_a_posted_invoice_never_changes(app: App, world: World) -> None:
    _, invoice_id = _shipped(app, world, "rossi", line(world.products["CHAIR"], 1))
    before = s.row(app.engine, t.invoices, invoice_id)
    with app.bus.uow_factory("test") as uow:
        invoice = uow.invoices.get(invoice_id)
        invoice.gross_amount += D(1)
        with pytest.raises(DocumentPosted):
            uow.flush()
    with app.bus.uow_factory("test") as uow:
        invoice = uow.invoices.get(invoice_id)
        invoice.lines[0].description = "something else"
        with pytest.raises(DocumentPosted):
            uow.flush()
    assert s.row(app.engine, t.invoices, invoice_id) == before


def test_free_goods_can_be_shipped_and_invoiced_at_zero(app: App, world: World) -> None:
    """A sample at price 0 still leaves the warehouse and gets a (zero) invoice; there is no
    money to book, so no journal entry."""
    order_id, invoice_id = _shipped(app, world, "rossi",
                                    line(world.products["CHAIR"], 1, "0"))
    invoice = s.row(app.engine, t.invoices, invoice_id)
    assert (invoice["number"], invoice["gross_amount"]) == ("INV-2026-00001", D(0))
    assert s.entries(app.engine, "invoice", invoice_id) == []
    assert s.open_item(app.engine, invoice_id)["residual"] == 0
    assert s.row(app.engine, t.sales_orders, order_id)["state"] == "completed"


# -- credit notes ------------------------------------------------------------------------------

def test_a_full_credit_note_settles_the_unpaid_invoice_it_corrects(
        app: App, world: World) -> None:
    _, invoice_id = _shipped(app, world, "rossi", line(world.products["CHAIR"], 2))
    note_id = app.bus.handle(c.CreateCreditNote(invoice_id, "goods returned",
                                                on=date(2026, 3, 5)), actor="billing")
    note = s.row(app.engine, t.invoices, note_id)
    assert (note["kind"], note["number"], note["corrects_invoice_id"], note["corrects_number"],
            note["gross_amount"], note["reason"]) == (
        "credit_note", "CN-2026-00001", invoice_id, "INV-2026-00001", D("292.80"),
        "goods returned")
    corrected = {x["id"] for x in s.rows(app.engine, t.invoice_lines,
                                         t.invoice_lines.c.invoice_id == invoice_id)}
    assert {x["corrects_line_id"] for x in s.rows(
        app.engine, t.invoice_lines, t.invoice_lines.c.invoice_id == note_id)} == corrected
    assert (s.open_item(app.engine, invoice_id)["residual"],
            s.open_item(app.engine, note_id)["residual"]) == (D(0), D(0))
    [allocation] = s.rows(app.engine, t.allocations)
    assert (allocation["source_kind"], allocation["credit_note_id"], allocation["invoice_id"],
            allocation["amount"]) == ("credit_note", note_id, invoice_id, D("292.80"))
    with app.engine.connect() as conn:
        assert queries.invoice(conn, invoice_id, as_of=date(2026, 3, 5))["payment_status"] \
            == "credited"
    [entry] = s.entries(app.engine, "credit_note", note_id)
    assert entry["lines"] == {CUSTOMER_CREDIT: (D(0), D("292.80")),
                              REVENUE: (D("240.00"), D(0)), VAT_PAYABLE: (D("52.80"), D(0))}
    assert ("invoice", note_id, "posted", "billing") in s.events(app.engine)
    assert [m["dedup_key"] for m in s.outbox(app.engine)] == [
        f"invoice.posted:{invoice_id}", f"invoice.posted:{note_id}"]


def test_a_partial_credit_note_reduces_what_is_owed(app: App, world: World) -> None:
    _, invoice_id = _shipped(app, world, "rossi", line(world.products["CHAIR"], 2),
                             line(world.products["BOOK"], 3))
    lines = s.rows(app.engine, t.invoice_lines, t.invoice_lines.c.invoice_id == invoice_id)
    chair = next(x for x in lines if x["sku"] == "CHAIR")
    note_id = app.bus.handle(c.CreateCreditNote(invoice_id, "one chair damaged", lines=(
        c.CreditLineInput(chair["id"], quantity=D(1)),)))
    assert s.row(app.engine, t.invoices, note_id)["gross_amount"] == D("146.40")
    assert s.open_item(app.engine, invoice_id)["residual"] == D("208.49")  # 354.89 - 146.40
    with pytest.raises(RuleViolation) as error:
        app.bus.handle(c.CreateCreditNote(invoice_id, "again", lines=(
            c.CreditLineInput(chair["id"], quantity=D(2)),)))
    assert error.value.field == "lines[0].quantity"
    # A price reduction on the books: 3 handbooks at 9.90 less
    book = next(x for x in lines if x["sku"] == "BOOK")
    app.bus.handle(c.CreateCreditNote(invoice_id, "price agreed lower", lines=(
        c.CreditLineInput(book["id"], unit_price=D("10.00")),)))
    assert s.open_item(app.engine, invoice_id)["residual"] == D("177.29")  # less 31.20


def test_a_credit_note_on_a_paid_invoice_becomes_credit_the_customer_can_use(
        app: App, world: World) -> None:
    _, paid = _shipped(app, world, "rossi", line(world.products["CHAIR"], 1))
    app.bus.handle(c.RecordPayment(world.customers["rossi"], D("146.40"), "EUR",
                                   allocations=(c.AllocationInput(paid, D("146.40")),)))
    note_id = app.bus.handle(c.CreateCreditNote(paid, "goodwill"))
    assert s.open_item(app.engine, note_id)["residual"] == D("146.40")
    with app.engine.connect() as conn:
        credit = queries.credit_position(conn, world.customers["rossi"], date(2026, 3, 2))
    assert credit["unapplied_credit"] == D("146.40")
    _, other = _shipped(app, world, "rossi", line(world.products["DESK"], 1))
    allocation_id = app.bus.handle(c.ApplyCreditNote(note_id, other))
    assert s.row(app.engine, t.allocations, allocation_id)["amount"] == D("146.40")
    assert s.open_item(app.engine, other)["residual"] == D("549.61") - D("146.40")
    assert s.open_item(app.engine, note_id)["residual"] == 0


def test_nothing_can_be_credited_twice_or_without_a_reason(app: App, world: World) -> None:
    _, invoice_id = _shipped(app, world, "rossi", line(world.products["CHAIR"], 1))
    before = s.row_counts(app.engine)
    with pytest.raises(RuleViolation) as no_reason:
        app.bus.handle(c.CreateCreditNote(invoice_id, " "))
    assert no_reason.value.field == "reason"
    with pytest.raises(RuleViolation) as early:
        app.bus.handle(c.CreateCreditNote(invoice_id, "backdated", on=date(2026, 3, 1)))
    assert early.value.field == "on"
    assert s.row_counts(app.engine) == before
    app.bus.handle(c.CreateCreditNote(invoice_id, "returned"))
    after = s.row_counts(app.engine)
    with pytest.raises(RuleViolation) as twice:
        app.bus.handle(c.CreateCreditNote(invoice_id, "returned again"))
    assert twice.value.field == "lines[0].quantity"
    assert s.row_counts(app.engine) == after
