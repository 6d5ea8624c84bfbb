"""Accounts receivable: one open item per posted invoice (what the customer still owes) or
credit note (credit the customer can still use), and the derived payment status."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from o2c.domain.aggregate import Aggregate
from o2c.domain.errors import OverAllocation, RuleViolation
from o2c.domain.money import ZERO, RoundingMode, allocate, round_amount
from o2c.domain.payment_terms import Installment


@dataclass(frozen=True, slots=True)
class InstallmentDue:
    """One instalment of an open item as its own due amount (stored as a row so that aging,
    overdue and the credit check can sum what is actually due in SQL)."""

    seq: int
    due_date: date
    amount: Decimal
    amount_company: Decimal
    later: Decimal  # the instalments after this one, in document currency
    later_company: Decimal

    def still_owed(self, residual: Decimal) -> Decimal:
        """What is still owed of this instalment when the item has `residual` left."""
        return min(max(residual - self.later, ZERO), self.amount)


class OpenItemKind(StrEnum):
    INVOICE = "invoice"  # a receivable: residual is still owed
    CREDIT_NOTE = "credit_note"  # a credit: residual is still available to apply


class PaymentStatus(StrEnum):
    UNPAID = "unpaid"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    OVERDUE = "overdue"
    CREDITED = "credited"  # settled by credit notes rather than cash


def share(part: Decimal, whole: Decimal, whole_company: Decimal, company_currency: str,
          mode: RoundingMode) -> Decimal:
    """The company-currency value of `part` of a document worth `whole` (`whole_company`).

    The last part takes exactly what is left, so a document is always fully relieved."""
    if part == whole:
        return whole_company
    return round_amount(whole_company * part / whole, company_currency, mode)


@dataclass(kw_only=True, eq=False)
class OpenItem(Aggregate):
    object_type = "open_item"

    invoice_id: int
    kind: OpenItemKind
    number: str
    company_id: int
    customer_id: int
    currency: str
    company_currency: str
    issue_date: date
    amount: Decimal
    residual: Decimal
    amount_company: Decimal
    residual_company: Decimal
    paid: Decimal = ZERO  # settled by payments
    credited: Decimal = ZERO  # settled by credit notes
    due_date: date  # of the oldest instalment not yet covered
    final_due_date: date
    installments: list[Installment] = field(default_factory=list)

    @classmethod
    def for_document(cls, *, invoice_id: int, kind: OpenItemKind, number: str,
                     company_id: int, customer_id: int, currency: str, company_currency: str,
                     issue_date: date, amount: Decimal, amount_company: Decimal,
                     installments: list[Installment]) -> OpenItem:
        due = min(i.due_date for i in installments)
        item = cls(invoice_id=invoice_id, kind=kind, number=number, company_id=company_id,
                   customer_id=customer_id, currency=currency, company_currency=company_currency,
                   issue_date=issue_date, amount=amount, residual=amount,
                   amount_company=amount_company, residual_company=amount_company,
                   due_date=due, final_due_date=max(i.due_date for i in installments),
                   installments=installments)
        if amount > 0:  # an instalment of 0.00 (a tiny total split in thirds) is never due
            item._advance_due_date()
        return item

    def settle(self, amount: Decimal, mode: RoundingMode, *, by_credit_note: bool
               ) -> Decimal:
        """Reduce what is owed (or available) by `amount`; returns its company-currency value."""
        if amount <= 0:
            raise RuleViolation("an allocation must be positive", field="amount")
        if amount > self.residual:
            raise OverAllocation(
                f"{self.number} has {self.residual} {self.currency} open; cannot apply {amount}",
                field="amount", number=self.number, residual=str(self.residual))
        company = share(amount, self.residual, self.residual_company, self.company_currency,
                        mode)
        self.residual -= amount
        self.residual_company -= company
        if self.kind is OpenItemKind.INVOICE:
            if by_credit_note:
                self.credited += amount
            else:
                self.paid += amount
            self._advance_due_date()
        return company

    def restore(self, amount: Decimal, company: Decimal, *, by_credit_note: bool) -> None:
        """Undo a settlement (un-allocation)."""
        if self.residual + amount > self.amount:
            raise RuleViolation(f"cannot restore {amount} on {self.number}: more than its total")
        self.residual += amount
        self.residual_company += company
        if self.kind is OpenItemKind.INVOICE:
            if by_credit_note:
                self.credited -= amount
            else:
                self.paid -= amount
            self._advance_due_date()

    def write_off(self) -> tuple[Decimal, Decimal]:
        """Close what is still owed as bad debt; returns (residual, its company value)."""
        if self.kind is not OpenItemKind.INVOICE:
            raise RuleViolation(f"{self.number} is not an invoice; only invoices are written off")
        if self.residual <= 0:
            raise RuleViolation(f"{self.number} has nothing left to write off")
        written = (self.residual, self.residual_company)
        self.residual = ZERO
        self.residual_company = ZERO
        self.due_date = self.final_due_date
        return written

    def _advance_due_date(self) -> None:
        covered = self.amount - self.residual
        running = ZERO
        for installment in sorted(self.installments, key=lambda i: i.due_date):
            running += installment.amount
            if running > covered:
                self.due_date = installment.due_date
                return
        self.due_date = self.final_due_date

    def schedule(self) -> list[InstallmentDue]:
        """The instalments as separately due amounts, oldest first, each with its share in
        company currency (largest remainder, so they sum exactly to the item) and what the
        later instalments add up to: payments cover the oldest instalment first, so what is
        still owed of an instalment is `residual - later`, clamped to 0..amount."""
        ordered = sorted(self.installments, key=lambda i: i.due_date) or [
            Installment(self.final_due_date, self.amount)]
        if self.amount:
            company = allocate(self.amount_company, [i.amount for i in ordered],
                               self.company_currency)
        else:
            company = [ZERO for _ in ordered]
        result = []
        later, later_company = self.amount, self.amount_company
        for seq, (inst, part) in enumerate(zip(ordered, company, strict=True), start=1):
            later -= inst.amount
            later_company -= part
            result.append(InstallmentDue(seq, inst.due_date, inst.amount, part, later,
                                         later_company))
        return result

    def due_by(self, as_of: date) -> Decimal:
        """What is owed of the instalments due before `as_of` (overdue on `as_of`)."""
        return sum((d.still_owed(self.residual) for d in self.schedule()
                    if d.due_date < as_of), ZERO)

    def payment_status(self, as_of: date) -> PaymentStatus:
        return payment_status(self.amount, self.residual, self.credited, self.due_date, as_of)


def payment_status(amount: Decimal, residual: Decimal, credited: Decimal, due_date: date,
                   as_of: date) -> PaymentStatus:
    """Derived from the open item; never stored."""
    if residual == 0:
        return PaymentStatus.CREDITED if credited == amount else PaymentStatus.PAID
    if due_date < as_of:
        return PaymentStatus.OVERDUE
    if residual < amount:
        return PaymentStatus.PARTIALLY_PAID
    return PaymentStatus.UNPAID
