"""Every statement format through the bus, on SQLite and PostgreSQL: imported, matched and
applied; broken files change nothing; the official ISO 20022 samples import."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from o2c.adapters.db import tables as t
from o2c.bootstrap import App
from o2c.domain import commands as c
from o2c.domain.bank import BankFileError
from o2c.domain.ledger import BANK_CHARGES
from tests.fixtures.world import World, build_world
from tests.integration.test_bank_files import SAMPLE_NAMES, SAMPLES
from tests.services import support as s
from tests.services.bank_support import ACCOUNT, invoice

D = Decimal
FIXTURES = Path(__file__).parent.parent / "fixtures" / "bank"


@pytest.fixture
def books(any_app: App) -> Iterator[tuple[App, World, list[int]]]:
    world = build_world(any_app.bus)
    first = invoice(any_app, world, "rossi")  # INV-2026-00001, 146.40
    second = invoice(any_app, world, "rossi", "DESK")  # INV-2026-00002, 549.61
    assert (first["number"], second["number"]) == ("INV-2026-00001", "INV-2026-00002")
    yield any_app, world, [int(first["id"]), int(second["id"])]
    s.assert_ledger_ok(any_app.engine)


@pytest.mark.parametrize("name, profile, paid", [
    ("camt053_v02.xml", None, 2), ("camt053_v04.xml", None, 2), ("camt053_v08.xml", None, 2),
    ("camt054_v02.xml", None, 1), ("camt054_v08.xml", None, 1), ("statement.sta", None, 2),
    ("statement.ofx", None, 2), ("statement_eu.csv", "eu-semicolon", 2),
    ("statement_debit_credit.csv", "debit-credit", 1)])
def test_each_format_imports_matches_and_pays_the_invoices(
        books: tuple[App, World, list[int]], name: str, profile: str | None,
        paid: int) -> None:
    app, _, invoices = books
    content = (FIXTURES / name).read_bytes()
    result = app.bus.handle(c.ImportBankFile(content, name, account=ACCOUNT,
                                             csv_profile=profile))
    assert result.imported == result.lines_in_file > 0
    matched = app.bus.handle(c.MatchBankLines(date(2026, 3, 31)))
    applied = app.bus.handle(c.ApplyBankLines(tuple(matched.auto)))
    assert applied.errors == {}
    residuals = [s.open_item(app.engine, i)["residual"] for i in invoices]
    assert residuals[:paid] == [D(0)] * paid
    lines = s.rows(app.engine, t.bank_lines)
    fees = [row for row in lines if row["kind"] == "bank_fee"]
    for fee in fees:
        assert fee["status"] == "applied"
        [booked] = s.entries(app.engine, "bank_fee", int(fee["id"]))
        assert booked["lines"][BANK_CHARGES] == (-fee["amount"], D(0))
    again = app.bus.handle(c.ImportBankFile(content, name, account=ACCOUNT,
                                            csv_profile=profile))
    assert again.imported == 0
    assert len(s.rows(app.engine, t.bank_lines)) == len(lines)


@pytest.mark.parametrize("name, profile", [
    ("broken_truncated.sta", None), ("broken_wrong_namespace.xml", None),
    ("broken_unbalanced.xml", None), ("broken_xxe.xml", None),
    ("broken_wrong_decimal.csv", "eu-semicolon")])
def test_a_broken_file_is_rejected_whole_and_nothing_is_written(
        books: tuple[App, World, list[int]], name: str, profile: str | None) -> None:
    app, _, _ = books
    before = s.row_counts(app.engine)
    with pytest.raises(BankFileError) as raised:
        app.bus.handle(c.ImportBankFile((FIXTURES / name).read_bytes(), name,
                                        account=ACCOUNT, csv_profile=profile))
    assert raised.value.filename == name and raised.value.location
    assert s.row_counts(app.engine) == before


@pytest.mark.skipif(not SAMPLE_NAMES, reason="shared/standards/iso20022/examples not found")
def test_the_published_iso20022_samples_import(books: tuple[App, World, list[int]]) -> None:
    app, world, _ = books
    for iban, currency in [("50000000054910000003", "SEK"), ("CH0309000000250090342", "CHF"),
                           ("CH2909000000250094239", "CHF")]:
        app.bus.handle(c.AddBankAccount(world.company_id, iban, currency))
    imported = 0
    for sample in SAMPLE_NAMES:
        result = app.bus.handle(c.ImportBankFile((SAMPLES / sample).read_bytes(), sample))
        assert result.imported > 0 and result.schema_validated
        imported += result.imported
    assert len(s.rows(app.engine, t.bank_lines)) == imported
    assert len(s.rows(app.engine, t.bank_files)) == len(SAMPLE_NAMES)
