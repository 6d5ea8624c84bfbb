"""Bank statements and cash application: import a file (validated whole, deduplicated on the
bank's references), propose matches for every line (the pure engine in
`o2c.domain.reconciliation`), apply them as payments, allocations and journal entries exactly as
manual allocation does, reject, split by hand, and un-match with reversing entries.

Applying is set-based: a batch of lines loads and locks its open items in a few queries and
writes payments, allocations, journal entries and events with bulk inserts in its transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from o2c.adapters import names
from o2c.adapters.bank import parse_file
from o2c.adapters.db import tables as t
from o2c.adapters.db.bank import BankStore
from o2c.domain import commands as c
from o2c.domain.aggregate import document_number
from o2c.domain.bank import BankFileError, compact_iban, dedup_key
from o2c.domain.errors import (
    Conflict,
    CurrencyMismatch,
    DomainError,
    InvalidInput,
    NotFound,
    RuleViolation,
    UnknownCurrency,
)
from o2c.domain.events import Event
from o2c.domain.invoicing import convert
from o2c.domain.ledger import (
    BANK_CHARGES,
    SALES_DISCOUNTS,
    JournalEntry,
    allocation_entry,
    bank_fee_entry,
    payment_entry,
    reversal_entry,
    write_off_entry,
)
from o2c.domain.money import ZERO, in_minor_units, is_rounded, minor_units
from o2c.domain.parties import Company
from o2c.domain.party_names import name_similarity
from o2c.domain.payments import Allocation, Payment, PaymentMethod, allocate
from o2c.domain.reconciliation import (
    Candidates,
    LineView,
    MatchConfig,
    Matcher,
    Proposal,
    ProposalKind,
    WriteOff,
)
from o2c.domain.remittance import compact
from o2c.services import payments as payment_service
from o2c.services.exchange import fx_rate
from o2c.services.uow import UnitOfWork

LOCK_CHUNK = 5000
FX_QUANTUM = Decimal("0.0000000001")  # exchange rates keep ten decimals


def store_of(uow: UnitOfWork) -> BankStore:
    return BankStore(uow.conn, uow.now)


# -- accounts -----------------------------------------------------------------------------------


def add_bank_account(cmd: c.AddBankAccount, uow: UnitOfWork) -> int:
    company = uow.companies.find(cmd.company_id)
    if company is None:
        raise NotFound("company", cmd.company_id, field="company_id")
    iban = compact_iban(cmd.iban)
    if not iban:
        raise InvalidInput("give the account's IBAN (or the bank's account id)", field="iban")
    currency = (cmd.currency or company.currency).upper()
    _known_currency(currency, "currency")
    store = store_of(uow)
    if store.account(iban) is not None:
        raise Conflict(f"bank account {iban} is already registered", field="iban")
    assert company.id is not None
    return store.add_account(company.id, iban, currency, cmd.name or f"{company.name} {iban}")


PAYER_SOURCES = ("master_data", "history", "learned")


def register_payer_accounts(cmd: c.RegisterPayerAccounts, uow: UnitOfWork) -> int:
    """Customers' bank accounts (payer IBANs) in master data; returns how many are new (or
    moved, with `replace`). An IBAN known for another customer is a conflict unless
    `replace` says it moves."""
    if cmd.source not in PAYER_SOURCES:
        raise InvalidInput(f"source must be one of {', '.join(PAYER_SOURCES)}", field="source")
    pairs: dict[str, int] = {}
    for i, (iban, customer) in enumerate(cmd.accounts):
        compact_form = compact_iban(iban)
        if not 5 <= len(compact_form) <= 34 or not compact_form.isalnum():
            raise InvalidInput(f"'{iban}' is not an IBAN or account id",
                               field=f"accounts[{i}].iban")
        pairs[compact_form] = customer
    customers = {cu.id: cu for cu in uow.customers.get_many(set(pairs.values()))}
    missing = sorted(set(pairs.values()) - set(customers))
    if missing:
        raise NotFound("customer", missing[0], field="accounts")
    others = sorted(cu.company_id for cu in customers.values() if cu.company_id != cmd.company_id)
    if others:
        raise RuleViolation("a customer of another company cannot pay into this company's "
                            "accounts", field="accounts")
    store = store_of(uow)
    known = store.payers(cmd.company_id, pairs)
    moved = {iban: customer for iban, customer in pairs.items()
             if iban in known and known[iban] != customer}
    if moved and not cmd.replace:
        iban = sorted(moved)[0]
        raise Conflict(f"IBAN {iban} is known for another customer (id {known[iban]}); "
                       "give replace to move it", field="accounts")
    for iban, customer in sorted(moved.items()):
        store.reassign_payer(cmd.company_id, iban, customer, cmd.source)
    added = store.learn_payers(cmd.company_id, pairs, cmd.source)
    if added or moved:
        uow.event_store.append([Event("company", cmd.company_id, "payer_accounts_registered",
                                      {"source": cmd.source, "added": added,
                                       "moved": len(moved)})], uow.now, uow.actor)
    return added + len(moved)


def import_payer_accounts_from_history(cmd: c.ImportPayerAccountsFromHistory,
                                       uow: UnitOfWork) -> int:
    """IBANs that paid for exactly one customer become that customer's payer accounts;
    IBANs already known are left as they are. Returns how many were added."""
    if uow.companies.find(cmd.company_id) is None:
        raise NotFound("company", cmd.company_id, field="company_id")
    store = store_of(uow)
    added = store.learn_payers(cmd.company_id, store.payers_from_history(cmd.company_id),
                               "history")
    if added:
        uow.event_store.append([Event("company", cmd.company_id, "payer_accounts_registered",
                                      {"source": "history", "added": added, "moved": 0})],
                               uow.now, uow.actor)
    return added


def set_customer_parent(cmd: c.SetCustomerParent, uow: UnitOfWork) -> int:
    """A parent pays for its subsidiaries: one level, same company, no parent of its own."""
    ids = {cmd.customer_id} | ({cmd.parent_id} if cmd.parent_id is not None else set())
    customers = {cu.id: cu for cu in uow.customers.get_many(ids)}
    child = customers.get(cmd.customer_id)
    if child is None:
        raise NotFound("customer", cmd.customer_id, field="customer_id")
    store = store_of(uow)
    if cmd.parent_id is not None:
        parent = customers.get(cmd.parent_id)
        if parent is None:
            raise NotFound("customer", cmd.parent_id, field="parent_id")
        if parent.id == child.id:
            raise RuleViolation("a customer cannot be its own parent", field="parent_id")
        if parent.company_id != child.company_id:
            raise RuleViolation("the parent must be a customer of the same company",
                                field="parent_id")
        groups = store.parents(child.company_id)
        if cmd.parent_id in groups:
            raise RuleViolation(f"customer {parent.code} is itself a subsidiary; groups have "
                                "one level", field="parent_id")
        if cmd.customer_id in groups.values():
            raise RuleViolation(f"customer {child.code} is a parent of others; groups have "
                                "one level", field="customer_id")
    store.set_parent(child.company_id, cmd.customer_id, cmd.parent_id)
    uow.event_store.append([Event("customer", cmd.customer_id, "group_changed",
                                  {"parent_id": cmd.parent_id})], uow.now, uow.actor)
    return cmd.customer_id


def _known_currency(currency: str, where: str) -> None:
    try:
        minor_units(currency)
    except (UnknownCurrency, KeyError, ValueError):
        raise UnknownCurrency(currency, field=where) from None


# -- import -----------------------------------------------------------------------------------


@dataclass
class ImportResult:
    file_id: int | None
    format: str
    schema_validated: bool
    statements: int
    lines_in_file: int
    imported: int
    skipped_duplicates: int
    already_imported: bool = False


def import_bank_file(cmd: c.ImportBankFile, uow: UnitOfWork) -> ImportResult:
    """Everything is checked before anything is written; a bad file raises BankFileError and
    the transaction writes nothing."""
    parsed = parse_file(cmd.content, cmd.filename, cmd.format, cmd.csv_profile)
    store = store_of(uow)
    wanted = compact_iban(cmd.account) if cmd.account else None
    accounts: dict[str, dict[str, Any]] = {}
    for statement in parsed.statements:
        iban = statement.account_iban or (wanted or "")
        statement.account_iban = iban
        where = statement.location or "statement"
        if wanted is not None and iban != wanted:
            raise BankFileError(cmd.filename, where,
                                f"the statement is for account {iban}, not {wanted}")
        account = accounts.get(iban) or store.account(iban)
        if account is None:
            company = store.company_with_iban(iban)
            if company is None:
                raise BankFileError(cmd.filename, where,
                                    f"account {iban or '(none)'} is not a bank account of any "
                                    "company (o2c bank account add)")
            account_id = store.add_account(company["id"], iban, statement.currency or
                                           company["currency"], f"account {iban}")
            account = store.account(iban)
            assert account is not None and account["id"] == account_id
        accounts[iban] = account
        currency = statement.currency or account["currency"]
        statement.currency = currency
        _check_currency(cmd.filename, where, currency)
        if currency != account["currency"]:
            raise BankFileError(cmd.filename, where, f"statement currency {currency} differs "
                                f"from account {iban}'s currency {account['currency']}")
        for line in statement.lines:
            if line.currency != currency:
                raise BankFileError(cmd.filename, line.location,
                                    f"entry currency {line.currency} differs from the "
                                    f"statement's {currency}")
            if line.amount == 0:
                raise BankFileError(cmd.filename, line.location, "entry amount is zero")
            if not is_rounded(line.amount, currency):
                raise BankFileError(cmd.filename, line.location,
                                    f"{line.amount} has more decimals than {currency} allows")
            if line.instructed_currency:
                _check_currency(cmd.filename, line.location, line.instructed_currency)
                if (line.instructed_amount is None or line.instructed_amount <= 0
                        or not is_rounded(line.instructed_amount, line.instructed_currency)):
                    raise BankFileError(cmd.filename, line.location,
                                        f"instructed amount {line.instructed_amount} "
                                        f"{line.instructed_currency} is not a valid amount")
    digest = hashlib.sha256(cmd.content).hexdigest()
    first = accounts[parsed.statements[0].account_iban]
    # Keys: the bank's references + account, date, amount; identical entries inside one file
    # (no references at all) are told apart by their order.
    keyed: list[tuple[int, Any, str]] = []
    seen: dict[str, int] = {}
    for s_index, statement in enumerate(parsed.statements):
        for line in statement.lines:
            key = dedup_key(statement.account_iban, line)
            n = seen.get(key, 0)
            seen[key] = n + 1
            if n:
                key = hashlib.sha256(f"{key}#{n}".encode()).hexdigest()[:40]
            keyed.append((s_index, line, key))
    existing = store.existing_keys([k for _, _, k in keyed])
    fresh = [(s, line, k) for s, line, k in keyed if k not in existing]
    if not fresh and store.file_with_hash(first["id"], digest) is not None:
        return ImportResult(None, parsed.format, parsed.schema_validated,
                            len(parsed.statements), parsed.line_count, 0, len(keyed),
                            already_imported=True)
    file_id = store.add_file(company_id=first["company_id"], bank_account_id=first["id"],
                             filename=cmd.filename[:300], format=parsed.format, sha256=digest,
                             size=len(cmd.content), content=cmd.content,
                             lines_imported=len(fresh), lines_skipped=len(keyed) - len(fresh))
    statement_ids = []
    for statement in parsed.statements:
        account = accounts[statement.account_iban]
        statement_ids.append(store.add_statement(
            file_id=file_id, bank_account_id=account["id"],
            statement_ref=statement.statement_id[:100], currency=statement.currency,
            opening_balance=statement.opening_balance,
            closing_balance=statement.closing_balance, from_date=statement.from_date,
            to_date=statement.to_date))
    rows = []
    for s_index, line, key in fresh:
        statement = parsed.statements[s_index]
        account = accounts[statement.account_iban]
        rows.append({
            "company_id": account["company_id"], "bank_account_id": account["id"],
            "file_id": file_id, "statement_id": statement_ids[s_index],
            "location": line.location[:200], "booking_date": line.booking_date,
            "value_date": line.value_date, "amount": line.amount, "currency": line.currency,
            "bank_reference": line.bank_reference[:100],
            "entry_reference": line.entry_reference[:100],
            "end_to_end_id": line.end_to_end_id[:100],
            "counterparty_name": line.counterparty_name[:200],
            "counterparty_iban": line.counterparty_iban[:34], "remittance": line.remittance,
            "structured_reference": " ".join(
                r for r in (line.structured_reference, line.referred_documents) if r)[:100],
            "ultimate_debtor": line.ultimate_debtor[:200],
            "instructed_amount": line.instructed_amount,
            "instructed_currency": line.instructed_currency,
            "transaction_code": line.transaction_code[:40], "dedup_key": key,
            "status": "unmatched", "kind": "", "score": None, "reasons": [], "proposal": {},
            "customer_id": None, "payment_id": None, "entry_id": None, "applied_on": None,
            "version": 0})
    store.add_lines(rows)
    uow.event_store.append([Event("bank_file", file_id, "imported", {
        "filename": cmd.filename, "format": parsed.format, "sha256": digest,
        "lines": len(fresh), "duplicates": len(keyed) - len(fresh)})], uow.now, uow.actor)
    return ImportResult(file_id, parsed.format, parsed.schema_validated, len(parsed.statements),
                        parsed.line_count, len(fresh), len(keyed) - len(fresh))


def _check_currency(filename: str, where: str, currency: str) -> None:
    try:
        minor_units(currency)
    except Exception:
        raise BankFileError(filename, where, f"unknown currency '{currency}'") from None


# -- matching ---------------------------------------------------------------------------------


@dataclass
class MatchResult:
    lines: int = 0
    auto: list[int] = field(default_factory=list)  # line ids to apply automatically
    review: int = 0
    unmatched: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


def _config(cmd: c.MatchBankLines) -> MatchConfig:
    base = MatchConfig()

    def pick(given: Decimal | None, default: Decimal) -> Decimal:
        return given if given is not None else default

    config = MatchConfig(
        auto_threshold=pick(cmd.auto_threshold, base.auto_threshold),
        review_threshold=pick(cmd.review_threshold, base.review_threshold),
        charges_tolerance=pick(cmd.charges_tolerance, base.charges_tolerance),
        discount_tolerance_percent=pick(cmd.discount_tolerance_percent,
                                        base.discount_tolerance_percent))
    if not 0 <= config.review_threshold <= config.auto_threshold <= 1:
        raise InvalidInput("thresholds must satisfy 0 <= review <= auto <= 1",
                           field="auto_threshold")
    if config.charges_tolerance < 0 or not 0 <= config.discount_tolerance_percent <= 100:
        raise InvalidInput("tolerances must not be negative", field="charges_tolerance")
    return config


def proposal_json(p: Proposal) -> dict[str, Any]:
    return {"kind": p.kind.value,
            "allocations": [{"invoice_id": a.invoice_id, "number": a.number,
                             "amount": str(a.amount)} for a in p.allocations],
            "write_off": str(p.write_off),
            "write_off_kind": p.write_off_kind.value if p.write_off_kind else None,
            "write_off_invoice_id": p.write_off_invoice_id, "unapplied": str(p.unapplied),
            "currency": p.currency, "amount": str(p.amount) if p.amount is not None else None}


def match_bank_lines(cmd: c.MatchBankLines, uow: UnitOfWork) -> MatchResult:
    """Propose for every unmatched (or still only proposed) line booked by `as_of`.
    Idempotent: the same lines and open items give the same proposals."""
    store = store_of(uow)
    config = _config(cmd)
    result = MatchResult()
    companies = ([cmd.company_id] if cmd.company_id is not None
                 else store.companies_with_open_lines(cmd.as_of))
    for company_id in companies:
        lines = store.lines_to_match(company_id, cmd.as_of)
        if not lines:
            continue
        matcher = gather_candidates(store, company_id, lines, config,
                                    rates=uow.lookups.exchange_rate)
        rows = []
        for proposal in matcher.propose_all(lines):
            decision = proposal.decision(config)
            if decision == "auto":
                result.auto.append(proposal.line_id)
            elif decision == "review":
                result.review += 1
            else:
                result.unmatched += 1
            result.by_kind[proposal.kind.value] = result.by_kind.get(proposal.kind.value, 0) + 1
            rows.append({"p_id": proposal.line_id,
                         "p_status": "unmatched" if decision == "unmatched" else "proposed",
                         "p_kind": proposal.kind.value, "p_score": proposal.score,
                         "p_reasons": list(proposal.reasons),
                         "p_proposal": proposal_json(proposal),
                         "p_customer_id": proposal.customer_id})
        store.save_proposals(rows)
        result.lines += len(lines)
    return result


def gather_candidates(store: BankStore, company_id: int, lines: list[LineView],
                      config: MatchConfig | None = None,
                      rates: Callable[[str, str, date], Decimal | None] | None = None
                      ) -> Matcher:
    """A few set queries: open items by RF reference and invoice number, payers' IBANs,
    customers' names and groups, then the open items of the customers the lines point at.
    Returns the matcher over those candidates."""
    candidates = Candidates()
    matcher = Matcher(candidates, config, scorer=names.score)
    refs: set[str] = set()
    numbers: set[str] = set()
    ibans: set[str] = set()
    for line in lines:
        if line.counterparty_iban:
            ibans.add(compact(line.counterparty_iban))
        if line.amount > 0:
            line_refs, line_numbers, loose = matcher.all_keys(line)
            refs.update(line_refs)
            numbers.update(line_numbers)
            numbers.update(loose)
    candidates.by_reference = store.items_by_reference(refs)
    candidates.by_number = store.items_by_number(company_id, numbers)
    candidates.customer_by_iban = store.payers(company_id, ibans)
    candidates.parent_of = store.parents(company_id)
    if rates is not None:
        # Invoices in another currency than the line's: the day's rate (one look-up per
        # currency and day, not per line), unless the bank gave the instructed amount.
        wanted_rates: set[tuple[str, str, date]] = set()
        for line in lines:
            if line.amount <= 0:
                continue
            line_refs, line_numbers, loose = matcher.all_keys(line)
            quoted = [candidates.by_reference.get(r) for r in line_refs]
            quoted += [candidates.by_number.get(n) for n in (*line_numbers, *loose)]
            wanted_rates.update((i.currency, line.currency, line.booking_date) for i in quoted
                                if i is not None and i.currency != line.currency
                                and i.currency != line.instructed_currency)
        for key in sorted(wanted_rates):
            rate = rates(*key)
            if rate:
                candidates.rates[key] = rate
    for row in store.customers(company_id):
        candidates.customer_names[row["id"]] = row["name"]
        candidates.customer_codes[row["id"]] = row["code"]
    # Lines no reference settles need their payer's open items (amount, combination, typo);
    # so do lines whose reference names another customer than the payer.
    wanted: set[int] = set()
    for line in lines:
        if line.amount <= 0:
            continue
        line_refs, line_numbers = matcher.keys(line)
        named = [candidates.by_reference[r] for r in line_refs if r in candidates.by_reference]
        named += [candidates.by_number[n] for n in line_numbers if n in candidates.by_number]
        iban = compact(line.counterparty_iban)
        payer = candidates.customer_by_iban.get(iban) if iban else None
        if named and line.amount > sum((i.residual for i in named), ZERO):
            # Over the invoices quoted: perhaps others of the same customer, not quoted.
            wanted.update(i.customer_id for i in named)
        if named and payer is not None and all(matcher.related(i.customer_id, payer)
                                               for i in named):
            continue
        if named and payer is None and any(r in candidates.by_reference for r in line_refs):
            continue  # a check-digit reference from a payer we cannot tell: its own items
        wanted.update(matcher.payer_ids(line))
    candidates.open_items = store.open_items_of(wanted)
    return matcher


# -- applying ---------------------------------------------------------------------------------


@dataclass
class ApplyResult:
    applied: list[int] = field(default_factory=list)
    payments: int = 0
    allocations: int = 0
    errors: dict[int, str] = field(default_factory=dict)  # line id -> why it was not applied


def apply_bank_lines(cmd: c.ApplyBankLines, uow: UnitOfWork) -> ApplyResult:
    store = store_of(uow)
    store.lock_lines(cmd.line_ids)
    rows = store.lines(cmd.line_ids)
    result = ApplyResult()
    found = {r["id"] for r in rows}
    for missing in sorted(set(cmd.line_ids) - found):
        result.errors[missing] = "no such bank line"
    todo = []
    for row in rows:
        if row["status"] != "proposed":
            result.errors[row["id"]] = f"line is {row['status']}, not proposed"
        elif row["kind"] not in (ProposalKind.RECEIPT, ProposalKind.UNAPPLIED,
                                 ProposalKind.BANK_FEE):
            result.errors[row["id"]] = (f"a {row['kind'].replace('_', ' ')} line is booked by "
                                        "hand; split it or reject the proposal")
        elif row["kind"] != ProposalKind.BANK_FEE and row["customer_id"] is None:
            result.errors[row["id"]] = "the proposal names no customer"
        else:
            todo.append(row)
    if todo:
        _apply(uow, store, todo, result)
    return result


class _Batch:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.companies: dict[int, Company] = {}
        self.rates: dict[tuple[str, int, date], Decimal] = {}

    def company(self, company_id: int) -> Company:
        found = self.companies.get(company_id)
        if found is None:
            found = self.companies[company_id] = self.uow.companies.get(company_id)
        return found

    def rate(self, currency: str, company: Company, on: date) -> Decimal:
        if currency == company.currency:
            return Decimal(1)
        assert company.id is not None
        key = (currency, company.id, on)
        if key not in self.rates:
            self.rates[key] = fx_rate(self.uow, currency, company, on)
        return self.rates[key]


def _apply(uow: UnitOfWork, store: BankStore, rows: list[dict[str, Any]],
           result: ApplyResult) -> None:
    batch = _Batch(uow)
    invoice_ids = sorted({int(a["invoice_id"]) for r in rows
                          for a in r["proposal"].get("allocations", ())}
                         | {int(r["proposal"]["write_off_invoice_id"]) for r in rows
                            if r["proposal"].get("write_off_invoice_id")})
    items = {}
    for start in range(0, len(invoice_ids), LOCK_CHUNK):
        items.update(uow.open_items.lock_for_invoices(invoice_ids[start : start + LOCK_CHUNK]))
    customer_ids = sorted({r["customer_id"] for r in rows if r["customer_id"] is not None})
    customers = store.customer_facts(customer_ids)  # id -> (company id, currency)
    receipts = [r for r in rows if r["kind"] != ProposalKind.BANK_FEE]
    fees = [r for r in rows if r["kind"] == ProposalKind.BANK_FEE]
    payment_ids = iter(store.reserve_ids(t.payments, len(receipts)))
    payments: list[Payment] = []
    allocations: list[Allocation] = []
    entries: list[JournalEntry] = []
    events: list[Event] = []
    marks: list[dict[str, Any]] = []
    learned: dict[int, dict[str, int]] = {}
    paid_for: dict[str, tuple[str, str]] = {}  # IBAN -> (payer name, ultimate debtor)
    write_offs: list[tuple[dict[str, Any], JournalEntry]] = []
    for row in receipts:
        line_id = row["id"]
        proposal = row["proposal"]
        customer = customers.get(row["customer_id"])
        try:
            if customer is None:
                raise NotFound("customer", row["customer_id"])
            company_of_customer, customer_currency = customer
            company = batch.company(company_of_customer)
            mode = company.rounding.mode
            # Invoices in another currency: the payment is in theirs, for the amount the
            # proposal converted (the bank's or the day's rate); its company-currency value
            # is what the bank booked, so allocating books the exchange difference.
            currency = proposal.get("currency") or row["currency"]
            amount = (Decimal(proposal["amount"]) if proposal.get("amount") is not None
                      else row["amount"])
            if currency != customer_currency:
                raise CurrencyMismatch(customer_currency, currency, field="currency")
            plan = [(items.get(int(a["invoice_id"])), Decimal(a["amount"]))
                    for a in proposal.get("allocations", ())]
            write_off = Decimal(proposal.get("write_off") or "0")
            target = items.get(int(proposal["write_off_invoice_id"])) \
                if proposal.get("write_off_invoice_id") else None
            _check_plan(plan, write_off, target, row["customer_id"], amount)
            on = row["booking_date"]
            booked_rate = batch.rate(row["currency"], company, on)
            amount_company = convert(row["amount"], booked_rate, company.currency, mode)
            rate = (booked_rate if currency == row["currency"]
                    else (amount_company / amount).quantize(FX_QUANTUM))
            payment = Payment.receive(
                company_id=company_of_customer, customer_id=row["customer_id"],
                currency=currency, company_currency=company.currency,
                amount=amount, received_on=on, fx_rate=rate,
                amount_company=amount_company,
                method=PaymentMethod.BANK_TRANSFER,
                reference=(row["structured_reference"] or row["remittance"]
                           or row["end_to_end_id"]),
                payer_name=row["counterparty_name"], payer_iban=row["counterparty_iban"])
        except DomainError as error:
            result.errors[line_id] = str(error)
            continue
        payment.id = next(payment_ids)
        payment.number = document_number("PAY", payment.id)
        line_allocations = []
        for item, part in plan:
            assert item is not None
            line_allocations.append(allocate(payment, item, part, on, mode))
        entry_ref = None
        if write_off and target is not None:
            company_value = target.settle(write_off, mode, by_credit_note=False)
            account = (BANK_CHARGES if proposal.get("write_off_kind") == WriteOff.BANK_CHARGES
                       else SALES_DISCOUNTS)
            label = ("bank charges" if account == BANK_CHARGES else "early-payment discount")
            entry = write_off_entry(
                company_id=company_of_customer, customer_id=row["customer_id"],
                currency=currency, on=on, account=account, amount=write_off,
                amount_company=company_value, source_id=line_id,
                memo=f"{label} on {target.number} ({payment.number})")
            write_offs.append((row, entry))
            entry_ref = entry
            target.record("written_off", amount=in_minor_units(write_off, currency),
                          account=account,
                          bank_line=line_id)
        payments.append(payment)
        allocations.extend(line_allocations)
        marks.append({"p_id": line_id, "p_expected": "proposed", "p_payment_id": payment.id,
                      "p_entry_id": entry_ref, "p_applied_on": on})
        if row["counterparty_iban"]:
            learned.setdefault(company_of_customer, {})[row["counterparty_iban"]] = \
                row["customer_id"]
            paid_for[row["counterparty_iban"]] = (row["counterparty_name"],
                                                  row.get("ultimate_debtor", ""))
        result.applied.append(line_id)
    # ids for allocations, then entries (payment, allocations, write-offs, fees)
    for allocation, new_id in zip(allocations,
                                  store.reserve_ids(t.allocations, len(allocations)),
                                  strict=True):
        allocation.id = new_id
    for payment in payments:
        entries.append(payment_entry(payment))
    for allocation in allocations:
        entries.append(allocation_entry(allocation))
    entries.extend(entry for _, entry in write_offs)
    fee_entries: dict[int, JournalEntry] = {}
    for row in fees:
        try:
            company = batch.company(row["company_id"])
            rate = batch.rate(row["currency"], company, row["booking_date"])
            entry = bank_fee_entry(
                company_id=row["company_id"], on=row["booking_date"],
                amount_company=convert(-row["amount"], rate, company.currency,
                                       company.rounding.mode),
                source_id=row["id"], memo=f"bank fee: {row['remittance'][:200]}")
        except DomainError as error:
            result.errors[row["id"]] = str(error)
            continue
        fee_entries[row["id"]] = entry
        entries.append(entry)
        marks.append({"p_id": row["id"], "p_expected": "proposed", "p_payment_id": None,
                      "p_entry_id": entry, "p_applied_on": row["booking_date"]})
        result.applied.append(row["id"])
    for entry, new_id in zip(entries, store.reserve_ids(t.journal_entries, len(entries)),
                             strict=True):
        entry.id = new_id
    for mark in marks:
        entry = mark["p_entry_id"]
        mark["p_entry_id"] = entry.id if isinstance(entry, JournalEntry) else None
    for aggregate in (*payments, *allocations):
        assert aggregate.id is not None
        events.extend(Event(aggregate.object_type, aggregate.id, e.name, e.data)
                      for e in aggregate.events)
        aggregate.events.clear()
    store.insert_payments(payments)
    store.insert_allocations(allocations)
    store.insert_entries(entries)
    store.insert_events(events, uow.actor)
    if store.mark_applied(marks) != len(marks):
        raise Conflict("a bank line changed while it was being applied; run again")
    for company_id, pairs in learned.items():
        store.learn_payers(company_id, _payers_to_learn(store, company_id, pairs, paid_for))
    result.payments = len(payments)
    result.allocations = len(allocations)


def _payers_to_learn(store: BankStore, company_id: int, pairs: dict[str, int],
                     paid_for: dict[str, tuple[str, str]]) -> dict[str, int]:
    """An IBAN that paid a subsidiary's invoice is the parent's when the payer pays on
    behalf of another (an ultimate debtor) or its name is the parent's rather than the
    subsidiary's: its next payments may be for any company of the group."""
    parents = store.parents(company_id)
    if not parents or not any(c in parents for c in pairs.values()):
        return pairs
    involved = {c for c in pairs.values() if c in parents}
    names_of = store.customer_names(involved | {parents[c] for c in involved})
    result = dict(pairs)
    for iban, customer in pairs.items():
        parent = parents.get(customer)
        if parent is None:
            continue
        payer_name, ultimate = paid_for.get(iban, ("", ""))
        own = name_similarity(payer_name, names_of.get(customer, ""), names.score)
        theirs = name_similarity(payer_name, names_of.get(parent, ""), names.score)
        if ultimate or theirs > own:
            result[iban] = parent
    return result


