"""Order capture, the credit decision at confirmation, release, rejection and cancellation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from o2c.adapters.db import queries
from o2c.adapters.db import tables as t
from o2c.bootstrap import App
from o2c.domain import commands as c
from o2c.domain.errors import InvalidInput, InvalidTransition
from o2c.domain.orders import OrderAlreadyShipped, OrderInvoiced
from o2c.domain.tax import EXPORT_TEXT, INTRA_EU_TEXT
from tests.fixtures.world import World, line
from tests.services import support as s

D = Decimal


def test_creating_an_order_prices_and_taxes_it_and_logs_who_captured_it(
        app: App, world: World) -> None:
    order_id = app.bus.handle(c.CreateOrder(world.customers["rossi"], (
        line(world.products["CHAIR"], 2), line(world.products["BOOK"], 3)),
        customer_reference="PO-778"), actor="alice")
    with app.engine.connect() as conn:
        order = queries.order(conn, order_id)
    assert order["state"] == "draft" and order["number"] == f"SO-{order_id:06d}"
    assert (order["net_amount"], order["tax_amount"], order["gross_amount"]) == (
        D("299.70"), D("55.19"), D("354.89"))
    assert [(x["sku"], x["vat_code"], x["vat_rate"], x["net_amount"]) for x in order["lines"]] == [
        ("CHAIR", "S", D(22), D("240.00")), ("BOOK", "S", D(4), D("59.70"))]
    assert order["customer_reference"] == "PO-778"
    assert s.events(app.engine, "order", order_id) == [("order", order_id, "created", "alice")]
    assert s.stock(app.engine, world.products["CHAIR"]) == (D(100), D(0))  # drafts hold nothing


def test_order_lines_carry_the_vat_treatment_of_the_buyer(app: App, world: World) -> None:
    consumer = app.bus.handle(c.CreateCustomer(world.company_id, "Jeanne Martin", "FR"))
    expected = {
        world.customers["dupont"]: ("K", D(0), INTRA_EU_TEXT),  # EU business
        consumer: ("S", D(20), ""),  # EU consumer: French VAT
        world.customers["acme_us"]: ("G", D(0), EXPORT_TEXT),
        world.customers["rossi"]: ("S", D(22), ""),
    }
    for customer_id, treatment in expected.items():
        order_id = app.bus.handle(c.CreateOrder(customer_id, (line(world.products["CHAIR"], 1),)))
        [order_line] = s.order_lines(app.engine, order_id)
        assert (order_line["vat_code"], order_line["vat_rate"],
                order_line["exemption_reason"]) == treatment


def test_confirming_within_the_limit_reserves_stock_and_creates_a_shipment(
        app: App, world: World) -> None:
    order_id = app.bus.handle(c.CreateOrder(world.customers["rossi"], (
        line(world.products["CHAIR"], 2), line(world.products["DESK"], 1))))
    result = app.bus.handle(c.ConfirmOrder(order_id), actor="sales")
    assert result.state == "confirmed" and result.decision.approved
    assert result.decision.exposure_after == D("842.41")  # 240 + 450.50 + 22% VAT
    assert result.backorder == ()
    [shipment_id] = result.shipment_ids
    shipment = s.row(app.engine, t.shipments, shipment_id)
    assert (shipment["state"], shipment["order_id"]) == ("ready", order_id)
    assert [(x["sku"], x["quantity"]) for x in s.shipment_lines(app.engine, shipment_id)] == [
        ("CHAIR", D(2)), ("DESK", D(1))]
    assert [x["reserved_qty"] for x in s.order_lines(app.engine, order_id)] == [D(2), D(1)]
    assert s.stock(app.engine, world.products["CHAIR"]) == (D(100), D(2))
    assert s.stock(app.engine, world.products["DESK"]) == (D(100), D(1))
    assert s.events(app.engine, "order", order_id)[1:] == [
        ("order", order_id, "confirmed", "sales"), ("order", order_id, "reserved", "sales")]
    assert s.events(app.engine, "shipment", shipment_id) == [
        ("shipment", shipment_id, "created", "sales")]


def test_an_order_over_the_credit_limit_is_held_with_the_reason(app: App, world: World) -> None:
    # rossi may owe 5000.00; 40 chairs are 5856.00 with VAT
    order_id = app.bus.handle(c.CreateOrder(world.customers["rossi"], (
        line(world.products["CHAIR"], 40),)))
    result = app.bus.handle(c.ConfirmOrder(order_id))
    assert result.state == "credit_hold" and result.shipment_ids == ()
    order = s.row(app.engine, t.sales_orders, order_id)
    assert order["state"] == "credit_hold"
    assert order["hold_reason"] == ("exposure 5,856.00 EUR would exceed the credit limit "
                                    "5,000.00 EUR")
    assert s.stock(app.engine, world.products["CHAIR"]) == (D(100), D(0))
    assert s.shipments_of(app.engine, order_id) == []
    [held] = s.event_data(app.engine, "order", order_id, "credit_held")
    assert D(held["exposure"]) == D("5856.00")


def test_confirmed_but_uninvoiced_orders_count_towards_the_exposure(
        app: App, world: World) -> None:
    first = app.bus.handle(c.CreateOrder(world.customers["rossi"], (
        line(world.products["CHAIR"], 20),)))  # 2928.00
    second = app.bus.handle(c.CreateOrder(world.customers["rossi"], (
        line(world.products["CHAIR"], 15),)))  # 2196.00
    assert app.bus.handle(c.ConfirmOrder(first)).state == "confirmed"
    result = app.bus.handle(c.ConfirmOrder(second))
    assert result.state == "credit_hold"
    assert result.decision.exposure_after == D("5124.00")


def test_a_blocked_customer_is_held_whatever_the_amount(app: App, world: World) -> None:
    customer = app.bus.handle(c.CreateCustomer(world.company_id, "Bad Payer Srl", "IT",
                                               tax_code="RSSMRA80A01H501U",
                                               credit_blocked=True, credit_limit=None))
    order_id = app.bus.handle(c.CreateOrder(customer, (line(world.products["BOOK"], 1),)))
    result = app.bus.handle(c.ConfirmOrder(order_id))
    assert result.state == "credit_hold"
    assert result.decision.reasons == ("customer is on credit block",)


@pytest.mark.parametrize(("hold_days", "confirm_on", "state"), [
    (None, date(2026, 5, 1), "confirmed"),  # 30 days overdue: the company allows 30
    (None, date(2026, 5, 2), "credit_hold"),  # 31 days
    (0, date(2026, 4, 1), "confirmed"),  # due today
    (0, date(2026, 4, 2), "credit_hold"),  # the customer's own rule: not one day
])
def test_an_invoice_overdue_beyond_the_allowed_days_holds_new_orders(
        app: App, world: World, hold_days: int | None, confirm_on: date, state: str) -> None:
    customer = world.customers["rossi"]
    if hold_days is not None:
        app.bus.handle(c.UpdateCustomer(customer, {"overdue_hold_days": hold_days}))
    first = app.bus.handle(c.CreateOrder(customer, (line(world.products["BOOK"], 1),)))
    [shipment_id] = app.bus.handle(c.ConfirmOrder(first)).shipment_ids
    s.ship(app.bus, shipment_id, on=date(2026, 3, 2))  # NET30: due 2026-04-01
    second = app.bus.handle(c.CreateOrder(customer, (line(world.products["BOOK"], 1),),
                                          order_date=confirm_on))
    result = app.bus.handle(c.ConfirmOrder(second, on=confirm_on))
    assert result.state == state
    if state == "credit_hold":
        days = (confirm_on - date(2026, 4, 1)).days
        allowed = 30 if hold_days is None else hold_days
        assert result.decision.reasons == (
            f"20.70 EUR overdue for {days} days (more than {allowed})",)


def test_the_hold_reason_counts_every_overdue_invoice_from_the_oldest_due_date(
        app: App, world: World) -> None:
    customer = world.customers["rossi"]
    for shipped_on in (date(2026, 3, 2), date(2026, 3, 10), date(2026, 5, 1)):
        order = app.bus.handle(c.CreateOrder(customer, (line(world.products["BOOK"], 1),)))
        [shipment_id] = app.bus.handle(c.ConfirmOrder(order, on=shipped_on)).shipment_ids
        s.ship(app.bus, shipment_id, on=shipped_on)  # NET30: due 04-01, 04-09 and 05-31
    late = app.bus.handle(c.CreateOrder(customer, (line(world.products["BOOK"], 1),),
                                        order_date=date(2026, 5, 15)))
    result = app.bus.handle(c.ConfirmOrder(late, on=date(2026, 5, 15)))
    assert result.state == "credit_hold"
    # Two invoices are past due (the third is not yet); days count from the oldest one.
    assert result.decision.reasons == ("41.40 EUR overdue for 44 days (more than 30)",)


def test_releasing_a_held_order_confirms_and_reserves_it(app: App, world: World) -> None:
    order_id = app.bus.handle(c.CreateOrder(world.customers["rossi"], (
        line(world.products["CHAIR"], 40),)))
    app.bus.handle(c.ConfirmOrder(order_id))
    with pytest.raises(InvalidInput) as error:
        app.bus.handle(c.ReleaseOrder(order_id, reason="  "))
    assert error.value.field == "reason"
    result = app.bus.handle(c.ReleaseOrder(order_id, reason="guaranteed by the parent company"),
                            actor="credit.manager")
    assert result.state == "confirmed" and len(result.shipment_ids) == 1
    assert s.stock(app.engine, world.products["CHAIR"]) == (D(100), D(40))
    assert s.events(app.engine, "order", order_id)[2:] == [
        ("order", order_id, "credit_released", "credit.manager"),
        ("order", order_id, "confirmed", "credit.manager"),
        ("order", order_id, "reserved", "credit.manager")]
    [released] = s.event_data(app.engine, "order", order_id, "credit_released")
    assert released["reason"] == "guaranteed by the parent company"
    assert "credit limit" in released["held_for"]


def test_a_rejected_order_holds_nothing_and_no_longer_counts_towards_exposure(
        app: App, world: World) -> None:
    big = app.bus.handle(c.CreateOrder(world.customers["rossi"], (
        line(world.products["CHAIR"], 40),)))
    app.bus.handle(c.ConfirmOrder(big))
    app.bus.handle(c.RejectOrder(big, reason="no guarantee"))
    assert s.row(app.engine, t.sales_orders, big)["state"] == "rejected"
    with pytest.raises(InvalidTransition):
        app.bus.handle(c.ReleaseOrder(big, reason="changed my mind"))
    small = app.bus.handle(c.CreateOrder(world.customers["rossi"], (
        line(world.products["CHAIR"], 30),)))  # 4392.00 fits alone
    assert app.bus.handle(c.ConfirmOrder(small)).state == "confirmed"
    assert s.event_names(app.engine, "order", big) == ["created", "credit_held",
                                                       "credit_rejected"]


def test_cancelling_a_confirmed_order_releases_its_reservations_and_shipment(
        app: App, world: World) -> None:
    order_id = app.bus.handle(c.CreateOrder(world.customers["rossi"], (
        line(world.products["CHAIR"], 3), line(world.products["DESK"], 2))))
    [shipment_id] = app.bus.handle(c.ConfirmOrder(order_id)).shipment_ids
    app.bus.handle(c.PickShipment(shipment_id))
    app.bus.handle(c.CancelOrder(order_id, reason="customer withdrew"), actor="sales")
    assert s.row(app.engine, t.sales_orders, order_id)["state"] == "cancelled"
    assert s.row(app.engine, t.shipments, shipment_id)["state"] == "cancelled"
    assert s.stock(app.engine, world.products["CHAIR"]) == (D(100), D(0))
    assert s.stock(app.engine, world.products["DESK"]) == (D(100), D(0))
    assert all(x["reserved_qty"] == 0 for x in s.order_lines(app.engine, order_id))
    assert ("order", order_id, "cancelled", "sales") in s.events(app.engine)
    assert ("shipment", shipment_id, "cancelled", "sales") in s.events(app.engine)
    with pytest.raises(InvalidTransition):
        app.bus.handle(c.ConfirmOrder(order_id))


def test_a_shipped_order_cannot_be_cancelled_and_nothing_changes(app: App, world: World) -> None:
    order_id = app.bus.handle(c.CreateOrder(world.customers["rossi"], (
        line(world.products["CHAIR"], 3),)))
    [shipment_id] = app.bus.handle(c.ConfirmOrder(order_id)).shipment_ids
    s.ship(app.bus, shipment_id, quantities={s.order_lines(app.engine, order_id)[0]["id"]: D(1)})
    before = s.row_counts(app.engine)
    with pytest.raises(OrderAlreadyShipped):
        app.bus.handle(c.CancelOrder(order_id, reason="too late"))
    assert s.row_counts(app.engine) == before
    assert s.row(app.engine, t.sales_orders, order_id)["state"] == "confirmed"


def test_an_order_already_invoiced_cannot_be_cancelled(app: App, world: World) -> None:
    customer = app.bus.handle(c.CreateCustomer(world.company_id, "Prepay Srl", "IT",
                                               tax_code="RSSMRA80A01H501U",
                                               invoice_policy="on_order", credit_limit=None))
    order_id = app.bus.handle(c.CreateOrder(customer, (line(world.products["CHAIR"], 1),)))
    app.bus.handle(c.ConfirmOrder(order_id))
    before = s.row_counts(app.engine)
    with pytest.raises(OrderInvoiced):
        app.bus.handle(c.CancelOrder(order_id, reason="changed mind"))
    assert s.row_counts(app.engine) == before
    assert s.stock(app.engine, world.products["CHAIR"]) == (D(100), D(1))
