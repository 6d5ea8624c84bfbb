"""A warehouse's delivery route decides which steps its shipments go through: every step
(pick, pack, ship), pick and ship, or shipping straight away. A step the route does not have
is an illegal move, named as such."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from o2c.domain.errors import InvalidInput, InvalidTransition
from o2c.domain.inventory import Warehouse
from o2c.domain.shipping import (
    ROUTE_TRANSITIONS,
    DeliveryRoute,
    Shipment,
    ShipmentLine,
    ShipmentState,
    next_step,
    route_steps,
)

ON = date(2026, 3, 2)
R = DeliveryRoute
S = ShipmentState


def _shipment(route: DeliveryRoute) -> Shipment:
    shipment = Shipment.new(company_id=1, order_id=1, customer_id=1, warehouse_id=1,
                            lines=[ShipmentLine(order_line_id=1, product_id=1, sku="P1",
                                                quantity=Decimal(2))], on=ON, route=route)
    shipment.id = 7
    shipment.events.clear()
    return shipment


def test_a_ship_only_shipment_ships_as_soon_as_it_is_reserved() -> None:
    shipment = _shipment(R.SHIP_ONLY)
    shipment.ship(ON, carrier="BRT", tracking_number="T1", packages=2)
    assert (shipment.state, shipment.picked_on, shipment.packed_on, shipment.shipped_on,
            shipment.packages) == (S.SHIPPED, None, None, ON, 2)
    assert [event.name for event in shipment.events] == ["shipped"]


@pytest.mark.parametrize(("route", "action"), [
    (R.SHIP_ONLY, "pick"), (R.SHIP_ONLY, "pack"), (R.PICK_SHIP, "pack")])
def test_a_step_the_route_does_not_have_is_an_illegal_move_that_says_so(
        route: DeliveryRoute, action: str) -> None:
    shipment = _shipment(route)
    if route is R.PICK_SHIP:
        shipment.pick(ON)
    with pytest.raises(InvalidTransition) as raised:
        if action == "pick":
            shipment.pick(ON)
        else:
            shipment.pack(ON)
    assert f"({route.value}) has no {action} step" in str(raised.value)
    assert raised.value.details["action"] == action


def test_a_pick_ship_shipment_is_picked_then_shipped_not_shipped_from_the_shelf() -> None:
    shipment = _shipment(R.PICK_SHIP)
    with pytest.raises(InvalidTransition, match="it is ready"):
        shipment.ship(ON)
    shipment.pick(ON)
    shipment.ship(ON)
    assert (shipment.state, shipment.picked_on, shipment.packed_on) == (S.SHIPPED, ON, None)


def test_the_three_step_route_still_needs_packing_before_shipping() -> None:
    shipment = _shipment(R.PICK_PACK_SHIP)
    shipment.pick(ON)
    with pytest.raises(InvalidTransition, match="it is picked"):
        shipment.ship(ON)
    shipment.pack(ON, packages=3)
    shipment.ship(ON)
    assert (shipment.state, shipment.packages) == (S.SHIPPED, 3)


def test_packages_counted_at_shipping_are_at_least_one_and_nothing_moves_otherwise() -> None:
    shipment = _shipment(R.SHIP_ONLY)
    with pytest.raises(InvalidInput) as raised:
        shipment.ship(ON, packages=0)
    assert raised.value.field == "packages"
    assert (shipment.state, shipment.events) == (S.READY, [])


@pytest.mark.parametrize(("route", "state", "step"), [
    (R.PICK_PACK_SHIP, S.READY, "pick"), (R.PICK_PACK_SHIP, S.PICKED, "pack"),
    (R.PICK_PACK_SHIP, S.PACKED, "ship"), (R.PICK_PACK_SHIP, S.SHIPPED, "deliver"),
    (R.PICK_SHIP, S.READY, "pick"), (R.PICK_SHIP, S.PICKED, "ship"),
    (R.SHIP_ONLY, S.READY, "ship"), (R.SHIP_ONLY, S.SHIPPED, "deliver"),
    (R.SHIP_ONLY, S.DELIVERED, None), (R.PICK_SHIP, S.CANCELLED, None),
])
def test_the_next_step_follows_the_route(route: DeliveryRoute, state: ShipmentState,
                                         step: str | None) -> None:
    assert next_step(route, state) == step
    assert next_step(route.value, state.value) == step  # as rows from the database carry them


@pytest.mark.parametrize(("route", "before_shipping"), [
    (R.PICK_PACK_SHIP, {S.READY, S.PICKED, S.PACKED}), (R.PICK_SHIP, {S.READY, S.PICKED}),
    (R.SHIP_ONLY, {S.READY})])
def test_a_shipment_can_be_cancelled_until_it_ships_on_every_route(
        route: DeliveryRoute, before_shipping: set[ShipmentState]) -> None:
    assert ROUTE_TRANSITIONS[route]["cancel"] == (before_shipping, S.CANCELLED)


@pytest.mark.parametrize(("route", "steps"), [
    (R.PICK_PACK_SHIP, ("pick", "pack", "ship", "deliver")),
    (R.PICK_SHIP, ("pick", "ship", "deliver")), (R.SHIP_ONLY, ("ship", "deliver"))])
def test_a_route_lists_its_steps_in_order(route: DeliveryRoute, steps: tuple[str, ...]) -> None:
    assert route_steps(route) == route_steps(route.value) == steps


def test_changing_a_warehouse_route_is_recorded_once() -> None:
    warehouse = Warehouse(id=1, company_id=1, code="MIL", name="Milano")
    assert warehouse.delivery_route is R.PICK_PACK_SHIP
    warehouse.change_delivery_route(R.SHIP_ONLY)
    warehouse.change_delivery_route(R.SHIP_ONLY)
    assert warehouse.delivery_route is R.SHIP_ONLY
    assert [(e.name, e.data) for e in warehouse.events] == [
        ("delivery_route_changed", {"before": "pick_pack_ship", "after": "ship_only"})]
