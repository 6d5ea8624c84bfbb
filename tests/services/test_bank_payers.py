"""Customers' bank accounts and groups in cash application (issue 17): payer IBANs registered
in master data or learnt from payment history, a parent paying for its subsidiaries, and what
a camt file says beyond the free text (referred documents, ultimate debtor)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from o2c.adapters.db import tables as t
from o2c.bootstrap import App
from o2c.domain import commands as c
from o2c.domain.errors import Conflict, RuleViolation
from tests.fixtures.world import World
from tests.services import support as s
from tests.services.bank_support import ACCOUNT, entry, invoice, statement_file

D = Decimal
AS_OF = date(2026, 3, 31)
ROSSI_IBAN = "IT02L1234512345123456789012"
HOLDING_IBAN = "IT45R0300203280000400162854"


def _run(app: App, *lines: object, name: str = "statement.xml") -> list[dict[str, object]]:
    app.bus.handle(c.ImportBankFile(statement_file(list(lines)), name, account=ACCOUNT))
    matched = app.bus.handle(c.MatchBankLines(AS_OF))
    applied = app.bus.handle(c.ApplyBankLines(tuple(matched.auto)))
    assert applied.errors == {}
    return s.rows(app.engine, t.bank_lines)


def _payers(app: App) -> dict[str, tuple[int, str]]:
    return {r["iban"]: (r["customer_id"], r["source"])
            for r in s.rows(app.engine, t.bank_payer_accounts)}


def test_a_payer_iban_registered_in_master_data_lets_an_exact_amount_apply_automatically(
        app: App, world: World) -> None:
    invoice(app, world, "rossi")  # 146.40
    rossi = world.customers["rossi"]
    assert app.bus.handle(c.RegisterPayerAccounts(world.company_id, ((ROSSI_IBAN, rossi),))
                          ) == 1
    assert _payers(app) == {ROSSI_IBAN: (rossi, "master_data")}
    [line] = _run(app, entry("146.40", text="bonifico", name="R.A. SPA", iban=ROSSI_IBAN))
    assert line["status"] == "applied" and line["customer_id"] == rossi


def test_an_iban_known_for_another_customer_moves_only_when_asked(app: App,
                                                                  world: World) -> None:
    rossi, dupont = world.customers["rossi"], world.customers["dupont"]
    app.bus.handle(c.RegisterPayerAccounts(world.company_id, ((ROSSI_IBAN, rossi),)))
    with pytest.raises(Conflict):
        app.bus.handle(c.RegisterPayerAccounts(world.company_id, ((ROSSI_IBAN, dupont),)))
    app.bus.handle(c.RegisterPayerAccounts(world.company_id, ((ROSSI_IBAN, dupont),),
                                           replace=True))
    assert _payers(app) == {ROSSI_IBAN: (dupont, "master_data")}


def test_payer_ibans_are_learnt_from_payment_history_when_they_paid_one_customer_only(
        app: App, world: World) -> None:
    rossi, dupont = world.customers["rossi"], world.customers["dupont"]
    shared = "DE89370400440532013000"
    for customer, iban in ((rossi, ROSSI_IBAN), (rossi, ROSSI_IBAN), (rossi, shared),
                           (dupont, shared)):
        app.bus.handle(c.RecordPayment(customer, D("10.00"), "EUR", date(2026, 3, 1),
                                       payer_iban=iban))
    assert app.bus.handle(c.ImportPayerAccountsFromHistory(world.company_id)) == 1
    assert _payers(app) == {ROSSI_IBAN: (rossi, "history")}
    assert app.bus.handle(c.ImportPayerAccountsFromHistory(world.company_id)) == 0


def test_a_parents_payments_go_to_the_subsidiary_the_line_names_not_the_first_one_learnt(
        app: App, world: World) -> None:
    rossi, dupont = world.customers["rossi"], world.customers["dupont"]
    holding = app.bus.handle(c.CreateCustomer(world.company_id, "Gruppo Holding S.p.A.", "IT",
                                              vat_id="IT01234560017"))
    for child in (rossi, dupont):
        app.bus.handle(c.SetCustomerParent(child, holding))
    first = invoice(app, world, "rossi")  # 146.40
    second = invoice(app, world, "dupont")  # another subsidiary
    # The holding pays Rossi's invoice with its RF reference: its IBAN is learnt for the group.
    _run(app, entry("146.40", ref=str(first["remittance_reference"]),
                    name="GRUPPO HOLDING SPA", iban=HOLDING_IBAN))
    assert _payers(app) == {HOLDING_IBAN: (holding, "learned")}
    # Then it pays Dupont's invoice, no reference, naming Dupont as ultimate debtor.
    lines = _run(app, entry(str(second["gross_amount"]), name="GRUPPO HOLDING SPA",
                            iban=HOLDING_IBAN,
                            ultimate="DUPONT SARL", bank_ref="B2"), name="second.xml")
    assert (lines[1]["status"], lines[1]["customer_id"]) == ("applied", dupont)
    assert s.open_item(app.engine, int(second["id"]))["residual"] == 0


def test_groups_have_one_level_and_one_company(app: App, world: World) -> None:
    rossi, dupont = world.customers["rossi"], world.customers["dupont"]
    with pytest.raises(RuleViolation):
        app.bus.handle(c.SetCustomerParent(rossi, rossi))
    app.bus.handle(c.SetCustomerParent(rossi, dupont))
    with pytest.raises(RuleViolation):
        app.bus.handle(c.SetCustomerParent(dupont, world.customers["acme_us"]))


def test_a_referred_document_number_in_a_camt_file_pays_its_invoice(app: App,
                                                                    world: World) -> None:
    inv = invoice(app, world, "dupont")
    [line] = _run(app, entry(str(inv["gross_amount"]), referred=str(inv["number"]),
                             name="ACME PAYMENTS LTD"))
    assert line["status"] == "applied" and line["customer_id"] == world.customers["dupont"]
    assert any("structured reference" in r for r in line["reasons"])


def test_a_usd_invoice_paid_into_the_eur_account_is_applied_at_the_banks_rate(
        app: App, world: World) -> None:
    inv = invoice(app, world, "acme_us")  # USD, booked at 0.9 EUR per USD
    usd = D(str(inv["gross_amount"]))
    eur = (usd * D("0.92")).quantize(D("0.01"))  # the bank's rate on the day of payment
    line = entry(str(eur), ref=str(inv["remittance_reference"]), name="SMITH & CO INC")
    line = type(line)(**{**{f: getattr(line, f) for f in type(line).__slots__},
                         "instructed_amount": usd, "instructed_currency": "USD"})
    [row] = _run(app, line)
    assert row["status"] == "applied", row["reasons"]
    assert s.open_item(app.engine, int(inv["id"]))["residual"] == 0
    payment = s.row(app.engine, t.payments, int(row["payment_id"]))
    assert (payment["currency"], payment["amount"], payment["amount_company"]) == (
        "USD", usd, eur)
    assert [ch for ch in s.ledger_checks(app.engine) if not ch.ok] == []


def test_a_usd_invoice_paid_in_eur_without_exchange_details_uses_the_days_rate(
        app: App, world: World) -> None:
    inv = invoice(app, world, "acme_us")
    usd = D(str(inv["gross_amount"]))
    eur = (usd * D("0.9")).quantize(D("0.01")) + D("0.03")  # a few cents off the day's rate
    [row] = _run(app, entry(str(eur), ref=str(inv["remittance_reference"])))
    assert row["status"] == "applied", row["reasons"]
    assert any("exchange difference" in r for r in row["reasons"])
    assert s.open_item(app.engine, int(inv["id"]))["residual"] == 0
    payment = s.row(app.engine, t.payments, int(row["payment_id"]))
    assert (payment["currency"], payment["amount"], payment["amount_company"]) == (
        "USD", usd, eur)
    assert [ch for ch in s.ledger_checks(app.engine) if not ch.ok] == []
