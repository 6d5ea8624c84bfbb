"""Read models of the back-office's ledger views, dashboard trends and work queue: the aged
receivables report, a customer's sub-ledger, receivables/DSO by month and cash in by week,
and what waits for someone today. Each is a fixed number of grouped queries, whatever the
number of rows (periods are CASE buckets the database groups by, not a query per period)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, case, func, literal, select

from o2c.adapters.db import dues
from o2c.adapters.db import tables as t
from o2c.adapters.db.queries import Row, amount, company
from o2c.adapters.db.reports import _aging_bucket, overdue_invoices
from o2c.adapters.db.repositories import exact_sum
from o2c.domain.access import ApprovalState
from o2c.domain.analytics import AGING_BUCKETS, days_sales_outstanding, month_start
from o2c.domain.ledger import CUSTOMER_CREDIT, RECEIVABLE
from o2c.domain.orders import OrderState
from o2c.domain.payments import PaymentState
from o2c.domain.receivables import OpenItemKind

MAX_LEDGER_LINES = 5000  # lines of one customer ledger page (a period of a busy customer)


# -- aged receivables ------------------------------------------------------------------------


def aged_receivables(conn: Connection, company_id: int, as_of: date) -> Row:
    """Open invoices per customer and aging bucket, in the company's currency (the amounts
    the receivable control account carries), with the totals per bucket."""
    currency = company(conn, company_id)["currency"]
    oi, c = t.open_items, t.customers
    bucket = _aging_bucket(as_of).label("bucket")
    # Each instalment in the bucket of its own due date, for what it still owes (as the
    # dashboard's aging); `n` counts the invoices with something in the bucket.
    grouped = (select(oi.c.customer_id, bucket,
                      dues.owed_sum(company=True).label("amount"),
                      func.count(func.distinct(oi.c.id)).label("n"))
               .select_from(dues.ITEM_INSTALLMENTS)
               .where(oi.c.company_id == company_id, oi.c.kind == OpenItemKind.INVOICE.value,
                      t.OPEN_ITEM, dues.owing(company=True))
               .group_by(oi.c.customer_id, bucket))
    zero = Decimal(0)
    per_customer: dict[int, dict[str, Any]] = {}
    for r in conn.execute(grouped).mappings():
        entry = per_customer.setdefault(r["customer_id"], {b.code: zero for b in AGING_BUCKETS}
                                        | {"invoices": 0})
        entry[r["bucket"]] = r["amount"]
        entry["invoices"] += int(r["n"])
    names = {r["id"]: r for r in conn.execute(
        select(c.c.id, c.c.code, c.c.name).where(c.c.id.in_(list(per_customer)))).mappings()
    } if per_customer else {}
    rows = []
    for customer_id, entry in per_customer.items():
        buckets = {b.code: amount(entry[b.code], currency) for b in AGING_BUCKETS}
        rows.append({"customer_id": customer_id, "code": names[customer_id]["code"],
                     "name": names[customer_id]["name"], "invoices": entry["invoices"],
                     "buckets": buckets,
                     "total": amount(sum((entry[b.code] for b in AGING_BUCKETS), zero),
                                     currency)})
    rows.sort(key=lambda r: (-r["total"], r["code"]))
    totals = {b.code: sum((r["buckets"][b.code] for r in rows), zero) for b in AGING_BUCKETS}
    return {"company_id": company_id, "currency": currency, "as_of": as_of,
            "buckets": [b.code for b in AGING_BUCKETS], "rows": rows, "totals": totals,
            "total": sum(totals.values(), zero)}


# -- a customer's sub-ledger -------------------------------------------------------------------


def customer_ledger(conn: Connection, customer_id: int, date_from: date, date_to: date) -> Row:
    """The journal lines of one customer on the receivable and customer-credit accounts
    (company currency), with the balance brought forward and a running balance."""
    jl, je, c = t.journal_lines, t.journal_entries, t.customers
    found = conn.execute(select(c.c.id, c.c.code, c.c.name, c.c.company_id)
                         .where(c.c.id == customer_id)).mappings().first()
    if found is None:
        from o2c.domain.errors import NotFound

        raise NotFound("customer", customer_id)
    currency = company(conn, found["company_id"])["currency"]
    mine = (jl.c.customer_id == customer_id, jl.c.account.in_((RECEIVABLE, CUSTOMER_CREDIT)))
    before = conn.execute(
        select(exact_sum(jl.c.debit).label("debit"), exact_sum(jl.c.credit).label("credit"))
        .join(je, je.c.id == jl.c.entry_id)
        .where(*mine, je.c.entry_date < date_from)).mappings().one()
    opening = before["debit"] - before["credit"]
    rows = conn.execute(
        select(jl.c.id, jl.c.account, jl.c.debit, jl.c.credit, je.c.id.label("entry_id"),
               je.c.entry_date, je.c.source_type, je.c.source_id, je.c.memo)
        .join(je, je.c.id == jl.c.entry_id)
        .where(*mine, je.c.entry_date >= date_from, je.c.entry_date <= date_to)
        .order_by(je.c.entry_date, je.c.id, jl.c.id).limit(MAX_LEDGER_LINES + 1)).mappings().all()
    truncated = len(rows) > MAX_LEDGER_LINES
    closing = opening
    if truncated:  # the lines not shown still count in the closing balance
        after = conn.execute(
            select(exact_sum(jl.c.debit).label("debit"), exact_sum(jl.c.credit).label("credit"))
            .join(je, je.c.id == jl.c.entry_id)
            .where(*mine, je.c.entry_date <= date_to)).mappings().one()
        closing = after["debit"] - after["credit"]
    balance = opening
    lines = []
    for r in rows[:MAX_LEDGER_LINES]:
        balance += r["debit"] - r["credit"]
        lines.append({"entry_id": r["entry_id"], "date": r["entry_date"],
                      "account": r["account"], "source_type": r["source_type"],
                      "source_id": r["source_id"], "memo": r["memo"],
                      "debit": amount(r["debit"], currency) or None,
                      "credit": amount(r["credit"], currency) or None,
                      "balance": amount(balance, currency)})
    return {"customer_id": customer_id, "code": found["code"], "name": found["name"],
            "currency": currency, "date_from": date_from, "date_to": date_to,
            "opening_balance": amount(opening, currency),
            "closing_balance": amount(closing if truncated else balance, currency),
            "lines": lines,
            "truncated": truncated}


# -- dashboard trends ---------------------------------------------------------------------------


def _period_index(column: Any, starts: list[date]) -> Any:
    """The index of the period (given by ascending start dates) a date falls in, as a CASE
    the database groups by; dates before the first start are -1."""
    whens = [(column >= start, literal(index)) for index, start in reversed(list(
        enumerate(starts)))]
    return case(*whens, else_=literal(-1))


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def trends(conn: Connection, company_id: int, as_of: date, months: int = 12,
           weeks: int = 12) -> Row:
    """Receivables (the control account's balance) and DSO at the end of each of the last
    `months` months (the current one ends `as_of`), and cash received per week (weeks start
    on Monday, the last one holds `as_of`)."""
    currency = company(conn, company_id)["currency"]
    jl, je, inv, p = t.journal_lines, t.journal_entries, t.invoices, t.payments
    first = add_months(month_start(as_of), -(months - 1))
    starts = [add_months(first, i) for i in range(months)]
    ends = [add_months(s, 1) - timedelta(days=1) for s in starts]
    ends[-1] = as_of
    zero = Decimal(0)
    # The receivable account: what stood before the first month, then the movement per month.
    index = _period_index(je.c.entry_date, starts).label("period")
    moves = {r["period"]: r["debit"] - r["credit"] for r in conn.execute(
        select(index, exact_sum(jl.c.debit).label("debit"),
               exact_sum(jl.c.credit).label("credit"))
        .join(je, je.c.id == jl.c.entry_id)
        .where(jl.c.company_id == company_id, jl.c.account == RECEIVABLE,
               je.c.entry_date <= as_of)
        .group_by(index)).mappings()}
    # Credit sales per month, with the two months before the first (DSO looks back 3 months).
    sale_starts = [add_months(first, -2), add_months(first, -1), *starts]
    sale_index = _period_index(inv.c.issue_date, sale_starts).label("period")
    sales = {r["period"]: r["total"] for r in conn.execute(
        select(sale_index, exact_sum(inv.c.gross_amount_company).label("total"))
        .where(inv.c.company_id == company_id, inv.c.kind == OpenItemKind.INVOICE.value,
               inv.c.number.is_not(None), inv.c.issue_date >= sale_starts[0],
               inv.c.issue_date <= as_of)
        .group_by(sale_index)).mappings()}
    balance = moves.get(-1, zero)
    monthly = []
    for i, start in enumerate(starts):
        balance += moves.get(i, zero)
        window = sum((sales.get(j, zero) for j in (i, i + 1, i + 2)), zero)
        window_days = (ends[i] - sale_starts[i]).days + 1
        monthly.append({"month": start, "end": ends[i],
                        "receivables": amount(balance, currency),
                        "sales": amount(sales.get(i + 2, zero), currency),
                        "dso_days": days_sales_outstanding(balance, window, window_days)})
    week_first = as_of - timedelta(days=as_of.weekday()) - timedelta(weeks=weeks - 1)
    week_starts = [week_first + timedelta(weeks=i) for i in range(weeks)]
    week_index = _period_index(p.c.received_on, week_starts).label("period")
    cash = {r["period"]: r["total"] for r in conn.execute(
        select(week_index, exact_sum(p.c.amount_company).label("total"))
        .where(p.c.company_id == company_id, p.c.state == PaymentState.RECEIVED.value,
               p.c.received_on >= week_first, p.c.received_on <= as_of)
        .group_by(week_index)).mappings()}
    weekly = [{"week": start, "cash_in": amount(cash.get(i, zero), currency)}
              for i, start in enumerate(week_starts)]
    return {"company_id": company_id, "currency": currency, "as_of": as_of,
            "months": monthly, "weeks": weekly}


# -- what needs someone today ----------------------------------------------------------------


def work_queue(conn: Connection, company_id: int, as_of: date) -> Row:
    """Counts of what waits for a person: orders on credit hold, overdue invoices (and how
    much), bank lines with a proposal to review, approval requests pending."""
    so, oi, bl, ar = t.sales_orders, t.open_items, t.bank_lines, t.approval_requests
    currency = company(conn, company_id)["currency"]
    holds = conn.execute(select(func.count()).where(
        so.c.company_id == company_id, so.c.state == OrderState.CREDIT_HOLD.value)).scalar_one()
    # The same count as the dashboard's overdue tile; the amount is what the instalments
    # already due still owe, not the whole residual of an invoice paid in instalments.
    overdue = {"n": overdue_invoices(conn, company_id, as_of), "amount": conn.execute(
        select(dues.owed_sum(company=True)).select_from(dues.ITEM_INSTALLMENTS)
        .where(oi.c.company_id == company_id, oi.c.kind == OpenItemKind.INVOICE.value,
               t.OPEN_ITEM, dues.ii.c.due_date < as_of, dues.owing(company=True))).scalar_one()}
    proposals = conn.execute(select(func.count()).where(
        bl.c.company_id == company_id, bl.c.status == "proposed")).scalar_one()
    approvals = conn.execute(select(func.count()).where(
        ar.c.state == ApprovalState.PENDING.value)).scalar_one()
    return {"currency": currency, "credit_holds": int(holds),
            "overdue_invoices": int(overdue["n"]),
            "overdue_amount": amount(overdue["amount"], currency),
            "bank_proposals": int(proposals), "approvals": int(approvals)}
