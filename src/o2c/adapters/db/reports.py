"""Receivables reports in SQL: the dashboard's figures in a handful of grouped queries,
whatever the number of invoices."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, case, func, literal, or_, select

from o2c.adapters.db import dues
from o2c.adapters.db import tables as t
from o2c.adapters.db.queries import Row, amount, company
from o2c.adapters.db.repositories import exact_sum
from o2c.domain.aggregate import document_number
from o2c.domain.analytics import (
    AGING_BUCKETS,
    DSO_WINDOW_DAYS,
    days_sales_outstanding,
    month_start,
)
from o2c.domain.credit import CreditPosition
from o2c.domain.orders import OrderState
from o2c.domain.payments import PaymentState
from o2c.domain.receivables import OpenItemKind


def _aging_bucket(as_of: date) -> Any:
    """The bucket code of an instalment by its own due date, as a SQL CASE (first match
    wins, buckets ordered from not-yet-due to oldest)."""
    due = t.open_item_installments.c.due_date
    whens = [(due >= earliest, literal(bucket.code))
             for bucket in AGING_BUCKETS[:-1]
             for earliest, _latest in [bucket.due_dates(as_of)] if earliest is not None]
    return case(*whens, else_=literal(AGING_BUCKETS[-1].code))


def dashboard(conn: Connection, company_id: int, as_of: date) -> Row:
    """Open receivables, overdue amount, aging, orders by state, cash received this month and
    DSO for one company, in its currency, as seen on `as_of`. Aging and overdue count each
    instalment as its own due amount: an invoice whose first instalment is due is overdue
    by that instalment only (`count` is the number of invoices with something in a bucket)."""
    currency = company(conn, company_id)["currency"]
    oi, p, so, inv = t.open_items, t.payments, t.sales_orders, t.invoices
    bucket = _aging_bucket(as_of).label("bucket")
    open_invoices = (oi.c.company_id == company_id, oi.c.kind == OpenItemKind.INVOICE.value,
                     t.OPEN_ITEM)
    aging = {r["bucket"]: r for r in conn.execute(
        select(bucket, dues.owed_sum(company=True).label("amount"),
               func.count(func.distinct(oi.c.id)).label("count"))
        .select_from(dues.ITEM_INSTALLMENTS)
        .where(*open_invoices, dues.owing(company=True))
        .group_by(bucket)).mappings()}
    n_open = conn.execute(select(func.count()).where(*open_invoices)).scalar_one()
    zero = Decimal(0)
    amounts = {b.code: aging[b.code]["amount"] if b.code in aging else zero
               for b in AGING_BUCKETS}
    buckets = [{"bucket": b.code, "amount": amount(amounts[b.code], currency),
                "count": int(aging[b.code]["count"]) if b.code in aging else 0}
               for b in AGING_BUCKETS]
    open_receivables: Decimal = sum(amounts.values(), zero)
    overdue: Decimal = sum((v for k, v in amounts.items() if k != AGING_BUCKETS[0].code), zero)
    orders = {r["state"]: int(r["n"]) for r in conn.execute(
        select(so.c.state, func.count().label("n")).where(so.c.company_id == company_id)
        .group_by(so.c.state)).mappings()}
    cash = conn.execute(
        select(exact_sum(p.c.amount_company)).where(
            p.c.company_id == company_id, p.c.state == PaymentState.RECEIVED.value,
            p.c.received_on >= month_start(as_of), p.c.received_on <= as_of)).scalar_one()
    window_start = as_of - timedelta(days=DSO_WINDOW_DAYS - 1)
    sales = conn.execute(
        select(exact_sum(inv.c.gross_amount_company)).where(
            inv.c.company_id == company_id, inv.c.kind == OpenItemKind.INVOICE.value,
            inv.c.number.is_not(None), inv.c.issue_date >= window_start,
            inv.c.issue_date <= as_of)).scalar_one()
    return {
        "company_id": company_id, "currency": currency, "as_of": as_of,
        "open_receivables": amount(open_receivables, currency),
        "overdue": amount(overdue, currency),
        "open_invoices": int(n_open),
        "overdue_invoices": overdue_invoices(conn, company_id, as_of),
        "aging": buckets,
        "orders_by_state": orders,
        "cash_received_this_month": amount(cash, currency),
        "credit_sales_window": amount(sales, currency),
        "dso_window_days": DSO_WINDOW_DAYS,
        "dso_days": days_sales_outstanding(open_receivables, sales),
    }


def overdue_invoices(conn: Connection, company_id: int, as_of: date) -> int:
    """How many invoices have an instalment due before `as_of` still unpaid (what the
    dashboard's overdue tile lists, and what `make run` prints)."""
    oi = t.open_items
    return int(conn.execute(select(func.count()).where(
        oi.c.company_id == company_id, oi.c.kind == OpenItemKind.INVOICE.value, t.OPEN_ITEM,
        oi.c.due_date < as_of)).scalar_one())


def timeline(conn: Connection, objects: list[tuple[str, int]], limit: int = 200) -> list[Row]:
    """The events of several objects (an order, its shipments and invoices...) in the order
    they happened, in one query."""
    if not objects:
        return []
    e = t.event_log
    wanted: dict[str, list[int]] = {}
    for object_type, object_id in objects:
        wanted.setdefault(object_type, []).append(object_id)
    condition = or_(*(and_(e.c.object_type == kind, e.c.object_id.in_(ids))
                      for kind, ids in wanted.items()))
    rows = [dict(r) for r in conn.execute(
        select(e.c.id, e.c.object_type, e.c.object_id, e.c.event, e.c.occurred_at, e.c.actor)
        .where(condition).order_by(e.c.id).limit(limit)).mappings()]
    # A credit note is an invoice document: its events say "credit note posted".
    credit_notes = set(conn.execute(select(t.invoices.c.id).where(
        t.invoices.c.id.in_(wanted.get("invoice", [])),
        t.invoices.c.kind == OpenItemKind.CREDIT_NOTE.value)).scalars()) \
        if "invoice" in wanted else set()
    for r in rows:
        r["object_kind"] = ("credit_note" if r["object_type"] == "invoice"
                            and r["object_id"] in credit_notes else r["object_type"])
    return rows


def credit_positions(conn: Connection, customer_ids: list[int], as_of: date) -> dict[int, Row]:
    """The credit standing of several customers (limit, exposure, overdue, payment history)
    in a fixed number of grouped queries, for the credit-hold queue."""
    if not customer_ids:
        return {}
    oi, p, so, c = t.open_items, t.payments, t.sales_orders, t.customers

    def grouped(query: Any) -> dict[int, Row]:
        return {r["customer_id"]: dict(r) for r in conn.execute(query).mappings()}

    invoices = grouped(
        select(oi.c.customer_id, exact_sum(oi.c.residual).label("receivable"),
               func.min(oi.c.due_date).label("oldest_due"))
        .where(oi.c.customer_id.in_(customer_ids), oi.c.kind == OpenItemKind.INVOICE.value,
               t.OPEN_ITEM).group_by(oi.c.customer_id))
    overdue = dues.overdue_by_customer(conn, customer_ids, as_of)
    credit_notes = grouped(
        select(oi.c.customer_id, exact_sum(oi.c.residual).label("credit_notes"))
        .where(oi.c.customer_id.in_(customer_ids), oi.c.kind == OpenItemKind.CREDIT_NOTE.value,
               t.OPEN_ITEM).group_by(oi.c.customer_id))
    year_ago = as_of - timedelta(days=365)
    unapplied = grouped(
        select(p.c.customer_id, exact_sum(p.c.unapplied).label("unapplied"))
        .where(p.c.customer_id.in_(customer_ids), t.UNAPPLIED_PAYMENT)
        .group_by(p.c.customer_id))
    payments = grouped(
        select(p.c.customer_id, exact_sum(p.c.amount).label("paid_12m"),
               func.count().label("payments"), func.max(p.c.received_on).label("last_paid"))
        .where(p.c.customer_id.in_(customer_ids), p.c.state == PaymentState.RECEIVED.value,
               p.c.received_on >= year_ago, p.c.received_on <= as_of)
        .group_by(p.c.customer_id))
    uninvoiced = grouped(
        select(so.c.customer_id, exact_sum(so.c.uninvoiced_amount).label("uninvoiced"))
        .where(so.c.customer_id.in_(customer_ids), so.c.state == OrderState.CONFIRMED.value)
        .group_by(so.c.customer_id))
    zero = Decimal(0)
    result = {}
    for r in conn.execute(select(c.c.id, c.c.currency, c.c.credit_limit, c.c.credit_blocked)
                          .where(c.c.id.in_(customer_ids))).mappings():
        cid = r["id"]
        position = CreditPosition(
            currency=r["currency"], credit_limit=r["credit_limit"],
            blocked=r["credit_blocked"],
            open_receivables=invoices.get(cid, {}).get("receivable", zero),
            unapplied_credit=unapplied.get(cid, {}).get("unapplied", zero)
            + credit_notes.get(cid, {}).get("credit_notes", zero),
            uninvoiced_orders=uninvoiced.get(cid, {}).get("uninvoiced", zero),
            oldest_overdue_due_date=invoices.get(cid, {}).get("oldest_due"),
            overdue_amount=overdue.get(cid, zero))
        cur = position.currency
        result[cid] = {
            "currency": cur, "credit_limit": amount(position.credit_limit, cur),
            "exposure": amount(position.exposure, cur),
            "open_receivables": amount(position.open_receivables, cur),
            "overdue": amount(position.overdue_amount, cur),
            "days_overdue": position.days_overdue(as_of) if position.overdue_amount else 0,
            "blocked": position.blocked,
            "payments_12m": int(payments.get(cid, {}).get("payments", 0)),
            "paid_12m": amount(payments.get(cid, {}).get("paid_12m", zero), cur),
            "last_paid": payments.get(cid, {}).get("last_paid"),
        }
    return result


def statement_of_account(conn: Connection, customer_id: int, date_from: date,
                         date_to: date) -> Row:
    """Invoices (debit), credit notes and payments (credit) of one customer in its currency,
    with the balance brought forward and a running balance. Reversed payments count as never
    received."""
    inv, p, c = t.invoices, t.payments, t.customers
    currency = conn.execute(select(c.c.currency).where(c.c.id == customer_id)).scalar_one()
    posted = (inv.c.customer_id == customer_id, inv.c.number.is_not(None))
    received = (p.c.customer_id == customer_id, p.c.state == PaymentState.RECEIVED.value)
    # Separate sums per kind: a SUM over an expression would lose the exact column type.
    before = {r["kind"]: r["total"] for r in conn.execute(
        select(inv.c.kind, exact_sum(inv.c.gross_amount).label("total"))
        .where(*posted, inv.c.issue_date < date_from).group_by(inv.c.kind)).mappings()}
    before_payments = conn.execute(
        select(exact_sum(p.c.amount)).where(*received, p.c.received_on < date_from)).scalar_one()
    zero = Decimal(0)
    opening = (before.get(OpenItemKind.INVOICE.value, zero)
               - before.get(OpenItemKind.CREDIT_NOTE.value, zero) - before_payments)
    documents = conn.execute(
        select(inv.c.id, inv.c.kind, inv.c.number, inv.c.issue_date, inv.c.due_date,
               inv.c.gross_amount)
        .where(*posted, inv.c.issue_date >= date_from, inv.c.issue_date <= date_to)
    ).mappings().all()
    # An invoice payable in instalments is one debit per instalment, each with its own due
    # date (one query for all the invoices of the period).
    oi, ii = t.open_items, t.open_item_installments
    schedules: dict[int, list[Row]] = {}
    invoice_ids = [r["id"] for r in documents if r["kind"] == "invoice"]
    if invoice_ids:
        for r in conn.execute(
                select(oi.c.invoice_id, ii.c.seq, ii.c.due_date, ii.c.amount)
                .select_from(dues.ITEM_INSTALLMENTS)
                .where(oi.c.invoice_id.in_(invoice_ids)).order_by(oi.c.invoice_id, ii.c.seq)
                ).mappings():
            schedules.setdefault(r["invoice_id"], []).append(dict(r))
    lines: list[Row] = []
    for r in documents:
        parts = schedules.get(r["id"], [])
        if r["kind"] == "invoice" and len(parts) > 1:
            lines += [{"date": r["issue_date"], "kind": r["kind"],
                       "number": f"{r['number']} ({p['seq']}/{len(parts)})", "id": r["id"],
                       "due_date": p["due_date"], "debit": p["amount"], "credit": None}
                      for p in parts]
            continue
        lines.append({"date": r["issue_date"], "kind": r["kind"], "number": r["number"],
                      "id": r["id"], "due_date": r["due_date"],
                      "debit": r["gross_amount"] if r["kind"] == "invoice" else None,
                      "credit": r["gross_amount"] if r["kind"] != "invoice" else None})
    lines += [{"date": r["received_on"], "kind": "payment",
               "number": document_number("PAY", r["id"]), "id": r["id"], "due_date": None,
               "debit": None, "credit": r["amount"]}
              for r in conn.execute(select(p.c.id, p.c.received_on, p.c.amount)
                                    .where(*received, p.c.received_on >= date_from,
                                           p.c.received_on <= date_to)).mappings()]
    lines.sort(key=lambda line: (line["date"], line["kind"] == "payment", line["id"]))
    balance = opening
    for line in lines:
        balance += (line["debit"] or 0) - (line["credit"] or 0)
        line["balance"] = amount(balance, currency)
        line["debit"] = amount(line["debit"], currency)
        line["credit"] = amount(line["credit"], currency)
    return {"customer_id": customer_id, "currency": currency, "date_from": date_from,
            "date_to": date_to, "opening_balance": amount(opening, currency),
            "closing_balance": amount(balance, currency), "lines": lines}


def product_ids_by_sku(conn: Connection, skus: set[str]) -> dict[str, int]:
    if not skus:
        return {}
    p = t.products
    return {r.sku: r.id for r in conn.execute(select(p.c.sku, p.c.id).where(p.c.sku.in_(skus)))}
