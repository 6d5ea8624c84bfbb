"""Pick, pack, ship, deliver (the steps of the warehouse's delivery route): shipments move
reserved stock out and trigger invoicing."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from o2c.domain import commands as c
from o2c.domain.shipping import Shipment
from o2c.services.inventory import lock_stock, release_reservations
from o2c.services.uow import UnitOfWork


def _shipment(uow: UnitOfWork, shipment_id: int) -> Shipment:
    return uow.shipments.get(shipment_id, for_update=True)


def pick_shipment(cmd: c.PickShipment, uow: UnitOfWork) -> int:
    shipment = _shipment(uow, cmd.shipment_id)
    shipment.pick(cmd.on or uow.today())
    return cmd.shipment_id


def pack_shipment(cmd: c.PackShipment, uow: UnitOfWork) -> int:
    shipment = _shipment(uow, cmd.shipment_id)
    shipment.pack(cmd.on or uow.today(), cmd.packages)
    return cmd.shipment_id


def ship_shipment(cmd: c.ShipShipment, uow: UnitOfWork) -> int:
    """Goods leave the warehouse: stock goes down, the order records what shipped, anything
    left behind goes on a follow-up shipment, and the invoicing policy runs."""
    shipment = _shipment(uow, cmd.shipment_id)
    order = uow.orders.get(shipment.order_id, for_update=True)
    on = cmd.on or uow.today()
    remainder = shipment.ship(on, carrier=cmd.carrier, tracking_number=cmd.tracking_number,
                              quantities=cmd.quantities, packages=cmd.packages)
    per_product: dict[int, Decimal] = defaultdict(Decimal)
    for line in shipment.lines:
        per_product[line.product_id] += line.quantity
    levels = lock_stock(uow, shipment.warehouse_id, set(per_product))
    moves = [levels[product_id].ship(qty, shipment.number, on)
             for product_id, qty in per_product.items()]
    uow.lookups.record_moves(moves, uow.now)
    order.record_shipped(shipment.quantities(), shipment.number)
    if remainder:
        assert order.id is not None
        uow.shipments.add(Shipment.new(
            company_id=shipment.company_id, order_id=order.id,
            customer_id=shipment.customer_id, warehouse_id=shipment.warehouse_id,
            lines=remainder, on=on, split_from=shipment.number, route=shipment.route))
    return cmd.shipment_id


def deliver_shipment(cmd: c.DeliverShipment, uow: UnitOfWork) -> int:
    shipment = _shipment(uow, cmd.shipment_id)
    shipment.deliver(cmd.on or uow.today())
    return cmd.shipment_id


def cancel_shipment(cmd: c.CancelShipment, uow: UnitOfWork) -> int:
    """The reserved goods go back to stock and the order lines back to backorder."""
    shipment = _shipment(uow, cmd.shipment_id)
    order = uow.orders.get(shipment.order_id, for_update=True)
    shipment.cancel(cmd.reason)
    per_product: dict[int, Decimal] = defaultdict(Decimal)
    for line in shipment.lines:
        order.unreserve(line.order_line_id, line.quantity)
        per_product[line.product_id] += line.quantity
    release_reservations(uow, shipment.warehouse_id, dict(per_product))
    return cmd.shipment_id
