"""How long the ledger's reports take as the journal grows.

The trial balance (GET /api/v1/ledger/trial-balance) and `o2c ledger verify` sum every
journal line of a company by account. E journal entries of 3 lines (receivable against
revenue and VAT, as an invoice books them) are posted through the ledger adapter in batches,
spread over A revenue accounts; then each report runs R times. Prints the mean time of each;
last line: one JSON object.

    python bench/trial_balance.py --entries 100000 --db sqlite
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from o2c.adapters.db import queries, tables
from o2c.adapters.db.repositories import Ledger
from o2c.bootstrap import SettableClock, bootstrap
from o2c.config import Settings
from o2c.domain import commands as c
from o2c.domain.ledger import RECEIVABLE, JournalEntry, JournalLine, verify
from scratch import add_database_flags, machine_reference_ms, rss_mib, scratch_engine

BATCH = 2000


def run(entries: int, accounts: int, repeats: int, db: str, pg_url: str) -> dict[str, Any]:
    with scratch_engine(db, pg_url, "o2c-ledger") as (url, engine):
        clock = SettableClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
        bus = bootstrap(Settings(database_url=url), engine=engine, clock=clock).bus
        bus.handle(c.CreatePaymentTerms("NET30", "Net 30 days", ((Decimal(100), 30, False),)))
        company = bus.handle(c.CreateCompany("BENCH", "Bench S.r.l.", "IT", "EUR",
                                             vat_id="IT00743110157"))
        customer = bus.handle(c.CreateCustomer(company, "Customer", "IT",
                                               tax_code="RSSMRA80A01H501U"))
        revenue = [f"40{i:02d}" for i in range(accounts)]
        with engine.begin() as conn:  # the chart of accounts the trial balance names
            known = set(conn.execute(select(tables.accounts.c.code).where(
                tables.accounts.c.company_id == company)).scalars())
            conn.execute(tables.accounts.insert(), [
                {"company_id": company, "code": code, "name": f"Revenue {code}",
                 "type": "revenue"} for code in revenue if code not in known])
        started = time.perf_counter()
        for first in range(0, entries, BATCH):
            with engine.begin() as conn:
                ledger = Ledger(conn, clock())
                for i in range(first, min(first + BATCH, entries)):
                    net = Decimal(100 + i % 900)
                    tax = (net * Decimal("0.22")).quantize(Decimal("0.01"))
                    ledger.post(JournalEntry(
                        company_id=company, entry_date=date(2026, 1, 1) + timedelta(i % 365),
                        source_type="invoice", source_id=i + 1, memo=f"bench {i}",
                        lines=[JournalLine(RECEIVABLE, debit=net + tax, customer_id=customer,
                                           currency="EUR", amount_currency=net + tax),
                               JournalLine(revenue[i % accounts], credit=net),
                               JournalLine("2200", credit=tax)]))
        posting = time.perf_counter() - started

        timings: dict[str, float] = {}
        with engine.connect() as conn:
            for name, report in (("trial_balance", lambda: queries.trial_balance(conn, company)),
                                 ("ledger_figures", lambda: queries.ledger_figures(conn))):
                report()  # warm: statements prepared, pages cached
                started = time.perf_counter()
                for _ in range(repeats):
                    report()
                timings[name] = (time.perf_counter() - started) / repeats
            balanced = queries.trial_balance(conn, company)["balanced"]
            # Receivables were booked without open items: only the balance checks apply.
            entries_balance = all(check.ok for check in verify(queries.ledger_figures(conn)[
                company]) if check.name in ("every entry balances", "trial balance is zero"))
        return {
            "entries": entries, "lines": entries * 3, "db": db, "accounts": accounts,
            "posting_entries_per_s": round(entries / posting, 1),
            "trial_balance_ms": round(timings["trial_balance"] * 1000, 1),
            "ledger_figures_ms": round(timings["ledger_figures"] * 1000, 1),
            "balanced": balanced and entries_balance, "peak_rss_mib": round(rss_mib(), 1),
            "machine_reference_ms": machine_reference_ms(),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=4, help="revenue accounts to spread on")
    parser.add_argument("--repeats", type=int, default=5)
    add_database_flags(parser)
    args = parser.parse_args()
    result = run(args.entries, args.accounts, args.repeats, args.db, args.pg_url)
    print(f"{'posting':>16}: {result['posting_entries_per_s']} entries/s", file=sys.stderr)
    for name in ("trial_balance_ms", "ledger_figures_ms"):
        print(f"{name:>16}: {result[name]} ms ({result['lines']} lines)", file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
