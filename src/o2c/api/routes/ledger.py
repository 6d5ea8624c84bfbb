"""The general ledger: trial balance, journal entries, and the integrity checks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from o2c.adapters.db import queries
from o2c.adapters.db.queries import Filters
from o2c.api.deps import Conn, Paging
from o2c.api.routes import router
from o2c.api.schemas.common import MAX_ID, Day, IdFilter, Page
from o2c.api.schemas.ledger import JournalEntryOut, LedgerVerificationOut, TrialBalanceOut
from o2c.domain.errors import NotFound
from o2c.domain.ledger import verify

ledger = router("ledger")

CompanyId = Annotated[int | None, Query(ge=1, le=MAX_ID, description="the first company when "
                                                                 "omitted")]


def _company_id(conn: Any, company_id: int | None) -> int:
    if company_id is None:
        company_id = queries.default_company_id(conn)
        if company_id is None:
            raise NotFound("company", "(none yet)", field="company_id")
    return company_id


@ledger.get("/ledger/trial-balance", response_model=TrialBalanceOut)
def trial_balance(conn: Conn, company_id: CompanyId = None,
                  as_of: Annotated[Day | None, Query(description="entries up to this date; "
                                                                  "all when omitted")] = None,
                  ) -> dict[str, Any]:
    """Debit and credit per account; `balanced` says whether they are equal."""
    return queries.trial_balance(conn, _company_id(conn, company_id), as_of)


@ledger.get("/ledger/verify", response_model=LedgerVerificationOut)
def verify_ledger(conn: Conn, company_id: CompanyId = None) -> LedgerVerificationOut:
    """Every entry balances, the trial balance is zero, and each sub-ledger (open invoices,
    customer credit) equals its control account."""
    company_id = _company_id(conn, company_id)
    figures = queries.ledger_figures(conn).get(company_id)
    if figures is None:
        raise NotFound("company", company_id, field="company_id")
    checks = verify(figures)
    return LedgerVerificationOut.model_validate({
        "company_id": company_id, "ok": all(check.ok for check in checks),
        "checks": [{"name": x.name, "ok": x.ok, "detail": x.detail} for x in checks]})


@ledger.get("/ledger/entries", response_model=Page[JournalEntryOut])
def journal_entries(
    conn: Conn, page: Paging, company_id: IdFilter = None,
    source_type: Annotated[str | None, Query(
        max_length=40, description="invoice, credit_note, payment, allocation")] = None,
    source_id: IdFilter = None,
    date_from: Day | None = None, date_to: Day | None = None,
) -> dict[str, Any]:
    filters = Filters(company_id=company_id, date_from=date_from, date_to=date_to,
                      extra={"source_type": source_type, "source_id": source_id})
    return queries.list_journal_entries(conn, filters, page).as_dict()
