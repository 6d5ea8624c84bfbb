"""Customer payments and their allocation to invoices.

A payment first becomes customer credit (unapplied cash); allocating it settles invoices.
Whatever is not allocated stays as credit on the customer. Un-allocating reverses exactly what
the allocation did."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from o2c.domain.aggregate import Aggregate
from o2c.domain.errors import CurrencyMismatch, InvalidInput, OverAllocation, RuleViolation
from o2c.domain.money import ZERO, RoundingMode, in_minor_units, is_rounded
from o2c.domain.receivables import OpenItem, OpenItemKind, share
from o2c.domain.statemachine import move


class PaymentMethod(StrEnum):
    BANK_TRANSFER = "bank_transfer"
    DIRECT_DEBIT = "direct_debit"
    CARD = "card"
    CASH = "cash"
    CHEQUE = "cheque"


class PaymentState(StrEnum):
    RECEIVED = "received"
    REVERSED = "reversed"  # recorded in error or returned by the bank


PAYMENT_TRANSITIONS: dict[str, tuple[frozenset[PaymentState], PaymentState]] = {
    "reverse": (frozenset({PaymentState.RECEIVED}), PaymentState.REVERSED),
}


@dataclass(kw_only=True, eq=False)
class Payment(Aggregate):
    object_type = "payment"

    number: str = ""
    company_id: int
    customer_id: int
    currency: str
    company_currency: str
    amount: Decimal
    received_on: date
    method: PaymentMethod = PaymentMethod.BANK_TRANSFER
    reference: str = ""  # the payer's reference / remittance text
    payer_name: str = ""
    payer_iban: str = ""
    fx_rate: Decimal = Decimal(1)
    amount_company: Decimal
    unapplied: Decimal
    unapplied_company: Decimal
    state: PaymentState = PaymentState.RECEIVED

    @classmethod
    def receive(cls, *, company_id: int, customer_id: int, currency: str,
                company_currency: str, amount: Decimal, received_on: date,
                fx_rate: Decimal, amount_company: Decimal, method: PaymentMethod,
                reference: str = "", payer_name: str = "", payer_iban: str = "") -> Payment:
        if amount <= 0:
            raise InvalidInput(f"payment amount must be positive, got {amount}", field="amount")
        if not is_rounded(amount, currency):
            raise InvalidInput(f"{amount} has more decimals than {currency} allows",
                               field="amount")
        payment = cls(company_id=company_id, customer_id=customer_id, currency=currency,
                      company_currency=company_currency, amount=amount,
                      received_on=received_on, method=method, reference=reference,
                      payer_name=payer_name, payer_iban=payer_iban, fx_rate=fx_rate,
                      amount_company=amount_company, unapplied=amount,
                      unapplied_company=amount_company)
        payment.record("received", amount=in_minor_units(amount, currency), currency=currency,
                       method=method.value,
                       reference=reference)
        return payment

    def consume(self, amount: Decimal, mode: RoundingMode) -> Decimal:
        if self.state is not PaymentState.RECEIVED:
            raise RuleViolation(f"payment {self.label} is {self.state}")
        if amount > self.unapplied:
            raise OverAllocation(
                f"payment {self.label} has {self.unapplied} {self.currency} unapplied; cannot "
                f"allocate {amount}", field="amount", payment=self.label)
        company = share(amount, self.unapplied, self.unapplied_company, self.company_currency,
                        mode)
        self.unapplied -= amount
        self.unapplied_company -= company
        return company

    def give_back(self, amount: Decimal, company: Decimal) -> None:
        self.unapplied += amount
        self.unapplied_company += company

    def reverse(self, reason: str) -> None:
        if self.unapplied != self.amount:
            raise RuleViolation(f"payment {self.label} is allocated; un-allocate it first")
        self.state = move(PAYMENT_TRANSITIONS, self.state, "reverse", "payment", self.label)
        self.unapplied = ZERO
        self.unapplied_company = ZERO
        self.record("reversed", reason=reason)


class SourceKind(StrEnum):
    PAYMENT = "payment"
    CREDIT_NOTE = "credit_note"


@dataclass(kw_only=True, eq=False)
class Allocation(Aggregate):
    """`amount` of a payment or credit note applied to an invoice; company-currency values of
    both sides are kept so the difference (realised FX) can be booked and reversed exactly."""

    object_type = "allocation"

    company_id: int
    customer_id: int
    currency: str
    invoice_id: int
    invoice_number: str
    source_kind: SourceKind
    payment_id: int | None = None
    credit_note_id: int | None = None
    source_number: str
    amount: Decimal
    source_company: Decimal
    target_company: Decimal
    allocated_on: date
    reversed_on: date | None = None

    @property
    def is_active(self) -> bool:
        return self.reversed_on is None

    @property
    def fx_difference(self) -> Decimal:
        """Positive: gain (the cash was worth more than the receivable it settled)."""
        return self.source_company - self.target_company


def allocate(source: Payment | OpenItem, invoice: OpenItem, amount: Decimal, on: date,
             mode: RoundingMode) -> Allocation:
    """Apply `amount` of a payment or credit note to an invoice of the same customer."""
    if invoice.kind is not OpenItemKind.INVOICE:
        raise RuleViolation(f"{invoice.number} is not an invoice", field="invoice_id")
    if source.customer_id != invoice.customer_id:
        raise RuleViolation(f"{invoice.number} belongs to another customer", field="invoice_id")
    if source.currency != invoice.currency:
        raise CurrencyMismatch(invoice.currency, source.currency, field="amount")
    if amount <= 0:
        raise InvalidInput("allocation amount must be positive", field="amount")
    if not is_rounded(amount, invoice.currency):
        raise InvalidInput(f"{amount} has more decimals than {invoice.currency} allows",
                           field="amount")
    by_credit_note = isinstance(source, OpenItem)
    if by_credit_note:
        assert isinstance(source, OpenItem)
        if source.kind is not OpenItemKind.CREDIT_NOTE:
            raise RuleViolation(f"{source.number} is not a credit note")
        if amount > source.residual:
            raise OverAllocation(f"credit note {source.number} has "
                                 f"{in_minor_units(source.residual, source.currency)} left; "
                                 f"cannot apply {amount}", field="amount")
    if amount > invoice.residual:
        raise OverAllocation(
            f"invoice {invoice.number} has {in_minor_units(invoice.residual, invoice.currency)} "
            f"{invoice.currency} open; cannot "
            f"apply {amount}", field="amount", invoice=invoice.number)
    if isinstance(source, Payment):
        source_company = source.consume(amount, mode)
        kind, payment_id, credit_note_id = SourceKind.PAYMENT, source.id, None
        source_number = source.number
    else:
        source_company = source.settle(amount, mode, by_credit_note=True)
        kind, payment_id, credit_note_id = SourceKind.CREDIT_NOTE, None, source.invoice_id
        source_number = source.number
    target_company = invoice.settle(amount, mode, by_credit_note=by_credit_note)
    allocation = Allocation(
        company_id=invoice.company_id, customer_id=invoice.customer_id,
        currency=invoice.currency, invoice_id=invoice.invoice_id,
        invoice_number=invoice.number, source_kind=kind, payment_id=payment_id,
        credit_note_id=credit_note_id, source_number=source_number, amount=amount,
        source_company=source_company, target_company=target_company, allocated_on=on)
    allocation.record("allocated", invoice=invoice.number, source=source_number,
                      amount=in_minor_units(amount, allocation.currency))
    return allocation


def unallocate(allocation: Allocation, source: Payment | OpenItem, invoice: OpenItem,
               on: date, reason: str) -> None:
    if not allocation.is_active:
        raise RuleViolation(f"allocation {allocation.id} is already reversed")
    by_credit_note = allocation.source_kind is SourceKind.CREDIT_NOTE
    invoice.restore(allocation.amount, allocation.target_company, by_credit_note=by_credit_note)
    if isinstance(source, Payment):
        source.give_back(allocation.amount, allocation.source_company)
    else:
        source.restore(allocation.amount, allocation.source_company, by_credit_note=True)
    allocation.reversed_on = on
    allocation.record("reversed", invoice=allocation.invoice_number,
                      source=allocation.source_number,
                      amount=in_minor_units(allocation.amount, allocation.currency),
                      reason=reason)
