"""The bar of the issue on the simulator's adversarial labelled statement, end to end
(file -> import -> match -> apply) on a real database: precision of automatic matches
>= 99.5% with payer IBANs known and on a new installation (cold), automatic matching of
>= 90% (known) and >= 60% (cold) of the lines that can be matched, and no automatic
application to another customer than the one who paid."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from o2c.adapters.bank import camt
from o2c.adapters.db import tables as t
from o2c.bootstrap import App
from o2c.demo.bank_statement import ACCOUNT, AS_OF, evaluate, generate, seed_receivables, statement
from o2c.domain import commands as c
from o2c.domain.reconciliation import MatchConfig
from tests.services import support as s

D = Decimal


@pytest.mark.parametrize(("cold", "automatic"), [(False, 0.90), (True, 0.60)],
                         ids=["ibans-known", "cold"])
def test_the_adversarial_statement_meets_the_precision_and_automation_bars(
        app: App, cold: bool, automatic: float) -> None:
    pool, customers = seed_receivables(app.engine, app.bus, open_items=20_000, lines=2_000,
                                       seed=11, cold=cold)
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
    assert score.auto_match_rate >= automatic, score.as_json()
    truth = {label.bank_reference: label.customer_id for label in labels}
    wrong_customer = [ref for ref, got in outcome.items() if got["decision"] == "auto"
                      and got["customer_id"] is not None and got["customer_id"] != truth[ref]]
    assert wrong_customer == []
    applied = app.bus.handle(c.ApplyBankLines(tuple(matched.auto)))
    assert applied.errors == {} and len(applied.applied) == len(matched.auto)
    failing = [ch for ch in s.ledger_checks(app.engine) if not ch.ok]
    assert failing == []
