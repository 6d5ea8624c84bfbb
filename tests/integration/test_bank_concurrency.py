"""Cash application under concurrency on PostgreSQL: the same proposals applied by several
workers at once are applied exactly once (lines and open items are locked in id order)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from o2c.adapters.db import tables as t
from o2c.bootstrap import App
from o2c.domain import commands as c
from tests.fixtures.world import build_world
from tests.integration.test_concurrency import pg_engine, run_together, setup_app  # noqa: F401
from tests.services import support as s
from tests.services.bank_support import ACCOUNT, entry, invoice, statement_file

pytestmark = pytest.mark.postgres
D = Decimal


def test_the_same_lines_applied_by_four_workers_at_once_are_applied_once(
        setup_app: App) -> None:  # noqa: F811
    app = setup_app
    world = build_world(app.bus)
    invoices = [invoice(app, world, "rossi", "BOOK") for _ in range(6)]
    content = statement_file([entry("20.70", ref=str(i["remittance_reference"]))
                              for i in invoices])
    app.bus.handle(c.ImportBankFile(content, "s.xml", account=ACCOUNT))
    matched = app.bus.handle(c.MatchBankLines(date(2026, 3, 31)))
    assert len(matched.auto) == 6
    results = run_together(app, [c.ApplyBankLines(tuple(matched.auto))] * 4)
    applied = [line_id for r in results if not isinstance(r, BaseException)
               for line_id in r.applied]
    assert sorted(applied) == sorted(matched.auto)
    assert len(s.rows(app.engine, t.payments)) == 6
    assert all(s.open_item(app.engine, int(i["id"]))["residual"] == 0 for i in invoices)
    s.assert_ledger_ok(app.engine)