def _check_plan(plan: list[tuple[Any, Decimal]], write_off: Decimal, target: Any,
                customer_id: int | None, amount: Decimal) -> None:
    """Before anything changes: the invoices are still open enough for this line."""
    total = ZERO
    for item, part in plan:
        if item is None:
            raise RuleViolation("an invoice of the proposal is no longer open; match again")
        if item.customer_id != customer_id:
            raise RuleViolation(f"{item.number} belongs to another customer")
        if part > item.residual:
            raise RuleViolation(f"{item.number} has only {item.residual} open now; the "
                                f"proposal applies {part}; match again")
        total += part
    if total > amount:
        raise RuleViolation(f"allocations total {total}, more than the line's {amount}")
    if write_off:
        planned = sum((p for i, p in plan if i is target), ZERO)
        if target is None or target.residual - planned < write_off:
            raise RuleViolation("the write-off no longer fits the invoice; match again")


# -- by hand ----------------------------------------------------------------------------------


def locked_line(store: BankStore, line_id: int) -> dict[str, Any]:
    """A statement line, locked until the command commits."""
    store.lock_lines([line_id])
    row = store.line(line_id)
    if row is None:
        raise NotFound("bank line", line_id, field="line_id")
    return row


def reject_bank_proposal(cmd: c.RejectBankProposal, uow: UnitOfWork) -> int:
    store = store_of(uow)
    row = locked_line(store, cmd.line_id)
    if row["status"] != "proposed":
        raise RuleViolation(f"bank line {cmd.line_id} is {row['status']}; only a proposal "
                            "can be rejected", field="line_id")
    reasons = [*row["reasons"], f"proposal rejected: {cmd.reason or 'no reason given'}"]
    store.set_status(cmd.line_id, "rejected", reasons=reasons)
    uow.event_store.append([Event("bank_line", cmd.line_id, "proposal_rejected",
                                  {"reason": cmd.reason})], uow.now, uow.actor)
    return cmd.line_id


