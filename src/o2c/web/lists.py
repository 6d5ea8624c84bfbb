"""Sorting, totals and CSV/XLSX downloads of the back-office lists (orders, invoices,
payments, customers). Sort keys are the whitelisted ones of `queries.SORT_KEYS`; totals and
pages come from the same set-based queries as the API's lists."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from o2c.adapters.db.queries import MAX_LIMIT, SORT_KEYS, Page, PageRequest
from o2c.web.export import Column, download
from o2c.web.render import formatter
from o2c.web.routes import paging

MAX_EXPORT_ROWS = 50_000  # rows of one list download


def list_paging(request: Request, kind: str) -> PageRequest:
    """The page the request asks for, sorted by `?sort=` when it names a sort key of the list
    (an unknown key falls back to the list's order), with totals."""
    base = paging(request)
    sort = request.query_params.get("sort") or None
    if sort is not None and sort.removeprefix("-") not in SORT_KEYS[kind]:
        sort = None
    return PageRequest(base.limit, base.offset, sort=sort, totals=True)


def _columns(kind: str, gettext: Callable[[str], str]) -> list[Column]:
    specs: dict[str, list[tuple[str, str, bool]]] = {
        "orders": [("number", "Order", False), ("order_date", "Date", False),
                   ("customer_code", "Code", False), ("customer_name", "Customer", False),
                   ("customer_reference", "Reference", False), ("state", "State", False),
                   ("shipping_status", "Shipping", False),
                   ("invoicing_status", "Invoicing", False), ("currency", "Currency", False),
                   ("net_amount", "Net", True), ("tax_amount", "VAT", True),
                   ("gross_amount", "Total", True)],
        "invoices": [("number", "Number", False), ("kind", "Kind", False),
                     ("issue_date", "Date", False), ("customer_code", "Code", False),
                     ("customer_name", "Customer", False), ("due_date", "Due", False),
                     ("payment_status", "Status", False),
                     ("days_overdue", "Days overdue", False), ("currency", "Currency", False),
                     ("net_amount", "Net", True), ("tax_amount", "VAT", True),
                     ("gross_amount", "Total", True), ("residual", "Open", True)],
        "payments": [("number", "Payment", False), ("received_on", "Received", False),
                     ("customer_name", "Customer", False), ("method", "Method", False),
                     ("reference", "Reference", False), ("state", "State", False),
                     ("currency", "Currency", False), ("amount", "Amount", True),
                     ("unapplied", "Unapplied", True)],
        "customers": [("code", "Code", False), ("name", "Name", False),
                      ("country", "Country", False), ("vat_id", "VAT id", False),
                      ("email", "E-mail", False), ("payment_terms_code", "Payment terms", False),
                      ("currency", "Currency", False),
                      ("credit_limit", "Credit limit", True),
                      ("credit_blocked", "Credit blocked", False)],
    }
    return [Column(key, gettext(title), money) for key, title, money in specs[kind]]


def export_list(request: Request, kind: str, file_format: str,
                fetch: Callable[[PageRequest], Page]) -> Response:
    """Every row the list's filters match (in its sort order), fetched 500 at a time, as a
    file to save."""
    fmt = formatter(request)
    sort = list_paging(request, kind).sort
    rows: list[dict[str, Any]] = []
    offset = 0
    while offset < MAX_EXPORT_ROWS:
        chunk = fetch(PageRequest(MAX_LIMIT, offset, sort=sort))
        rows += chunk.items
        offset += MAX_LIMIT
        if offset >= chunk.total:
            break
    titles = {"orders": "Orders", "invoices": "Invoices", "payments": "Payments",
              "customers": "Customers"}
    return download(file_format, kind, _columns(kind, fmt.gettext), rows[:MAX_EXPORT_ROWS],
                    fmt.gettext(titles[kind]))
