"""Double entry: every entry balances, reversals mirror the entry they reverse, and `verify`
notices when the books do not add up."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from o2c.domain.errors import RuleViolation, UnbalancedEntry
from o2c.domain.invoicing import Invoice, InvoiceKind
from o2c.domain.ledger import (
    BANK,
    CUSTOMER_CREDIT,
    FX_DIFFERENCES,
    RECEIVABLE,
    REVENUE,
    VAT_PAYABLE,
    JournalEntry,
    JournalLine,
    LedgerFigures,
    allocation_entry,
    invoice_entry,
    payment_entry,
    reversal_entry,
    verify,
)
from o2c.domain.money import RoundingMode
from o2c.domain.payments import allocate
from tests.unit import builders

D = Decimal
ON = date(2026, 3, 2)


def sides(entry: JournalEntry) -> dict[str, tuple[Decimal, Decimal]]:
    result: dict[str, tuple[Decimal, Decimal]] = {}
    for line in entry.lines:
        debit, credit = result.get(line.account, (D(0), D(0)))
        result[line.account] = (debit + line.debit, credit + line.credit)
    return result


def balanced(entry: JournalEntry) -> bool:
    return sum((x.debit for x in entry.lines), D(0)) == sum((x.credit for x in entry.lines), D(0))


def test_an_invoice_debits_the_receivable_and_credits_revenue_and_vat() -> None:
    invoice = builders.posted_invoice(("2", "120.00", "22"), ("3", "19.90", "4"))
    entry = invoice_entry(invoice)
    assert sides(entry) == {
        RECEIVABLE: (D("354.89"), D(0)), REVENUE: (D(0), D("299.70")),
        VAT_PAYABLE: (D(0), D("55.19")),
    }
    [receivable] = [x for x in entry.lines if x.account == RECEIVABLE]
    assert (receivable.customer_id, receivable.currency, receivable.amount_currency) == (
        1, "EUR", D("354.89"))
    assert entry.source_type == "invoice" and entry.memo == f"invoice {invoice.number}"


def test_a_credit_note_credits_customer_credit_and_takes_back_revenue_and_vat() -> None:
    note = builders.draft_invoice(("1", "120.00", "22"), kind=InvoiceKind.CREDIT_NOTE)
    note.post("CN-2026-00001", None, builders.ROUNDING)
    entry = invoice_entry(note)
    assert sides(entry) == {
        CUSTOMER_CREDIT: (D(0), D("146.40")), REVENUE: (D("120.00"), D(0)),
        VAT_PAYABLE: (D("26.40"), D(0)),
    }


def test_a_foreign_currency_invoice_is_booked_in_the_company_currency() -> None:
    invoice = builders.posted_invoice(("2", "132.00", "0"), currency="USD", fx_rate="0.9")
    entry = invoice_entry(invoice)
    assert sides(entry) == {RECEIVABLE: (D("237.60"), D(0)), REVENUE: (D(0), D("237.60"))}
    [receivable] = [x for x in entry.lines if x.account == RECEIVABLE]
    assert (receivable.currency, receivable.amount_currency) == ("USD", D("264.00"))


def test_payment_and_allocation_entries_balance_with_the_fx_difference() -> None:
    cash = builders.payment("264.00", "250.80", currency="USD", fx_rate="0.95")
    assert sides(payment_entry(cash)) == {BANK: (D("250.80"), D(0)),
                                          CUSTOMER_CREDIT: (D(0), D("250.80"))}
    invoice = builders.open_item("264.00", "237.60", currency="USD")
    gain = allocate(cash, invoice, D("264.00"), ON, RoundingMode.HALF_UP)
    assert sides(allocation_entry(gain)) == {
        CUSTOMER_CREDIT: (D("250.80"), D(0)), RECEIVABLE: (D(0), D("237.60")),
        FX_DIFFERENCES: (D(0), D("13.20")),
    }
    cheap = builders.payment("264.00", "224.40", currency="USD", fx_rate="0.85")
    loss = allocate(cheap, builders.open_item("264.00", "237.60", currency="USD"),
                    D("264.00"), ON, RoundingMode.HALF_UP)
    assert sides(allocation_entry(loss))[FX_DIFFERENCES] == (D("13.20"), D(0))


def test_an_entry_that_does_not_balance_is_refused() -> None:
    with pytest.raises(UnbalancedEntry):
        JournalEntry(company_id=1, entry_date=ON, source_type="manual", source_id=None,
                     memo="typo", lines=[JournalLine(BANK, debit=D("10.00")),
                                         JournalLine(REVENUE, credit=D("10.01"))])
    with pytest.raises(RuleViolation):  # one line cannot be double entry
        JournalEntry(company_id=1, entry_date=ON, source_type="manual", source_id=None,
                     memo="one", lines=[JournalLine(BANK), JournalLine(REVENUE)])
    with pytest.raises(RuleViolation):
        JournalLine(BANK, debit=D(-1))
    with pytest.raises(RuleViolation):
        JournalLine(BANK, debit=D(1), credit=D(1))


def test_a_reversal_mirrors_every_line_of_the_entry() -> None:
    cash = builders.payment("264.00", "250.80", currency="USD", fx_rate="0.95")
    invoice = builders.open_item("264.00", "237.60", currency="USD")
    entry = allocation_entry(allocate(cash, invoice, D("100.00"), ON, RoundingMode.HALF_UP))
    with pytest.raises(RuleViolation):  # only stored entries are reversed
        reversal_entry(entry, ON, "undo")
    entry.id = 41
    reversal = reversal_entry(entry, date(2026, 3, 9), "undo")
    assert reversal.reverses_entry_id == 41 and reversal.entry_date == date(2026, 3, 9)
    assert balanced(reversal)
    assert len(reversal.lines) == len(entry.lines)
    for original, mirrored in zip(entry.lines, reversal.lines, strict=True):
        assert (mirrored.account, mirrored.debit, mirrored.credit, mirrored.amount_currency,
                mirrored.customer_id, mirrored.currency) == (
            original.account, original.credit, original.debit, -original.amount_currency,
            original.customer_id, original.currency)
    net: dict[str, Decimal] = defaultdict(Decimal)
    for line in [*entry.lines, *reversal.lines]:
        net[line.account] += line.debit - line.credit
    assert set(net.values()) == {D(0)}


LINES = st.lists(st.tuples(st.integers(min_value=1, max_value=500).map(str),
                           st.integers(min_value=0, max_value=10**7).map(lambda c: str(D(c) / 100)),
                           st.sampled_from(["0", "4", "5.5", "10", "22"])),
                 min_size=1, max_size=8)


@settings(deadline=None, max_examples=150)
@given(LINES, st.sampled_from(["1", "0.9", "1.0873", "161.25"]),
       st.sampled_from([InvoiceKind.INVOICE, InvoiceKind.CREDIT_NOTE]))
def test_every_invoice_and_credit_note_entry_balances(
        items: list[tuple[str, str, str]], rate: str, kind: InvoiceKind) -> None:
    document: Invoice = builders.draft_invoice(*items, currency="USD", fx_rate=rate, kind=kind)
    document.post("X-2026-00001", None, builders.ROUNDING)
    if document.gross_amount_company == 0:
        return
    entry = invoice_entry(document)
    assert balanced(entry)
    control = CUSTOMER_CREDIT if kind is InvoiceKind.CREDIT_NOTE else RECEIVABLE
    debit, credit = sides(entry)[control]
    assert debit + credit == document.gross_amount_company


def figures(**changes: object) -> LedgerFigures:
    base: dict[str, object] = {
        "unbalanced_entries": (), "total_debit": D(100), "total_credit": D(100),
        "receivable_balance": D(50), "open_invoice_residuals": D(50),
        "customer_credit_balance": D(10), "unapplied_credit": D(10)}
    base.update(changes)
    return LedgerFigures(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(("changes", "failing"), [
    ({}, set()),
    ({"unbalanced_entries": ((7, D(10), D(9)),)}, {"every entry balances"}),
    ({"total_credit": D("99.99")}, {"trial balance is zero"}),
    ({"open_invoice_residuals": D("50.01")},
     {"AR sub-ledger equals the receivable control account"}),
    ({"unapplied_credit": D(0)}, {"customer credit sub-ledger equals its control account"}),
])
def test_verify_names_each_check_that_fails(changes: dict[str, object],
                                            failing: set[str]) -> None:
    checks = verify(figures(**changes))
    assert len(checks) == 4
    assert {c.name for c in checks if not c.ok} == failing
