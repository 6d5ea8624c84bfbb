"""Cash application at scale: import a camt.053 statement of N lines, match it against M open
invoices, apply the automatic matches (payments, allocations, journal entries).

Setup (not timed): a company, M/20 customers (85% with a payer IBAN the company has seen),
M posted invoices with their open items and one opening journal entry, bulk-inserted; then a
labelled statement from the demo generator (`o2c.demo.bank_statement`) written as camt.053.001.08.
Timed: import (parse, XSD validation, dedup, insert), match (set queries + the pure engine),
apply (bulk writes, one transaction per chunk of 5,000 lines). Precision and auto-match rate
are measured against the generator's labels. Last line: one JSON object.

    python bench/cash_application.py --lines 100000 --open-items 1000000 --db sqlite
    python bench/cash_application.py --lines 100000 --open-items 1000000 --db postgresql
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, insert, select
from sqlalchemy.engine import make_url

from o2c.adapters.bank import camt
from o2c.adapters.db import queries
from o2c.adapters.db import tables as t
from o2c.adapters.db.engine import make_engine
from o2c.adapters.db.fastpath import Statement
from o2c.adapters.db.migrate import upgrade
from o2c.bootstrap import SettableClock, bootstrap
from o2c.config import Settings
from o2c.demo.bank_statement import SimCustomer, SimItem, evaluate, generate, statement
from o2c.domain import commands as c
from o2c.domain.ledger import RECEIVABLE, REVENUE, verify
from o2c.domain.reconciliation import MatchConfig
from o2c.domain.references import creditor_reference

D = Decimal
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ACCOUNT = "IT60X0542811101000000123456"
FIRST_DAY = date(2025, 11, 1)
AS_OF = date(2026, 10, 30)
APPLY_CHUNK = 5000
SURNAMES = ("Rossi", "Bianchi", "Dupont", "Martin", "Garcia", "Muller", "Schmidt", "Jansen",
            "Novak", "Silva", "Smith", "Brown", "Kowalski", "Nielsen", "Virtanen", "Horvath")
TRADES = ("Arredamenti", "Logistics", "Bau", "Textiles", "Foods", "Metals", "Pharma", "Energy",
          "Optics", "Print", "Motors", "Garden", "Tools", "Paper", "Glass", "Plastics")
FORMS = ("S.p.A.", "GmbH", "SARL", "S.L.", "Ltd", "B.V.", "Oy", "Kft.")


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def customer_name(i: int) -> str:
    return (f"{SURNAMES[i % 16]} {TRADES[(i // 16) % 16]} {i // 256:04d} "
            f"{FORMS[(i // 7) % 8]}")


def customer_iban(i: int) -> str:
    return f"DE{(i * 7919) % 89 + 10:02d}{500000000000000000 + i:018d}"


def amount_of(rng: random.Random) -> Decimal:
    return D(rng.randrange(5_000, 2_000_000)) / 100


def setup(engine: Engine, bus: Any, open_items: int, lines: int, seed: int,
          progress: Callable[[str], None]) -> tuple[dict[int, list[SimItem]],
                                                   dict[int, SimCustomer]]:
    """Bulk-insert the business; returns the generator's pool (a sample of customers with
    all their open items) so memory does not hold a million items."""
    handle = bus.handle
    handle(c.CreatePaymentTerms("NET30", "Net 30 days", ((D(100), 30, False),)))
    company = handle(c.CreateCompany("BENCH", "Bench S.r.l.", "IT", "EUR",
                                     vat_id="IT00743110157", iban=ACCOUNT))
    n_customers = max(1, open_items // 20)
    now = datetime(2026, 10, 30, 18, tzinfo=UTC)
    rng = random.Random(seed)
    known = {i for i in range(1, n_customers + 1) if rng.random() < 0.85}
    # The generator's pool: every k-th customer, enough items for twice the lines.
    step = max(1, n_customers * 20 // max(1, 2 * lines))
    sampled = {i for i in range(1, n_customers + 1) if i % step == 0}
    pool: dict[int, list[SimItem]] = {i: [] for i in sampled}
    customers: dict[int, SimCustomer] = {}
    with engine.begin() as conn:
        rows = []
        for i in range(1, n_customers + 1):
            rows.append({
                "id": i, "company_id": company, "code": f"C-{i:07d}", "name": customer_name(i),
                "country": "DE", "currency": "EUR", "language": "de", "vat_id": "",
                "tax_code": "", "email": "", "billing_address": {}, "shipping_address": {},
                "payment_terms_code": "NET30", "credit_limit": None, "credit_blocked": False,
                "overdue_hold_days": None, "invoice_policy": "on_shipment",
                "buyer_reference": "", "version": 0, "created_at": now})
            if i in sampled:
                customers[i] = SimCustomer(i, customer_name(i), customer_iban(i), i in known)
        for start in range(0, len(rows), 10000):
            conn.execute(insert(t.customers), rows[start : start + 10000])
        conn.execute(insert(t.bank_payer_accounts), [
            {"company_id": company, "iban": customer_iban(i), "customer_id": i}
            for i in sorted(known)])
    progress(f"{n_customers} customers")
    insert_invoice = Statement(insert(t.invoices))
    insert_item = Statement(insert(t.open_items))
    total = D(0)
    batch_inv: list[dict[str, Any]] = []
    batch_oi: list[dict[str, Any]] = []
    conn_cm = engine.begin()
    conn = conn_cm.__enter__()
    try:
        for i in range(1, open_items + 1):
            customer = (i - 1) % n_customers + 1
            issue = FIRST_DAY + timedelta(days=(i - 1) * 360 // open_items)
            due = issue + timedelta(days=30)
            number = f"INV-2026-{i:05d}"
            gross = amount_of(rng)
            net = (gross / D("1.19")).quantize(D("0.01"))
            reference = creditor_reference(number)
            total += gross
            batch_inv.append({
                "id": i, "kind": "invoice", "state": "posted", "number": number,
                "company_id": company, "customer_id": customer, "currency": "EUR",
                "company_currency": "EUR", "fx_rate": D(1), "issue_date": issue,
                "delivery_date": issue, "due_date": due, "order_id": None, "order_number": "",
                "order_reference": "", "buyer_reference": "", "shipment_id": None,
                "corrects_invoice_id": None, "corrects_number": "", "reason": "",
                "seller": {}, "buyer": {}, "payment_means_code": "58", "payee_iban": ACCOUNT,
                "remittance_reference": reference, "payment_terms_code": "NET30",
                "payment_terms_text": "Net 30 days", "discount_percent": D(0),
                "discount_until": None, "discount_amount": D(0), "net_amount": net,
                "tax_amount": gross - net, "gross_amount": gross,
                "tax_amount_company": gross - net, "gross_amount_company": gross,
                "installments": [], "version": 0, "created_at": now})
            batch_oi.append({
                "invoice_id": i, "kind": "invoice", "number": number, "company_id": company,
                "customer_id": customer, "currency": "EUR", "company_currency": "EUR",
                "issue_date": issue, "amount": gross, "residual": gross,
                "amount_company": gross, "residual_company": gross, "paid": D(0),
                "credited": D(0), "due_date": due, "final_due_date": due, "installments": [],
                "version": 0})
            if customer in pool:
                pool[customer].append(SimItem(i, number, customer, gross, reference, due))
            if len(batch_inv) == 10000:
                insert_invoice.run_many(conn, batch_inv)
                insert_item.run_many(conn, batch_oi)
                batch_inv, batch_oi = [], []
                if i % 200000 == 0:
                    progress(f"{i} invoices")
        if batch_inv:
            insert_invoice.run_many(conn, batch_inv)
            insert_item.run_many(conn, batch_oi)
        # One opening entry keeps the AR control account equal to the open items.
        entry_id = conn.execute(insert(t.journal_entries).values(
            company_id=company, entry_date=FIRST_DAY, source_type="opening", source_id=None,
            memo="opening receivables", reverses_entry_id=None, created_at=now)
            .returning(t.journal_entries.c.id)).scalar_one()
        conn.execute(insert(t.journal_lines), [
            {"entry_id": entry_id, "company_id": company, "account": RECEIVABLE,
             "debit": total, "credit": D(0), "customer_id": None, "currency": "",
             "amount_currency": D(0)},
            {"entry_id": entry_id, "company_id": company, "account": REVENUE, "debit": D(0),
             "credit": total, "customer_id": None, "currency": "", "amount_currency": D(0)}])
    finally:
        conn_cm.__exit__(None, None, None)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for table in ("customers", "invoices", "open_items"):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))")
            conn.exec_driver_sql("ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    progress(f"{open_items} invoices and open items")
    return pool, customers


def outcome(engine: Engine, config: MatchConfig) -> dict[str, dict[str, Any]]:
    bl = t.bank_lines
    found: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        for r in conn.execute(select(bl.c.bank_reference, bl.c.score, bl.c.kind,
                                     bl.c.customer_id, bl.c.proposal)).mappings():
            score = r["score"] if r["score"] is not None else D(0)
            decision = ("auto" if score >= config.auto_threshold else
                        "review" if score >= config.review_threshold else "unmatched")
            found[r["bank_reference"]] = {
                "decision": decision, "kind": r["kind"], "customer_id": r["customer_id"],
                "invoice_ids": [a["invoice_id"] for a in r["proposal"].get("allocations", [])]}
    return found


def run(lines: int, open_items: int, db: str, pg_url: str, seed: int) -> dict[str, Any]:
    cleanup = None
    if db == "sqlite":
        folder = tempfile.mkdtemp(prefix="o2c-bench-cash-")
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
    else:
        name = f"o2c_bench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)

        def cleanup() -> None:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()

    def progress(message: str) -> None:
        print(f"  setup: {message}", file=sys.stderr, flush=True)

    engine = make_engine(url)
    try:
        upgrade(engine)
        clock = SettableClock(datetime(2026, 10, 30, 18, tzinfo=UTC))
        bus = bootstrap(Settings(database_url=url), engine=engine, clock=clock).bus
        started = time.perf_counter()
        pool, customers = setup(engine, bus, open_items, lines, seed, progress)
        statement_lines, labels = generate(pool, customers, lines, seed=seed, on=AS_OF)
        del pool
        content = camt.write([statement(statement_lines, ACCOUNT, opening=D("100000.00"))],
                             "camt.053.001.08", message_id="BENCH-1")
        del statement_lines
        setup_seconds = time.perf_counter() - started
        rss_setup = rss_mib()
        progress(f"statement of {lines} lines, {len(content) / 2**20:.1f} MiB")
        phases: dict[str, float] = {}

        started = time.perf_counter()
        imported = bus.handle(c.ImportBankFile(content, "bench.camt053.xml", account=ACCOUNT))
        phases["import"] = time.perf_counter() - started
        del content

        config = MatchConfig()
        started = time.perf_counter()
        matched = bus.handle(c.MatchBankLines(AS_OF))
        phases["match"] = time.perf_counter() - started

        score = evaluate(labels, outcome(engine, config))

        started = time.perf_counter()
        applied_lines = payments = allocations = 0
        errors: dict[int, str] = {}
        for start in range(0, len(matched.auto), APPLY_CHUNK):
            result = bus.handle(c.ApplyBankLines(tuple(matched.auto[start:start + APPLY_CHUNK])))
            applied_lines += len(result.applied)
            payments += result.payments
            allocations += result.allocations
            errors.update(result.errors)
        phases["apply"] = time.perf_counter() - started

        with engine.connect() as conn:
            checks = [check for figures in queries.ledger_figures(conn).values()
                      for check in verify(figures)]
        total = sum(phases.values())
        return {
            "db": db, "lines": lines, "open_items": open_items,
            "total_seconds": round(total, 2),
            "phases": {name: round(seconds, 2) for name, seconds in phases.items()},
            "lines_per_s": round(lines / total, 1),
            "precision": round(score.precision, 5),
            "auto_match_rate": round(score.auto_match_rate, 5),
            "imported": imported.imported, "schema_validated": imported.schema_validated,
            "automatic": len(matched.auto), "review": matched.review,
            "unmatched": matched.unmatched, "applied": applied_lines, "payments": payments,
            "allocations": allocations, "apply_errors": len(errors),
            "by_pattern": score.by_pattern, "ledger_verified": all(ch.ok for ch in checks),
            "setup_seconds": round(setup_seconds, 1),
            "rss_after_setup_mib": round(rss_setup, 1), "peak_rss_mib": round(rss_mib(), 1),
            "python": sys.version.split()[0],
        }
    finally:
        engine.dispose()
        if cleanup is not None:
            cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--open-items", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default=os.environ.get("O2C_BENCH_PG_URL", DEFAULT_PG),
                        help="server to create a scratch database on")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    result = run(args.lines, args.open_items, args.db, args.pg_url, args.seed)
    for key in ("total_seconds", "phases", "precision", "auto_match_rate", "peak_rss_mib"):
        print(f"{key:>20}: {result[key]}", file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
