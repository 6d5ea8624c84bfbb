"""Reports: the receivables dashboard."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from o2c.adapters.db import reports as report_queries
from o2c.api.deps import Conn, Today
from o2c.api.routes import router
from o2c.api.routes.ledger import CompanyId, _company_id
from o2c.api.schemas.common import Day
from o2c.api.schemas.reports import DashboardOut

reports = router("reports")


@reports.get("/reports/dashboard", response_model=DashboardOut)
def dashboard(conn: Conn, today: Today, company_id: CompanyId = None,
              as_of: Annotated[Day | None, Query(description="today when omitted")] = None,
              ) -> dict[str, Any]:
    """Open receivables, overdue amount, aging buckets, orders by state, cash received this
    month and DSO, in the company's currency."""
    return report_queries.dashboard(conn, _company_id(conn, company_id), as_of or today)
