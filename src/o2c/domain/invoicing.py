"""Invoices and credit notes: drafted from shipped (or ordered) quantities, posted with a gapless
number, immutable once posted, corrected only by credit notes.

The document carries the EN 16931 business terms later needed for e-invoices (BT numbers in
comments)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from o2c.domain.aggregate import Aggregate
from o2c.domain.catalog import check_quantity, check_unit_price
from o2c.domain.errors import InvalidInput, RuleViolation
from o2c.domain.money import ZERO, RoundingMode, in_minor_units, plain, round_amount
from o2c.domain.parties import Address, Registration, RoundingPolicy
from o2c.domain.payment_terms import Installment, PaymentTerms
from o2c.domain.references import creditor_reference
from o2c.domain.statemachine import move
from o2c.domain.tax import TaxableLine, compute_totals, line_net_amount


class InvoiceKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"

    @property
    def type_code(self) -> str:
        """UNCL 1001 document type (BT-3)."""
        return "380" if self is InvoiceKind.INVOICE else "381"

    @property
    def series(self) -> str:
        return "INV" if self is InvoiceKind.INVOICE else "CN"


class InvoiceState(StrEnum):
    DRAFT = "draft"
    POSTED = "posted"


INVOICE_TRANSITIONS: dict[str, tuple[frozenset[InvoiceState], InvoiceState]] = {
    "post": (frozenset({InvoiceState.DRAFT}), InvoiceState.POSTED),
}

# UNCL 4461 payment means (BT-81): 58 = SEPA credit transfer, 30 = credit transfer.
SEPA_CREDIT_TRANSFER = "58"
CREDIT_TRANSFER = "30"


@dataclass(frozen=True, slots=True)
class PartySnapshot:
    """Seller (BG-4) or buyer (BG-7) as they were when the invoice was issued."""

    name: str
    country: str
    vat_id: str = ""  # BT-31 / BT-48
    tax_code: str = ""  # BT-32 / national fiscal code
    address: Address = field(default_factory=Address)
    email: str = ""
    code: str = ""  # our customer code or the company code
    iban: str = ""
    bic: str = ""
    # The buyer's identity was purged after the retention period (GDPR): only a pseudonym and
    # the country are left, enough for the books, not for an e-invoice.
    erased: bool = False
    registration: Registration | None = None  # the seller's company register data

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name, "country": self.country, "vat_id": self.vat_id,
            "tax_code": self.tax_code, "address": self.address.as_dict(), "email": self.email,
            "code": self.code, "iban": self.iban, "bic": self.bic}
        if self.erased:
            data["erased"] = True
        if self.registration is not None:
            data["registration"] = self.registration.as_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PartySnapshot:
        return cls(name=data["name"], country=data.get("country", ""),
                   vat_id=data.get("vat_id", ""), tax_code=data.get("tax_code", ""),
                   address=Address.from_dict(data.get("address")), email=data.get("email", ""),
                   code=data.get("code", ""), iban=data.get("iban", ""),
                   bic=data.get("bic", ""), erased=bool(data.get("erased", False)),
                   registration=Registration.from_dict(data["registration"])
                   if data.get("registration") else None)


@dataclass(kw_only=True, eq=False)
class InvoiceLine:
    id: int | None = None
    line_no: int
    order_line_id: int | None = None
    corrects_line_id: int | None = None  # credit note line -> the invoice line it corrects
    product_id: int | None = None
    sku: str = ""
    description: str
    quantity: Decimal  # BT-129
    unit: str  # BT-130
    unit_price: Decimal  # BT-146
    discount_percent: Decimal = ZERO
    net_amount: Decimal  # BT-131
    vat_code: str  # BT-151
    vat_rate: Decimal  # BT-152
    exemption_reason: str = ""

    def taxable(self) -> TaxableLine:
        return TaxableLine(self.net_amount, self.vat_code, self.vat_rate, self.exemption_reason)


@dataclass(kw_only=True, eq=False)
class InvoiceTax:
    """VAT breakdown (BG-23), in the invoice currency and in the company's (BT-111)."""

    vat_code: str
    vat_rate: Decimal
    taxable_amount: Decimal  # BT-116
    tax_amount: Decimal  # BT-117
    taxable_amount_company: Decimal
    tax_amount_company: Decimal
    exemption_reason: str = ""  # BT-120


@dataclass(frozen=True, slots=True)
class LineToInvoice:
    order_line_id: int | None
    product_id: int | None
    sku: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount_percent: Decimal
    vat_code: str
    vat_rate: Decimal
    exemption_reason: str = ""
    corrects_line_id: int | None = None


