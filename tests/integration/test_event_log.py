"""The event log reads the same whichever database the values came back from: amounts in the
currency's minor units, quantities without trailing zeros (both databases return 4 decimals)."""

from __future__ import annotations

from decimal import Decimal

from o2c.adapters.db import security
from o2c.adapters.db import tables as t
from o2c.bootstrap import App
from o2c.domain import commands as c
from tests.fixtures.world import build_world, line
from tests.services import support as s

D = Decimal


def test_event_payloads_carry_amounts_in_minor_units_and_plain_quantities(any_app: App
                                                                           ) -> None:
    app = any_app
    world = build_world(app.bus)
    rossi = world.customers["rossi"]
    app.bus.handle(c.UpdateCustomer(rossi, {"credit_limit": D("60000.50")}))
    app.bus.handle(c.UpdateCustomer(rossi, {"credit_limit": D("70000")}))
    order_id = app.bus.handle(c.CreateOrder(rossi, (
        line(world.products["CHAIR"], 2), line(world.products["BOOK"], 3))))
    shipment_id = app.bus.handle(c.ConfirmOrder(order_id)).shipment_ids[0]
    for command in (c.PickShipment(shipment_id), c.PackShipment(shipment_id),
                    c.ShipShipment(shipment_id, carrier="BRT", tracking_number="X1")):
        app.bus.handle(command)
    [invoice] = s.invoices_of_order(app.engine, order_id)
    invoice_id = invoice["id"]
    app.bus.handle(c.RecordPayment(rossi, D("354.89"), "EUR", reference="INV-2026-00001",
                                   allocations=(c.AllocationInput(invoice_id, D("354.89")),)))

    [_, raised] = s.event_data(app.engine, "customer", rossi, "updated")
    assert raised["changes"]["credit_limit"] == {"before": "60000.50", "after": "70000.00"}
    # Computed in the confirming transaction from stored (4-decimal) rows.
    [confirmed] = s.event_data(app.engine, "order", order_id, "confirmed")
    assert confirmed["exposure"] == "354.89"
    [reserved] = s.event_data(app.engine, "order", order_id, "reserved")
    assert [r["quantity"] for r in reserved["lines"]] == ["2", "3"]
    [shipped] = s.event_data(app.engine, "shipment", shipment_id, "shipped")
    assert [r["quantity"] for r in shipped["lines"]] == ["2", "3"]
    [invoiced] = s.event_data(app.engine, "order", order_id, "invoiced")
    assert invoiced["amount"] == "354.89"
    [posted] = s.event_data(app.engine, "invoice", invoice_id, "posted")
    assert posted["gross_amount"] == "354.89"

    app.bus.handle(c.ReceiveStock(world.warehouse_id, world.products["CHAIR"], D("2.5"), "RMA"))
    [level] = s.rows(app.engine, t.stock_levels,
                     t.stock_levels.c.product_id == world.products["CHAIR"])
    received = s.event_data(app.engine, "stock", level["id"], "received")[-1]
    assert (received["quantity"], received["on_hand"]) == ("2.5", "100.5")


def test_audit_records_show_changed_decimals_without_the_stored_scale(any_app: App) -> None:
    app = any_app
    world = build_world(app.bus)
    rossi = world.customers["rossi"]
    app.bus.handle(c.UpdateCustomer(rossi, {"credit_limit": D("60000.50")}))
    with app.engine.connect() as conn:
        [record] = [r for r in security.audit_records(conn)
                    if r["command"] == "UpdateCustomer"]
    [change] = record["changes"]
    assert change["fields"]["credit_limit"][1] == "60000.5"
    assert change["fields"]["credit_limit"][0] == "5000"  # read back from the database
