"""Helpers shared by service, integration and scenario tests: read what the database holds,
check the books, and move shipments along. Everything reads the real, migrated database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, func, select

from o2c.adapters.db import queries
from o2c.adapters.db import tables as t
from o2c.domain import commands as c
from o2c.domain.ledger import CUSTOMER_CREDIT, RECEIVABLE, LedgerCheck, verify
from o2c.services.bus import MessageBus

D = Decimal


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per table: a rejected command must leave every one of them as it was."""
    with engine.connect() as conn:
        return {table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for table in t.metadata.sorted_tables}


def events(engine: Engine, object_type: str | None = None, object_id: int | None = None
           ) -> list[tuple[str, int, str, str]]:
    """(object type, object id, event, actor) in the order they were appended."""
    e = t.event_log
    query = select(e.c.object_type, e.c.object_id, e.c.event, e.c.actor).order_by(e.c.id)
    if object_type is not None:
        query = query.where(e.c.object_type == object_type)
    if object_id is not None:
        query = query.where(e.c.object_id == object_id)
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(query)]


def event_names(engine: Engine, object_type: str, object_id: int) -> list[str]:
    return [name for _, _, name, _ in events(engine, object_type, object_id)]


def event_data(engine: Engine, object_type: str, object_id: int, name: str
               ) -> list[dict[str, Any]]:
    e = t.event_log
    with engine.connect() as conn:
        return list(conn.execute(select(e.c.data).where(
            e.c.object_type == object_type, e.c.object_id == object_id, e.c.event == name)
            .order_by(e.c.id)).scalars())


def ledger_checks(engine: Engine) -> list[LedgerCheck]:
    with engine.connect() as conn:
        return [check for figures in queries.ledger_figures(conn).values()
                for check in verify(figures)]


def assert_ledger_ok(engine: Engine) -> None:
    """`o2c ledger verify` passes, and the sub-ledgers also agree customer by customer, in the
    company currency and in each document currency."""
    failing = [f"{c.name}: {c.detail}" for c in ledger_checks(engine) if not c.ok]
    assert failing == []
    assert _by_customer_ledger(engine) == _by_customer_documents(engine)


def _by_customer_ledger(engine: Engine) -> dict[tuple[str, int, str], tuple[Decimal, Decimal]]:
    """(account, customer, currency) -> (company-currency balance, document-currency balance);
    debit positive on the receivable account, credit positive on customer credit."""
    jl = t.journal_lines
    query = (select(jl.c.account, jl.c.customer_id, jl.c.currency,
                    func.sum(jl.c.debit - jl.c.credit), func.sum(jl.c.amount_currency))
             .where(jl.c.account.in_([RECEIVABLE, CUSTOMER_CREDIT]))
             .group_by(jl.c.account, jl.c.customer_id, jl.c.currency))
    result = {}
    with engine.connect() as conn:
        for account, customer, currency, company, document in conn.execute(query):
            sign = 1 if account == RECEIVABLE else -1
            balance = (D(company) * sign, D(document) * sign)
            if balance != (D(0), D(0)):
                result[(account, customer, currency)] = balance
    return result


def _by_customer_documents(engine: Engine
                           ) -> dict[tuple[str, int, str], tuple[Decimal, Decimal]]:
    oi, p = t.open_items, t.payments
    totals: dict[tuple[str, int, str], tuple[Decimal, Decimal]] = {}

    def add(key: tuple[str, int, str], company: Decimal, document: Decimal) -> None:
        before = totals.get(key, (D(0), D(0)))
        totals[key] = (before[0] + company, before[1] + document)

    with engine.connect() as conn:
        for kind, customer, currency, company, document in conn.execute(
                select(oi.c.kind, oi.c.customer_id, oi.c.currency, oi.c.residual_company,
                       oi.c.residual)):
            account = RECEIVABLE if kind == "invoice" else CUSTOMER_CREDIT
            add((account, customer, currency), company, document)
        for customer, currency, company, document in conn.execute(
                select(p.c.customer_id, p.c.currency, p.c.unapplied_company, p.c.unapplied)):
            add((CUSTOMER_CREDIT, customer, currency), company, document)
    return {k: v for k, v in totals.items() if v != (D(0), D(0))}


def row(engine: Engine, table: Any, id_: int) -> dict[str, Any]:
    with engine.connect() as conn:
        return dict(conn.execute(select(table).where(table.c.id == id_)).mappings().one())


def rows(engine: Engine, table: Any, *where: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(table).where(*where)
                                              .order_by(*table.primary_key)).mappings()]


def stock(engine: Engine, product_id: int) -> tuple[Decimal, Decimal]:
    """(on hand, reserved) of a product in the world's warehouse."""
    [level] = rows(engine, t.stock_levels, t.stock_levels.c.product_id == product_id)
    return level["on_hand"], level["reserved"]


def order_lines(engine: Engine, order_id: int) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(
            select(t.order_lines).where(t.order_lines.c.order_id == order_id)
            .order_by(t.order_lines.c.line_no)).mappings()]


def open_item(engine: Engine, invoice_id: int) -> dict[str, Any]:
    [item] = rows(engine, t.open_items, t.open_items.c.invoice_id == invoice_id)
    return item


def invoices_of_order(engine: Engine, order_id: int) -> list[dict[str, Any]]:
    return rows(engine, t.invoices, t.invoices.c.order_id == order_id,
                t.invoices.c.kind == "invoice")


def entries(engine: Engine, source_type: str, source_id: int) -> list[dict[str, Any]]:
    """Journal entries of a source with their lines as {account: (debit, credit)}."""
    je, jl = t.journal_entries, t.journal_lines
    result = []
    with engine.connect() as conn:
        for head in conn.execute(select(je).where(je.c.source_type == source_type,
                                                  je.c.source_id == source_id)
                                 .order_by(je.c.id)).mappings():
            lines: dict[str, tuple[Decimal, Decimal]] = {}
            for line in conn.execute(select(jl).where(jl.c.entry_id == head["id"])).mappings():
                debit, credit = lines.get(line["account"], (D(0), D(0)))
                lines[line["account"]] = (debit + line["debit"], credit + line["credit"])
            result.append({**head, "lines": lines})
    return result


def ship(bus: MessageBus, shipment_id: int, on: date | None = None,
         quantities: dict[int, Decimal] | None = None, actor: str = "warehouse") -> None:
    """Pick, pack and ship a shipment (everything on it, or `quantities` per order line)."""
    bus.handle(c.PickShipment(shipment_id, on=on), actor=actor)
    bus.handle(c.PackShipment(shipment_id, on=on), actor=actor)
    bus.handle(c.ShipShipment(shipment_id, on=on, carrier="BRT", tracking_number="T1",
                              quantities=quantities), actor=actor)


def shipments_of(engine: Engine, order_id: int) -> list[dict[str, Any]]:
    return rows(engine, t.shipments, t.shipments.c.order_id == order_id)


def shipment_lines(engine: Engine, shipment_id: int) -> list[dict[str, Any]]:
    return rows(engine, t.shipment_lines, t.shipment_lines.c.shipment_id == shipment_id)


def outbox(engine: Engine) -> list[dict[str, Any]]:
    return rows(engine, t.outbox)


def trial_balance(engine: Engine, company_id: int) -> dict[str, tuple[Decimal, Decimal]]:
    """account -> (debit, credit) totals."""
    with engine.connect() as conn:
        report = queries.trial_balance(conn, company_id)
    assert report["balanced"]
    return {a["account"]: (a["debit"], a["credit"]) for a in report["accounts"]}
