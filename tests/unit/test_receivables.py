"""Open items: settling and restoring what a customer owes, in the document currency and the
company's, and the allocations that do it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from o2c.domain.errors import CurrencyMismatch, InvalidInput, OverAllocation, RuleViolation
from o2c.domain.money import RoundingMode
from o2c.domain.payment_terms import PaymentTerms, TermLine
from o2c.domain.payments import SourceKind, allocate, unallocate
from o2c.domain.receivables import OpenItemKind, PaymentStatus, payment_status
from tests.unit import builders

D = Decimal
ON = date(2026, 3, 2)
UP = RoundingMode.HALF_UP


@st.composite
def documents(draw: st.DrawFn) -> tuple[Decimal, Decimal]:
    """A document amount and its company-currency value at some exchange rate."""
    cents = draw(st.integers(min_value=1, max_value=10**8))
    rate = draw(st.decimals(min_value=D("0.001"), max_value=D(1000), places=4))
    amount = D(cents) / 100
    return amount, (amount * rate).quantize(D("0.01"))


@settings(deadline=None, max_examples=300)
@given(documents(), st.lists(st.integers(min_value=1, max_value=10**8), max_size=20),
       st.sampled_from([RoundingMode.HALF_UP, RoundingMode.HALF_EVEN]), st.booleans())
def test_settling_never_leaves_negative_residuals_and_relieves_the_company_value_fully(
        document: tuple[Decimal, Decimal], parts: list[int], mode: RoundingMode,
        finish: bool) -> None:
    amount, amount_company = document
    item = builders.open_item(str(amount), str(amount_company), currency="USD")
    settled_company = D(0)
    for part in parts:
        if item.residual == 0:
            break
        piece = min(D(part) / 100, item.residual)
        settled_company += item.settle(piece, mode, by_credit_note=False)
        assert item.residual >= 0 and item.residual_company >= 0
        assert item.paid == amount - item.residual
    if finish and item.residual:
        settled_company += item.settle(item.residual, mode, by_credit_note=False)
    assert settled_company + item.residual_company == amount_company
    if item.residual == 0:
        assert item.residual_company == 0
        assert item.payment_status(ON) is PaymentStatus.PAID


@settings(deadline=None, max_examples=200)
@given(documents(), st.lists(st.integers(min_value=1, max_value=10**6), min_size=1,
                             max_size=10), st.data())
def test_restoring_settlements_in_any_order_returns_the_item_to_where_it_was(
        document: tuple[Decimal, Decimal], parts: list[int], data: st.DataObject) -> None:
    amount, amount_company = document
    item = builders.open_item(str(amount), str(amount_company), currency="USD")
    done = []
    for part in parts:
        piece = min(D(part) / 100, item.residual)
        if piece <= 0:
            break
        by_credit_note = data.draw(st.booleans())
        done.append((piece, item.settle(piece, UP, by_credit_note=by_credit_note),
                     by_credit_note))
    for piece, company, by_credit_note in data.draw(st.permutations(done)):
        item.restore(piece, company, by_credit_note=by_credit_note)
    assert (item.residual, item.residual_company, item.paid, item.credited) == (
        amount, amount_company, D(0), D(0))


def test_an_item_cannot_be_settled_beyond_its_residual_or_by_nothing() -> None:
    item = builders.open_item("100.00")
    with pytest.raises(OverAllocation) as error:
        item.settle(D("100.01"), UP, by_credit_note=False)
    assert error.value.field == "amount"
    with pytest.raises(RuleViolation):
        item.settle(D(0), UP, by_credit_note=False)
    item.settle(D(40), UP, by_credit_note=False)
    with pytest.raises(RuleViolation):
        item.restore(D("40.01"), D("40.01"), by_credit_note=False)
    assert item.residual == D(60)


def test_paying_the_first_instalment_moves_the_due_date_to_the_next() -> None:
    terms = PaymentTerms(code="3060", name="3060",
                         lines=(TermLine(D(50), 30), TermLine(D(50), 60)))
    item = builders.open_item("100.00", terms=terms)
    assert item.due_date == date(2026, 4, 1)
    item.settle(D("49.99"), UP, by_credit_note=False)
    assert item.due_date == date(2026, 4, 1)
    item.settle(D("0.01"), UP, by_credit_note=False)
    assert item.due_date == date(2026, 5, 1)
    item.restore(D("0.01"), D("0.01"), by_credit_note=False)
    assert item.due_date == date(2026, 4, 1)


@pytest.mark.parametrize(("amount", "residual", "credited", "due", "status"), [
    ("100", "0", "0", date(2026, 4, 1), PaymentStatus.PAID),
    ("100", "0", "100", date(2026, 4, 1), PaymentStatus.CREDITED),
    ("100", "0", "40", date(2026, 1, 1), PaymentStatus.PAID),  # part credited, rest paid
    ("100", "100", "0", date(2026, 3, 1), PaymentStatus.OVERDUE),
    ("100", "30", "0", date(2026, 3, 1), PaymentStatus.OVERDUE),
    ("100", "100", "0", date(2026, 3, 2), PaymentStatus.UNPAID),  # due today is not overdue
    ("100", "30", "0", date(2026, 4, 1), PaymentStatus.PARTIALLY_PAID),
])
def test_payment_status_is_derived_from_the_open_item(
        amount: str, residual: str, credited: str, due: date, status: PaymentStatus) -> None:
    assert payment_status(D(amount), D(residual), D(credited), due, ON) is status


# -- allocations --------------------------------------------------------------------------------

def test_a_payment_at_another_rate_books_the_exchange_difference_on_allocation() -> None:
    invoice = builders.open_item("264.00", "237.60", currency="USD")  # at 0.90
    cash = builders.payment("264.00", "250.80", currency="USD", fx_rate="0.95")
    allocation = allocate(cash, invoice, D("100.00"), ON, UP)
    assert (allocation.source_company, allocation.target_company) == (D("95.00"), D("90.00"))
    assert allocation.fx_difference == D("5.00")
    rest = allocate(cash, invoice, D("164.00"), ON, UP)
    assert (rest.source_company, rest.target_company) == (D("155.80"), D("147.60"))
    assert (invoice.residual, invoice.residual_company) == (D(0), D(0))
    assert (cash.unapplied, cash.unapplied_company) == (D(0), D(0))
    assert allocation.fx_difference + rest.fx_difference == D("250.80") - D("237.60")


def test_un_allocating_gives_back_exactly_what_the_allocation_took() -> None:
    invoice = builders.open_item("264.00", "237.60", currency="USD")
    cash = builders.payment("300.00", "285.00", currency="USD", fx_rate="0.95")
    allocation = allocate(cash, invoice, D("100.00"), ON, UP)
    allocation.id = 1
    unallocate(allocation, cash, invoice, ON, "wrong invoice")
    assert (invoice.residual, invoice.residual_company, invoice.paid) == (
        D("264.00"), D("237.60"), D(0))
    assert (cash.unapplied, cash.unapplied_company) == (D("300.00"), D("285.00"))
    assert not allocation.is_active
    with pytest.raises(RuleViolation):
        unallocate(allocation, cash, invoice, ON, "twice")


def test_a_credit_note_settles_an_invoice_as_credited() -> None:
    invoice = builders.open_item("122.00")
    note = builders.open_item("50.00", kind=OpenItemKind.CREDIT_NOTE)
    allocation = allocate(note, invoice, D("50.00"), ON, UP)
    assert allocation.source_kind is SourceKind.CREDIT_NOTE
    assert allocation.credit_note_id == note.invoice_id and allocation.payment_id is None
    assert (invoice.residual, invoice.credited, invoice.paid) == (D("72.00"), D(50), D(0))
    assert note.residual == 0
    with pytest.raises(OverAllocation):
        allocate(note, invoice, D("0.01"), ON, UP)


@pytest.mark.parametrize(("amount", "error", "field"), [
    ("0", InvalidInput, "amount"),
    ("-1.00", InvalidInput, "amount"),
    ("1.001", InvalidInput, "amount"),
    ("150.01", OverAllocation, "amount"),  # more than the invoice still owes
])
def test_an_allocation_that_does_not_fit_is_refused_and_changes_nothing(
        amount: str, error: type[Exception], field: str) -> None:
    invoice = builders.open_item("150.00")
    cash = builders.payment("500.00")
    with pytest.raises(error) as raised:
        allocate(cash, invoice, D(amount), ON, UP)
    assert getattr(raised.value, "field", None) == field
    assert invoice.residual == D("150.00") and cash.unapplied == D("500.00")


def test_a_payment_cannot_be_applied_beyond_what_it_has_left() -> None:
    invoice = builders.open_item("150.00")
    cash = builders.payment("100.00")
    with pytest.raises(OverAllocation):
        allocate(cash, invoice, D("100.01"), ON, UP)
    assert invoice.residual == D("150.00")


def test_allocations_stay_within_one_customer_and_one_currency() -> None:
    with pytest.raises(RuleViolation) as error:
        allocate(builders.payment("10.00", customer_id=2), builders.open_item("10.00"), D(1),
                 ON, UP)
    assert error.value.field == "invoice_id"
    with pytest.raises(CurrencyMismatch):
        allocate(builders.payment("10.00", currency="USD"), builders.open_item("10.00"), D(1),
                 ON, UP)
    with pytest.raises(RuleViolation):  # a credit note is not something to pay
        allocate(builders.payment("10.00"),
                 builders.open_item("10.00", kind=OpenItemKind.CREDIT_NOTE), D(1), ON, UP)


THIRDS = PaymentTerms(code="T", name="thirds", lines=(
    TermLine(D("33.3333"), 30), TermLine(D("33.3333"), 60), TermLine(D("33.3334"), 90)))


def test_instalments_are_separately_due_and_their_company_shares_sum_to_the_item() -> None:
    item = builders.open_item("100.00", "91.01", currency="USD", terms=THIRDS)
    schedule = item.schedule()
    assert [(d.due_date, d.amount, d.later) for d in schedule] == [
        (date(2026, 4, 1), D("33.33"), D("66.67")), (date(2026, 5, 1), D("33.33"), D("33.34")),
        (date(2026, 5, 31), D("33.34"), D(0))]
    assert sum(d.amount_company for d in schedule) == D("91.01")
    assert schedule[-1].later_company == 0
    assert item.due_by(date(2026, 3, 31)) == 0
    assert item.due_by(date(2026, 4, 2)) == D("33.33")
    assert item.due_by(date(2026, 6, 1)) == D("100.00")


@settings(deadline=None, max_examples=200)
@given(st.integers(min_value=1, max_value=10**6), st.integers(min_value=0, max_value=100))
def test_a_payment_relieves_the_oldest_instalment_first(cents: int, paid_percent: int) -> None:
    amount = D(cents) / 100
    item = builders.open_item(str(amount), terms=THIRDS)
    paid = (amount * paid_percent / 100).quantize(D("0.01"))
    if paid:
        item.settle(paid, UP, by_credit_note=False)
    owed = [d.still_owed(item.residual) for d in item.schedule()]
    assert sum(owed) == item.residual
    assert all(0 <= o <= d.amount for o, d in zip(owed, item.schedule(), strict=True))
    # Nothing is owed of an instalment while a later one is partly paid.
    first_owing = next((i for i, o in enumerate(owed) if o), len(owed))
    assert all(o == d.amount for o, d in zip(owed[first_owing + 1:],
                                             item.schedule()[first_owing + 1:], strict=True))
    if item.residual:
        assert item.due_date == item.schedule()[first_owing].due_date
