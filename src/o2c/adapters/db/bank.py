"""SQL for bank statements and cash application: set-based reads of match candidates and bulk
writes of what a batch applies (payments, allocations, journal entries, event log)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    Connection,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)

from o2c.adapters.db import tables as t
from o2c.adapters.db.fastpath import Statement
from o2c.domain.events import Event
from o2c.domain.ledger import JournalEntry
from o2c.domain.payments import Allocation, Payment
from o2c.domain.receivables import OpenItemKind
from o2c.domain.reconciliation import ItemView, LineView

CHUNK = 900  # keeps IN lists well under every driver's parameter limit
_bl, _oi, _inv, _cu = t.bank_lines, t.open_items, t.invoices, t.customers

T = TypeVar("T")


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _ids(name: str) -> Any:
    return bindparam(name, expanding=True)


_ITEM_COLUMNS = (_oi.c.invoice_id, _oi.c.number, _oi.c.customer_id, _oi.c.currency,
                 _oi.c.residual, _oi.c.due_date, _oi.c.issue_date,
                 _inv.c.remittance_reference)
_OPEN = (_oi.c.kind == OpenItemKind.INVOICE.value, t.OPEN_ITEM)
_BY_REFERENCE = Statement(select(*_ITEM_COLUMNS).select_from(
    _inv.join(_oi, _oi.c.invoice_id == _inv.c.id))
    .where(_inv.c.remittance_reference.in_(_ids("refs")), *_OPEN))
_BY_NUMBER = Statement(select(*_ITEM_COLUMNS).select_from(
    _inv.join(_oi, _oi.c.invoice_id == _inv.c.id))
    .where(_inv.c.company_id == bindparam("company_id"), _inv.c.number.in_(_ids("numbers")),
           *_OPEN))
_OF_CUSTOMERS = Statement(select(*_ITEM_COLUMNS).select_from(
    _inv.join(_oi, _oi.c.invoice_id == _inv.c.id))
    .where(_oi.c.customer_id.in_(_ids("customers")), *_OPEN))
_pa = t.bank_payer_accounts
_PAYERS = Statement(select(_pa.c.iban, _pa.c.customer_id).where(
    _pa.c.company_id == bindparam("company_id"), _pa.c.iban.in_(_ids("ibans"))))
_CUSTOMERS = Statement(select(_cu.c.id, _cu.c.code, _cu.c.name).where(
    _cu.c.company_id == bindparam("company_id")))
_cg = t.customer_groups
_PARENTS = Statement(select(_cg.c.customer_id, _cg.c.parent_id).where(
    _cg.c.company_id == bindparam("company_id")))
_LINE_COLUMNS = (_bl.c.id, _bl.c.amount, _bl.c.currency, _bl.c.booking_date, _bl.c.remittance,
                 _bl.c.structured_reference, _bl.c.end_to_end_id, _bl.c.counterparty_iban,
                 _bl.c.counterparty_name, _bl.c.transaction_code, _bl.c.ultimate_debtor,
                 _bl.c.bank_reference, _bl.c.instructed_amount, _bl.c.instructed_currency)
_TO_MATCH = Statement(select(*_LINE_COLUMNS).where(
    _bl.c.company_id == bindparam("company_id"), _bl.c.status.in_(["unmatched", "proposed"]),
    _bl.c.booking_date <= bindparam("as_of")).order_by(_bl.c.booking_date, _bl.c.id))
_SAVE_PROPOSAL = Statement(update(_bl).where(_bl.c.id == bindparam("p_id")).values(
    status=bindparam("p_status"), kind=bindparam("p_kind"),
    score=bindparam("p_score", type_=_bl.c.score.type),
    reasons=bindparam("p_reasons", type_=_bl.c.reasons.type),
    proposal=bindparam("p_proposal", type_=_bl.c.proposal.type),
    customer_id=bindparam("p_customer_id")))
_CUSTOMER_FACTS = Statement(select(_cu.c.id, _cu.c.company_id, _cu.c.currency).where(
    _cu.c.id.in_(_ids("ids"))))
_KEYS = Statement(select(_bl.c.dedup_key).where(_bl.c.dedup_key.in_(_ids("keys"))))
_INSERT_LINE = Statement(insert(_bl))
_INSERT_PAYMENT = Statement(insert(t.payments))
_INSERT_ALLOCATION = Statement(insert(t.allocations))
_INSERT_ENTRY = Statement(insert(t.journal_entries))
_INSERT_JLINE = Statement(insert(t.journal_lines))
_INSERT_EVENT = Statement(insert(t.event_log))
_LINES_BY_IDS = Statement(select(*(c for c in _bl.c if c.name != "reasons"))
                          .where(_bl.c.id.in_(_ids("ids"))).order_by(_bl.c.id))
_MARK_APPLIED = Statement(update(_bl).where(_bl.c.id == bindparam("p_id"),
                                            _bl.c.status == bindparam("p_expected")).values(
    status="applied", payment_id=bindparam("p_payment_id"), entry_id=bindparam("p_entry_id"),
    applied_on=bindparam("p_applied_on", type_=_bl.c.applied_on.type),
    version=_bl.c.version + 1))


class BankStore:
    def __init__(self, conn: Connection, now: datetime | None = None) -> None:
        self.conn = conn
        self.now = now
        self.postgres = conn.dialect.name == "postgresql"

    # -- accounts and files ------------------------------------------------------------------

    def account(self, iban: str) -> dict[str, Any] | None:
        row = self.conn.execute(select(t.bank_accounts).where(
            t.bank_accounts.c.iban == iban)).mappings().first()
        return dict(row) if row else None

    def company_with_iban(self, iban: str) -> dict[str, Any] | None:
        row = self.conn.execute(select(t.companies.c.id, t.companies.c.currency).where(
            func.replace(t.companies.c.iban, " ", "") == iban)).mappings().first()
        return dict(row) if row else None

    def add_account(self, company_id: int, iban: str, currency: str, name: str) -> int:
        return int(self.conn.execute(insert(t.bank_accounts).values(
            company_id=company_id, iban=iban, currency=currency, name=name,
            created_at=self.now).returning(t.bank_accounts.c.id)).scalar_one())

    def accounts(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.conn.execute(
            select(t.bank_accounts).order_by(t.bank_accounts.c.id)).mappings()]

    def file_with_hash(self, account_id: int, sha256: str) -> int | None:
        return self.conn.execute(select(t.bank_files.c.id).where(
            t.bank_files.c.sha256 == sha256, t.bank_files.c.bank_account_id == account_id)
        ).scalar()

    def add_file(self, **values: Any) -> int:
        return int(self.conn.execute(insert(t.bank_files).values(
            created_at=self.now, **values).returning(t.bank_files.c.id)).scalar_one())

    def add_statement(self, **values: Any) -> int:
        return int(self.conn.execute(insert(t.bank_statements).values(**values)
                                     .returning(t.bank_statements.c.id)).scalar_one())

    def existing_keys(self, keys: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for part in chunks(list(keys)):
            found.update(_KEYS.scalars(self.conn, {"keys": list(part)}))
        return found

    def add_lines(self, rows: list[dict[str, Any]]) -> None:
        self._bulk_insert(_bl, _INSERT_LINE, rows)

    def file_content(self, file_id: int) -> dict[str, Any] | None:
        row = self.conn.execute(select(t.bank_files).where(t.bank_files.c.id == file_id)
                                ).mappings().first()
        return dict(row) if row else None

    # -- matching ----------------------------------------------------------------------------

    def companies_with_open_lines(self, as_of: date) -> list[int]:
        return list(self.conn.execute(select(_bl.c.company_id).where(
            _bl.c.status.in_(["unmatched", "proposed"]), _bl.c.booking_date <= as_of)
            .group_by(_bl.c.company_id).order_by(_bl.c.company_id)).scalars())

    def lines_to_match(self, company_id: int, as_of: date) -> list[LineView]:
        return [LineView(id=r["id"], amount=r["amount"], currency=r["currency"],
                         booking_date=r["booking_date"], remittance=r["remittance"],
                         structured_reference=r["structured_reference"],
                         end_to_end_id=r["end_to_end_id"],
                         counterparty_iban=r["counterparty_iban"],
                         counterparty_name=r["counterparty_name"],
                         transaction_code=r["transaction_code"],
                         ultimate_debtor=r["ultimate_debtor"],
                         bank_reference=r["bank_reference"],
                         instructed_amount=r["instructed_amount"],
                         instructed_currency=r["instructed_currency"])
                for r in _TO_MATCH.all(self.conn, {"company_id": company_id, "as_of": as_of})]

    @staticmethod
    def _item(r: dict[str, Any]) -> ItemView:
        return ItemView(invoice_id=r["invoice_id"], number=r["number"],
                        customer_id=r["customer_id"], currency=r["currency"],
                        residual=r["residual"], due_date=r["due_date"],
                        issue_date=r["issue_date"],
                        remittance_reference=r["remittance_reference"])

    def items_by_reference(self, refs: Iterable[str]) -> dict[str, ItemView]:
        found: dict[str, ItemView] = {}
        for part in chunks(sorted(set(refs))):
            for r in _BY_REFERENCE.all(self.conn, {"refs": list(part)}):
                found[r["remittance_reference"]] = self._item(r)
        return found

    def items_by_number(self, company_id: int, numbers: Iterable[str]) -> dict[str, ItemView]:
        found: dict[str, ItemView] = {}
        for part in chunks(sorted(set(numbers))):
            for r in _BY_NUMBER.all(self.conn, {"company_id": company_id,
                                                "numbers": list(part)}):
                found[r["number"]] = self._item(r)
        return found

    def open_items_of(self, customer_ids: Iterable[int]) -> dict[int, list[ItemView]]:
        found: dict[int, list[ItemView]] = {}
        for part in chunks(sorted(set(customer_ids))):
            for r in _OF_CUSTOMERS.all(self.conn, {"customers": list(part)}):
                found.setdefault(r["customer_id"], []).append(self._item(r))
        return found

    def payers(self, company_id: int, ibans: Iterable[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for part in chunks(sorted(set(ibans))):
            for r in _PAYERS.all(self.conn, {"company_id": company_id, "ibans": list(part)}):
                found[r["iban"]] = r["customer_id"]
        return found

    def open_invoices(self, company_id: int, currency: str) -> list[ItemView]:
        """Every open invoice of a company in one currency (the demo's statement simulator)."""
        rows = self.conn.execute(select(*_ITEM_COLUMNS).select_from(
            _inv.join(_oi, _oi.c.invoice_id == _inv.c.id)).where(
            _oi.c.company_id == company_id, _oi.c.currency == currency, *_OPEN)
            .order_by(_oi.c.due_date, _oi.c.invoice_id)).mappings()
        return [self._item(dict(r)) for r in rows]

    def customers(self, company_id: int) -> list[dict[str, Any]]:
        return _CUSTOMERS.all(self.conn, {"company_id": company_id})

    def customer_names(self, ids: Iterable[int]) -> dict[int, str]:
        found: dict[int, str] = {}
        for part in chunks(sorted(set(ids))):
            for r in self.conn.execute(select(_cu.c.id, _cu.c.name).where(
                    _cu.c.id.in_(list(part)))).mappings():
                found[r["id"]] = r["name"]
        return found

    def parents(self, company_id: int) -> dict[int, int]:
        """Customer groups of a company: subsidiary -> parent."""
        return {r["customer_id"]: r["parent_id"]
                for r in _PARENTS.all(self.conn, {"company_id": company_id})}

    def set_parent(self, company_id: int, customer_id: int, parent_id: int | None) -> None:
        self.conn.execute(delete(_cg).where(_cg.c.customer_id == customer_id))
        if parent_id is not None:
            self.conn.execute(insert(_cg).values(customer_id=customer_id, company_id=company_id,
                                                 parent_id=parent_id))

    def payer_accounts(self, company_id: int, customer_id: int | None = None
                       ) -> list[dict[str, Any]]:
        query = (select(_pa.c.iban, _pa.c.customer_id, _pa.c.source, _cu.c.code)
                 .join(_cu, _cu.c.id == _pa.c.customer_id)
                 .where(_pa.c.company_id == company_id).order_by(_cu.c.code, _pa.c.iban))
        if customer_id is not None:
            query = query.where(_pa.c.customer_id == customer_id)
        return [dict(r) for r in self.conn.execute(query).mappings()]

    def payers_from_history(self, company_id: int) -> dict[str, int]:
        """IBANs that paid for exactly one customer in the company's received payments (not
        reversed): IBAN -> customer."""
        p = t.payments
        iban = func.upper(func.replace(p.c.payer_iban, " ", ""))
        rows = self.conn.execute(
            select(iban.label("iban"), func.min(p.c.customer_id).label("customer_id"))
            .where(p.c.company_id == company_id, p.c.payer_iban != "",
                   p.c.state != "reversed")
            .group_by(iban).having(func.count(func.distinct(p.c.customer_id)) == 1)
            .order_by(iban)).mappings()
        return {r["iban"]: int(r["customer_id"]) for r in rows}

    def save_proposals(self, rows: list[dict[str, Any]]) -> None:
        for part in chunks(rows, 5000):
            _SAVE_PROPOSAL.run_many(self.conn, part)

    def lines(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = []
        for part in chunks(sorted(set(ids))):
            result.extend(_LINES_BY_IDS.all(self.conn, {"ids": list(part)}))
        return result

    def customer_facts(self, ids: Sequence[int]) -> dict[int, tuple[int, str]]:
        """customer id -> (company id, currency), for many customers at once."""
        found: dict[int, tuple[int, str]] = {}
        for part in chunks(sorted(set(ids))):
            for r in _CUSTOMER_FACTS.all(self.conn, {"ids": list(part)}):
                found[r["id"]] = (r["company_id"], r["currency"])
        return found

    def lock_lines(self, ids: Sequence[int]) -> None:
        if self.postgres:
            for part in chunks(sorted(set(ids))):
                self.conn.execute(select(_bl.c.id).where(_bl.c.id.in_(list(part)))
                                  .order_by(_bl.c.id).with_for_update())

    def proposed_line_ids(self, company_id: int, as_of: date, min_score: Decimal | None,
                          limit: int | None = None) -> list[int]:
        query = select(_bl.c.id).where(_bl.c.company_id == company_id,
                                       _bl.c.status == "proposed",
                                       _bl.c.booking_date <= as_of).order_by(_bl.c.id)
        if min_score is not None:
            query = query.where(_bl.c.score >= min_score)
        if limit is not None:
            query = query.limit(limit)
        return list(self.conn.execute(query).scalars())

    def set_status(self, line_id: int, status: str, **values: Any) -> None:
        self.conn.execute(update(_bl).where(_bl.c.id == line_id).values(
            status=status, version=_bl.c.version + 1, **values))

    def learn_payers(self, company_id: int, pairs: dict[str, int], source: str = "learned"
                     ) -> int:
        """Adds the IBANs not known yet; returns how many."""
        if not pairs:
            return 0
        known = self.payers(company_id, pairs)
        new = [{"company_id": company_id, "iban": iban, "customer_id": customer,
                "source": source}
               for iban, customer in sorted(pairs.items()) if iban not in known]
        if new:
            Statement(insert(_pa)).run_many(self.conn, new)
        return len(new)

    def reassign_payer(self, company_id: int, iban: str, customer_id: int, source: str
                       ) -> None:
        self.conn.execute(update(_pa).where(_pa.c.company_id == company_id, _pa.c.iban == iban)
                          .values(customer_id=customer_id, source=source))

    # -- bulk writes of an applied batch -----------------------------------------------------

    def _bulk_insert(self, table: Table, statement: Statement, rows: list[dict[str, Any]],
                     chunk: int = 5000) -> None:
        """SQLite: executemany (in-process, already fast). PostgreSQL: COPY, one round trip
        for the whole batch instead of one INSERT per row; values go through the columns'
        own bind processors, so exactness checks are the same as for an INSERT."""
        if not rows:
            return
        if not self.postgres:
            for part in chunks(rows, chunk):
                statement.run_many(self.conn, part)
            return
        names = list(rows[0])
        dialect = self.conn.dialect
        processors = [table.c[n].type._cached_bind_processor(dialect) for n in names]
        is_json = [isinstance(table.c[n].type, JSON) for n in names]
        columns = ", ".join(f'"{n}"' for n in names)
        raw: Any = self.conn.connection.dbapi_connection
        with raw.cursor() as cursor, cursor.copy(
                f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
            for row in rows:
                values = []
                for name, proc, as_json in zip(names, processors, is_json, strict=True):
                    value = row[name]
                    if as_json:
                        value = json.dumps(value)
                    elif proc is not None:
                        value = proc(value)
                    values.append(value)
                copy.write_row(values)

    def reserve_ids(self, table: Table, count: int) -> list[int]:
        """Ids for rows about to be inserted in bulk. PostgreSQL: from the table's sequence.
        SQLite: the transaction holds the write lock (BEGIN IMMEDIATE), so max(id) + 1... are
        free."""
        if count == 0:
            return []
        if self.postgres:
            rows = self.conn.execute(text(
                f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) "
                "FROM generate_series(1, :n)"), {"n": count}).scalars()
            return sorted(int(r) for r in rows)
        top = self.conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
        return list(range(int(top) + 1, int(top) + 1 + count))

    def insert_payments(self, payments: list[Payment]) -> None:
        rows = [{"id": p.id, "company_id": p.company_id, "customer_id": p.customer_id,
                 "currency": p.currency, "company_currency": p.company_currency,
                 "amount": p.amount, "received_on": p.received_on, "method": p.method.value,
                 "reference": p.reference[:300], "payer_name": p.payer_name[:200],
                 "payer_iban": p.payer_iban, "fx_rate": p.fx_rate,
                 "amount_company": p.amount_company, "unapplied": p.unapplied,
                 "unapplied_company": p.unapplied_company, "state": p.state.value,
                 "version": 0, "created_at": self.now} for p in payments]
        self._bulk_insert(t.payments, _INSERT_PAYMENT, rows)

    def insert_allocations(self, allocations: list[Allocation]) -> None:
        rows = [{"id": a.id, "company_id": a.company_id, "customer_id": a.customer_id,
                 "currency": a.currency, "invoice_id": a.invoice_id,
                 "invoice_number": a.invoice_number, "source_kind": a.source_kind.value,
                 "payment_id": a.payment_id, "credit_note_id": a.credit_note_id,
                 "source_number": a.source_number, "amount": a.amount,
                 "source_company": a.source_company, "target_company": a.target_company,
                 "allocated_on": a.allocated_on, "reversed_on": a.reversed_on, "version": 0,
                 "created_at": self.now} for a in allocations]
        self._bulk_insert(t.allocations, _INSERT_ALLOCATION, rows)

    def insert_entries(self, entries: list[JournalEntry]) -> None:
        heads = [{"id": e.id, "company_id": e.company_id, "entry_date": e.entry_date,
                  "source_type": e.source_type, "source_id": e.source_id, "memo": e.memo[:300],
                  "reverses_entry_id": e.reverses_entry_id, "created_at": self.now}
                 for e in entries]
        lines = [{"entry_id": e.id, "company_id": e.company_id, "account": line.account,
                  "debit": line.debit, "credit": line.credit, "customer_id": line.customer_id,
                  "currency": line.currency, "amount_currency": line.amount_currency}
                 for e in entries for line in e.lines]
        self._bulk_insert(t.journal_entries, _INSERT_ENTRY, heads)
        self._bulk_insert(t.journal_lines, _INSERT_JLINE, lines, 10000)

    def insert_events(self, events: list[Event], actor: str) -> None:
        rows = [{"object_type": e.object_type, "object_id": e.object_id, "event": e.name,
                 "occurred_at": self.now, "actor": actor, "data": e.data} for e in events]
        self._bulk_insert(t.event_log, _INSERT_EVENT, rows)

    def mark_applied(self, rows: list[dict[str, Any]]) -> int:
        done = 0
        for part in chunks(rows, 5000):
            done += _MARK_APPLIED.run_many(self.conn, part)
        return done

    # -- reading for people ------------------------------------------------------------------

    def list_lines(self, *, status: str | None, file_id: int | None, limit: int, offset: int
                   ) -> tuple[list[dict[str, Any]], int]:
        conditions = []
        if status:
            conditions.append(_bl.c.status == status)
        if file_id:
            conditions.append(_bl.c.file_id == file_id)
        total = self.conn.execute(select(func.count()).select_from(_bl).where(*conditions)
                                  ).scalar_one()
        rows = self.conn.execute(select(_bl).where(*conditions).order_by(_bl.c.id)
                                 .limit(limit).offset(offset)).mappings().all()
        return [dict(r) for r in rows], int(total)

    def outcomes(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.conn.execute(select(
            _bl.c.bank_reference, _bl.c.status, _bl.c.score, _bl.c.kind, _bl.c.customer_id,
            _bl.c.proposal)).mappings()]

    def line(self, line_id: int) -> dict[str, Any] | None:
        row = self.conn.execute(select(_bl).where(_bl.c.id == line_id)).mappings().first()
        return dict(row) if row else None

    def counts(self, company_id: int | None = None) -> dict[str, int]:
        query = select(_bl.c.status, func.count()).group_by(_bl.c.status)
        if company_id is not None:
            query = query.where(_bl.c.company_id == company_id)
        return {status: int(n) for status, n in self.conn.execute(query).all()}

    def allocations_of_payment(self, payment_id: int) -> list[int]:
        return list(self.conn.execute(select(t.allocations.c.id).where(
            t.allocations.c.payment_id == payment_id,
            t.allocations.c.reversed_on.is_(None)).order_by(t.allocations.c.id)).scalars())
