"""One order from capture to cash, on SQLite and on PostgreSQL.

Rossi Arredamenti orders 20 office chairs and 4 standing desks. The order passes Rossi's credit
limit and is held; the credit manager releases it. Only 14 chairs are in stock, so 6 wait on
backorder. The warehouse ships 10 chairs and the desks first, the other 4 chairs five days
later: two invoices. Rossi pays both with one transfer and a little more. A chair arrives
damaged and is credited; as the invoice is already paid, the credit stays with Rossi. The books
balance to the cent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from o2c.adapters.db import queries
from o2c.adapters.db import tables as t
from o2c.bootstrap import App
from o2c.domain import commands as c
from o2c.domain.ledger import BANK, CUSTOMER_CREDIT, RECEIVABLE, REVENUE, VAT_PAYABLE
from tests.fixtures.world import build_world, line
from tests.services import support as s

D = Decimal


def test_an_order_goes_from_credit_hold_to_cash_and_the_books_balance(any_app: App) -> None:
    bus, engine = any_app.bus, any_app.engine
    world = build_world(bus, stock=D(0))
    chair, desk, rossi = world.products["CHAIR"], world.products["DESK"], world.customers["rossi"]
    bus.handle(c.ReceiveStock(world.warehouse_id, chair, D(14), "PO-301"), actor="goods.in")
    bus.handle(c.ReceiveStock(world.warehouse_id, desk, D(10), "PO-301"), actor="goods.in")

    # -- the order, over the credit limit ------------------------------------------------------
    order_id = bus.handle(c.CreateOrder(rossi, (line(chair, 20), line(desk, 4)),
                                        order_date=date(2026, 3, 2),
                                        customer_reference="PO-2026-118"), actor="sales")
    held = bus.handle(c.ConfirmOrder(order_id, on=date(2026, 3, 2)), actor="sales")
    assert held.state == "credit_hold"
    assert held.decision.exposure_after == D("5126.44")  # 4202.00 + 924.44 VAT > 5000.00
    assert s.stock(engine, chair) == (D(14), D(0))

    released = bus.handle(c.ReleaseOrder(order_id, "long-standing customer, pays on time",
                                         on=date(2026, 3, 3)), actor="credit.manager")
    assert released.state == "confirmed"
    assert released.backorder == ({"line_no": 1, "sku": "CHAIR", "quantity": D(6)},)
    [first_shipment] = released.shipment_ids
    assert s.stock(engine, chair) == (D(14), D(14))
    assert s.stock(engine, desk) == (D(10), D(4))

    # -- two partial shipments, two invoices ---------------------------------------------------
    chair_line, desk_line = (x["id"] for x in s.order_lines(engine, order_id))
    s.ship(bus, first_shipment, on=date(2026, 3, 5),
           quantities={chair_line: D(10), desk_line: D(4)})
    _, second_shipment = (x["id"] for x in s.shipments_of(engine, order_id))
    assert [(x["sku"], x["quantity"]) for x in s.shipment_lines(engine, second_shipment)] == [
        ("CHAIR", D(4))]
    s.ship(bus, second_shipment, on=date(2026, 3, 10))

    first, second = s.invoices_of_order(engine, order_id)
    assert (first["number"], first["issue_date"], first["due_date"]) == (
        "INV-2026-00001", date(2026, 3, 5), date(2026, 4, 4))
    assert (first["net_amount"], first["tax_amount"], first["gross_amount"]) == (
        D("3002.00"), D("660.44"), D("3662.44"))
    assert (second["number"], second["issue_date"], second["due_date"]) == (
        "INV-2026-00002", date(2026, 3, 10), date(2026, 4, 9))
    assert (second["net_amount"], second["tax_amount"], second["gross_amount"]) == (
        D("480.00"), D("105.60"), D("585.60"))
    assert first["order_reference"] == second["order_reference"] == "PO-2026-118"
    assert (first["shipment_id"], second["shipment_id"]) == (first_shipment, second_shipment)

    # -- one payment for both, and a little more -----------------------------------------------
    payment_id = bus.handle(c.RecordPayment(
        rossi, D("4300.00"), "EUR", received_on=date(2026, 4, 1),
        reference="INV-2026-00001 INV-2026-00002", allocations=(
            c.AllocationInput(first["id"], D("3662.44")),
            c.AllocationInput(second["id"], D("585.60")))), actor="cashier")
    assert s.row(engine, t.payments, payment_id)["unapplied"] == D("51.96")

    # -- a damaged chair is credited -----------------------------------------------------------
    [damaged] = s.rows(engine, t.invoice_lines, t.invoice_lines.c.invoice_id == second["id"])
    note_id = bus.handle(c.CreateCreditNote(second["id"], "one chair damaged in transit", lines=(
        c.CreditLineInput(damaged["id"], quantity=D(1)),), on=date(2026, 4, 3)),
        actor="billing")
    note = s.row(engine, t.invoices, note_id)
    assert (note["number"], note["gross_amount"], note["corrects_number"]) == (
        "CN-2026-00001", D("146.40"), "INV-2026-00002")

    # -- where everything stands ---------------------------------------------------------------
    as_of = date(2026, 4, 3)
    with engine.connect() as conn:
        order = queries.order(conn, order_id, as_of=as_of)
        credit = queries.credit_position(conn, rossi, as_of)
        invoices = {i: queries.invoice(conn, i, as_of=as_of)
                    for i in (first["id"], second["id"], note_id)}
    assert (order["state"], order["shipping_status"], order["invoicing_status"]) == (
        "confirmed", "partially_shipped", "partially_invoiced")
    assert [(x["shipped_qty"], x["invoiced_qty"], x["backorder_qty"])
            for x in order["lines"]] == [(D(14), D(14), D(6)), (D(4), D(4), D(0))]
    assert order["invoiced_amount"] == D("4248.04")
    assert [(invoices[i]["residual"], invoices[i]["payment_status"])
            for i in (first["id"], second["id"])] == [(D(0), "paid"), (D(0), "paid")]
    assert invoices[note_id]["residual"] == D("146.40")  # credit the customer can still use
    assert (credit["open_receivables"], credit["unapplied_credit"],
            credit["uninvoiced_orders"], credit["exposure"]) == (
        D(0), D("198.36"), D("878.40"), D("680.04"))
    assert s.stock(engine, chair) == (D(0), D(0))
    assert s.stock(engine, desk) == (D(6), D(0))

    assert s.events(engine, "order", order_id) == [
        ("order", order_id, "created", "sales"),
        ("order", order_id, "credit_held", "sales"),
        ("order", order_id, "credit_released", "credit.manager"),
        ("order", order_id, "confirmed", "credit.manager"),
        ("order", order_id, "reserved", "credit.manager"),
        ("order", order_id, "shipped", "warehouse"),
        ("order", order_id, "invoiced", "warehouse"),
        ("order", order_id, "shipped", "warehouse"),
        ("order", order_id, "invoiced", "warehouse"),
    ]
    assert s.event_names(engine, "shipment", first_shipment) == [
        "created", "picked", "packed", "shipped"]
    assert [(e[1], e[2], e[3]) for e in s.events(engine, "invoice")] == [
        (first["id"], "posted", "warehouse"), (second["id"], "posted", "warehouse"),
        (note_id, "posted", "billing")]
    assert [e[2:] for e in s.events(engine, "payment", payment_id)] == [("received", "cashier")]
    assert [e[2:] for e in s.events(engine, "allocation")] == [("allocated", "cashier")] * 2
    assert [m["payload"]["number"] for m in s.outbox(engine)] == [
        "INV-2026-00001", "INV-2026-00002", "CN-2026-00001"]

    # -- the books -----------------------------------------------------------------------------
    assert all(check.ok for check in s.ledger_checks(engine))
    assert len(s.ledger_checks(engine)) == 4
    s.assert_ledger_ok(engine)  # and customer by customer, in EUR
    assert s.trial_balance(engine, world.company_id) == {
        BANK: (D("4300.00"), D(0)),
        RECEIVABLE: (D("4248.04"), D("4248.04")),
        VAT_PAYABLE: (D("26.40"), D("766.04")),
        CUSTOMER_CREDIT: (D("4248.04"), D("4446.40")),
        REVENUE: (D("120.00"), D("3482.00")),
    }
    with engine.connect() as conn:
        report = queries.trial_balance(conn, world.company_id)
    assert (report["total_debit"], report["total_credit"]) == (D("12942.48"), D("12942.48"))
