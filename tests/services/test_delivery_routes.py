"""Warehouses that ship without separate pick and pack steps: the route a warehouse chooses
applies to the shipments created from then on, and each shipment finishes the route it began."""

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


def _set_route(app: App, world: World, route: str) -> None:
    app.bus.handle(c.UpdateWarehouse(world.warehouse_id, {"delivery_route": route}))


def test_a_ship_only_warehouse_ships_and_invoices_straight_from_reservation(
        app: App, world: World) -> None:
    _set_route(app, world, "ship_only")
    order_id, shipment_id = _confirmed(app, world, line(world.products["CHAIR"], 2))
    assert s.row(app.engine, t.shipments, shipment_id)["route"] == "ship_only"
    app.bus.handle(c.ShipShipment(shipment_id, on=date(2026, 3, 4), carrier="BRT",
                                  tracking_number="T9", packages=1))
    shipment = s.row(app.engine, t.shipments, shipment_id)
    assert (shipment["state"], shipment["picked_on"], shipment["packed_on"],
            shipment["shipped_on"], shipment["packages"]) == (
        "shipped", None, None, date(2026, 3, 4), 1)
    assert s.event_names(app.engine, "shipment", shipment_id) == ["created", "shipped"]
    [invoice] = s.invoices_of_order(app.engine, order_id)
    assert (invoice["shipment_id"], invoice["state"], invoice["net_amount"]) == (
        shipment_id, "posted", D("240.00"))
    assert s.stock(app.engine, world.products["CHAIR"]) == (D(98), D(0))
    assert s.row(app.engine, t.sales_orders, order_id)["state"] == "completed"


def test_picking_where_the_route_has_no_pick_step_is_refused_and_writes_nothing(
        app: App, world: World) -> None:
    _set_route(app, world, "ship_only")
    _, shipment_id = _confirmed(app, world, line(world.products["CHAIR"], 1))
    before = s.row_counts(app.engine)
    with pytest.raises(InvalidTransition, match=r"route \(ship_only\) has no pick step"):
        app.bus.handle(c.PickShipment(shipment_id))
    assert s.row_counts(app.engine) == before
    assert s.row(app.engine, t.shipments, shipment_id)["state"] == "ready"


def test_a_new_route_applies_to_new_shipments_while_open_ones_finish_their_own(
        app: App, world: World) -> None:
    _, three_step = _confirmed(app, world, line(world.products["CHAIR"], 1))
    _set_route(app, world, "ship_only")
    _, one_step = _confirmed(app, world, line(world.products["CHAIR"], 1))
    assert [s.row(app.engine, t.shipments, i)["route"] for i in (three_step, one_step)] == [
        "pick_pack_ship", "ship_only"]
    with pytest.raises(InvalidTransition, match="it is ready"):
        app.bus.handle(c.ShipShipment(three_step))
    s.ship(app.bus, three_step)  # pick, pack, ship
    app.bus.handle(c.ShipShipment(one_step))
    assert [s.row(app.engine, t.shipments, i)["state"] for i in (three_step, one_step)] == [
        "shipped", "shipped"]
    assert s.event_names(app.engine, "warehouse", world.warehouse_id)[-1] == (
        "delivery_route_changed")


def test_the_rest_of_a_partial_shipment_keeps_the_route_of_the_first(
        app: App, world: World) -> None:
    _set_route(app, world, "pick_ship")
    order_id, shipment_id = _confirmed(app, world, line(world.products["CHAIR"], 5))
    [chair_line] = [x["id"] for x in s.order_lines(app.engine, order_id)]
    app.bus.handle(c.PickShipment(shipment_id))
    app.bus.handle(c.ShipShipment(shipment_id, quantities={chair_line: D(3)}))
    first, rest = s.shipments_of(app.engine, order_id)
    assert (first["state"], rest["state"], rest["route"]) == ("shipped", "ready", "pick_ship")
    with pytest.raises(InvalidTransition, match="no pack step"):
        app.bus.handle(c.PackShipment(rest["id"]))


def test_an_unknown_route_or_field_is_refused_with_its_field(app: App, world: World) -> None:
    before = s.row_counts(app.engine)
    with pytest.raises(InvalidInput) as unknown_route:
        _set_route(app, world, "drone")
    assert unknown_route.value.field == "delivery_route"
    assert "pick_pack_ship" in unknown_route.value.message
    with pytest.raises(InvalidInput) as unknown_field:
        app.bus.handle(c.UpdateWarehouse(world.warehouse_id, {"code": "X"}))
    assert unknown_field.value.field == "code"
    with pytest.raises(InvalidInput) as on_create:
        app.bus.handle(c.CreateWarehouse(world.company_id, "ROM", "Roma",
                                         delivery_route="teleport"))
    assert on_create.value.field == "delivery_route"
    assert s.row_counts(app.engine) == before


def test_renaming_a_warehouse_records_what_changed(app: App, world: World) -> None:
    app.bus.handle(c.UpdateWarehouse(world.warehouse_id, {"name": "Milano Nord"}))
    warehouse = s.row(app.engine, t.warehouses, world.warehouse_id)
    assert (warehouse["name"], warehouse["delivery_route"]) == ("Milano Nord",
                                                                "pick_pack_ship")
    [updated] = s.event_data(app.engine, "warehouse", world.warehouse_id, "updated")
    assert updated["changes"] == {"name": {"before": "Milano", "after": "Milano Nord"}}
