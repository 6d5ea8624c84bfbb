"""Credit management: may this customer take on this order without a credit manager?"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from o2c.domain.money import ZERO, minor_units


class LimitDefault(StrEnum):
    """A new customer whose credit limit nobody chose gets the company's default limit."""

    COMPANY = "company_default"


# -- dual control of credit limits ------------------------------------------------------------
# A customer keeps the last limit a second person approved (`approved_credit_limit`), lowered
# by every reduction since. A raise is measured from there, not from the limit of the moment:
# five raises of 9,000 add up to 45,000 above what was approved, and need approval as one.
# None is "no limit".


def raise_needs_approval(approved: Decimal | None, new: Decimal | None,
                         threshold: Decimal) -> bool:
    """Does setting the limit to `new` take it more than `threshold` above the approved
    limit? Removing a limit always does, unless no limit is what was approved."""
    if new is None:
        return approved is not None
    if approved is None:
        return False
    return new - approved > threshold


def approved_after(approved: Decimal | None, new: Decimal | None, *,
                   by_approval: bool) -> Decimal | None:
    """The approved limit once the limit is `new`: the new limit itself when a second person
    approved it; otherwise the lower of the two, so that later raises count from the lowest
    point."""
    if by_approval or approved is None:
        return new
    if new is None:
        return approved
    return min(approved, new)


@dataclass(frozen=True, slots=True)
class CreditPosition:
    """A customer's standing at one moment, in the customer's currency."""

    currency: str
    credit_limit: Decimal | None
    blocked: bool
    open_receivables: Decimal  # residual of posted, unpaid invoices
    unapplied_credit: Decimal  # payments and credit notes not yet applied
    uninvoiced_orders: Decimal  # confirmed orders not yet invoiced
    oldest_overdue_due_date: date | None
    overdue_amount: Decimal = ZERO

    @property
    def exposure(self) -> Decimal:
        return self.open_receivables - self.unapplied_credit + self.uninvoiced_orders

    def days_overdue(self, as_of: date) -> int:
        if self.oldest_overdue_due_date is None:
            return 0
        return max((as_of - self.oldest_overdue_due_date).days, 0)


@dataclass(frozen=True, slots=True)
class CreditDecision:
    approved: bool
    exposure_after: Decimal
    reasons: tuple[str, ...]


# The reasons of a hold, as English templates: the web translates them by these msgids.
REASON_BLOCKED = "customer is on credit block"
REASON_LIMIT = "exposure {exposure} would exceed the credit limit {limit}"
REASON_OVERDUE = "{amount} overdue for {days} days (more than {allowed})"
HOLD_REASONS = (REASON_BLOCKED, REASON_LIMIT, REASON_OVERDUE)


def _fmt(amount: Decimal, currency: str) -> str:
    return f"{amount:,.{minor_units(currency)}f} {currency}"


def check_credit(position: CreditPosition, order_amount: Decimal, as_of: date,
                 overdue_hold_days: int) -> CreditDecision:
    """Exposure = open receivables - unapplied credit + confirmed-but-uninvoiced orders +
    this order. The order holds if that passes the limit, if the customer is blocked, or if
    an invoice is overdue by more than `overdue_hold_days`."""
    exposure_after = position.exposure + order_amount
    reasons = []
    if position.blocked:
        reasons.append(REASON_BLOCKED)
    if position.credit_limit is not None and exposure_after > position.credit_limit:
        reasons.append(REASON_LIMIT.format(
            exposure=_fmt(exposure_after, position.currency),
            limit=_fmt(position.credit_limit, position.currency)))
    days = position.days_overdue(as_of)
    if days > overdue_hold_days:
        reasons.append(REASON_OVERDUE.format(
            amount=_fmt(position.overdue_amount, position.currency), days=days,
            allowed=overdue_hold_days))
    return CreditDecision(not reasons, exposure_after, tuple(reasons))
