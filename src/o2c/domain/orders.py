"""Sales orders: captured as drafts, confirmed (or held for credit), reserved, shipped."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from o2c.domain.aggregate import Aggregate
from o2c.domain.catalog import check_decimals, check_quantity, check_unit_price
from o2c.domain.errors import Conflict, InvalidInput, RuleViolation
from o2c.domain.money import ZERO, in_minor_units, plain
from o2c.domain.parties import RoundingPolicy
from o2c.domain.statemachine import move
from o2c.domain.tax import TaxableLine, Totals, compute_totals, line_net_amount


class OrderState(StrEnum):
    DRAFT = "draft"
    CREDIT_HOLD = "credit_hold"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    COMPLETED = "completed"  # everything shipped and invoiced


_S = OrderState
ORDER_TRANSITIONS: dict[str, tuple[frozenset[OrderState], OrderState]] = {
    "confirm": (frozenset({_S.DRAFT}), _S.CONFIRMED),
    "hold": (frozenset({_S.DRAFT}), _S.CREDIT_HOLD),
    "release": (frozenset({_S.CREDIT_HOLD}), _S.CONFIRMED),
    "reject": (frozenset({_S.CREDIT_HOLD}), _S.REJECTED),
    "cancel": (frozenset({_S.DRAFT, _S.CREDIT_HOLD, _S.CONFIRMED}), _S.CANCELLED),
    "complete": (frozenset({_S.CONFIRMED}), _S.COMPLETED),
}


class ShippingStatus(StrEnum):
    """Derived, orthogonal to the order state."""

    NOT_SHIPPED = "not_shipped"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"


class InvoicingStatus(StrEnum):
    NOT_INVOICED = "not_invoiced"
    PARTIALLY_INVOICED = "partially_invoiced"
    INVOICED = "invoiced"


@dataclass(kw_only=True, eq=False)
class OrderLine:
    id: int | None = None
    line_no: int
    product_id: int
    sku: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount_percent: Decimal = ZERO
    net_amount: Decimal
    vat_code: str
    vat_rate: Decimal
    exemption_reason: str = ""
    reserved_qty: Decimal = ZERO  # reserved in the warehouse, not yet shipped
    shipped_qty: Decimal = ZERO
    invoiced_qty: Decimal = ZERO

    @property
    def backorder_qty(self) -> Decimal:
        """Ordered but neither reserved nor shipped: waits for stock."""
        return self.quantity - self.shipped_qty - self.reserved_qty

    def taxable(self) -> TaxableLine:
        return TaxableLine(self.net_amount, self.vat_code, self.vat_rate, self.exemption_reason)


@dataclass(frozen=True, slots=True)
class LineDraft:
    """An order line as priced and taxed by the service before the order exists."""

    product_id: int
    sku: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount_percent: Decimal
    vat_code: str
    vat_rate: Decimal
    exemption_reason: str = ""


class OrderAlreadyShipped(Conflict):
    pass


class OrderInvoiced(Conflict):
    pass


@dataclass(kw_only=True, eq=False)
class SalesOrder(Aggregate):
    object_type = "order"

    number: str = ""
    company_id: int
    customer_id: int
    warehouse_id: int
    currency: str
    order_date: date
    state: OrderState = OrderState.DRAFT
    customer_reference: str = ""  # the buyer's purchase order number (EN 16931 BT-13)
    notes: str = ""
    hold_reason: str = ""
    net_amount: Decimal = ZERO
    tax_amount: Decimal = ZERO
    gross_amount: Decimal = ZERO
    invoiced_amount: Decimal = ZERO  # gross of posted invoices for this order
    lines: list[OrderLine] = field(default_factory=list)

    @classmethod
    def new(
        cls, *, company_id: int, customer_id: int, warehouse_id: int, currency: str,
        order_date: date, lines: list[LineDraft], rounding: RoundingPolicy,
        customer_reference: str = "", notes: str = "",
    ) -> SalesOrder:
        if not lines:
            raise InvalidInput("an order needs at least one line", field="lines")
        order_lines = []
        for i, draft in enumerate(lines):
            check_quantity(draft.quantity, f"lines[{i}].quantity")
            check_unit_price(draft.unit_price, f"lines[{i}].unit_price")
            if not ZERO <= draft.discount_percent <= 100:
                raise InvalidInput("discount_percent must be between 0 and 100",
                                   field=f"lines[{i}].discount_percent")
            check_decimals(draft.discount_percent, 4, f"lines[{i}].discount_percent")
            order_lines.append(OrderLine(
                line_no=i + 1, product_id=draft.product_id, sku=draft.sku,
                description=draft.description, quantity=draft.quantity, unit=draft.unit,
                unit_price=draft.unit_price, discount_percent=draft.discount_percent,
                net_amount=line_net_amount(draft.quantity, draft.unit_price,
                                           draft.discount_percent, currency, rounding.mode),
                vat_code=draft.vat_code, vat_rate=draft.vat_rate,
                exemption_reason=draft.exemption_reason,
            ))
        order = cls(company_id=company_id, customer_id=customer_id, warehouse_id=warehouse_id,
                    currency=currency, order_date=order_date, lines=order_lines,
                    customer_reference=customer_reference, notes=notes)
        totals = order.totals(rounding)
        order.net_amount, order.tax_amount, order.gross_amount = (
            totals.net, totals.tax, totals.gross)
        order.record("created", currency=currency,
                     gross_amount=in_minor_units(order.gross_amount, currency),
                     lines=len(order_lines))
        return order

    def totals(self, rounding: RoundingPolicy) -> Totals:
        return compute_totals((line.taxable() for line in self.lines), self.currency, rounding)

    def line(self, line_id: int) -> OrderLine:
        for line in self.lines:
            if line.id == line_id:
                return line
        raise RuleViolation(f"line {line_id} is not on order {self.label}", field="line_id")

    # -- credit decision -------------------------------------------------------------------

    def confirm(self, exposure: Decimal, on: date) -> None:
        self.state = move(ORDER_TRANSITIONS, self.state, "confirm", "order", self.label)
        self.hold_reason = ""
        self.record("confirmed", exposure=in_minor_units(exposure, self.currency), on=on)

    def hold(self, reasons: list[str], exposure: Decimal) -> None:
        self.state = move(ORDER_TRANSITIONS, self.state, "hold", "order", self.label)
        self.hold_reason = "; ".join(reasons)
        self.record("credit_held", reasons=reasons,
                    exposure=in_minor_units(exposure, self.currency))

    def release(self, reason: str, on: date) -> None:
        if not reason.strip():
            raise InvalidInput("releasing a credit hold needs a reason", field="reason")
        self.state = move(ORDER_TRANSITIONS, self.state, "release", "order", self.label)
        self.record("credit_released", reason=reason, held_for=self.hold_reason)
        self.hold_reason = ""  # the event keeps why it was held; the order no longer is
        self.record("confirmed", released=True, on=on)

    def reject(self, reason: str) -> None:
        if not reason.strip():
            raise InvalidInput("rejecting a held order needs a reason", field="reason")
        self.state = move(ORDER_TRANSITIONS, self.state, "reject", "order", self.label)
        self.record("credit_rejected", reason=reason)

    def cancel(self, reason: str) -> dict[int, Decimal]:
        """Cancel before anything shipped; returns the reservations to release per line id."""
        move(ORDER_TRANSITIONS, self.state, "cancel", "order", self.label)  # state first
        if any(line.shipped_qty for line in self.lines):
            raise OrderAlreadyShipped(
                f"cannot cancel order {self.label}: it is partially shipped", order=self.label)
        if any(line.invoiced_qty for line in self.lines):
            raise OrderInvoiced(
                f"cannot cancel order {self.label}: it is invoiced; issue a credit note first",
                order=self.label)
        self.state = move(ORDER_TRANSITIONS, self.state, "cancel", "order", self.label)
        released = {line.id: line.reserved_qty for line in self.lines
                    if line.id is not None and line.reserved_qty}
        for line in self.lines:
            line.reserved_qty = ZERO
        self.record("cancelled", reason=reason)
        return released

    # -- stock -----------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.state is OrderState.CONFIRMED

    def reserve(self, reserved: dict[int, Decimal]) -> None:
        """Record reservations made in the warehouse (line id -> quantity)."""
        if not self.is_open:
            raise RuleViolation(f"order {self.label} is {self.state}; nothing to reserve")
        for line_id, qty in reserved.items():
            line = self.line(line_id)
            if qty <= 0 or qty > line.backorder_qty:
                raise RuleViolation(f"cannot reserve {plain(qty)} on line {line.line_no} of "
                                    f"order {self.label}: {plain(line.backorder_qty)} left to "
                                    "reserve")
            line.reserved_qty += qty
        self.record("reserved",
                    lines=[{"line_no": self.line(lid).line_no, "sku": self.line(lid).sku,
                            "quantity": plain(q)} for lid, q in reserved.items()],
                    backorder=self.backorder())

    def unreserve(self, line_id: int, qty: Decimal) -> None:
        line = self.line(line_id)
        if qty > line.reserved_qty:
            raise RuleViolation(f"line {line.line_no} has only {plain(line.reserved_qty)} reserved")
        line.reserved_qty -= qty
        self.record("unreserved", line_no=line.line_no, sku=line.sku, quantity=plain(qty))

    def backorder(self) -> list[dict[str, object]]:
        return [{"line_no": line.line_no, "sku": line.sku,
                 "quantity": plain(line.backorder_qty)}
                for line in self.lines if line.backorder_qty > 0]

    @property
    def has_backorder(self) -> bool:
        return any(line.backorder_qty > 0 for line in self.lines)

    def record_shipped(self, shipped: dict[int, Decimal], shipment_number: str) -> None:
        for line_id, qty in shipped.items():
            line = self.line(line_id)
            if qty > line.reserved_qty:
                raise RuleViolation(f"cannot ship {plain(qty)} of line {line.line_no}: only "
                                    f"{plain(line.reserved_qty)} reserved")
            line.reserved_qty -= qty
            line.shipped_qty += qty
        self.record("shipped", shipment=shipment_number, status=self.shipping_status.value)
        self._complete_if_done()

    # -- invoicing -------------------------------------------------------------------------

    def uninvoiced(self, *, on_order: bool = False) -> dict[int, Decimal]:
        """Quantities shipped (or, when invoicing on order, ordered) but not yet invoiced."""
        basis = {line.id: (line.quantity if on_order else line.shipped_qty) - line.invoiced_qty
                 for line in self.lines if line.id is not None}
        return {line_id: qty for line_id, qty in basis.items() if qty > 0}

    def record_invoiced(self, quantities: dict[int, Decimal], gross: Decimal,
                        invoice_number: str) -> None:
        for line_id, qty in quantities.items():
            line = self.line(line_id)
            if line.invoiced_qty + qty > line.quantity:
                raise RuleViolation(f"line {line.line_no} of order {self.label} would be "
                                    f"invoiced beyond its quantity")
            line.invoiced_qty += qty
        self.invoiced_amount += gross
        self.record("invoiced", invoice=invoice_number,
                    amount=in_minor_units(gross, self.currency),
                    status=self.invoicing_status.value)
        self._complete_if_done()

    @property
    def uninvoiced_amount(self) -> Decimal:
        """What this order still adds to the customer's credit exposure."""
        if self.state is not OrderState.CONFIRMED:
            return ZERO
        return max(self.gross_amount - self.invoiced_amount, ZERO)

    @property
    def shipping_status(self) -> ShippingStatus:
        shipped = [line.shipped_qty for line in self.lines]
        if not any(shipped):
            return ShippingStatus.NOT_SHIPPED
        if all(line.shipped_qty >= line.quantity for line in self.lines):
            return ShippingStatus.SHIPPED
        return ShippingStatus.PARTIALLY_SHIPPED

    @property
    def invoicing_status(self) -> InvoicingStatus:
        if not any(line.invoiced_qty for line in self.lines):
            return InvoicingStatus.NOT_INVOICED
        if all(line.invoiced_qty >= line.quantity for line in self.lines):
            return InvoicingStatus.INVOICED
        return InvoicingStatus.PARTIALLY_INVOICED

    def _complete_if_done(self) -> None:
        if (self.state is OrderState.CONFIRMED
                and self.shipping_status is ShippingStatus.SHIPPED
                and self.invoicing_status is InvoicingStatus.INVOICED):
            self.state = move(ORDER_TRANSITIONS, self.state, "complete", "order", self.label)
            self.record("completed")
