"""Shipments: reserved goods go out through pick -> pack -> ship -> deliver."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from o2c.domain.aggregate import Aggregate
from o2c.domain.errors import InvalidInput
from o2c.domain.money import ZERO, plain
from o2c.domain.statemachine import move


class ShipmentState(StrEnum):
    READY = "ready"  # reserved, waiting to be picked
    PICKED = "picked"
    PACKED = "packed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


_S = ShipmentState
SHIPMENT_TRANSITIONS: dict[str, tuple[frozenset[ShipmentState], ShipmentState]] = {
    "pick": (frozenset({_S.READY}), _S.PICKED),
    "pack": (frozenset({_S.PICKED}), _S.PACKED),
    "ship": (frozenset({_S.PACKED}), _S.SHIPPED),
    "deliver": (frozenset({_S.SHIPPED}), _S.DELIVERED),
    "cancel": (frozenset({_S.READY, _S.PICKED, _S.PACKED}), _S.CANCELLED),
}


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
    lines: list[ShipmentLine] = field(default_factory=list)

    @classmethod
    def new(cls, *, company_id: int, order_id: int, customer_id: int, warehouse_id: int,
            lines: list[ShipmentLine], on: date, split_from: str = "") -> Shipment:
        if not lines:
            raise InvalidInput("a shipment needs at least one line")
        shipment = cls(company_id=company_id, order_id=order_id, customer_id=customer_id,
                       warehouse_id=warehouse_id, created_on=on, lines=lines)
        shipment.record("created", order_id=order_id, split_from=split_from,
                        lines=[{"sku": line.sku, "quantity": plain(line.quantity)}
                               for line in lines])
        return shipment

    def _move(self, action: str) -> None:
        self.state = move(SHIPMENT_TRANSITIONS, self.state, action, "shipment", self.label)

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
             quantities: dict[int, Decimal] | None = None) -> list[ShipmentLine]:
        """Ship everything, or only `quantities` (order line id -> quantity).

        Returns what stays behind (still reserved) for a follow-up shipment."""
        self._move("ship")
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
