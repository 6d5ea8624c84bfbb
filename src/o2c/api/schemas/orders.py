"""Sales orders, the credit decision at confirmation, shipments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import Field

from o2c.adapters.db.queries import amount, quantity
from o2c.api.schemas.common import (
    Day,
    Dec,
    Input,
    Model,
    Percent,
    Quantity,
    Ref,
    UnitPrice,
)
from o2c.api.schemas.invoices import InvoiceOut
from o2c.domain import commands as c
from o2c.domain.orders import OrderState
from o2c.domain.shipping import DeliveryRoute
from o2c.services.orders import ConfirmResult

# -- orders -------------------------------------------------------------------------------------


class OrderLineIn(Input):
    product_id: Ref
    quantity: Quantity
    unit_price: UnitPrice | None = Field(None, description="the price list's when omitted")
    discount_percent: Percent = Decimal(0)
    description: str | None = Field(None, max_length=500)


class OrderIn(Input):
    customer_id: Ref
    lines: list[OrderLineIn] = Field(min_length=1, max_length=500)
    order_date: Day | None = Field(None, description="today when omitted")
    warehouse_id: Ref | None = Field(None, description="the company's first when omitted")
    currency: str | None = Field(None, min_length=3, max_length=3,
                                 description="must be the customer's currency when given")
    customer_reference: str = Field("", max_length=100,
                                    description="the buyer's purchase order number")
    notes: str = Field("", max_length=2000)

    def command(self) -> c.CreateOrder:
        return c.CreateOrder(
            self.customer_id,
            tuple(c.OrderLineInput(line.product_id, line.quantity, line.unit_price,
                                   line.discount_percent, line.description)
                  for line in self.lines),
            order_date=self.order_date, warehouse_id=self.warehouse_id, currency=self.currency,
            customer_reference=self.customer_reference, notes=self.notes)


class ConfirmIn(Input):
    on: Day | None = Field(None, description="today when omitted")


class ReleaseIn(Input):
    reason: str = Field(min_length=1, max_length=500,
                        description="why the credit manager releases the hold")
    on: Day | None = None


class RejectIn(Input):
    reason: str = Field(min_length=1, max_length=500)


class CancelIn(Input):
    reason: str = Field("", max_length=500)


class ReserveIn(Input):
    on: Day | None = None


class OrderLineOut(Model):
    id: int
    line_no: int
    product_id: int
    sku: str
    description: str
    quantity: Dec
    unit: str
    unit_price: Dec
    discount_percent: Dec
    net_amount: Dec
    vat_code: str
    vat_rate: Dec
    reserved_qty: Dec
    shipped_qty: Dec
    invoiced_qty: Dec
    backorder_qty: Dec = Field(description="ordered, neither reserved nor shipped: waits "
                                           "for stock")


class OrderOut(Model):
    id: int
    number: str
    company_id: int
    customer_id: int
    customer_code: str | None
    customer_name: str | None
    warehouse_id: int
    currency: str
    order_date: dt.date
    state: str
    shipping_status: str
    invoicing_status: str
    customer_reference: str
    notes: str
    hold_reason: str
    net_amount: Dec
    tax_amount: Dec
    gross_amount: Dec
    invoiced_amount: Dec


# -- shipments ----------------------------------------------------------------------------------


class ShipmentLineOut(Model):
    order_line_id: int
    product_id: int
    sku: str
    description: str
    quantity: Dec


class ShipmentOut(Model):
    id: int
    number: str
    order_id: int
    order_number: str
    customer_id: int
    customer_name: str | None
    warehouse_id: int
    state: str
    created_on: dt.date
    picked_on: dt.date | None
    packed_on: dt.date | None
    shipped_on: dt.date | None
    delivered_on: dt.date | None
    carrier: str
    tracking_number: str
    packages: int
    route: DeliveryRoute = Field(description="the warehouse's delivery route when the "
                                             "shipment was created; it keeps it")
    next_step: str | None = Field(description="pick, pack, ship or deliver; none when done")
    lines: list[ShipmentLineOut]


class OrderDetailOut(OrderOut):
    lines: list[OrderLineOut]
    shipments: list[ShipmentOut]
    invoices: list[InvoiceOut]


class CreditDecisionOut(Model):
    approved: bool
    exposure_after: Dec = Field(description="the customer's exposure including this order")
    reasons: list[str] = Field(description="why the order is held; empty when approved")


class BackorderLineOut(Model):
    line_no: int
    sku: str
    quantity: Dec


class ConfirmationOut(Model):
    """The outcome of confirm / release: the credit decision and what could be reserved."""

    order_id: int
    state: str = Field(description="confirmed, or credit_hold when the credit check failed")
    credit_hold: bool
    credit_check: CreditDecisionOut | None = Field(
        description="null on release: a credit manager decided instead of the check")
    shipment_ids: list[int] = Field(description="shipments created for the reserved goods")
    backorder: list[BackorderLineOut] = Field(description="lines waiting for stock")
    has_backorder: bool
    order: OrderDetailOut


class ReservationOut(Model):
    shipment_ids: list[int] = Field(description="shipments created for newly reserved goods")
    order: OrderDetailOut


class ShipLineIn(Input):
    order_line_id: Ref
    quantity: Quantity = Field(description="0 leaves the line for a follow-up shipment")


class ShipIn(Input):
    lines: list[ShipLineIn] | None = Field(
        None, max_length=500,
        description="per order line quantities; everything on the shipment when omitted")
    carrier: str = Field("", max_length=100)
    tracking_number: str = Field("", max_length=100)
    packages: int | None = Field(None, ge=1, le=10000,
                                 description="where the route has no packing step")
    on: Day | None = None

    def command(self, shipment_id: int) -> c.ShipShipment:
        quantities: dict[int, Decimal] | None = None
        if self.lines is not None:
            quantities = {line.order_line_id: line.quantity for line in self.lines}
        return c.ShipShipment(shipment_id, on=self.on, carrier=self.carrier,
                              tracking_number=self.tracking_number, quantities=quantities,
                              packages=self.packages)


class PickIn(Input):
    on: Day | None = None


class PackIn(Input):
    packages: int = Field(1, ge=1, le=10000)
    on: Day | None = None


class DeliverIn(Input):
    on: Day | None = None


class ShipmentDetailOut(ShipmentOut):
    invoices: list[InvoiceOut] = Field(description="invoices posted for this shipment")


class ShippedOut(Model):
    shipment: ShipmentDetailOut
    invoices: list[InvoiceOut] = Field(description="posted because the goods left")
    open_shipments: list[ShipmentOut] = Field(
        description="the order's shipments still to go out, including any follow-up for "
                    "quantities left behind")



def confirmation(result: ConfirmResult, order: dict[str, Any]) -> ConfirmationOut:
    decision = result.decision
    return ConfirmationOut(
        order_id=result.order_id, state=result.state.value,
        credit_hold=result.state is OrderState.CREDIT_HOLD,
        credit_check=None if decision is None else CreditDecisionOut(
            approved=decision.approved,
            exposure_after=amount(decision.exposure_after, str(order["currency"])),
            reasons=list(decision.reasons)),
        shipment_ids=list(result.shipment_ids),
        backorder=[_backorder_line(b) for b in result.backorder],
        has_backorder=bool(result.backorder),
        order=OrderDetailOut.model_validate(order))


def _backorder_line(data: dict[str, object]) -> BackorderLineOut:
    line = BackorderLineOut.model_validate(data)
    line.quantity = quantity(line.quantity)
    return line
