"""The credit check at order confirmation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from o2c.domain.credit import CreditPosition, check_credit

D = Decimal
TODAY = date(2026, 3, 2)


def position(*, limit: str | None = "1000.00", blocked: bool = False, open_: str = "0",
             unapplied: str = "0", uninvoiced: str = "0", oldest_due: date | None = None,
             overdue: str = "0") -> CreditPosition:
    return CreditPosition(currency="EUR", credit_limit=None if limit is None else D(limit),
                          blocked=blocked, open_receivables=D(open_), unapplied_credit=D(unapplied),
                          uninvoiced_orders=D(uninvoiced), oldest_overdue_due_date=oldest_due,
                          overdue_amount=D(overdue))


def test_exposure_is_open_receivables_less_unapplied_credit_plus_uninvoiced_orders() -> None:
    assert position(open_="500.00", unapplied="120.00", uninvoiced="300.00").exposure == \
        D("680.00")


@pytest.mark.parametrize(("pos", "amount", "approved", "exposure_after"), [
    (position(limit=None), "1000000.00", True, "1000000.00"),
    (position(), "1000.00", True, "1000.00"),  # exactly at the limit is fine
    (position(), "1000.01", False, "1000.01"),
    (position(open_="600.00", uninvoiced="300.00"), "100.00", True, "1000.00"),
    (position(open_="600.00", uninvoiced="300.00"), "100.01", False, "1000.01"),
    (position(open_="600.00", unapplied="200.00", uninvoiced="300.00"), "300.00", True,
     "1000.00"),
    (position(limit="0.00"), "0.01", False, "0.01"),  # a zero limit: every order is reviewed
])
def test_an_order_holds_when_exposure_after_it_passes_the_credit_limit(
        pos: CreditPosition, amount: str, approved: bool, exposure_after: str) -> None:
    decision = check_credit(pos, D(amount), TODAY, overdue_hold_days=30)
    assert decision.approved is approved
    assert decision.exposure_after == D(exposure_after)
    assert bool(decision.reasons) is not approved
    if not approved:
        assert "credit limit" in decision.reasons[0]


def test_a_blocked_customer_holds_even_a_small_order() -> None:
    decision = check_credit(position(limit=None, blocked=True), D("1.00"), TODAY, 30)
    assert not decision.approved
    assert decision.reasons == ("customer is on credit block",)


@pytest.mark.parametrize(("days_overdue", "approved"), [(0, True), (30, True), (31, False)])
def test_an_invoice_overdue_longer_than_the_allowed_days_holds_the_order(
        days_overdue: int, approved: bool) -> None:
    due = date.fromordinal(TODAY.toordinal() - days_overdue)
    pos = position(open_="100.00", oldest_due=due, overdue="100.00")
    decision = check_credit(pos, D("1.00"), TODAY, overdue_hold_days=30)
    assert decision.approved is approved
    if not approved:
        assert decision.reasons == ("100.00 EUR overdue for 31 days (more than 30)",)


def test_an_invoice_not_yet_due_counts_no_days_overdue() -> None:
    pos = position(oldest_due=date(2026, 4, 1), open_="10.00")
    assert pos.days_overdue(TODAY) == 0
    assert check_credit(pos, D("1.00"), TODAY, overdue_hold_days=0).approved


def test_every_reason_is_listed_when_several_apply() -> None:
    pos = position(blocked=True, open_="900.00", oldest_due=date(2025, 12, 1), overdue="900.00")
    decision = check_credit(pos, D("200.00"), TODAY, overdue_hold_days=30)
    assert len(decision.reasons) == 3
