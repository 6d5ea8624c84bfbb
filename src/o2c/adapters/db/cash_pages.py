"""Reads of the back-office's cash pages (issue #18): bank statements and the lines waiting for
review (keyset-paginated, so the 10,000th line costs what the first does), a payment's journal
entries, and the approvals inbox with what each request concerns. Set-based: a handful of
queries per page, never one per row."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, func, literal, or_, select, tuple_

from o2c.adapters.db import tables as t
from o2c.adapters.db.queries import amount

Row = dict[str, Any]
LINE_STATUSES = ("proposed", "unmatched", "rejected", "applied")
_bl, _bf, _ba = t.bank_lines, t.bank_files, t.bank_accounts


# -- statements ----------------------------------------------------------------------------


def statement_files(conn: Connection, limit: int, offset: int) -> tuple[list[Row], int]:
    """Imported statement files, newest first, each with its lines counted by status."""
    total = int(conn.execute(select(func.count()).select_from(_bf)).scalar_one())
    rows = [dict(r) for r in conn.execute(
        select(_bf.c.id, _bf.c.filename, _bf.c.format, _bf.c.created_at,
               _bf.c.lines_imported, _bf.c.lines_skipped, _ba.c.iban, _ba.c.name,
               _ba.c.currency)
        .join(_ba, _ba.c.id == _bf.c.bank_account_id)
        .order_by(_bf.c.id.desc()).limit(limit).offset(offset)).mappings()]
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    ids = [r["id"] for r in rows]
    if ids:
        for file_id, status, n in conn.execute(
                select(_bl.c.file_id, _bl.c.status, func.count())
                .where(_bl.c.file_id.in_(ids)).group_by(_bl.c.file_id, _bl.c.status)):
            counts[file_id][status] = int(n)
    for r in rows:
        r["counts"] = {status: counts[r["id"]].get(status, 0) for status in LINE_STATUSES}
    return rows, total


def statement_file(conn: Connection, file_id: int) -> Row | None:
    row = conn.execute(select(_bf.c.id, _bf.c.company_id, _bf.c.filename, _bf.c.format,
                              _bf.c.created_at, _ba.c.iban, _ba.c.currency)
                       .join(_ba, _ba.c.id == _bf.c.bank_account_id)
                       .where(_bf.c.id == file_id)).mappings().first()
    return dict(row) if row else None


def line_counts(conn: Connection, company_id: int | None = None, file_id: int | None = None
                ) -> dict[str, int]:
    """Lines per status (of one file, or all): the filter tabs of the review page."""
    query = select(_bl.c.status, func.count()).group_by(_bl.c.status)
    if company_id is not None:
        query = query.where(_bl.c.company_id == company_id)
    if file_id is not None:
        query = query.where(_bl.c.file_id == file_id)
    found = {status: int(n) for status, n in conn.execute(query).all()}
    return {status: found.get(status, 0) for status in LINE_STATUSES}


# -- lines -------------------------------------------------------------------------------------


def _line_row(r: Any) -> Row:
    row = dict(r)
    row["amount"] = amount(row["amount"], row["currency"])
    row["customer_name"] = row.pop("customer_name", None)
    proposal = row.get("proposal") or {}
    row["allocations"] = [{**a, "amount": Decimal(a["amount"])}
                          for a in proposal.get("allocations") or []]
    row["write_off"] = Decimal(proposal.get("write_off") or 0)
    row["unapplied"] = Decimal(proposal.get("unapplied") or 0)
    return row


_LINE_QUERY = select(*(c for c in _bl.c if c.name not in ("dedup_key",)),
                     t.customers.c.name.label("customer_name")).outerjoin(
    t.customers, t.customers.c.id == _bl.c.customer_id)


Key = tuple[date, int]  # (booking date, line id): where a review page starts


def review_lines(conn: Connection, *, company_id: int | None, status: str | None,
                 file_id: int | None, after: Key | None, limit: int
                 ) -> tuple[list[Row], Key | None]:
    """One page of statement lines in booking order, starting after the key (booking date,
    id) of the previous page's last line; with the key of this page's last line when more
    follow. With the company and a status, the (company, status, booking date) index gives
    the rows in order: no OFFSET to skip over, no sort of every waiting line."""
    query = _LINE_QUERY
    if company_id is not None:
        query = query.where(_bl.c.company_id == company_id)
    if status:
        query = query.where(_bl.c.status == status)
    if file_id is not None:
        query = query.where(_bl.c.file_id == file_id)
    if after is not None:
        query = query.where(tuple_(_bl.c.booking_date, _bl.c.id)
                            > tuple_(literal(after[0], _bl.c.booking_date.type),
                                     literal(after[1], _bl.c.id.type)))
    rows = [_line_row(r) for r in conn.execute(
        query.order_by(_bl.c.booking_date, _bl.c.id).limit(limit + 1)).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, ((rows[-1]["booking_date"], rows[-1]["id"]) if more and rows else None)


def review_line(conn: Connection, line_id: int) -> Row | None:
    row = conn.execute(_LINE_QUERY.where(_bl.c.id == line_id)).mappings().first()
    return _line_row(row) if row else None


# -- payments ----------------------------------------------------------------------------------


def payment_entries(conn: Connection, payment_id: int) -> list[Row]:
    """The journal entries of a payment: its receipt, each allocation, and their reversals."""
    je, jl, al = t.journal_entries, t.journal_lines, t.allocations
    allocation_ids = select(al.c.id).where(al.c.payment_id == payment_id).scalar_subquery()
    entries = [dict(r) for r in conn.execute(
        select(je.c.id, je.c.entry_date, je.c.source_type, je.c.source_id, je.c.memo,
               je.c.reverses_entry_id, t.companies.c.currency)
        .join(t.companies, t.companies.c.id == je.c.company_id)
        .where(or_(and_(je.c.source_type == "payment", je.c.source_id == payment_id),
                   and_(je.c.source_type == "allocation", je.c.source_id.in_(allocation_ids))))
        .order_by(je.c.id)).mappings()]
    lines: dict[int, list[Row]] = defaultdict(list)
    ids = [e["id"] for e in entries]
    if ids:
        for line in conn.execute(select(jl.c.entry_id, jl.c.account, jl.c.debit, jl.c.credit)
                                 .where(jl.c.entry_id.in_(ids))
                                 .order_by(jl.c.entry_id, jl.c.id)).mappings():
            lines[line["entry_id"]].append({"account": line["account"],
                                            "debit": line["debit"], "credit": line["credit"]})
    for e in entries:  # in the company's currency, to its minor units
        e["lines"] = [{**x, "debit": amount(x["debit"], e["currency"]),
                       "credit": amount(x["credit"], e["currency"])} for x in lines[e["id"]]]
    return entries


def open_credit_notes(conn: Connection, customer_id: int) -> list[Row]:
    """Posted credit notes of a customer with credit left to apply."""
    oi = t.open_items
    return [{**dict(r), "residual": amount(r["residual"], r["currency"])}
            for r in conn.execute(
                select(oi.c.invoice_id, oi.c.number, oi.c.currency, oi.c.residual,
                       oi.c.issue_date)
                .where(oi.c.customer_id == customer_id, oi.c.kind == "credit_note",
                       t.OPEN_ITEM)
                .order_by(oi.c.issue_date, oi.c.invoice_id)).mappings()]


# -- approvals ---------------------------------------------------------------------------------


def approval_inbox(conn: Connection, state: str, limit: int, offset: int
                   ) -> tuple[list[Row], int]:
    """Approval requests in a state, oldest first, each with the invoice or customer it
    concerns (number, customer, what is open, the current credit limit)."""
    ar, inv, cu, oi = t.approval_requests, t.invoices, t.customers, t.open_items
    total = int(conn.execute(select(func.count()).select_from(ar).where(ar.c.state == state)
                             ).scalar_one())
    rows = [dict(r) for r in conn.execute(
        select(ar).where(ar.c.state == state).order_by(ar.c.id).limit(limit).offset(offset)
    ).mappings()]
    invoice_ids = [r["object_id"] for r in rows if r["object_type"] == "invoice"]
    customer_ids = [r["object_id"] for r in rows if r["object_type"] == "customer"]
    invoices: dict[int, Row] = {}
    if invoice_ids:
        for r in conn.execute(
                select(inv.c.id, inv.c.number, inv.c.currency, inv.c.gross_amount,
                       inv.c.customer_id, cu.c.name.label("customer_name"),
                       oi.c.residual)
                .join(cu, cu.c.id == inv.c.customer_id)
                .outerjoin(oi, oi.c.invoice_id == inv.c.id)
                .where(inv.c.id.in_(invoice_ids))).mappings():
            invoices[r["id"]] = {**dict(r), "residual": amount(r["residual"], r["currency"]),
                                 "gross_amount": amount(r["gross_amount"], r["currency"])}
    customers: dict[int, Row] = {}
    if customer_ids:
        for c in conn.execute(select(cu.c.id, cu.c.name, cu.c.code, cu.c.currency,
                                     cu.c.credit_limit)
                              .where(cu.c.id.in_(customer_ids))).mappings():
            customers[c["id"]] = {**dict(c),
                                  "credit_limit": amount(c["credit_limit"], c["currency"])}
    for row in rows:
        row["amount"] = amount(row["amount"], row["currency"] or "EUR")
        kind, object_id = row["object_type"], row["object_id"]
        row["invoice"] = invoices.get(object_id) if kind == "invoice" else None
        row["customer"] = customers.get(object_id) if kind == "customer" else None
    return rows, total
