"""Receivables reports."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from o2c.api.schemas.common import Dec, Model


class AgingBucketOut(Model):
    bucket: str = Field(description="not_due, 1_30, 31_60, 61_90, over_90 (days past due)")
    amount: Dec
    count: int


class DashboardOut(Model):
    company_id: int
    currency: str = Field(description="the company's currency; every amount is in it")
    as_of: dt.date
    open_receivables: Dec = Field(description="residual of open invoices (= account 1200)")
    overdue: Dec = Field(description="what is still owed of the instalments due before "
                                     "`as_of` (each instalment is its own due amount)")
    open_invoices: int
    overdue_invoices: int = Field(0, description="invoices with an instalment due before "
                                                 "`as_of` still unpaid")
    aging: list[AgingBucketOut] = Field(description="by each instalment's own due date; "
                                                    "`count` is the invoices with something "
                                                    "in the bucket")
    orders_by_state: dict[str, int]
    cash_received_this_month: Dec
    credit_sales_window: Dec = Field(description="invoiced (gross) in the DSO window")
    dso_window_days: int
    dso_days: Dec | None = Field(description="days sales outstanding; null without sales")
