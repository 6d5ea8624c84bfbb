"""Stock receipts and adjustments; reservations for orders, first come first served."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from o2c.domain import commands as c
from o2c.domain.errors import InvalidInput, NotFound
from o2c.domain.events import Event
from o2c.domain.inventory import StockLevel
from o2c.domain.money import ZERO
from o2c.domain.orders import SalesOrder
from o2c.domain.shipping import Shipment, ShipmentLine
from o2c.services.uow import UnitOfWork


def lock_stock(uow: UnitOfWork, warehouse_id: int, product_ids: set[int]
               ) -> dict[int, StockLevel]:
    """The stock rows of these products, locked (PostgreSQL) in a fixed order; product id ->
    level."""
    return uow.stock.lock_levels(warehouse_id, product_ids)


def _level(uow: UnitOfWork, warehouse_id: int, product_id: int) -> StockLevel:
    warehouse = uow.warehouses.find(warehouse_id)
    if warehouse is None:
        raise NotFound("warehouse", warehouse_id, field="warehouse_id")
    product = uow.products.find(product_id)
    if product is None:
        raise NotFound("product", product_id, field="product_id")
    if product.company_id != warehouse.company_id:
        raise InvalidInput(f"product {product.sku} belongs to another company than warehouse "
                           f"{warehouse.code}", field="product_id")
    level = lock_stock(uow, warehouse_id, {product_id})[product_id]
    level.sku = product.sku
    return level


def receive_stock(cmd: c.ReceiveStock, uow: UnitOfWork) -> int:
    level = _level(uow, cmd.warehouse_id, cmd.product_id)
    move = level.receive(cmd.quantity, cmd.reference or "receipt", cmd.on or uow.today())
    uow.lookups.record_moves([move], uow.now)
    assert level.id is not None
    return level.id


def adjust_stock(cmd: c.AdjustStock, uow: UnitOfWork) -> int:
    if (cmd.delta is None) == (cmd.counted is None):
        raise InvalidInput("give either delta or counted", field="delta")
    level = _level(uow, cmd.warehouse_id, cmd.product_id)
    if cmd.counted is not None and cmd.counted < 0:
        raise InvalidInput("a counted quantity cannot be negative", field="counted")
    delta = cmd.delta if cmd.delta is not None else cmd.counted - level.on_hand  # type: ignore[operator]
    move = level.adjust(delta, cmd.reason, cmd.on or uow.today())
    uow.lookups.record_moves([move], uow.now)
    assert level.id is not None
    return level.id


def reserve_for_orders(uow: UnitOfWork, orders: list[SalesOrder], on: date) -> list[Shipment]:
    """Reserve what each order still waits for, oldest order first, and put the newly
    reserved goods on a shipment. What cannot be reserved stays on backorder."""
    by_warehouse: dict[int, set[int]] = defaultdict(set)
    for order in orders:
        for line in order.lines:
            if line.backorder_qty > 0:
                by_warehouse[order.warehouse_id].add(line.product_id)
    levels = {wh: lock_stock(uow, wh, products) for wh, products in by_warehouse.items()}
    shipments = []
    for order in sorted(orders, key=lambda o: (o.order_date, o.id or 0)):
        if not order.is_open:
            continue
        reserved: dict[int, Decimal] = {}
        for line in order.lines:
            if line.backorder_qty > 0 and line.id is not None:
                taken = levels[order.warehouse_id][line.product_id].reserve(line.backorder_qty)
                if taken > 0:
                    reserved[line.id] = taken
        if reserved:
            order.reserve(reserved)
            shipments.append(_shipment_for(uow, order, reserved, on))
    return shipments


def _shipment_for(uow: UnitOfWork, order: SalesOrder, quantities: dict[int, Decimal],
                  on: date) -> Shipment:
    assert order.id is not None
    lines = [ShipmentLine(order_line_id=line_id, product_id=order.line(line_id).product_id,
                          sku=order.line(line_id).sku,
                          description=order.line(line_id).description, quantity=qty)
             for line_id, qty in quantities.items()]
    shipment = Shipment.new(company_id=order.company_id, order_id=order.id,
                            customer_id=order.customer_id, warehouse_id=order.warehouse_id,
                            lines=lines, on=on,
                            route=uow.lookups.delivery_route(order.warehouse_id))
    uow.shipments.add(shipment)
    return shipment


def release_reservations(uow: UnitOfWork, warehouse_id: int,
                         quantities: dict[int, Decimal]) -> None:
    """Give reserved stock back (product id -> quantity)."""
    quantities = {p: q for p, q in quantities.items() if q > 0}
    if not quantities:
        return
    levels = lock_stock(uow, warehouse_id, set(quantities))
    for product_id, qty in quantities.items():
        levels[product_id].release(qty)


def reserve_backorders(cmd: c.ReserveBackorders, uow: UnitOfWork) -> list[int]:
    order_ids = uow.lookups.orders_with_backorder(None, None, cmd.order_id)
    orders = uow.orders.get_many(order_ids, for_update=True)
    shipments = reserve_for_orders(uow, orders, cmd.on or uow.today())
    return [s.id for s in shipments if s.id is not None]


def on_stock_received(event: Event, uow: UnitOfWork) -> None:
    """Policy: new stock goes first to the orders that have waited longest for it."""
    level = uow.stock.get(event.object_id)
    order_ids = uow.lookups.orders_with_backorder(level.warehouse_id, {level.product_id})
    if order_ids:
        orders = uow.orders.get_many(order_ids, for_update=True)
        reserve_for_orders(uow, orders, date.fromisoformat(event.data["on"]))


def quantities_by_product(lines: list[tuple[int, Decimal]]) -> dict[int, Decimal]:
    totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for product_id, qty in lines:
        totals[product_id] += qty
    return dict(totals)
