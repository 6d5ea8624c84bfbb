"""Bank statements through the bus: import (validated whole, deduplicated), matching with
reasons, applying as payments/allocations/journal entries, rejecting, splitting, un-matching."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from o2c.adapters.db import tables as t
from o2c.bootstrap import App
from o2c.domain import commands as c
from o2c.domain.bank import BankFileError
from o2c.domain.errors import InvalidInput
from o2c.domain.ledger import BANK, BANK_CHARGES, CUSTOMER_CREDIT, RECEIVABLE
from tests.fixtures.world import World
from tests.services import support as s
from tests.services.bank_support import ACCOUNT, ROSSI_IBAN, entry, invoice, statement_file

D = Decimal
AS_OF = date(2026, 3, 31)


def _import(app: App, content: bytes, name: str = "statement.xml") -> object:
    return app.bus.handle(c.ImportBankFile(content, name, account=ACCOUNT))


def _match_and_apply(app: App) -> tuple[object, object]:
    matched = app.bus.handle(c.MatchBankLines(AS_OF))
    applied = app.bus.handle(c.ApplyBankLines(tuple(matched.auto)))
    return matched, applied


def _line(app: App, index: int = 0) -> dict[str, object]:
    return s.rows(app.engine, t.bank_lines)[index]


def test_a_transfer_quoting_the_rf_reference_pays_its_invoice_automatically(
        app: App, world: World) -> None:
    inv = invoice(app, world, "rossi")  # 146.40
    result = _import(app, statement_file([entry("146.40", ref=str(inv["remittance_reference"]),
                                                name="Rossi Arredamenti", iban=ROSSI_IBAN)]))
    assert (result.imported, result.skipped_duplicates, result.schema_validated) == (1, 0, True)
    matched, applied = _match_and_apply(app)
    assert len(matched.auto) == 1 and applied.errors == {}
    line = _line(app)
    assert line["status"] == "applied" and line["score"] >= D("0.90")
    assert any("RF reference" in r and str(inv["number"]) in r for r in line["reasons"])
    assert "amount equals residual" in line["reasons"]
    assert s.open_item(app.engine, int(inv["id"]))["residual"] == 0
    payment = s.row(app.engine, t.payments, int(line["payment_id"]))
    assert (payment["amount"], payment["unapplied"], payment["payer_iban"]) == (
        D("146.40"), D(0), ROSSI_IBAN)
    [booked] = s.entries(app.engine, "payment", payment["id"])
    assert booked["lines"] == {BANK: (D("146.40"), D(0)), CUSTOMER_CREDIT: (D(0), D("146.40"))}
    [allocation] = s.rows(app.engine, t.allocations)
    [alloc_entry] = s.entries(app.engine, "allocation", allocation["id"])
    assert alloc_entry["lines"][RECEIVABLE] == (D(0), D("146.40"))
    assert "received" in s.event_names(app.engine, "payment", payment["id"])
    assert "allocated" in s.event_names(app.engine, "allocation", allocation["id"])


def test_reimporting_the_same_or_an_overlapping_statement_imports_nothing_twice(
        app: App, world: World) -> None:
    first = [entry("10.00", text="a", bank_ref="A1"), entry("20.00", text="b", bank_ref="A2")]
    content = statement_file(first)
    assert _import(app, content).imported == 2
    again = _import(app, content)
    assert (again.imported, again.already_imported) == (0, True)
    overlapping = statement_file([*first, entry("30.00", text="c", bank_ref="A3")],
                                 statement_id="STMT-2")
    result = _import(app, overlapping, "overlap.xml")
    assert (result.imported, result.skipped_duplicates) == (1, 2)
    assert len(s.rows(app.engine, t.bank_lines)) == 3
    files = s.rows(app.engine, t.bank_files)
    assert len(files) == 2 and files[0]["content"] == content
    assert {r["file_id"] for r in s.rows(app.engine, t.bank_lines)} == {f["id"] for f in files}


def test_a_file_whose_balances_do_not_add_up_is_rejected_whole(app: App, world: World) -> None:
    before = s.row_counts(app.engine)
    bad = statement_file([entry("10.00", text="x")], closing=D("999.99"))
    with pytest.raises(BankFileError) as raised:
        _import(app, bad, "bad.xml")
    assert "bad.xml" in str(raised.value) and "closing balance is 999.99" in str(raised.value)
    assert "Stmt[1]" in raised.value.location
    assert s.row_counts(app.engine) == before


def test_a_statement_for_another_account_is_rejected(app: App, world: World) -> None:
    content = statement_file([entry("10.00")], account="DE89370400440532013000")
    with pytest.raises(BankFileError, match="not a bank account of any company"):
        app.bus.handle(c.ImportBankFile(content, "other.xml"))
    with pytest.raises(BankFileError, match="not IT60"):
        app.bus.handle(c.ImportBankFile(content, "other.xml", account=ACCOUNT))


def test_a_short_payment_within_tolerance_writes_off_bank_charges_and_unmatching_reverses_it(
        app: App, world: World) -> None:
    inv = invoice(app, world, "rossi")  # 146.40, paid 140.40: 6.00 charges deducted
    _import(app, statement_file([entry("140.40", ref=str(inv["remittance_reference"]))]))
    _match_and_apply(app)
    line = _line(app)
    assert line["status"] == "applied"
    assert any("short payment of 6.00" in r for r in line["reasons"])
    assert s.open_item(app.engine, int(inv["id"]))["residual"] == 0
    [write_off] = s.entries(app.engine, "bank_write_off", int(line["id"]))
    assert write_off["lines"] == {BANK_CHARGES: (D("6.00"), D(0)), RECEIVABLE: (D(0), D("6.00"))}
    s.assert_ledger_ok(app.engine)

    app.bus.handle(c.UnmatchBankLine(int(line["id"]), "wrong customer"))
    assert s.open_item(app.engine, int(inv["id"]))["residual"] == D("146.40")
    payment = s.row(app.engine, t.payments, int(line["payment_id"]))
    assert payment["state"] == "reversed"
    assert _line(app)["status"] == "rejected"
    balances = s.trial_balance(app.engine, world.company_id)
    debit, credit = balances[BANK_CHARGES]
    assert debit == credit
    s.assert_ledger_ok(app.engine)


def test_a_known_payer_paying_an_amount_without_reference_is_matched_by_amount(
        app: App, world: World) -> None:
    first = invoice(app, world, "rossi")  # 146.40
    second = invoice(app, world, "rossi", "DESK")  # 549.61
    # The first payment teaches the payer's IBAN (it quotes the invoice number).
    _import(app, statement_file([entry("146.40", text=f"inv {first['number']}",
                                       iban=ROSSI_IBAN)]))
    _match_and_apply(app)
    _import(app, statement_file([entry("549.61", text="thank you", iban=ROSSI_IBAN)],
                                statement_id="STMT-2"), "second.xml")
    _matched, applied = _match_and_apply(app)
    assert applied.errors == {} and len(applied.applied) == 1
    line = _line(app, 1)
    assert line["status"] == "applied"
    assert any(f"payer IBAN {ROSSI_IBAN} known" in r for r in line["reasons"])
    assert s.open_item(app.engine, int(second["id"]))["residual"] == 0


def test_one_payment_for_several_invoices_named_in_the_text(app: App, world: World) -> None:
    first = invoice(app, world, "rossi")
    second = invoice(app, world, "rossi", "BOOK")  # 20.70
    total = D("146.40") + D("20.70")
    text = f"Invoices {str(first['number']).replace('-', ' ')}, {second['number']}"
    _import(app, statement_file([entry(str(total), text=text)]))
    _match_and_apply(app)
    assert _line(app)["status"] == "applied"
    assert {a["invoice_id"] for a in s.rows(app.engine, t.allocations)} == {
        first["id"], second["id"]}


def test_an_accepted_over_payment_leaves_unapplied_credit_and_a_partial_one_the_rest_open(
        app: App, world: World) -> None:
    first = invoice(app, world, "rossi")  # 146.40
    second = invoice(app, world, "rossi", "DESK")  # 549.61
    _import(app, statement_file([
        entry("200.00", ref=str(first["remittance_reference"])),
        entry("300.00", ref=str(second["remittance_reference"]))]))
    _match_and_apply(app)
    over, partial = s.rows(app.engine, t.bank_lines)
    assert any("over-payment: 53.60" in r for r in over["reasons"])
    # An over-payment is rare (an invoice paid but not quoted is not): a person accepts it.
    assert over["status"] == "proposed"
    app.bus.handle(c.ApplyBankLines((int(over["id"]),)))
    over = s.rows(app.engine, t.bank_lines)[0]
    assert s.row(app.engine, t.payments, int(over["payment_id"]))["unapplied"] == D("53.60")
    assert any("partial payment: 249.61 stays open" in r for r in partial["reasons"])
    assert s.open_item(app.engine, int(second["id"]))["residual"] == D("249.61")


def test_bank_fees_are_booked_and_unknown_lines_wait_for_a_person(
        app: App, world: World) -> None:
    _import(app, statement_file([entry("-4.50", text="Account maintenance fee",
                                       code="ACMT/MDOP/CHRG"),
                                 entry("77.00", text="who knows", name="Nobody Ltd")]))
    matched, _applied = _match_and_apply(app)
    fee, unknown = s.rows(app.engine, t.bank_lines)
    assert fee["status"] == "applied" and fee["kind"] == "bank_fee"
    [booked] = s.entries(app.engine, "bank_fee", int(fee["id"]))
    assert booked["lines"] == {BANK_CHARGES: (D("4.50"), D(0)), BANK: (D(0), D("4.50"))}
    assert unknown["status"] == "unmatched" and matched.unmatched == 1


def test_a_rejected_proposal_is_not_applied_and_a_split_by_hand_is(
        app: App, world: World) -> None:
    first = invoice(app, world, "rossi")
    second = invoice(app, world, "rossi", "BOOK")
    _import(app, statement_file([entry("100.00", text="on account", name="Rossi Arredamenti")]))
    app.bus.handle(c.MatchBankLines(AS_OF))
    line = _line(app)
    assert line["status"] == "proposed" and line["kind"] == "unapplied"
    app.bus.handle(c.RejectBankProposal(int(line["id"]), "customer says it is for two invoices"))
    assert _line(app)["status"] == "rejected"
    assert app.bus.handle(c.ApplyBankLines((int(line["id"]),))).errors
    app.bus.handle(c.SplitBankLine(int(line["id"]), world.customers["rossi"], (
        c.AllocationInput(int(first["id"]), D("80.00")),
        c.AllocationInput(int(second["id"]), D("20.00")))))
    assert _line(app)["status"] == "applied"
    assert s.open_item(app.engine, int(first["id"]))["residual"] == D("66.40")
    assert s.open_item(app.engine, int(second["id"]))["residual"] == D("0.70")


def test_matching_twice_changes_nothing(app: App, world: World) -> None:
    inv = invoice(app, world, "rossi")
    _import(app, statement_file([entry("146.40", ref=str(inv["remittance_reference"]))]))
    app.bus.handle(c.MatchBankLines(AS_OF))
    first = _line(app)
    app.bus.handle(c.MatchBankLines(AS_OF))
    second = _line(app)
    assert {k: v for k, v in first.items() if k != "version"} == {
        k: v for k, v in second.items() if k != "version"}
    assert s.rows(app.engine, t.payments) == []


def test_tolerances_and_thresholds_are_configurable_per_run(app: App, world: World) -> None:
    inv = invoice(app, world, "rossi")  # 146.40 paid 140.40
    _import(app, statement_file([entry("140.40", ref=str(inv["remittance_reference"]))]))
    strict = app.bus.handle(c.MatchBankLines(AS_OF, charges_tolerance=D("5.00"),
                                             discount_tolerance_percent=D(0)))
    assert len(strict.auto) == 1
    assert any("partial payment: 6.00 stays open" in r for r in _line(app)["reasons"])
    cautious = app.bus.handle(c.MatchBankLines(AS_OF, auto_threshold=D("0.999")))
    assert cautious.auto == [] and cautious.review == 1
    assert any("short payment of 6.00" in r for r in _line(app)["reasons"])
    with pytest.raises(InvalidInput):
        app.bus.handle(c.MatchBankLines(AS_OF, auto_threshold=D("0.5"),
                                        review_threshold=D("0.7")))
