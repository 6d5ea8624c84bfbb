"""Warehouses and stock: what is on hand, what orders hold, and every move in between.

The invariant (on hand >= 0, 0 <= reserved <= on hand) is checked here and backed by database
constraints; reservations take what is available and report the rest as backorder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from o2c.domain.aggregate import Aggregate
from o2c.domain.catalog import QUANTITY_DECIMALS, check_decimals, check_quantity
from o2c.domain.errors import InsufficientStock, InvalidInput
from o2c.domain.money import ZERO, plain
from o2c.domain.parties import Address
from o2c.domain.shipping import DeliveryRoute


@dataclass(kw_only=True, eq=False)
class Warehouse(Aggregate):
    object_type = "warehouse"

    company_id: int
    code: str
    name: str
    address: Address = field(default_factory=Address)
    # The steps its shipments go through; new shipments take it, existing ones keep theirs.
    delivery_route: DeliveryRoute = DeliveryRoute.PICK_PACK_SHIP

    def change_delivery_route(self, route: DeliveryRoute) -> None:
        if route == self.delivery_route:
            return
        self.record("delivery_route_changed", before=self.delivery_route.value,
                    after=route.value)
        self.delivery_route = route


class MoveKind(StrEnum):
    RECEIPT = "receipt"
    ADJUSTMENT = "adjustment"
    SHIPMENT = "shipment"


@dataclass(frozen=True, slots=True)
class StockMove:
    product_id: int
    warehouse_id: int
    quantity: Decimal  # signed: + into the warehouse, - out of it
    kind: MoveKind
    reference: str
    moved_on: date


@dataclass(kw_only=True, eq=False)
class StockLevel(Aggregate):
    object_type = "stock"

    product_id: int
    warehouse_id: int
    sku: str = ""
    on_hand: Decimal = ZERO
    reserved: Decimal = ZERO

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.reserved

    def receive(self, quantity: Decimal, reference: str, on: date) -> StockMove:
        check_quantity(quantity, "quantity")
        self.on_hand += quantity
        self.record("received", sku=self.sku, quantity=plain(quantity), reference=reference,
                    on_hand=plain(self.on_hand), on=on)
        return StockMove(self.product_id, self.warehouse_id, quantity, MoveKind.RECEIPT,
                         reference, on)

    def adjust(self, delta: Decimal, reason: str, on: date) -> StockMove:
        if delta == 0:
            raise InvalidInput("an adjustment must change the quantity", field="quantity")
        if not reason.strip():
            raise InvalidInput("an adjustment needs a reason", field="reason")
        check_decimals(delta, QUANTITY_DECIMALS, "quantity")
        new_on_hand = self.on_hand + delta
        if new_on_hand < 0:
            raise InsufficientStock(
                f"cannot adjust {self.sku} by {delta}: only {plain(self.on_hand)} on hand",
                field="quantity", sku=self.sku)
        if new_on_hand < self.reserved:
            raise InsufficientStock(
                f"cannot adjust {self.sku} to {plain(new_on_hand)}: {plain(self.reserved)} are "
                f"reserved for "
                f"orders; cancel their shipments first", field="quantity", sku=self.sku)
        self.on_hand = new_on_hand
        self.record("adjusted", sku=self.sku, delta=plain(delta), reason=reason,
                    on_hand=plain(self.on_hand))
        return StockMove(self.product_id, self.warehouse_id, delta, MoveKind.ADJUSTMENT,
                         reason, on)

    def reserve(self, wanted: Decimal) -> Decimal:
        """Reserve up to `wanted`; returns what could be reserved (the rest is backorder)."""
        taken = min(wanted, max(self.available, ZERO))
        self.reserved += taken
        return taken

    def release(self, quantity: Decimal) -> None:
        if quantity > self.reserved:
            raise InsufficientStock(f"cannot release {plain(quantity)} of {self.sku}: only "
                                    f"{plain(self.reserved)} reserved")
        self.reserved -= quantity

    def ship(self, quantity: Decimal, reference: str, on: date) -> StockMove:
        if quantity > self.reserved:
            raise InsufficientStock(f"cannot ship {plain(quantity)} of {self.sku}: only "
                                    f"{plain(self.reserved)} reserved", sku=self.sku)
        self.reserved -= quantity
        self.on_hand -= quantity
        return StockMove(self.product_id, self.warehouse_id, -quantity, MoveKind.SHIPMENT,
                         reference, on)
