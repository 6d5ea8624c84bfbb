"""Order capture, the credit decision at confirmation, release/reject of held orders and
cancellation."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from o2c.domain import commands as c
from o2c.domain.catalog import ProductKind
from o2c.domain.credit import CreditDecision, check_credit
from o2c.domain.errors import CurrencyMismatch, InvalidInput, MissingVatRate, NotFound
from o2c.domain.orders import LineDraft, OrderState, SalesOrder
from o2c.domain.tax import determine_treatment, pick_rate
from o2c.services.inventory import release_reservations, reserve_for_orders
from o2c.services.uow import UnitOfWork


@dataclass(frozen=True)
class ConfirmResult:
    order_id: int
    state: OrderState
    decision: CreditDecision | None
    shipment_ids: tuple[int, ...] = ()
    backorder: tuple[dict[str, object], ...] = ()


def create_order(cmd: c.CreateOrder, uow: UnitOfWork) -> int:
    order = draft_order(cmd, uow)
    uow.orders.add(order)
    assert order.id is not None
    return order.id


def draft_order(cmd: c.CreateOrder, uow: UnitOfWork) -> SalesOrder:
    """The order `cmd` would create, priced and taxed, not stored: what create_order adds,
    and what the order form previews (in a unit of work that is never committed)."""
    customer = uow.customers.find(cmd.customer_id)
    if customer is None:
        raise NotFound("customer", cmd.customer_id, field="customer_id")
    company = uow.companies.get(customer.company_id)
    assert company.id is not None and customer.id is not None
    if cmd.currency is not None and cmd.currency != customer.currency:
        raise CurrencyMismatch(customer.currency, cmd.currency, field="currency")
    order_date = cmd.order_date or uow.today()
    warehouse_id = cmd.warehouse_id
    if warehouse_id is None:
        warehouse_id = uow.lookups.default_warehouse(company.id)
        if warehouse_id is None:
            raise InvalidInput(f"company {company.code} has no warehouse", field="warehouse_id")
    else:
        warehouse = uow.warehouses.find(warehouse_id)
        if warehouse is None or warehouse.company_id != company.id:
            raise NotFound("warehouse", warehouse_id, field="warehouse_id")
    if not cmd.lines:
        raise InvalidInput("an order needs at least one line", field="lines")

    products = {p.id: p for p in uow.products.get_many(line.product_id for line in cmd.lines)}
    ship_to = customer.shipping_address.country or customer.country
    drafts = []
    treatments = []
    for i, line in enumerate(cmd.lines):
        product = products.get(line.product_id)
        if product is None or product.company_id != company.id:
            raise NotFound("product", line.product_id, field=f"lines[{i}].product_id")
        if not product.active:
            raise InvalidInput(f"product {product.sku} is no longer sold",
                               field=f"lines[{i}].product_id")
        treatments.append(determine_treatment(company.country, ship_to, customer.is_business,
                                              product.vat_category,
                                              service=product.kind is ProductKind.SERVICE))
    rates = uow.lookups.vat_rates({tr.rate_country for tr in treatments}, order_date)
    for i, (line, treatment) in enumerate(zip(cmd.lines, treatments, strict=True)):
        product = products[line.product_id]
        rate = Decimal(0)
        if treatment.needs_rate_lookup:
            found = pick_rate(rates, treatment.rate_country, treatment.rate_category, order_date)
            if found is None:
                raise MissingVatRate(treatment.rate_country, treatment.rate_category.value,
                                     order_date)
            rate = found.rate
        unit_price = line.unit_price
        if unit_price is None:
            unit_price = product.price_in(customer.currency, company.currency)
            if unit_price is None:
                raise InvalidInput(f"{product.sku} has no {customer.currency} price; give "
                                   f"unit_price", field=f"lines[{i}].unit_price")
        drafts.append(LineDraft(
            product_id=line.product_id, sku=product.sku,
            description=line.description or product.name, quantity=line.quantity,
            unit=product.unit, unit_price=unit_price, discount_percent=line.discount_percent,
            vat_code=treatment.code.value, vat_rate=rate,
            exemption_reason=treatment.exemption_reason))
    return SalesOrder.new(company_id=company.id, customer_id=customer.id,
                          warehouse_id=warehouse_id, currency=customer.currency,
                          order_date=order_date, lines=drafts, rounding=company.rounding,
                          customer_reference=cmd.customer_reference, notes=cmd.notes)


def confirm_order(cmd: c.ConfirmOrder, uow: UnitOfWork) -> ConfirmResult:
    order = uow.orders.get(cmd.order_id, for_update=True)
    # Locking the customer serialises credit decisions per customer, so two orders confirmed
    # at the same moment cannot both fit under a limit that only one of them fits under.
    customer = uow.customers.get(order.customer_id, for_update=True)
    company = uow.companies.get(order.company_id)
    on = cmd.on or uow.today()
    if order.state is not OrderState.DRAFT:
        order.confirm(order.gross_amount, on)  # raises InvalidTransition with the state
    position = uow.lookups.credit_position(customer, on)
    hold_days = (customer.overdue_hold_days if customer.overdue_hold_days is not None
                 else company.overdue_hold_days)
    decision = check_credit(position, order.gross_amount, on, hold_days)
    if not decision.approved:
        order.hold(list(decision.reasons), decision.exposure_after)
        assert order.id is not None
        return ConfirmResult(order.id, order.state, decision)
    order.confirm(decision.exposure_after, on)
    return _reserve(uow, order, on, decision)


def _reserve(uow: UnitOfWork, order: SalesOrder, on: date,
             decision: CreditDecision | None) -> ConfirmResult:
    """A confirmed order reserves its stock at once; what is missing is a backorder."""
    shipments = reserve_for_orders(uow, [order], on)
    assert order.id is not None
    return ConfirmResult(order.id, order.state, decision,
                         tuple(s.id for s in shipments if s.id is not None),
                         tuple(order.backorder()))


def release_order(cmd: c.ReleaseOrder, uow: UnitOfWork) -> ConfirmResult:
    order = uow.orders.get(cmd.order_id, for_update=True)
    on = cmd.on or uow.today()
    order.release(cmd.reason, on)
    return _reserve(uow, order, on, None)


def reject_order(cmd: c.RejectOrder, uow: UnitOfWork) -> int:
    order = uow.orders.get(cmd.order_id, for_update=True)
    order.reject(cmd.reason)
    assert order.id is not None
    return order.id


def cancel_order(cmd: c.CancelOrder, uow: UnitOfWork) -> int:
    order = uow.orders.get(cmd.order_id, for_update=True)
    released = order.cancel(cmd.reason)
    for shipment in uow.shipments.get_many(uow.lookups.open_shipment_ids(cmd.order_id),
                                           for_update=True):
        shipment.cancel(f"order {order.label} cancelled")
    per_product: dict[int, Decimal] = defaultdict(Decimal)
    for line_id, qty in released.items():
        per_product[order.line(line_id).product_id] += qty
    release_reservations(uow, order.warehouse_id, dict(per_product))
    assert order.id is not None
    return order.id