def split_bank_line(cmd: c.SplitBankLine, uow: UnitOfWork) -> ApplyResult:
    store = store_of(uow)
    row = locked_line(store, cmd.line_id)
    if row["status"] == "applied":
        raise RuleViolation(f"bank line {cmd.line_id} is applied; un-match it first",
                            field="line_id")
    if row["amount"] <= 0:
        raise RuleViolation("only incoming lines are split to invoices", field="line_id")
    customer = uow.customers.find(cmd.customer_id)
    if customer is None:
        raise NotFound("customer", cmd.customer_id, field="customer_id")
    items = uow.open_items.lock_for_invoices([a.invoice_id for a in cmd.allocations])
    allocations = []
    total = ZERO
    for i, request in enumerate(cmd.allocations):
        item = items.get(request.invoice_id)
        if item is None:
            raise NotFound("invoice", request.invoice_id, field=f"allocations[{i}].invoice_id")
        if request.amount <= 0:
            raise InvalidInput("allocation amount must be positive",
                               field=f"allocations[{i}].amount")
        allocations.append({"invoice_id": item.invoice_id, "number": item.number,
                            "amount": str(request.amount)})
        total += request.amount
    if total > row["amount"]:
        raise RuleViolation(f"allocations total {total}, more than the line's {row['amount']}",
                            field="allocations")
    proposal = {"kind": ProposalKind.RECEIPT.value, "allocations": allocations,
                "write_off": "0", "write_off_kind": None, "write_off_invoice_id": None,
                "unapplied": str(row["amount"] - total)}
    store.set_status(cmd.line_id, "proposed", kind=ProposalKind.RECEIPT.value,
                     score=Decimal(1), customer_id=cmd.customer_id, proposal=proposal,
                     reasons=[f"split by hand by {uow.actor}"])
    result = apply_bank_lines(c.ApplyBankLines((cmd.line_id,)), uow)
    if cmd.line_id in result.errors:
        raise RuleViolation(result.errors[cmd.line_id], field="allocations")
    return result


