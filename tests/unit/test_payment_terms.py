"""Payment terms: due dates, instalments that sum exactly, early-payment discounts."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from o2c.domain.errors import InvalidInput
from o2c.domain.money import RoundingMode, is_rounded
from o2c.domain.payment_terms import (
    EarlyPaymentDiscount,
    Installment,
    PaymentTerms,
    TermLine,
    end_of_month,
    net_days,
)

D = Decimal


def test_net_30_is_due_thirty_days_after_the_invoice_date() -> None:
    terms = net_days(30)
    assert terms.schedule(date(2026, 3, 2), D("354.89"), "EUR") == [
        Installment(date(2026, 4, 1), D("354.89"))]
    assert terms.describe() == "Net 30 days"
    assert terms.early_discount(date(2026, 3, 2), D("354.89"), "EUR") is None


@pytest.mark.parametrize(("invoice_date", "days", "due"), [
    (date(2026, 3, 2), 60, date(2026, 5, 31)),  # 1 May -> end of May
    (date(2024, 1, 15), 30, date(2024, 2, 29)),  # leap year
    (date(2025, 1, 15), 30, date(2025, 2, 28)),
    (date(2026, 12, 10), 30, date(2027, 1, 31)),  # across the year end
    (date(2026, 1, 31), 0, date(2026, 1, 31)),
])
def test_end_of_month_terms_fall_due_on_the_last_day_of_that_month(
        invoice_date: date, days: int, due: date) -> None:
    terms = PaymentTerms(code="EOM", name="EOM", lines=(TermLine(D(100), days, True),))
    [installment] = terms.schedule(invoice_date, D("10.00"), "EUR")
    assert installment.due_date == due
    assert end_of_month(due) == due


def test_instalments_split_the_total_exactly_and_fall_due_in_turn() -> None:
    terms = PaymentTerms(code="3X", name="thirds", lines=(
        TermLine(D("33.3333"), 30), TermLine(D("33.3333"), 60), TermLine(D("33.3334"), 90)))
    schedule = terms.schedule(date(2026, 3, 2), D("100.00"), "EUR")
    assert [i.amount for i in schedule] == [D("33.33"), D("33.33"), D("33.34")]
    assert [i.due_date for i in schedule] == [date(2026, 4, 1), date(2026, 5, 1),
                                              date(2026, 5, 31)]
    assert terms.describe() == ("33.3333% at 30 days, 33.3333% at 60 days, "
                                "33.3334% at 90 days")


@st.composite
def term_splits(draw: st.DrawFn) -> list[Decimal]:
    """Percentages with up to 4 decimals that add up to exactly 100."""
    count = draw(st.integers(min_value=1, max_value=6))
    cuts = sorted(draw(st.lists(st.integers(min_value=1, max_value=999_999), min_size=count - 1,
                                max_size=count - 1, unique=True)))
    bounds = [0, *cuts, 1_000_000]
    return [D(b - a) / 10_000 for a, b in itertools.pairwise(bounds)]


@settings(deadline=None, max_examples=200)
@given(term_splits(), st.integers(min_value=0, max_value=10**9),
       st.sampled_from(["EUR", "JPY", "KWD"]))
def test_instalments_always_sum_exactly_to_the_invoice_total(
        percents: list[Decimal], units: int, currency: str) -> None:
    terms = PaymentTerms(code="X", name="X",
                         lines=tuple(TermLine(p, 30 * (i + 1)) for i, p in enumerate(percents)))
    total = D(units) * (D(1) if currency == "JPY" else D("0.001") if currency == "KWD"
                        else D("0.01"))
    schedule = terms.schedule(date(2026, 1, 1), total, currency)
    assert sum((i.amount for i in schedule), D(0)) == total
    assert all(is_rounded(i.amount, currency) and i.amount >= 0 for i in schedule)


def test_early_payment_discount_is_rounded_and_dated() -> None:
    terms = PaymentTerms(code="2/10", name="2/10 net 30", lines=(TermLine(D(100), 30),),
                         discount_percent=D(2), discount_days=10)
    assert terms.early_discount(date(2026, 3, 2), D("1000.00"), "EUR") == \
        EarlyPaymentDiscount(D(2), date(2026, 3, 12), D("20.00"))
    # 2% of 0.25 = 0.005: half up 0.01, half even 0.00
    assert terms.early_discount(date(2026, 3, 2), D("0.25"), "EUR").amount == D("0.01")  # type: ignore[union-attr]
    assert terms.early_discount(date(2026, 3, 2), D("0.25"), "EUR",  # type: ignore[union-attr]
                                RoundingMode.HALF_EVEN).amount == D("0.00")
    assert terms.describe() == "Net 30 days; 2% discount if paid within 10 days"


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"lines": ()}, "lines"),
    ({"lines": (TermLine(D(50), 30),)}, "lines"),
    ({"lines": (TermLine(D(110), 30), TermLine(D(-10), 60))}, "lines[1].percent"),
    ({"lines": (TermLine(D(100), -1),)}, "lines[0].days"),
    ({"lines": (TermLine(D("99.99999"), 30), TermLine(D("0.00001"), 60))},
     "lines[0].percent"),
    ({"discount_percent": D(2)}, "discount_days"),
    ({"discount_percent": D(100), "discount_days": 10}, "discount_percent"),
    ({"discount_percent": D("1.00001"), "discount_days": 10}, "discount_percent"),
])
def test_impossible_payment_terms_are_refused(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        PaymentTerms(code="BAD", name="bad", **kwargs)  # type: ignore[arg-type]
    assert error.value.field == field


def test_term_line_due_date_without_end_of_month_is_plain_days() -> None:
    assert TermLine(D(100), 45).due_date(date(2026, 1, 31)) == date(2026, 1, 31) + timedelta(45)


@pytest.mark.parametrize(("lines", "discount", "text"), [
    ((TermLine(D(50), 30), TermLine(D(50), 60)), D(0), "50% at 30 days, 50% at 60 days"),
    ((TermLine(D(100), 60, True),), D(10), "Net 60 days end of month; 10% discount if paid "
                                           "within 10 days"),
    ((TermLine(D("12.50"), 0), TermLine(D("87.50"), 30)), D("2.50"),
     "12.5% at 0 days, 87.5% at 30 days; 2.5% discount if paid within 10 days"),
])
def test_terms_are_described_in_plain_numbers_for_the_invoice(
        lines: tuple[TermLine, ...], discount: Decimal, text: str) -> None:
    terms = PaymentTerms(code="T", name="T", lines=lines, discount_percent=discount,
                         discount_days=10 if discount else 0)
    assert terms.describe() == text