def convert(amount: Decimal, fx_rate: Decimal, company_currency: str,
            mode: RoundingMode) -> Decimal:
    """Named rounding point: FX conversion into the company's currency."""
    return round_amount(amount * fx_rate, company_currency, mode)


@dataclass(kw_only=True, eq=False)
class Invoice(Aggregate):
    object_type = "invoice"

    kind: InvoiceKind = InvoiceKind.INVOICE
    state: InvoiceState = InvoiceState.DRAFT
    number: str = ""  # BT-1, assigned at posting
    company_id: int
    customer_id: int
    currency: str  # BT-5
    company_currency: str  # BT-6 when it differs
    fx_rate: Decimal = Decimal(1)  # company currency per unit of invoice currency
    issue_date: date  # BT-2
    delivery_date: date | None = None  # BT-72
    due_date: date | None = None  # BT-9: the last instalment
    order_id: int | None = None
    order_number: str = ""  # BT-14 (our sales order)
    order_reference: str = ""  # BT-13 (the buyer's purchase order)
    buyer_reference: str = ""  # BT-10
    shipment_id: int | None = None
    corrects_invoice_id: int | None = None  # credit notes: BT-25 preceding invoice
    corrects_number: str = ""
    reason: str = ""  # credit notes: why
    seller: PartySnapshot
    buyer: PartySnapshot
    payment_means_code: str = SEPA_CREDIT_TRANSFER
    payee_iban: str = ""  # BT-84
    remittance_reference: str = ""  # BT-83: ISO 11649 RF creditor reference
    payment_terms_code: str = ""
    payment_terms_text: str = ""  # BT-20
    discount_percent: Decimal = ZERO
    discount_until: date | None = None
    discount_amount: Decimal = ZERO
    net_amount: Decimal = ZERO  # BT-109
    tax_amount: Decimal = ZERO  # BT-110
    gross_amount: Decimal = ZERO  # BT-112
    tax_amount_company: Decimal = ZERO  # BT-111
    gross_amount_company: Decimal = ZERO
    lines: list[InvoiceLine] = field(default_factory=list)
    taxes: list[InvoiceTax] = field(default_factory=list)
    installments: list[Installment] = field(default_factory=list)

    @classmethod
    def draft(cls, *, kind: InvoiceKind, company_id: int, customer_id: int, currency: str,
              company_currency: str, fx_rate: Decimal, issue_date: date, seller: PartySnapshot,
              buyer: PartySnapshot, lines: list[LineToInvoice], rounding: RoundingPolicy,
              **terms: Any) -> Invoice:
        if not lines:
            raise InvalidInput("nothing to invoice", field="lines")
        if fx_rate <= 0:
            raise InvalidInput("exchange rate must be positive", field="fx_rate")
        invoice_lines = []
        for i, item in enumerate(lines):
            check_quantity(item.quantity, f"lines[{i}].quantity")
            check_unit_price(item.unit_price, f"lines[{i}].unit_price")
            invoice_lines.append(InvoiceLine(
                line_no=i + 1, order_line_id=item.order_line_id,
                corrects_line_id=item.corrects_line_id, product_id=item.product_id,
                sku=item.sku, description=item.description, quantity=item.quantity,
                unit=item.unit, unit_price=item.unit_price,
                discount_percent=item.discount_percent,
                net_amount=line_net_amount(item.quantity, item.unit_price, item.discount_percent,
                                           currency, rounding.mode),
                vat_code=item.vat_code, vat_rate=item.vat_rate,
                exemption_reason=item.exemption_reason))
        invoice = cls(kind=kind, company_id=company_id, customer_id=customer_id,
                      currency=currency, company_currency=company_currency, fx_rate=fx_rate,
                      issue_date=issue_date, seller=seller, buyer=buyer, lines=invoice_lines,
                      payee_iban=seller.iban, **terms)
        invoice._compute_totals(rounding)
        return invoice

    def _compute_totals(self, rounding: RoundingPolicy) -> None:
        totals = compute_totals((line.taxable() for line in self.lines), self.currency, rounding)
        self.taxes = [
            InvoiceTax(
                vat_code=b.vat_code, vat_rate=b.vat_rate, taxable_amount=b.taxable_amount,
                tax_amount=b.tax_amount,
                taxable_amount_company=convert(b.taxable_amount, self.fx_rate,
                                               self.company_currency, rounding.mode),
                tax_amount_company=convert(b.tax_amount, self.fx_rate, self.company_currency,
                                           rounding.mode),
                exemption_reason=b.exemption_reason)
            for b in totals.breakdown
        ]
        self.net_amount, self.tax_amount, self.gross_amount = totals.net, totals.tax, totals.gross
        self.tax_amount_company = sum((t.tax_amount_company for t in self.taxes), ZERO)
        self.gross_amount_company = sum(
            (t.taxable_amount_company + t.tax_amount_company for t in self.taxes), ZERO)

    @property
    def is_credit_note(self) -> bool:
        return self.kind is InvoiceKind.CREDIT_NOTE

    @property
    def is_posted(self) -> bool:
        return self.state is InvoiceState.POSTED

    def post(self, number: str, terms: PaymentTerms | None, rounding: RoundingPolicy) -> None:
        """Assign the legal number and fix the document: from here on it never changes."""
        self.state = move(INVOICE_TRANSITIONS, self.state, "post", self.kind.value, self.label)
        if self.gross_amount < 0:
            raise RuleViolation(f"{self.kind.value} total must not be negative")
        self.number = number
        if self.is_credit_note or terms is None:
            self.installments = [Installment(self.issue_date, self.gross_amount)]
        else:
            self.payment_terms_code = terms.code
            self.payment_terms_text = terms.describe()
            self.installments = terms.schedule(self.issue_date, self.gross_amount, self.currency)
            discount = terms.early_discount(self.issue_date, self.gross_amount, self.currency,
                                            rounding.mode)
            if discount is not None:
                self.discount_percent = discount.percent
                self.discount_until = discount.until
                self.discount_amount = discount.amount
        self.due_date = max(i.due_date for i in self.installments)
        if not self.is_credit_note:
            self.remittance_reference = creditor_reference(number)
        self.record("posted", number=number, kind=self.kind.value, currency=self.currency,
                    gross_amount=in_minor_units(self.gross_amount, self.currency),
                    due_date=self.due_date,
                    corrects=self.corrects_number or None)


