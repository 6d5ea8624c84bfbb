"""Pick, pack, ship, deliver; partial shipments split; cancelled shipments give stock back."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from o2c.adapters.db import tables as t
from o2c.bootstrap import App
from o2c.domain import commands as c
from o2c.domain.errors import InvalidInput, InvalidTransition
from tests.fixtures.world import World, line
from tests.services import support as s

D = Decimal


def _confirmed(app: App, world: World, *lines: c.OrderLineInput) -> tuple[int, int]:
    order_id = app.bus.handle(c.CreateOrder(world.customers["rossi"], lines))
    [shipment_id] = app.bus.handle(c.ConfirmOrder(order_id)).shipment_ids
    return order_id, shipment_id


def test_a_shipment_goes_through_pick_pack_ship_deliver_with_dates(
        app: App, world: World) -> None:
    order_id, shipment_id = _confirmed(app, world, line(world.products["CHAIR"], 2))
    app.bus.handle(c.PickShipment(shipment_id, on=date(2026, 3, 3)))
    app.bus.handle(c.PackShipment(shipment_id, packages=2, on=date(2026, 3, 3)))
    app.bus.handle(c.ShipShipment(shipment_id, on=date(2026, 3, 4), carrier="DHL",
                                  tracking_number="JD0001"))
    app.bus.handle(c.DeliverShipment(shipment_id, on=date(2026, 3, 6)))
    shipment = s.row(app.engine, t.shipments, shipment_id)
    assert (shipment["state"], shipment["picked_on"], shipment["packed_on"],
            shipment["shipped_on"], shipment["delivered_on"], shipment["packages"],
            shipment["carrier"], shipment["tracking_number"]) == (
        "delivered", date(2026, 3, 3), date(2026, 3, 3), date(2026, 3, 4), date(2026, 3, 6), 2,
        "DHL", "JD0001")
    assert s.event_names(app.engine, "shipment", shipment_id) == [
        "created", "picked", "packed", "shipped", "delivered"]
    assert s.stock(app.engine, world.products["CHAIR"]) == (D(98), D(0))
    [move] = s.rows(app.engine, t.stock_moves, t.stock_moves.c.kind == "shipment")
    assert (move["quantity"], move["reference"], move["moved_on"]) == (
        D(-2), f"SHP-{shipment_id:06d}", date(2026, 3, 4))
    order = s.row(app.engine, t.sales_orders, order_id)
    assert (order["state"], order["shipping_status"], order["invoicing_status"]) == (
        "completed", "shipped", "invoiced")


def test_shipping_part_of_a_shipment_splits_the_rest_onto_a_new_one(
        app: App, world: World) -> None:
    chair, desk = world.products["CHAIR"], world.products["DESK"]
    order_id, shipment_id = _confirmed(app, world, line(chair, 5), line(desk, 2))
    chair_line, desk_line = (x["id"] for x in s.order_lines(app.engine, order_id))
    s.ship(app.bus, shipment_id, on=date(2026, 3, 4), quantities={chair_line: D(3),
                                                                  desk_line: D(2)})
    assert [(x["sku"], x["quantity"]) for x in s.shipment_lines(app.engine, shipment_id)] == [
        ("CHAIR", D(3)), ("DESK", D(2))]
    first, rest = s.shipments_of(app.engine, order_id)
    assert (first["state"], rest["state"]) == ("shipped", "ready")
    assert [(x["sku"], x["quantity"]) for x in s.shipment_lines(app.engine, rest["id"])] == [
        ("CHAIR", D(2))]
    [created] = s.event_data(app.engine, "shipment", rest["id"], "created")
    assert created["split_from"] == f"SHP-{shipment_id:06d}"
    [shipped] = s.event_data(app.engine, "shipment", shipment_id, "shipped")
    assert [(x["sku"], D(x["quantity"])) for x in shipped["left_behind"]] == [("CHAIR", D(2))]
    assert [(x["shipped_qty"], x["reserved_qty"], x["backorder_qty"])
            for x in s.order_lines(app.engine, order_id)] == [(D(3), D(2), D(0)),
                                                              (D(2), D(0), D(0))]
    assert s.stock(app.engine, chair) == (D(97), D(2))
    assert s.stock(app.engine, desk) == (D(98), D(0))
    order = s.row(app.engine, t.sales_orders, order_id)
    assert (order["state"], order["shipping_status"]) == ("confirmed", "partially_shipped")
    # Only what left the warehouse is invoiced.
    [invoice] = s.invoices_of_order(app.engine, order_id)
    assert invoice["shipment_id"] == shipment_id
    assert invoice["net_amount"] == D("1261.00")  # 3 x 120.00 + 2 x 450.50
    s.ship(app.bus, rest["id"], on=date(2026, 3, 9))
    assert s.row(app.engine, t.sales_orders, order_id)["state"] == "completed"
    assert [i["net_amount"] for i in s.invoices_of_order(app.engine, order_id)] == [
        D("1261.00"), D("240.00")]


def test_cancelling_a_shipment_returns_the_goods_to_stock_and_the_lines_to_backorder(
        app: App, world: World) -> None:
    chair = world.products["CHAIR"]
    order_id, shipment_id = _confirmed(app, world, line(chair, 4))
    app.bus.handle(c.PickShipment(shipment_id))
    app.bus.handle(c.CancelShipment(shipment_id, reason="wrong colour picked"))
    assert s.row(app.engine, t.shipments, shipment_id)["state"] == "cancelled"
    assert s.stock(app.engine, chair) == (D(100), D(0))
    [order_line] = s.order_lines(app.engine, order_id)
    assert (order_line["reserved_qty"], order_line["backorder_qty"]) == (D(0), D(4))
    assert s.event_names(app.engine, "order", order_id)[-1] == "unreserved"
    [again] = app.bus.handle(c.ReserveBackorders(order_id))
    assert again != shipment_id
    assert s.stock(app.engine, chair) == (D(100), D(4))


def test_a_shipment_cannot_skip_a_step_or_ship_more_than_it_holds(
        app: App, world: World) -> None:
    order_id, shipment_id = _confirmed(app, world, line(world.products["CHAIR"], 2))
    before = s.row_counts(app.engine)
    with pytest.raises(InvalidTransition) as skipped:
        app.bus.handle(c.ShipShipment(shipment_id))
    assert skipped.value.details["state"] == "ready"
    app.bus.handle(c.PickShipment(shipment_id))
    app.bus.handle(c.PackShipment(shipment_id))
    [order_line] = s.order_lines(app.engine, order_id)
    middle = s.row_counts(app.engine)
    assert middle == {**before, "event_log": before["event_log"] + 2,
                      "audit_log": before["audit_log"] + 2}
    for quantities in ({order_line["id"]: D(3)}, {order_line["id"]: D(0)},
                       {order_line["id"] + 1000: D(1)}):
        with pytest.raises(InvalidInput) as error:
            app.bus.handle(c.ShipShipment(shipment_id, quantities=quantities))
        assert error.value.field == "lines"
    with pytest.raises(InvalidInput) as packages:
        app.bus.handle(c.PackShipment(shipment_id, packages=0))
    assert packages.value.field == "packages"
    assert s.row_counts(app.engine) == middle
    assert s.row(app.engine, t.shipments, shipment_id)["state"] == "packed"
    assert s.stock(app.engine, world.products["CHAIR"]) == (D(100), D(2))
