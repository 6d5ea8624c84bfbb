"""Payment terms: when an invoice falls due, in one or several instalments, with an optional
early-payment discount."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from o2c.domain.catalog import check_decimals
from o2c.domain.errors import InvalidInput
from o2c.domain.money import ZERO, RoundingMode, allocate, plain, round_amount

HUNDRED = Decimal(100)


def end_of_month(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


@dataclass(frozen=True, slots=True)
class TermLine:
    """One instalment: `percent` of the total, due `days` after the invoice date; with
    `end_of_month`, due on the last day of the month that date falls in ("30 days EOM")."""

    percent: Decimal
    days: int
    end_of_month: bool = False

    def due_date(self, invoice_date: date) -> date:
        due = invoice_date + timedelta(days=self.days)
        return end_of_month(due) if self.end_of_month else due


@dataclass(frozen=True, slots=True)
class Installment:
    due_date: date
    amount: Decimal


@dataclass(frozen=True, slots=True)
class EarlyPaymentDiscount:
    percent: Decimal
    until: date
    amount: Decimal


@dataclass(kw_only=True, eq=False)
class PaymentTerms:
    code: str
    name: str
    lines: tuple[TermLine, ...] = field(default_factory=lambda: (TermLine(HUNDRED, 30),))
    discount_percent: Decimal = ZERO
    discount_days: int = 0
    id: int | None = None

    def __post_init__(self) -> None:
        if not self.lines:
            raise InvalidInput("payment terms need at least one instalment", field="lines")
        if sum((line.percent for line in self.lines), ZERO) != HUNDRED:
            raise InvalidInput("instalment percentages must add up to 100", field="lines")
        for i, line in enumerate(self.lines):
            check_decimals(line.percent, 4, f"lines[{i}].percent")
            if line.percent <= 0:
                raise InvalidInput("instalment percent must be positive",
                                   field=f"lines[{i}].percent")
            if line.days < 0:
                raise InvalidInput("instalment days must not be negative",
                                   field=f"lines[{i}].days")
        check_decimals(self.discount_percent, 4, "discount_percent")
        if not ZERO <= self.discount_percent < HUNDRED:
            raise InvalidInput("discount_percent must be between 0 and 100",
                               field="discount_percent")
        if self.discount_percent and self.discount_days <= 0:
            raise InvalidInput("an early-payment discount needs discount_days",
                               field="discount_days")

    def schedule(self, invoice_date: date, total: Decimal, currency: str) -> list[Installment]:
        """Instalments that sum exactly to `total` (largest remainder split)."""
        amounts = allocate(total, [line.percent for line in self.lines], currency)
        return [Installment(line.due_date(invoice_date), amount)
                for line, amount in zip(self.lines, amounts, strict=True)]

    def early_discount(self, invoice_date: date, total: Decimal, currency: str,
                       mode: RoundingMode = RoundingMode.HALF_UP) -> EarlyPaymentDiscount | None:
        if not self.discount_percent:
            return None
        return EarlyPaymentDiscount(
            self.discount_percent,
            invoice_date + timedelta(days=self.discount_days),
            round_amount(total * self.discount_percent / HUNDRED, currency, mode),
        )

    def describe(self) -> str:
        """Human text for the invoice (EN 16931 BT-20), from the TERMS_TEXTS templates (the
        web shows it in the reader's language by the same templates)."""
        parts = []
        for line in self.lines:
            eom = "_eom" if line.end_of_month else ""
            if len(self.lines) > 1:
                parts.append(TERMS_TEXTS["part" + eom].format(percent=plain(line.percent),
                                                              days=line.days))
            else:
                parts.append(TERMS_TEXTS["net" + eom].format(days=line.days))
        text = ", ".join(parts)
        if self.discount_percent:
            text += "; " + TERMS_TEXTS["discount"].format(
                percent=plain(self.discount_percent), days=self.discount_days)
        return text


# How payment terms read in English (BT-20); each is also a msgid of the web catalogues.
TERMS_TEXTS = {
    "net": "Net {days} days", "net_eom": "Net {days} days end of month",
    "part": "{percent}% at {days} days", "part_eom": "{percent}% at {days} days end of month",
    "discount": "{percent}% discount if paid within {days} days",
}


def net_days(days: int) -> PaymentTerms:
    return PaymentTerms(code=f"NET{days}", name=f"Net {days} days",
                        lines=(TermLine(HUNDRED, days),))