def credit_note_lines(
    invoice: Invoice, requested: list[tuple[int, Decimal | None, Decimal | None]] | None,
    already_credited: dict[int, tuple[Decimal, Decimal]],
) -> list[LineToInvoice]:
    """Lines of a credit note against `invoice`.

    `requested` lists (invoice line id, quantity or None for all, unit price or None for the
    invoiced price); None credits every line in full. `already_credited` maps invoice line id
    to (quantity, net amount) credited by earlier credit notes, which a new one may not exceed.
    """
    if invoice.kind is not InvoiceKind.INVOICE or not invoice.is_posted:
        raise RuleViolation(f"only posted invoices can be credited; {invoice.label} is "
                            f"{invoice.state} {invoice.kind}")
    by_id = {line.id: line for line in invoice.lines}
    if requested is None:
        requested = [(line.id, None, None) for line in invoice.lines if line.id is not None]
    result = []
    seen: set[int] = set()
    for i, (line_id, quantity, unit_price) in enumerate(requested):
        where = f"lines[{i}]"
        line = by_id.get(line_id)
        if line is None:
            raise InvalidInput(f"line {line_id} is not on invoice {invoice.label}",
                               field=f"{where}.invoice_line_id")
        if line_id in seen:
            raise InvalidInput(f"line {line_id} is listed twice", field=f"{where}.invoice_line_id")
        seen.add(line_id)
        credited_qty, credited_net = already_credited.get(line_id, (ZERO, ZERO))
        qty = line.quantity - credited_qty if quantity is None else quantity
        price = line.unit_price if unit_price is None else unit_price
        if qty <= 0:
            raise RuleViolation(f"line {line.line_no} ({line.sku}) is already fully credited",
                                field=f"{where}.quantity")
        if credited_qty + qty > line.quantity:
            raise RuleViolation(
                f"line {line.line_no} ({line.sku}): crediting {plain(qty)} would exceed the "
                f"invoiced {plain(line.quantity)} (already credited {plain(credited_qty)})",
                field=f"{where}.quantity")
        if price > line.unit_price:
            raise RuleViolation(f"line {line.line_no}: a credit note price cannot exceed the "
                                f"invoiced {plain(line.unit_price)}",
                                field=f"{where}.unit_price")
        net = line_net_amount(qty, price, line.discount_percent, invoice.currency)
        if credited_net + net > line.net_amount:
            raise RuleViolation(
                f"line {line.line_no} ({line.sku}): crediting {net} would exceed the invoiced "
                f"net {in_minor_units(line.net_amount, invoice.currency)} (already credited "
                f"{in_minor_units(credited_net, invoice.currency)})",
                field=f"{where}.quantity")
        result.append(LineToInvoice(
            order_line_id=line.order_line_id, product_id=line.product_id, sku=line.sku,
            description=line.description, quantity=qty, unit=line.unit, unit_price=price,
            discount_percent=line.discount_percent, vat_code=line.vat_code,
            vat_rate=line.vat_rate, exemption_reason=line.exemption_reason,
            corrects_line_id=line.id))
    if not result:
        raise InvalidInput("a credit note needs at least one line", field="lines")
    return result
