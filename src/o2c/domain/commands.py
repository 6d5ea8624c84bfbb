"""Commands: one intention each, handled by exactly one service function in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from o2c.domain.credit import LimitDefault

# A new customer without a credit limit given gets the company's default limit.
DEFAULT_LIMIT = LimitDefault.COMPANY


class Command:
    """Marker base class."""


# -- master data ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateCompany(Command):
    code: str
    name: str
    country: str
    currency: str
    vat_id: str = ""
    iban: str = ""
    bic: str = ""
    address: dict[str, str] = field(default_factory=dict)
    email: str = ""
    tax_rounding: str = "per_breakdown"
    rounding_mode: str = "half_up"
    overdue_hold_days: int = 30
    default_credit_limit: Decimal = Decimal(0)
    # Company register data its invoices show (see parties.Registration.from_dict)
    registration: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CreatePaymentTerms(Command):
    code: str
    name: str
    lines: tuple[tuple[Decimal, int, bool], ...]  # (percent, days, end_of_month)
    discount_percent: Decimal = Decimal(0)
    discount_days: int = 0


@dataclass(frozen=True)
class CreateCustomer(Command):
    company_id: int
    name: str
    country: str
    currency: str | None = None  # the company's when omitted
    code: str | None = None  # generated when omitted
    language: str = "en"
    vat_id: str = ""
    tax_code: str = ""
    email: str = ""
    billing_address: dict[str, str] = field(default_factory=dict)
    shipping_address: dict[str, str] | None = None
    payment_terms_code: str = "NET30"
    # Omitted: the company's default limit; None: no limit (an approver's decision).
    credit_limit: Decimal | LimitDefault | None = DEFAULT_LIMIT
    credit_blocked: bool = False
    overdue_hold_days: int | None = None
    invoice_policy: str = "on_shipment"
    buyer_reference: str = ""


@dataclass(frozen=True)
class UpdateCustomer(Command):
    customer_id: int
    changes: dict[str, Any]


@dataclass(frozen=True)
class CreateProduct(Command):
    company_id: int
    sku: str
    name: str
    unit_price: Decimal
    unit: str = "C62"
    vat_category: str = "standard"
    prices: dict[str, Decimal] = field(default_factory=dict)
    kind: str = "goods"  # goods | service


@dataclass(frozen=True)
class UpdateProduct(Command):
    product_id: int
    changes: dict[str, Any]


@dataclass(frozen=True)
class CreateWarehouse(Command):
    company_id: int
    code: str
    name: str
    address: dict[str, str] = field(default_factory=dict)
    delivery_route: str = "pick_pack_ship"  # or pick_ship, ship_only (shipping.DeliveryRoute)


@dataclass(frozen=True)
class UpdateWarehouse(Command):
    warehouse_id: int
    changes: dict[str, Any]  # name, address, delivery_route


@dataclass(frozen=True)
class ReceiveStock(Command):
    warehouse_id: int
    product_id: int
    quantity: Decimal
    reference: str = ""
    on: date | None = None


@dataclass(frozen=True)
class AdjustStock(Command):
    """Change on-hand stock by `delta`, or set it to `counted` after a stock count."""

    warehouse_id: int
    product_id: int
    reason: str
    delta: Decimal | None = None
    counted: Decimal | None = None
    on: date | None = None


@dataclass(frozen=True)
class SetVatRate(Command):
    country: str
    category: str
    rate: Decimal
    valid_from: date
    valid_to: date | None = None


@dataclass(frozen=True)
class SetExchangeRate(Command):
    currency: str
    company_currency: str
    rate: Decimal  # company currency per unit of `currency`
    on: date


# -- orders --------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderLineInput:
    product_id: int
    quantity: Decimal
    unit_price: Decimal | None = None  # the price list's when omitted
    discount_percent: Decimal = Decimal(0)
    description: str | None = None


@dataclass(frozen=True)
class CreateOrder(Command):
    customer_id: int
    lines: tuple[OrderLineInput, ...]
    order_date: date | None = None
    warehouse_id: int | None = None
    currency: str | None = None  # must be the customer's when given
    customer_reference: str = ""
    notes: str = ""


@dataclass(frozen=True)
class ConfirmOrder(Command):
    order_id: int
    on: date | None = None


@dataclass(frozen=True)
class ReleaseOrder(Command):
    order_id: int
    reason: str
    on: date | None = None


@dataclass(frozen=True)
class RejectOrder(Command):
    order_id: int
    reason: str


@dataclass(frozen=True)
class CancelOrder(Command):
    order_id: int
    reason: str = ""


@dataclass(frozen=True)
class ReserveBackorders(Command):
    """Try again to reserve what orders are still waiting for (one order, or all of them)."""

    order_id: int | None = None
    on: date | None = None


# -- shipping ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PickShipment(Command):
    shipment_id: int
    on: date | None = None


@dataclass(frozen=True)
class PackShipment(Command):
    shipment_id: int
    packages: int = 1
    on: date | None = None


@dataclass(frozen=True)
class ShipShipment(Command):
    shipment_id: int
    on: date | None = None
    carrier: str = ""
    tracking_number: str = ""
    quantities: dict[int, Decimal] | None = None  # order line id -> quantity; None = all
    packages: int | None = None  # counted at shipping where the route has no packing step


@dataclass(frozen=True)
class DeliverShipment(Command):
    shipment_id: int
    on: date | None = None


@dataclass(frozen=True)
class CancelShipment(Command):
    shipment_id: int
    reason: str = ""


# -- invoicing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CreditLineInput:
    invoice_line_id: int
    quantity: Decimal | None = None
    unit_price: Decimal | None = None


@dataclass(frozen=True)
class CreateCreditNote(Command):
    invoice_id: int
    reason: str
    lines: tuple[CreditLineInput, ...] | None = None  # None: credit the whole invoice
    on: date | None = None


# -- payments ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AllocationInput:
    invoice_id: int
    amount: Decimal


@dataclass(frozen=True)
class RecordPayment(Command):
    customer_id: int
    amount: Decimal
    currency: str
    received_on: date | None = None
    method: str = "bank_transfer"
    reference: str = ""
    payer_name: str = ""
    payer_iban: str = ""
    allocations: tuple[AllocationInput, ...] = ()
    auto_allocate: bool = False  # oldest open invoices first


@dataclass(frozen=True)
class AllocatePayment(Command):
    payment_id: int
    allocations: tuple[AllocationInput, ...] = ()
    auto: bool = False
    on: date | None = None


@dataclass(frozen=True)
class ApplyCreditNote(Command):
    credit_note_id: int
    invoice_id: int
    amount: Decimal | None = None  # as much as both allow when omitted
    on: date | None = None


@dataclass(frozen=True)
class Unallocate(Command):
    allocation_id: int
    reason: str
    on: date | None = None


@dataclass(frozen=True)
class ReversePayment(Command):
    payment_id: int
    reason: str
    on: date | None = None


# -- bank statements and cash application ------------------------------------------------------


@dataclass(frozen=True)
class AddBankAccount(Command):
    company_id: int
    iban: str
    currency: str | None = None  # the company's when omitted
    name: str = ""


@dataclass(frozen=True)
class ImportBankFile(Command):
    content: bytes
    filename: str
    account: str | None = None  # IBAN the file must be for; any registered account if None
    format: str | None = None  # camt, mt940, ofx, csv; detected when None
    csv_profile: str | None = None  # name of a CSV column-mapping profile


@dataclass(frozen=True)
class MatchBankLines(Command):
    as_of: date
    company_id: int | None = None  # every company with lines when None
    auto_threshold: Decimal | None = None
    review_threshold: Decimal | None = None
    charges_tolerance: Decimal | None = None  # short payment written off as bank charges
    discount_tolerance_percent: Decimal | None = None  # ... or as early-payment discount


@dataclass(frozen=True)
class ApplyBankLines(Command):
    """Apply the proposals of these lines (one transaction per call: callers chunk)."""

    line_ids: tuple[int, ...]


@dataclass(frozen=True)
class RejectBankProposal(Command):
    line_id: int
    reason: str = ""


@dataclass(frozen=True)
class SplitBankLine(Command):
    """Say by hand what a line pays: allocations to invoices of one customer; the rest stays
    unapplied customer credit."""

    line_id: int
    customer_id: int
    allocations: tuple[AllocationInput, ...] = ()


@dataclass(frozen=True)
class UnmatchBankLine(Command):
    line_id: int
    reason: str
    on: date | None = None


@dataclass(frozen=True)
class RegisterPayerAccounts(Command):
    """IBANs known to pay for a customer (from past remittances, a customer's master data)."""

    company_id: int
    accounts: tuple[tuple[str, int], ...]  # (IBAN, customer id)
    source: str = "master_data"  # master_data (given) | history | learned
    replace: bool = False  # an IBAN known for another customer moves to the one given


@dataclass(frozen=True)
class ImportPayerAccountsFromHistory(Command):
    """Learn payer IBANs from the company's received payments: an IBAN that paid for exactly
    one customer (payments not reversed) becomes that customer's."""

    company_id: int


@dataclass(frozen=True)
class SetCustomerParent(Command):
    """Put a customer in a group: its parent pays for it (one level). None leaves the group."""

    customer_id: int
    parent_id: int | None



# -- background jobs (issue 19) ----------------------------------------------------------------


@dataclass(frozen=True)
class RetryJob(Command):
    job_id: int


@dataclass(frozen=True)
class CancelJob(Command):
    job_id: int


@dataclass(frozen=True)
class PlanDeliveryRun(Command):
    """Split the invoice e-mails due now into chunks, one background job each."""

    chunk_size: int = 100
