"""Double-entry ledger: every money movement is a balanced journal entry; corrections are
reversing entries, never edits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from o2c.domain.errors import RuleViolation, UnbalancedEntry
from o2c.domain.invoicing import Invoice
from o2c.domain.money import ZERO
from o2c.domain.payments import Allocation, Payment


class AccountType(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    REVENUE = "revenue"
    EXPENSE = "expense"


BANK = "1100"
RECEIVABLE = "1200"  # AR control account: equals the sum of open invoice items
VAT_PAYABLE = "2200"
CUSTOMER_CREDIT = "2300"  # unapplied payments and credit notes
REVENUE = "4000"
FX_DIFFERENCES = "7700"
SALES_DISCOUNTS = "4100"  # early-payment discounts customers took
BANK_CHARGES = "6800"  # bank fees, and charges deducted from customers' transfers

DEFAULT_CHART: tuple[tuple[str, str, AccountType], ...] = (
    (BANK, "Bank", AccountType.ASSET),
    (RECEIVABLE, "Accounts receivable", AccountType.ASSET),
    (VAT_PAYABLE, "VAT payable", AccountType.LIABILITY),
    (CUSTOMER_CREDIT, "Customer credit (unapplied cash and credit notes)",
     AccountType.LIABILITY),
    (REVENUE, "Sales revenue", AccountType.REVENUE),
    (FX_DIFFERENCES, "Exchange differences", AccountType.EXPENSE),
    (SALES_DISCOUNTS, "Sales discounts (early payment)", AccountType.REVENUE),
    (BANK_CHARGES, "Bank charges", AccountType.EXPENSE),
)


@dataclass(frozen=True, slots=True)
class JournalLine:
    account: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    customer_id: int | None = None
    currency: str = ""  # document currency of a receivable or credit line
    amount_currency: Decimal = ZERO  # signed, in that currency (+ debit, - credit)

    def __post_init__(self) -> None:
        if self.debit < 0 or self.credit < 0:
            raise RuleViolation(f"journal line on {self.account} has a negative side")
        if self.debit and self.credit:
            raise RuleViolation(f"journal line on {self.account} has both debit and credit")

    def swapped(self) -> JournalLine:
        return JournalLine(self.account, self.credit, self.debit, self.customer_id,
                           self.currency, -self.amount_currency)


@dataclass(kw_only=True, eq=False)
class JournalEntry:
    id: int | None = None
    company_id: int
    entry_date: date
    source_type: str
    source_id: int | None
    memo: str
    lines: list[JournalLine] = field(default_factory=list)
    reverses_entry_id: int | None = None

    def __post_init__(self) -> None:
        self.lines = [line for line in self.lines if line.debit or line.credit]
        debit = sum((line.debit for line in self.lines), ZERO)
        credit = sum((line.credit for line in self.lines), ZERO)
        if debit != credit:
            raise UnbalancedEntry(debit, credit, self.memo)
        if len(self.lines) < 2:
            raise RuleViolation(f"journal entry '{self.memo}' needs at least two lines")

    @property
    def total(self) -> Decimal:
        return sum((line.debit for line in self.lines), ZERO)


def _dr(account: str, amount: Decimal, **kw: object) -> JournalLine:
    """A debit of a signed amount: negative amounts turn into credits."""
    if amount >= 0:
        return JournalLine(account, debit=amount, **kw)  # type: ignore[arg-type]
    return JournalLine(account, credit=-amount, **kw)  # type: ignore[arg-type]


def _cr(account: str, amount: Decimal, **kw: object) -> JournalLine:
    return _dr(account, -amount, **kw)


def invoice_entry(invoice: Invoice) -> JournalEntry:
    """Invoice: receivable against revenue and VAT per breakdown. Credit note: revenue and VAT
    back against customer credit (then applied to the invoice it corrects)."""
    sign = Decimal(-1) if invoice.is_credit_note else Decimal(1)
    party = {"customer_id": invoice.customer_id, "currency": invoice.currency}
    lines: list[JournalLine] = []
    if invoice.is_credit_note:
        lines.append(_cr(CUSTOMER_CREDIT, invoice.gross_amount_company,
                         amount_currency=-invoice.gross_amount, **party))
    else:
        lines.append(_dr(RECEIVABLE, invoice.gross_amount_company,
                         amount_currency=invoice.gross_amount, **party))
    for tax in invoice.taxes:
        lines.append(_cr(REVENUE, sign * tax.taxable_amount_company))
        lines.append(_cr(VAT_PAYABLE, sign * tax.tax_amount_company))
    return JournalEntry(company_id=invoice.company_id, entry_date=invoice.issue_date,
                        source_type=invoice.kind.value, source_id=invoice.id,
                        memo=f"{invoice.kind.value.replace('_', ' ')} {invoice.number}",
                        lines=_merge(lines))


def payment_entry(payment: Payment) -> JournalEntry:
    party = {"customer_id": payment.customer_id, "currency": payment.currency}
    return JournalEntry(
        company_id=payment.company_id, entry_date=payment.received_on, source_type="payment",
        source_id=payment.id, memo=f"payment {payment.number}",
        lines=[_dr(BANK, payment.amount_company),
               _cr(CUSTOMER_CREDIT, payment.amount_company, amount_currency=-payment.amount,
                   **party)])


def allocation_entry(allocation: Allocation) -> JournalEntry:
    """Customer credit is used up, the receivable is settled; the difference between their
    company-currency values is a realised exchange difference."""
    party = {"customer_id": allocation.customer_id, "currency": allocation.currency}
    lines = [
        _dr(CUSTOMER_CREDIT, allocation.source_company, amount_currency=allocation.amount,
            **party),
        _cr(RECEIVABLE, allocation.target_company, amount_currency=-allocation.amount, **party),
        _cr(FX_DIFFERENCES, allocation.fx_difference),
    ]
    return JournalEntry(
        company_id=allocation.company_id, entry_date=allocation.allocated_on,
        source_type="allocation", source_id=allocation.id,
        memo=f"{allocation.source_number} applied to {allocation.invoice_number}", lines=lines)


def write_off_entry(*, company_id: int, customer_id: int, currency: str, on: date,
                    account: str, amount: Decimal, amount_company: Decimal, source_id: int,
                    memo: str) -> JournalEntry:
    """The rest of an invoice a customer short-paid within tolerance (bank charges deducted,
    early-payment discount taken) leaves the receivable for an expense or contra-revenue."""
    party = {"customer_id": customer_id, "currency": currency}
    return JournalEntry(company_id=company_id, entry_date=on, source_type="bank_write_off",
                        source_id=source_id, memo=memo,
                        lines=[_dr(account, amount_company),
                               _cr(RECEIVABLE, amount_company, amount_currency=-amount,
                                   **party)])


def bank_fee_entry(*, company_id: int, on: date, amount_company: Decimal, source_id: int,
                   memo: str) -> JournalEntry:
    return JournalEntry(company_id=company_id, entry_date=on, source_type="bank_fee",
                        source_id=source_id, memo=memo,
                        lines=[_dr(BANK_CHARGES, amount_company), _cr(BANK, amount_company)])


def reversal_entry(entry: JournalEntry, on: date, memo: str) -> JournalEntry:
    if entry.id is None:
        raise RuleViolation("only a stored entry can be reversed")
    return JournalEntry(company_id=entry.company_id, entry_date=on,
                        source_type=entry.source_type, source_id=entry.source_id,
                        memo=memo, lines=[line.swapped() for line in entry.lines],
                        reverses_entry_id=entry.id)


def _merge(lines: Iterable[JournalLine]) -> list[JournalLine]:
    """One line per account and party: several VAT groups post to the same revenue account."""
    merged: dict[tuple[str, int | None, str], Decimal] = {}
    amount_currency: dict[tuple[str, int | None, str], Decimal] = {}
    for line in lines:
        key = (line.account, line.customer_id, line.currency)
        merged[key] = merged.get(key, ZERO) + line.debit - line.credit
        amount_currency[key] = amount_currency.get(key, ZERO) + line.amount_currency
    return [JournalLine(account, debit=max(net, ZERO), credit=max(-net, ZERO),
                        customer_id=customer_id, currency=currency,
                        amount_currency=amount_currency[(account, customer_id, currency)])
            for (account, customer_id, currency), net in merged.items()]


@dataclass(frozen=True, slots=True)
class LedgerFigures:
    """What `verify` needs, gathered by set-based queries."""

    unbalanced_entries: tuple[tuple[int, Decimal, Decimal], ...]  # (entry id, debit, credit)
    total_debit: Decimal
    total_credit: Decimal
    receivable_balance: Decimal  # debit - credit on the AR control account
    open_invoice_residuals: Decimal  # AR sub-ledger
    customer_credit_balance: Decimal  # credit - debit on the customer credit account
    unapplied_credit: Decimal  # unapplied payments + unused credit notes


@dataclass(frozen=True, slots=True)
class LedgerCheck:
    name: str
    ok: bool
    detail: str


def verify(figures: LedgerFigures) -> list[LedgerCheck]:
    checks = [
        LedgerCheck("every entry balances", not figures.unbalanced_entries,
                    "all entries balance" if not figures.unbalanced_entries else
                    "; ".join(f"entry {i}: debit {d} credit {c}"
                              for i, d, c in figures.unbalanced_entries[:10])),
        LedgerCheck("trial balance is zero", figures.total_debit == figures.total_credit,
                    f"debit {figures.total_debit}, credit {figures.total_credit}"),
        LedgerCheck("AR sub-ledger equals the receivable control account",
                    figures.receivable_balance == figures.open_invoice_residuals,
                    f"control account {figures.receivable_balance}, open items "
                    f"{figures.open_invoice_residuals}"),
        LedgerCheck("customer credit sub-ledger equals its control account",
                    figures.customer_credit_balance == figures.unapplied_credit,
                    f"control account {figures.customer_credit_balance}, unapplied payments and "
                    f"credit notes {figures.unapplied_credit}"),
    ]
    return checks
