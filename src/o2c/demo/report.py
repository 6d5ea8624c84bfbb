"""What the simulated year left behind: counts by state, open and overdue receivables, and
whether the ledger verifies."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine

from o2c.adapters.db import queries, reports
from o2c.adapters.db.queries import Filters, PageRequest
from o2c.demo.simulator import all_rows
from o2c.domain.ledger import LedgerCheck, verify
from o2c.domain.orders import OrderState
from o2c.domain.receivables import PaymentStatus
from o2c.domain.shipping import ShipmentState

ONE = PageRequest(limit=1)


@dataclass(frozen=True)
class SeedReport:
    first_day: date
    last_day: date
    seconds: float
    commands: int
    counts: dict[str, int]
    orders_by_state: dict[str, int]
    shipments_by_state: dict[str, int]
    invoices_by_payment_status: dict[str, int]
    open_receivables: dict[str, Decimal]  # per currency
    overdue: dict[str, Decimal]  # per currency: what is owed of the instalments due
    overdue_invoices: int  # the dashboard's count on `last_day` (reports.overdue_invoices)
    receivable_company: Decimal  # the AR control account, in the company currency
    company_currency: str
    ledger_checks: tuple[LedgerCheck, ...]

    @property
    def ledger_ok(self) -> bool:
        return all(check.ok for check in self.ledger_checks)

    def as_dict(self) -> dict[str, Any]:
        return {
            "first_day": self.first_day, "last_day": self.last_day,
            "seconds": round(self.seconds, 2), "commands": self.commands,
            "counts": self.counts, "orders_by_state": self.orders_by_state,
            "shipments_by_state": self.shipments_by_state,
            "invoices_by_payment_status": self.invoices_by_payment_status,
            "open_receivables": self.open_receivables, "overdue": self.overdue,
            "overdue_invoices": self.overdue_invoices,
            "receivable_company": self.receivable_company,
            "company_currency": self.company_currency, "ledger_ok": self.ledger_ok,
            "ledger_checks": [{"name": c.name, "ok": c.ok, "detail": c.detail}
                              for c in self.ledger_checks],
        }


def summarise(engine: Engine, commands: int, first_day: date, last_day: date,
              seconds: float) -> SeedReport:
    with engine.connect() as conn:
        def total(page: queries.Page) -> int:
            return page.total

        invoice = Filters(extra={"kind": "invoice"})
        counts = {
            "customers": total(queries.list_customers(conn, page=ONE)),
            "products": total(queries.list_products(conn, page=ONE)),
            "orders": total(queries.list_orders(conn, page=ONE)),
            "shipments": total(queries.list_shipments(conn, page=ONE)),
            "invoices": total(queries.list_invoices(conn, invoice, ONE, last_day)),
            "credit_notes": total(queries.list_invoices(
                conn, Filters(extra={"kind": "credit_note"}), ONE, last_day)),
            "payments": total(queries.list_payments(conn, page=ONE)),
            "allocations": total(queries.list_allocations(conn, page=ONE)),
        }
        orders = {s.value: total(queries.list_orders(conn, Filters(state=s.value), ONE))
                  for s in OrderState}
        shipments = {s.value: total(queries.list_shipments(conn, Filters(state=s.value), ONE))
                     for s in ShipmentState}
        statuses = {s.value: total(queries.list_invoices(
            conn, Filters(extra={"kind": "invoice", "payment_status": s.value}), ONE, last_day))
            for s in PaymentStatus}
        open_amounts = _residuals(conn, {"kind": "invoice", "open": True}, last_day)
        overdue = _residuals(conn, {"kind": "invoice",
                                    "payment_status": PaymentStatus.OVERDUE.value}, last_day,
                             "overdue_amount")
        figures = queries.ledger_figures(conn)
        company_id = queries.default_company_id(conn)
        currency = queries.company(conn, company_id)["currency"] if company_id else ""
        # The same query as the dashboard's overdue tile, on the same day.
        overdue_invoices = reports.overdue_invoices(conn, company_id, last_day) \
            if company_id else 0
    checks = tuple(check for f in figures.values() for check in verify(f))
    receivable = sum((f.receivable_balance for f in figures.values()), Decimal(0))
    return SeedReport(first_day, last_day, seconds, commands, counts, orders, shipments,
                      statuses, open_amounts, overdue, overdue_invoices,
                      queries.amount(receivable, currency or "EUR") or Decimal(0), currency,
                      checks)


def _residuals(conn: Connection, extra: dict[str, Any], as_of: date,
               key: str = "residual") -> dict[str, Decimal]:
    """Residuals (or another amount) of the invoices matching `extra`, summed per
    currency."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for row in all_rows(lambda page: queries.list_invoices(conn, Filters(extra=extra), page,
                                                            as_of)):
        sums[row["currency"]] += row[key] or Decimal(0)
    return dict(sorted(sums.items()))
