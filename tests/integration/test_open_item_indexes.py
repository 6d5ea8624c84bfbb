"""The credit check reads only what is still open (partial indexes on open items and on
payments with unapplied money, a covering index on orders not yet invoiced), so confirming
an order costs the same for a customer with ten years of paid invoices as for a new one
(bench/credit_check.py measures it). The backorder index holds only lines waiting for stock."""

from __future__ import annotations

import sqlite3

from sqlalchemy import event

from o2c.bootstrap import App
from o2c.domain import commands as c
from tests.fixtures.world import build_world, line


def test_the_credit_check_reads_only_open_items_unapplied_payments_and_index_entries(
        app: App) -> None:
    world = build_world(app.bus)
    rossi = world.customers["rossi"]
    paid = app.bus.handle(c.CreateOrder(rossi, (line(world.products["CHAIR"], 1),)))
    shipment = app.bus.handle(c.ConfirmOrder(paid)).shipment_ids[0]
    for step in (c.PickShipment(shipment), c.PackShipment(shipment, packages=1),
                 c.ShipShipment(shipment, carrier="BRT", tracking_number="1")):
        app.bus.handle(step)
    order = app.bus.handle(c.CreateOrder(rossi, (line(world.products["BOOK"], 1),)))

    seen: list[str] = []
    app.engine.dispose()  # the next unit of work opens a traced connection

    def trace(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.set_trace_callback(seen.append)

    event.listen(app.engine, "connect", trace)
    assert app.bus.handle(c.ConfirmOrder(order)).state == "confirmed"
    event.remove(app.engine, "connect", trace)

    [credit_check] = [s for s in seen if "sum(open_items.residual)" in s]
    plan = [row[3] for row in sqlite3.connect(str(app.engine.url.database)).execute(
        "EXPLAIN QUERY PLAN " + credit_check)]
    open_item_reads = [step for step in plan if "open_items" in step]
    payment_reads = [step for step in plan if "payments" in step]
    order_reads = [step for step in plan if "sales_orders" in step]
    assert open_item_reads and all("COVERING INDEX ix_open_items_customer_open" in step
                                   for step in open_item_reads), plan
    assert payment_reads and all("COVERING INDEX ix_payments_customer_unapplied" in step
                                 for step in payment_reads), plan
    assert order_reads and all("COVERING INDEX ix_sales_orders_customer_state" in step
                               for step in order_reads), plan


def test_only_lines_waiting_for_stock_are_in_the_backorder_index(app: App) -> None:
    world = build_world(app.bus)
    rossi = world.customers["rossi"]
    served = app.bus.handle(c.CreateOrder(rossi, (line(world.products["CHAIR"], 1),)))
    app.bus.handle(c.ConfirmOrder(served))
    waiting = app.bus.handle(c.CreateOrder(rossi, (line(world.products["CHAIR"], 100_000),)))
    app.bus.handle(c.ConfirmOrder(waiting))
    with sqlite3.connect(str(app.engine.url.database)) as db:
        # index_list's last column says whether the index is partial.
        partial = {row[1]: row[4] for row in db.execute("PRAGMA index_list(order_lines)")}
        waiting_lines = db.execute(
            "SELECT count(*) FROM order_lines INDEXED BY ix_order_lines_backorder"
            " WHERE product_id = ? AND backorder_qty > 0",
            (world.products["CHAIR"],)).fetchone()[0]
    assert partial["ix_order_lines_backorder"] == 1
    assert waiting_lines == 1
