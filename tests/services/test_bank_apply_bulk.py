"""Applying automatic matches in bulk (one command for a whole chunk of lines) books
exactly what applying the same lines one by one books (the accept path of the back office:
one command per line): same payments, allocations, journal lines, open-item residuals and
line statuses, on two identical databases built from the same seed."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from o2c.adapters.bank import camt
from o2c.adapters.db import tables as t
from o2c.adapters.db.engine import make_engine
from o2c.bootstrap import SettableClock, bootstrap
from o2c.config import Settings
from o2c.demo.bank_statement import ACCOUNT, AS_OF, generate, seed_receivables, statement
from o2c.domain import commands as c
from tests.conftest import START, empty_postgres
from tests.services import support as s

D = Decimal


def _booked(engine: Engine) -> dict[str, Any]:
    """Everything the apply writes that matters to the business, in id order."""
    p, a, jl, je = t.payments, t.allocations, t.journal_lines, t.journal_entries
    oi, bl = t.open_items, t.bank_lines
    with engine.connect() as conn:
        return {
            "payments": conn.execute(select(
                p.c.id, p.c.customer_id, p.c.currency, p.c.amount, p.c.amount_company,
                p.c.received_on, p.c.reference, p.c.payer_iban, p.c.unapplied,
                p.c.unapplied_company, p.c.state, p.c.fx_rate).order_by(p.c.id)).all(),
            "allocations": conn.execute(select(
                a.c.id, a.c.payment_id, a.c.invoice_id, a.c.amount, a.c.source_company,
                a.c.target_company, a.c.allocated_on).order_by(a.c.id)).all(),
            "journal": conn.execute(select(
                je.c.entry_date, je.c.source_type, je.c.source_id, jl.c.account, jl.c.debit,
                jl.c.credit, jl.c.customer_id, jl.c.amount_currency)
                .join_from(jl, je, jl.c.entry_id == je.c.id)
                .order_by(je.c.source_type, je.c.source_id, jl.c.account, jl.c.debit,
                          jl.c.credit)).all(),
            "residuals": conn.execute(select(
                oi.c.id, oi.c.residual, oi.c.residual_company, oi.c.paid)
                .order_by(oi.c.id)).all(),
            "lines": conn.execute(select(bl.c.id, bl.c.status, bl.c.payment_id,
                                         bl.c.applied_on).order_by(bl.c.id)).all(),
        }


def _apply(url: str, one_by_one: bool) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        app = bootstrap(Settings(database_url=url), engine=engine,
                        clock=SettableClock(START))
        pool, customers = seed_receivables(engine, app.bus, open_items=3_000, lines=400,
                                           seed=5)
        lines, _ = generate(pool, customers, 400, seed=5, on=AS_OF)
        content = camt.write([statement(lines, ACCOUNT, opening=D("5000.00"))])
        app.bus.handle(c.ImportBankFile(content, "labelled.xml", account=ACCOUNT))
        auto = app.bus.handle(c.MatchBankLines(AS_OF)).auto
        assert len(auto) > 200
        if one_by_one:
            for line_id in auto:
                result = app.bus.handle(c.ApplyBankLines((line_id,)))
                assert result.errors == {} and result.applied == [line_id]
        else:
            result = app.bus.handle(c.ApplyBankLines(tuple(auto)))
            assert result.errors == {} and sorted(result.applied) == sorted(auto)
        assert [ch for ch in s.ledger_checks(engine) if not ch.ok] == []
        return _booked(engine)
    finally:
        engine.dispose()


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_bulk_apply_books_what_line_by_line_apply_books(
        db: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    if db == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        urls = []
        for name in ("bulk.db", "one_by_one.db"):
            shutil.copyfile(template, tmp_path / name)
            urls.append(f"sqlite:///{tmp_path / name}")
        bulk, one_by_one = _apply(urls[0], False), _apply(urls[1], True)
    else:  # one PostgreSQL database, emptied (identities restarted) between the two runs
        url: str = request.getfixturevalue("pg_url")
        bulk = _apply(url, False)
        empty_postgres(url)
        one_by_one = _apply(url, True)
    assert bulk["payments"] and bulk["allocations"] and bulk["journal"]
    for part in bulk:
        assert bulk[part] == one_by_one[part], part
