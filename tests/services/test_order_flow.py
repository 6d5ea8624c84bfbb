"""The core flow through the bus: confirmation, reservation, shipping, invoicing, payment."""

from __future__ import annotations

import gc
from collections import Counter
from decimal import Decimal

from o2c.adapters.db import queries
from o2c.bootstrap import App
from o2c.domain import commands as c
from o2c.domain.ledger import verify
from tests.fixtures.world import build_world, line

D = Decimal


def test_confirmed_order_reserves_stock_and_shipping_posts_the_invoice(app: App) -> None:
    world = build_world(app.bus)
    order_id = app.bus.handle(c.CreateOrder(world.customers["rossi"], (
        line(world.products["CHAIR"], 2), line(world.products["BOOK"], 3))))
    result = app.bus.handle(c.ConfirmOrder(order_id))
    assert result.state == "confirmed"
    assert len(result.shipment_ids) == 1 and result.backorder == ()
    shipment_id = result.shipment_ids[0]
    for command in (c.PickShipment(shipment_id), c.PackShipment(shipment_id),
                    c.ShipShipment(shipment_id, carrier="BRT", tracking_number="X1")):
        app.bus.handle(command)
    with app.engine.connect() as conn:
        order = queries.order(conn, order_id)
        assert order["state"] == "completed"
        [invoice] = order["invoices"]
        # 2 x 120.00 at 22% + 3 x 19.90 at 4%: VAT per breakdown
        assert invoice["net_amount"] == D("299.70")
        assert invoice["tax_amount"] == D("52.80") + D("2.39")
        assert invoice["gross_amount"] == D("354.89")
        assert invoice["number"] == "INV-2026-00001"
        for figures in queries.ledger_figures(conn).values():
            assert all(check.ok for check in verify(figures))


def test_finished_commands_leave_nothing_for_the_cycle_collector(app: App) -> None:
    # A unit of work and all it loaded must be freed by reference counting when the command
    # ends; anything caught in a reference cycle waits for the garbage collector, which then
    # walks it again and again (about 5% of the core flow's time before this was fixed).
    world = build_world(app.bus)
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        order_id = app.bus.handle(c.CreateOrder(world.customers["rossi"], (
            line(world.products["CHAIR"], 2),)))
        shipment_id = app.bus.handle(c.ConfirmOrder(order_id)).shipment_ids[0]
        for command in (c.PickShipment(shipment_id), c.PackShipment(shipment_id),
                        c.ShipShipment(shipment_id, carrier="BRT", tracking_number="X1")):
            app.bus.handle(command)
        gc.collect()
        left = Counter(type(garbage).__name__ for garbage in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert left["UnitOfWork"] == 0 and left["Repository"] == 0, left.most_common(10)
