"""Ledger views of the back-office: journal entries, trial balance, the aged receivables
report and a customer's ledger, each also as a CSV or XLSX download (`?format=csv|xlsx`)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from o2c.adapters.db import queries, views
from o2c.adapters.db.queries import MAX_LIMIT, Filters, PageRequest
from o2c.web.export import Column, download, export_format
from o2c.web.render import formatter, page, read, today
from o2c.web.routes import PageId, paging, query_date, web_router

ledger_pages = web_router()

MAX_EXPORT_ENTRIES = 100_000  # journal entries in one download
AGING_PAGE = 100  # customers on one page of the aged receivables report
_ACCOUNT = re.compile(r"[0-9A-Za-z.\-]{1,16}")


def _company_id(conn: Any) -> int | None:
    return queries.default_company_id(conn)


def _period(request: Request) -> tuple[date | None, date | None]:
    date_from, date_to = query_date(request, "date_from"), query_date(request, "date_to")
    if date_from and date_to and date_from > date_to:
        date_from, date_to = date_to, date_from
    return date_from, date_to


# -- journal entries ---------------------------------------------------------------------------


@ledger_pages.get("/ledger/journal", name="web_journal", response_class=HTMLResponse)
def journal(request: Request) -> Response:
    fmt = formatter(request)
    kind = export_format(request.query_params.get("format"))
    account = request.query_params.get("account", "").strip()
    account = account if _ACCOUNT.fullmatch(account) else ""
    date_from, date_to = _period(request)
    filters = Filters(date_from=date_from, date_to=date_to, extra={"account": account or None})
    with read(request) as conn:
        company_id = _company_id(conn)
        currency = queries.company(conn, company_id)["currency"] if company_id else ""
        accounts = queries.trial_balance(conn, company_id)["accounts"] if company_id else []
        if kind is None:
            result = queries.list_journal_entries(conn, filters, paging(request, 25))
        else:
            entries: list[dict[str, Any]] = []
            offset = 0
            while offset < MAX_EXPORT_ENTRIES:  # one query per 500 entries, not per row
                chunk = queries.list_journal_entries(conn, filters,
                                                     PageRequest(MAX_LIMIT, offset))
                entries += chunk.items
                offset += MAX_LIMIT
                if offset >= chunk.total:
                    break
    if kind is not None:
        rows = [{"entry": e["id"], "date": e["entry_date"], "source": e["source_type"],
                 "source_id": e["source_id"], "memo": e["memo"], "account": line["account"],
                 "debit": line["debit"], "credit": line["credit"]}
                for e in entries for line in e["lines"]]
        columns = [Column("entry", fmt.gettext("Entry")), Column("date", fmt.gettext("Date")),
                   Column("source", fmt.gettext("Source")),
                   Column("source_id", fmt.gettext("Source id")),
                   Column("memo", fmt.gettext("Memo")),
                   Column("account", fmt.gettext("Account")),
                   Column("debit", fmt.gettext("Debit"), money=True),
                   Column("credit", fmt.gettext("Credit"), money=True)]
        return download(kind, "journal", columns, rows, fmt.gettext("Journal entries"))
    names = {a["account"]: a["name"] for a in accounts}
    return page(request, "ledger_journal.html", page=result, currency=currency,
                accounts=accounts, names=names, account=account)


# -- trial balance -----------------------------------------------------------------------------


@ledger_pages.get("/ledger/trial-balance", name="web_trial_balance",
                  response_class=HTMLResponse)
def trial_balance(request: Request) -> Response:
    fmt = formatter(request)
    kind = export_format(request.query_params.get("format"))
    as_of = query_date(request, "as_of")
    with read(request) as conn:
        company_id = _company_id(conn)
        if company_id is None:
            return page(request, "empty.html")
        balance = queries.trial_balance(conn, company_id, as_of)
    if kind is not None:
        rows = [*balance["accounts"], {"account": "", "name": fmt.gettext("Totals"),
                                       "type": "", "debit": balance["total_debit"],
                                       "credit": balance["total_credit"],
                                       "balance": balance["total_debit"]
                                       - balance["total_credit"]}]
        columns = [Column("account", fmt.gettext("Account")), Column("name", fmt.gettext("Name")),
                   Column("type", fmt.gettext("Type")),
                   Column("debit", fmt.gettext("Debit"), money=True),
                   Column("credit", fmt.gettext("Credit"), money=True),
                   Column("balance", fmt.gettext("Balance"), money=True)]
        suffix = f"-{as_of.isoformat()}" if as_of else ""
        return download(kind, f"trial-balance{suffix}", columns, rows,
                        fmt.gettext("Trial balance"))
    return page(request, "ledger_trial_balance.html", tb=balance)


# -- aged receivables --------------------------------------------------------------------------

@ledger_pages.get("/reports/aging", name="web_aged_receivables", response_class=HTMLResponse)
def aged_receivables(request: Request) -> Response:
    fmt = formatter(request)
    kind = export_format(request.query_params.get("format"))
    as_of = query_date(request, "as_of") or today(request)
    with read(request) as conn:
        company_id = _company_id(conn)
        if company_id is None:
            return page(request, "empty.html")
        report = views.aged_receivables(conn, company_id, as_of)
    if kind is not None:
        rows = [{"code": r["code"], "name": r["name"], "invoices": r["invoices"],
                 **r["buckets"], "total": r["total"]} for r in report["rows"]]
        rows.append({"code": "", "name": fmt.gettext("Totals"),
                     "invoices": sum(r["invoices"] for r in report["rows"]),
                     **report["totals"], "total": report["total"]})
        columns = [Column("code", fmt.gettext("Code")), Column("name", fmt.gettext("Name")),
                   Column("invoices", fmt.gettext("Invoices")),
                   *(Column(b, fmt.gettext(f"aging_{b}"), money=True)
                     for b in report["buckets"]),
                   Column("total", fmt.gettext("Total"), money=True)]
        return download(kind, f"aged-receivables-{as_of.isoformat()}", columns, rows,
                        fmt.gettext("Aged receivables"))
    # The page shows the largest balances 100 at a time; the totals and the download cover
    # every customer.
    window = paging(request, AGING_PAGE)
    shown = report["rows"][window.offset:window.offset + window.limit]
    return page(request, "aged_receivables.html", report=report, rows=shown,
                page=queries.Page(shown, len(report["rows"]), window.limit, window.offset))


# -- customer ledger -----------------------------------------------------------------------------


@ledger_pages.get("/customers/{customer_id}/ledger", name="web_customer_ledger",
                  response_class=HTMLResponse)
def customer_ledger(request: Request, customer_id: PageId) -> Response:
    fmt = formatter(request)
    kind = export_format(request.query_params.get("format"))
    date_from, date_to = _period(request)
    date_to = date_to or today(request)
    date_from = date_from or (date_to - timedelta(days=365))
    with read(request) as conn:
        ledger = views.customer_ledger(conn, customer_id, date_from, date_to)
    if kind is not None:
        rows = [{"date": date_from, "memo": fmt.gettext("Balance brought forward"),
                 "balance": ledger["opening_balance"]}, *ledger["lines"]]
        columns = [Column("date", fmt.gettext("Date")),
                   Column("entry_id", fmt.gettext("Entry")),
                   Column("account", fmt.gettext("Account")),
                   Column("source_type", fmt.gettext("Source")),
                   Column("memo", fmt.gettext("Memo")),
                   Column("debit", fmt.gettext("Debit"), money=True),
                   Column("credit", fmt.gettext("Credit"), money=True),
                   Column("balance", fmt.gettext("Balance"), money=True)]
        return download(kind, f"ledger-{ledger['code']}", columns, rows,
                        fmt.gettext("Customer ledger"))
    return page(request, "customer_ledger.html", ledger=ledger)