def unmatch_bank_line(cmd: c.UnmatchBankLine, uow: UnitOfWork) -> int:
    """Reverse what applying did: allocations un-allocated (reversing entries), write-off or
    fee entry reversed, the payment reversed; the line waits for a person again."""
    if not cmd.reason.strip():
        raise InvalidInput("un-matching needs a reason", field="reason")
    store = store_of(uow)
    row = locked_line(store, cmd.line_id)
    if row["status"] != "applied":
        raise RuleViolation(f"bank line {cmd.line_id} is {row['status']}, not applied",
                            field="line_id")
    on = cmd.on or uow.today()
    if row["payment_id"] is not None:
        for allocation_id in store.allocations_of_payment(row["payment_id"]):
            payment_service.unallocate_payment(
                c.Unallocate(allocation_id, reason=cmd.reason, on=on), uow)
    if row["entry_id"] is not None:
        original = uow.ledger.get(row["entry_id"])
        if original.source_type == "bank_write_off":
            invoice_id = int(row["proposal"]["write_off_invoice_id"])
            item = uow.open_items.lock_for_invoices([invoice_id])[invoice_id]
            receivable = next(line for line in original.lines if line.customer_id is not None)
            item.restore(-receivable.amount_currency, receivable.credit, by_credit_note=False)
        uow.ledger.post(reversal_entry(original, on,
                                       f"reversal of {original.memo}: {cmd.reason}"))
    if row["payment_id"] is not None:
        payment_service.reverse_payment(c.ReversePayment(row["payment_id"], reason=cmd.reason,
                                                         on=on), uow)
    store.set_status(cmd.line_id, "rejected", payment_id=None, entry_id=None, applied_on=None,
                     reasons=[*row["reasons"], f"un-matched: {cmd.reason}"])
    uow.event_store.append([Event("bank_line", cmd.line_id, "unmatched",
                                  {"reason": cmd.reason, "payment_id": row["payment_id"]})],
                           uow.now, uow.actor)
    return cmd.line_id
