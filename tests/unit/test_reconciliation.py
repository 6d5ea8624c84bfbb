"""The cash application engine: which open items a bank line pays, how sure it is, and why."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from o2c.domain.reconciliation import (
    Candidates,
    ItemView,
    LineView,
    MatchConfig,
    Matcher,
    ProposalKind,
    WriteOff,
    invoice_numbers,
    one_typo,
    rf_references,
    similarity,
)
from o2c.domain.references import creditor_reference

D = Decimal
CONFIG = MatchConfig()
ROSSI, DUPONT = 1, 2
ROSSI_IBAN = "IT02L1234512345123456789012"


def item(n: int, customer: int, residual: str, due: int = 1) -> ItemView:
    number = f"INV-2026-{n:05d}"
    return ItemView(n, number, customer, "EUR", D(residual), date(2026, 3, due),
                    date(2026, 2, due), creditor_reference(number))


ITEMS = [item(1, ROSSI, "146.40", 1), item(2, ROSSI, "549.61", 2), item(3, ROSSI, "20.70", 3),
         item(4, DUPONT, "1000.00", 4), item(123, DUPONT, "77.00", 5)]


def candidates(*, known_iban: bool = True) -> Candidates:
    found = Candidates()
    found.by_reference = {i.remittance_reference: i for i in ITEMS}
    found.by_number = {i.number: i for i in ITEMS}
    found.customer_by_iban = {ROSSI_IBAN: ROSSI} if known_iban else {}
    found.customer_names = {ROSSI: "Rossi Arredamenti S.p.A.", DUPONT: "Dupont SARL"}
    found.customer_codes = {ROSSI: "C-00001", DUPONT: "C-00002"}
    found.open_items = {ROSSI: [i for i in ITEMS if i.customer_id == ROSSI],
                        DUPONT: [i for i in ITEMS if i.customer_id == DUPONT]}
    return found


def line(amount: str, *, text: str = "", ref: str = "", iban: str = "", name: str = "",
         e2e: str = "", code: str = "", id_: int = 1) -> LineView:
    return LineView(id_, D(amount), "EUR", date(2026, 3, 20), text, ref, e2e, iban, name, code)


def propose(*lines: LineView, **kw: bool):  # type: ignore[no-untyped-def]
    matcher = Matcher(candidates(**kw), CONFIG)
    return [matcher.propose(x) for x in lines]


def test_the_rf_reference_names_the_invoice_and_the_reasons_say_so() -> None:
    [p] = propose(line("146.40", ref=creditor_reference("INV-2026-00001")))
    assert p.kind is ProposalKind.RECEIPT and p.decision(CONFIG) == "auto"
    assert [(a.invoice_id, a.amount) for a in p.allocations] == [(1, D("146.40"))]
    assert p.reasons[0] == "RF reference RF76 INV2 0260 0001 matches invoice INV-2026-00001"
    assert "amount equals residual" in p.reasons


@pytest.mark.parametrize("text", [
    "Payment INV-2026-00002", "inv 2026 00002", "Fattura 2026-00002", "INV20260000002",
    "Rechnung inv2026/00002", "INV-2026-2"])
def test_invoice_numbers_are_found_despite_spaces_dashes_and_a_missing_prefix(
        text: str) -> None:
    [p] = propose(line("549.61", text=text))
    assert [a.invoice_id for a in p.allocations] == [2]
    assert p.decision(CONFIG) == "auto"


def test_one_wrong_digit_is_tolerated_only_against_the_payers_own_invoices() -> None:
    # INV-2026-00123 exists but belongs to Dupont; the payer (Rossi) owes INV-2026-00003.
    [p] = propose(line("20.70", text="Rechnung INV-2026-00013", iban=ROSSI_IBAN))
    assert [a.invoice_id for a in p.allocations] == [3]
    assert any("one character off invoice INV-2026-00003" in r for r in p.reasons)
    assert p.decision(CONFIG) == "auto"
    [unknown] = propose(line("20.70", text="Rechnung INV-2026-00013"), known_iban=False)
    assert unknown.decision(CONFIG) != "auto"


def test_a_known_payer_without_reference_is_matched_by_amount() -> None:
    [p] = propose(line("549.61", iban=ROSSI_IBAN, text="thanks"))
    assert [a.invoice_id for a in p.allocations] == [2]
    assert any(f"payer IBAN {ROSSI_IBAN} known for customer C-00001" in r for r in p.reasons)
    assert p.decision(CONFIG) == "auto"


def test_a_combination_of_the_payers_open_items_adds_up_to_the_amount() -> None:
    [p] = propose(line("570.31", iban=ROSSI_IBAN))  # 549.61 + 20.70
    assert sorted(a.invoice_id for a in p.allocations) == [2, 3]


def test_the_payer_name_alone_is_not_enough_to_apply_automatically() -> None:
    [p] = propose(line("549.61", name="ROSSI ARREDAMENTI SPA"), known_iban=False)
    assert p.customer_id == ROSSI and p.decision(CONFIG) == "review"
    assert any("name similarity" in r for r in p.reasons)


def test_a_short_payment_within_tolerance_is_written_off_and_beyond_it_is_partial() -> None:
    ref = creditor_reference("INV-2026-00004")
    charges, discount, partial = (Matcher(candidates(), CONFIG).propose(line(amount, ref=ref))
                                  for amount in ("992.50", "970.00", "500.00"))
    assert (charges.write_off, charges.write_off_kind) == (D("7.50"), WriteOff.BANK_CHARGES)
    assert (discount.write_off, discount.write_off_kind) == (D("30.00"), WriteOff.DISCOUNT)
    assert partial.write_off == 0 and partial.allocations[0].amount == D("500.00")
    assert any("partial payment: 500.00 stays open" in r for r in partial.reasons)


def test_an_over_payment_leaves_the_rest_as_unapplied_credit() -> None:
    [p] = propose(line("200.00", ref=creditor_reference("INV-2026-00001")))
    assert p.unapplied == D("53.60") and p.allocations[0].amount == D("146.40")


def test_two_lines_never_settle_the_same_residual() -> None:
    ref = creditor_reference("INV-2026-00001")
    first, second = propose(line("146.40", ref=ref, id_=1), line("146.40", ref=ref, id_=2))
    assert first.allocations and not second.allocations
    assert second.kind is ProposalKind.UNAPPLIED and second.decision(CONFIG) != "auto"


def test_outgoing_lines_are_classified() -> None:
    fee, refund, returned = propose(
        line("-4.50", text="Account maintenance fee", id_=1),
        line("-50.00", text="Refund", iban=ROSSI_IBAN, id_=2),
        line("-146.40", text="RUECKLASTSCHRIFT MD06", id_=3))
    assert (fee.kind, fee.decision(CONFIG)) == (ProposalKind.BANK_FEE, "auto")
    assert (refund.kind, refund.customer_id) == (ProposalKind.REFUND, ROSSI)
    assert returned.kind is ProposalKind.RETURNED_DEBIT and returned.decision(CONFIG) != "auto"


def test_a_reference_of_one_customer_paid_from_anothers_account_goes_to_review() -> None:
    [p] = propose(line("1000.00", ref=creditor_reference("INV-2026-00004"), iban=ROSSI_IBAN))
    assert p.decision(CONFIG) == "review"
    assert any("payer IBAN belongs to customer C-00001" in r for r in p.reasons)


def test_key_extraction_helpers() -> None:
    refs = rf_references(line("1", text="RF76 INV2 0260 0001 and RF49INV202600002"))
    assert refs == ["RF76INV202600001", "RF49INV202600002"]
    assert invoice_numbers(line("1", text="INV 2026 00001, 2026-00002")) == [
        "INV-2026-00001", "INV-2026-00002"]
    assert one_typo("INV-2026-00013", "INV-2026-00003")
    assert one_typo("INV-2026-00031", "INV-2026-00013")
    assert not one_typo("INV-2026-00001", "INV-2026-00022")
    assert similarity("ROSSI ARREDAMENTI SPA", "Rossi Arredamenti S.p.A.") == D("1.0")
