"""Receivables figures a finance team steers by: aging buckets and days sales outstanding.

Pure definitions; the sums come from the database (adapters/db/reports.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal


@dataclass(frozen=True)
class AgingBucket:
    """Open invoices whose due date lies `first`..`last` days before the reference date
    (`first` None: not yet due; `last` None: open-ended)."""

    code: str
    first: int | None
    last: int | None

    def due_dates(self, as_of: date) -> tuple[date | None, date | None]:
        """The due-date range of the bucket, inclusive: (earliest, latest)."""
        if self.first is None:
            return as_of, None
        latest = as_of - timedelta(days=self.first)
        earliest = None if self.last is None else as_of - timedelta(days=self.last)
        return earliest, latest


AGING_BUCKETS: tuple[AgingBucket, ...] = (
    AgingBucket("not_due", None, None),
    AgingBucket("1_30", 1, 30),
    AgingBucket("31_60", 31, 60),
    AgingBucket("61_90", 61, 90),
    AgingBucket("over_90", 91, None),
)

DSO_WINDOW_DAYS = 90


def days_sales_outstanding(receivables: Decimal, credit_sales: Decimal,
                           window_days: int = DSO_WINDOW_DAYS) -> Decimal | None:
    """DSO by the standard formula: receivables / credit sales of the window
    x days in the window, in days with one decimal. None when nothing was sold (DSO is then
    undefined, not zero)."""
    if credit_sales <= 0:
        return None
    return (receivables / credit_sales * window_days).quantize(Decimal("0.1"))


def month_start(as_of: date) -> date:
    return as_of.replace(day=1)
