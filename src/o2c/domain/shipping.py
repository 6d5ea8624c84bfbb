"""Shipments: reserved goods go out through pick -> pack -> ship -> deliver.

A warehouse chooses how many of those steps it records (its delivery route): every step
(pick, pack, ship), pick and ship, or shipping straight from the shelf, as a small shop
without a packing station does. A shipment keeps the route it was created with."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from o2c.domain.aggregate import Aggregate
from o2c.domain.errors import InvalidInput, InvalidTransition
from o2c.domain.money import ZERO, plain
from o2c.domain.statemachine import move


class ShipmentState(StrEnum):
    READY = "ready"  # reserved, waiting for the first step of its route
    PICKED = "picked"
    PACKED = "packed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class DeliveryRoute(StrEnum):
    PICK_PACK_SHIP = "pick_pack_ship"  # three steps
    PICK_SHIP = "pick_ship"  # picked goods go out as they are
    SHIP_ONLY = "ship_only"  # one step: the shipment leaves as soon as it is reserved


_S = ShipmentState
SHIPMENT_TRANSITIONS: dict[str, tuple[frozenset[ShipmentState], ShipmentState]] = {
    "pick": (frozenset({_S.READY}), _S.PICKED),
    "pack": (frozenset({_S.PICKED}), _S.PACKED),
    "ship": (frozenset({_S.PACKED}), _S.SHIPPED),
    "deliver": (frozenset({_S.SHIPPED}), _S.DELIVERED),
    "cancel": (frozenset({_S.READY, _S.PICKED, _S.PACKED}), _S.CANCELLED),
}
# The legal moves of each route; a step a route does not have is an illegal move.
ROUTE_TRANSITIONS: dict[DeliveryRoute, dict[str, tuple[frozenset[ShipmentState],
                                                        ShipmentState]]] = {
    DeliveryRoute.PICK_PACK_SHIP: SHIPMENT_TRANSITIONS,
    DeliveryRoute.PICK_SHIP: {
        "pick": (frozenset({_S.READY}), _S.PICKED),
        "ship": (frozenset({_S.PICKED}), _S.SHIPPED),
        "deliver": (frozenset({_S.SHIPPED}), _S.DELIVERED),
        "cancel": (frozenset({_S.READY, _S.PICKED}), _S.CANCELLED),
    },
    DeliveryRoute.SHIP_ONLY: {
        "ship": (frozenset({_S.READY}), _S.SHIPPED),
        "deliver": (frozenset({_S.SHIPPED}), _S.DELIVERED),
        "cancel": (frozenset({_S.READY}), _S.CANCELLED),
    },
}


def route_steps(route: DeliveryRoute | str) -> tuple[str, ...]:
    """The warehouse steps of a route, in order (e.g. pick, pack, ship, deliver)."""
    return tuple(action for action in ROUTE_TRANSITIONS[DeliveryRoute(route)]
                 if action != "cancel")


def next_step(route: DeliveryRoute | str, state: ShipmentState | str) -> str | None:
    """The warehouse's next move for a shipment on `route` in `state` (None once it has
    shipped and been delivered, or was cancelled)."""
    for action, (sources, _) in ROUTE_TRANSITIONS[DeliveryRoute(route)].items():
        if action != "cancel" and state in sources:
            return action
    return None


@dataclass(kw_only=True, eq=False)
class ShipmentLine:
    id: int | None = None
    order_line_id: int
    product_id: int
    sku: str
    description: str = ""
    quantity: Decimal


@dataclass(kw_only=True, eq=False)
class Shipment(Aggregate):
    object_type = "shipment"

    number: str = ""
    company_id: int
    order_id: int
    customer_id: int
    warehouse_id: int
    state: ShipmentState = ShipmentState.READY
    created_on: date
    picked_on: date | None = None
    packed_on: date | None = None
    shipped_on: date | None = None
    delivered_on: date | None = None
    carrier: str = ""
    tracking_number: str = ""
    packages: int = 0
    route: DeliveryRoute = DeliveryRoute.PICK_PACK_SHIP
    lines: list[ShipmentLine] = field(default_factory=list)

    @classmethod
    def new(cls, *, company_id: int, order_id: int, customer_id: int, warehouse_id: int,
            lines: list[ShipmentLine], on: date, split_from: str = "",
            route: DeliveryRoute = DeliveryRoute.PICK_PACK_SHIP) -> Shipment:
        if not lines:
            raise InvalidInput("a shipment needs at least one line")
        shipment = cls(company_id=company_id, order_id=order_id, customer_id=customer_id,
                       warehouse_id=warehouse_id, created_on=on, lines=lines, route=route)
        shipment.record("created", order_id=order_id, split_from=split_from,
                        lines=[{"sku": line.sku, "quantity": plain(line.quantity)}
                               for line in lines])
        return shipment

    def _move(self, action: str) -> None:
        transitions = ROUTE_TRANSITIONS[self.route]
        if action not in transitions:  # e.g. packing where the warehouse does not pack
            raise InvalidTransition("shipment", self.label, self.state.value, action,
                                    f"its warehouse route ({self.route.value}) has no "
                                    f"{action} step")
        self.state = move(transitions, self.state, action, "shipment", self.label)

    def pick(self, on: date) -> None:
        self._move("pick")
        self.picked_on = on
        self.record("picked")

    def pack(self, on: date, packages: int = 1) -> None:
        if packages < 1:
            raise InvalidInput("a packed shipment has at least one package", field="packages")
        self._move("pack")
        self.packed_on = on
        self.packages = packages
        self.record("packed", packages=packages)

    def ship(self, on: date, *, carrier: str = "", tracking_number: str = "",
             quantities: dict[int, Decimal] | None = None,
             packages: int | None = None) -> list[ShipmentLine]:
        """Ship everything, or only `quantities` (order line id -> quantity). `packages` is
        counted here where the route has no packing step.

        Returns what stays behind (still reserved) for a follow-up shipment."""
        if packages is not None and packages < 1:
            raise InvalidInput("a shipment has at least one package", field="packages")
        self._move("ship")
        if packages is not None:
            self.packages = packages
        remainder: list[ShipmentLine] = []
        if quantities is not None:
            unknown = set(quantities) - {line.order_line_id for line in self.lines}
            if unknown:
                raise InvalidInput(f"order lines {sorted(unknown)} are not on shipment "
                                   f"{self.label}", field="lines")
            for line in self.lines:
                qty = quantities.get(line.order_line_id, ZERO)
                if qty < 0 or qty > line.quantity:
                    raise InvalidInput(f"{line.sku}: ship between 0 and "
                                       f"{plain(line.quantity)}, not {qty}", field="lines")
                if qty < line.quantity:
                    remainder.append(ShipmentLine(
                        order_line_id=line.order_line_id, product_id=line.product_id,
                        sku=line.sku, description=line.description,
                        quantity=line.quantity - qty))
                line.quantity = qty
            if not any(line.quantity for line in self.lines):
                raise InvalidInput("a shipment must ship at least one unit", field="lines")
            self.lines = [line for line in self.lines if line.quantity > 0]
        self.shipped_on = on
        self.carrier = carrier
        self.tracking_number = tracking_number
        self.record("shipped", carrier=carrier, tracking_number=tracking_number,
                    lines=[{"sku": line.sku, "quantity": plain(line.quantity)}
                           for line in self.lines],
                    left_behind=[{"sku": r.sku, "quantity": plain(r.quantity)}
                                 for r in remainder])
        return remainder

    def deliver(self, on: date) -> None:
        self._move("deliver")
        self.delivered_on = on
        self.record("delivered")

    def cancel(self, reason: str) -> None:
        self._move("cancel")
        self.record("cancelled", reason=reason)

    def quantities(self) -> dict[int, Decimal]:
        return {line.order_line_id: line.quantity for line in self.lines}
