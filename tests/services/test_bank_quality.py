"""The bar of the issue on the simulator's labelled statement: precision of automatic matches
>= 99.5% and automatic matching of >= 90% of the lines that can be matched, end to end
(file -> import -> match -> apply) on a real database."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from o2c.adapters.bank import camt
from o2c.adapters.db import tables as t
from o2c.bootstrap import App
from o2c.demo.bank_statement import ACCOUNT, AS_OF, evaluate, generate, seed_receivables, statement
from o2c.domain import commands as c
from o2c.domain.reconciliation import MatchConfig
from tests.services import support as s

D = Decimal


def test_the_labelled_statement_meets_the_precision_and_automation_bars(app: App) -> None:
    pool, customers = seed_receivables(app.engine, app.bus, open_items=20_000, lines=2_000,
                                       seed=11)
    lines, labels = generate(pool, customers, 2_000, seed=11, on=AS_OF)
    content = camt.write([statement(lines, ACCOUNT, opening=D("5000.00"))])
    assert app.bus.handle(c.ImportBankFile(content, "labelled.xml", account=ACCOUNT)
                          ).imported == 2_000
    matched = app.bus.handle(c.MatchBankLines(AS_OF))
    config = MatchConfig()
    bl = t.bank_lines
    with app.engine.connect() as conn:
        rows = conn.execute(select(bl.c.bank_reference, bl.c.score, bl.c.kind,
                                   bl.c.customer_id, bl.c.proposal)).mappings().all()
    outcome = {r["bank_reference"]: {
        "decision": "auto" if (r["score"] or 0) >= config.auto_threshold else "review",
        "kind": r["kind"], "customer_id": r["customer_id"],
        "invoice_ids": [a["invoice_id"] for a in r["proposal"].get("allocations", [])]}
        for r in rows}
    score = evaluate(labels, outcome)
    assert score.precision >= 0.995, score.as_json()
    assert score.auto_match_rate >= 0.90, score.as_json()
    applied = app.bus.handle(c.ApplyBankLines(tuple(matched.auto)))
    assert applied.errors == {} and len(applied.applied) == len(matched.auto)
    failing = [ch for ch in s.ledger_checks(app.engine) if not ch.ok]
    assert failing == []
