"""Stock: partial reservations, backorders served oldest first when stock arrives, adjustments
that never break the invariant."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest

from o2c.adapters.db import tables as t
from o2c.bootstrap import App
from o2c.domain import commands as c
from o2c.domain.errors import InsufficientStock, InvalidInput
from tests.fixtures.world import World, build_world, line
from tests.services import support as s

D = Decimal


@pytest.fixture
def empty_world(app: App) -> Iterator[World]:
    """The test business with an empty warehouse."""
    world = build_world(app.bus, stock=D(0))
    yield world
    s.assert_ledger_ok(app.engine)


def test_partial_stock_gives_a_partial_reservation_and_a_backorder(
        app: App, empty_world: World) -> None:
    world = empty_world
    chair, desk = world.products["CHAIR"], world.products["DESK"]
    app.bus.handle(c.ReceiveStock(world.warehouse_id, chair, D(5), "PO-1"))
    app.bus.handle(c.ReceiveStock(world.warehouse_id, desk, D(1), "PO-1"))
    order_id = app.bus.handle(c.CreateOrder(world.customers["rossi"], (
        line(chair, 8), line(desk, 1))))
    result = app.bus.handle(c.ConfirmOrder(order_id))
    assert result.backorder == ({"line_no": 1, "sku": "CHAIR", "quantity": D(3)},)
    [shipment_id] = result.shipment_ids
    assert [(x["sku"], x["quantity"]) for x in s.shipment_lines(app.engine, shipment_id)] == [
        ("CHAIR", D(5)), ("DESK", D(1))]
    assert [(x["reserved_qty"], x["backorder_qty"])
            for x in s.order_lines(app.engine, order_id)] == [(D(5), D(3)), (D(1), D(0))]
    assert s.stock(app.engine, chair) == (D(5), D(5))
    [reserved] = s.event_data(app.engine, "order", order_id, "reserved")
    [waiting] = reserved["backorder"]
    assert (waiting["line_no"], waiting["sku"], D(waiting["quantity"])) == (1, "CHAIR", D(3))


def test_an_order_with_no_stock_at_all_waits_without_a_shipment(
        app: App, empty_world: World) -> None:
    order_id = app.bus.handle(c.CreateOrder(empty_world.customers["rossi"], (
        line(empty_world.products["CHAIR"], 2),)))
    result = app.bus.handle(c.ConfirmOrder(order_id))
    assert result.state == "confirmed" and result.shipment_ids == ()
    assert result.backorder == ({"line_no": 1, "sku": "CHAIR", "quantity": D(2)},)
    assert s.shipments_of(app.engine, order_id) == []


def test_received_stock_goes_to_the_oldest_backorders_first_with_new_shipments(
        app: App, empty_world: World) -> None:
    world = empty_world
    chair = world.products["CHAIR"]
    # The newer order is captured first: first come means the older order date.
    newer = app.bus.handle(c.CreateOrder(world.customers["dupont"], (line(chair, 4),),
                                         order_date=date(2026, 3, 2)))
    older = app.bus.handle(c.CreateOrder(world.customers["rossi"], (line(chair, 4),),
                                         order_date=date(2026, 3, 1)))
    app.bus.handle(c.ConfirmOrder(newer))
    app.bus.handle(c.ConfirmOrder(older))
    app.bus.handle(c.ReceiveStock(world.warehouse_id, chair, D(6), "PO-7"), actor="goods.in")
    assert [x["reserved_qty"] for x in s.order_lines(app.engine, older)] == [D(4)]
    assert [x["reserved_qty"] for x in s.order_lines(app.engine, newer)] == [D(2)]
    assert s.stock(app.engine, chair) == (D(6), D(6))
    [older_shipment] = s.shipments_of(app.engine, older)
    assert [x["quantity"] for x in s.shipment_lines(app.engine, older_shipment["id"])] == [D(4)]
    [newer_shipment] = s.shipments_of(app.engine, newer)
    assert [x["quantity"] for x in s.shipment_lines(app.engine, newer_shipment["id"])] == [D(2)]
    assert ("order", older, "reserved", "goods.in") in s.events(app.engine, "order", older)
    # The next receipt completes the newer order on a second shipment.
    app.bus.handle(c.ReceiveStock(world.warehouse_id, chair, D(10), "PO-8"))
    assert [x["reserved_qty"] for x in s.order_lines(app.engine, newer)] == [D(4)]
    assert [x["quantity"] for sh in s.shipments_of(app.engine, newer)
            for x in s.shipment_lines(app.engine, sh["id"])] == [D(2), D(2)]
    assert s.stock(app.engine, chair) == (D(16), D(8))
    moves = s.rows(app.engine, t.stock_moves, t.stock_moves.c.product_id == chair)
    assert [(m["kind"], m["quantity"], m["reference"]) for m in moves] == [
        ("receipt", D(6), "PO-7"), ("receipt", D(10), "PO-8")]


def test_held_orders_do_not_take_received_stock(app: App, empty_world: World) -> None:
    world = empty_world
    chair = world.products["CHAIR"]
    held = app.bus.handle(c.CreateOrder(world.customers["rossi"], (line(chair, 40),)))
    assert app.bus.handle(c.ConfirmOrder(held)).state == "credit_hold"
    app.bus.handle(c.ReceiveStock(world.warehouse_id, chair, D(50)))
    assert s.stock(app.engine, chair) == (D(50), D(0))
    assert s.shipments_of(app.engine, held) == []


def test_a_stock_count_sets_on_hand_and_backorders_are_reserved_on_request(
        app: App, empty_world: World) -> None:
    world = empty_world
    chair = world.products["CHAIR"]
    order_id = app.bus.handle(c.CreateOrder(world.customers["rossi"], (line(chair, 3),)))
    app.bus.handle(c.ConfirmOrder(order_id))
    app.bus.handle(c.AdjustStock(world.warehouse_id, chair, "found in aisle 4",
                                 counted=D(7)))
    assert s.stock(app.engine, chair) == (D(7), D(0))  # an adjustment reserves nothing
    [shipment_id] = app.bus.handle(c.ReserveBackorders(order_id))
    assert s.stock(app.engine, chair) == (D(7), D(3))
    assert s.shipment_lines(app.engine, shipment_id)[0]["quantity"] == D(3)
    assert app.bus.handle(c.ReserveBackorders()) == []  # nothing is waiting any more


def test_stock_held_for_orders_cannot_be_adjusted_away(app: App, world: World) -> None:
    chair = world.products["CHAIR"]
    order_id = app.bus.handle(c.CreateOrder(world.customers["rossi"], (line(chair, 30),)))
    app.bus.handle(c.ConfirmOrder(order_id))
    before = s.row_counts(app.engine)
    with pytest.raises(InsufficientStock) as error:
        app.bus.handle(c.AdjustStock(world.warehouse_id, chair, "breakage", delta=D(-71)))
    assert error.value.field == "quantity"
    with pytest.raises(InvalidInput) as invalid:
        app.bus.handle(c.AdjustStock(world.warehouse_id, chair, "count", counted=D(-1)))
    assert invalid.value.field == "counted"
    with pytest.raises(InvalidInput) as both:
        app.bus.handle(c.AdjustStock(world.warehouse_id, chair, "count", delta=D(1),
                                     counted=D(1)))
    assert both.value.field == "delta"
    assert s.row_counts(app.engine) == before
    assert s.stock(app.engine, chair) == (D(100), D(30))
    app.bus.handle(c.AdjustStock(world.warehouse_id, chair, "breakage", delta=D(-70)))
    assert s.stock(app.engine, chair) == (D(30), D(30))
    [moves] = [s.rows(app.engine, t.stock_moves, t.stock_moves.c.kind == "adjustment")]
    assert [(m["quantity"], m["reference"]) for m in moves] == [(D(-70), "breakage")]
