"""Cash application at scale: import a camt.053 statement of N lines, match it against M open
invoices, apply the automatic matches (payments, allocations, journal entries).

Setup (not timed): a company, M/20 customers (85% with a payer IBAN the company has seen, none
with --cold; groups of a parent and three subsidiaries),
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
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select

from o2c.adapters.bank import camt
from o2c.adapters.db import queries
from o2c.adapters.db import tables as t
from o2c.bootstrap import SettableClock, bootstrap
from o2c.config import Settings
from o2c.demo.bank_statement import ACCOUNT, AS_OF, evaluate, generate, seed_receivables, statement
from o2c.domain import commands as c
from o2c.domain.ledger import verify
from o2c.domain.reconciliation import MatchConfig
from scratch import add_database_flags, rss_mib, scratch_engine

D = Decimal
APPLY_CHUNK = 5000



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


def run(lines: int, open_items: int, db: str, pg_url: str, seed: int,
        cold: bool = False) -> dict[str, Any]:
    def progress(message: str) -> None:
        print(f"  setup: {message}", file=sys.stderr, flush=True)

    with scratch_engine(db, pg_url, "o2c-bench-cash") as (url, engine):
        clock = SettableClock(datetime(2026, 10, 30, 18, tzinfo=UTC))
        bus = bootstrap(Settings(database_url=url), engine=engine, clock=clock).bus
        started = time.perf_counter()
        pool, customers = seed_receivables(engine, bus, open_items, lines, seed, progress,
                                           cold=cold)
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

        found = outcome(engine, config)
        score = evaluate(labels, found)
        truth = {label.bank_reference: label.customer_id for label in labels}
        wrong_customer = sum(1 for ref, got in found.items() if got["decision"] == "auto"
                             and got["customer_id"] is not None
                             and got["customer_id"] != truth.get(ref))

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
            "db": db, "lines": lines, "open_items": open_items, "seed": seed, "cold": cold,
            "automatic_wrong": score.automatic - score.automatic_correct,
            "automatic_to_another_customer": wrong_customer,
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--open-items", type=int, default=100_000)
    add_database_flags(parser)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cold", action="store_true",
                        help="a new installation: no payer IBAN known")
    args = parser.parse_args()
    result = run(args.lines, args.open_items, args.db, args.pg_url, args.seed, args.cold)
    for key in ("total_seconds", "phases", "precision", "auto_match_rate", "peak_rss_mib"):
        print(f"{key:>20}: {result[key]}", file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
