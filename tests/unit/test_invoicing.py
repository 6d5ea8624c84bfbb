"""Invoices: drafted, posted once with a legal number, corrected only by credit notes that never
credit more than was invoiced."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from stdnum import iso11649

from o2c.domain.errors import InvalidInput, InvalidTransition, RuleViolation
from o2c.domain.invoicing import Invoice, InvoiceKind, credit_note_lines
from o2c.domain.payment_terms import PaymentTerms, TermLine
from tests.unit import builders

D = Decimal
ON = date(2026, 3, 2)
TERMS_3060 = PaymentTerms(code="3060", name="3060",
                          lines=(TermLine(D(50), 30), TermLine(D(50), 60)),
                          discount_percent=D(2), discount_days=10)


def test_a_draft_is_priced_per_line_and_taxed_per_breakdown() -> None:
    draft = builders.draft_invoice(("2", "120.00", "22"), ("3", "19.90", "4"),
                                   ("1", "1.03", "22"))
    assert [line.net_amount for line in draft.lines] == [D("240.00"), D("59.70"), D("1.03")]
    assert [(t.vat_rate, t.taxable_amount, t.tax_amount) for t in draft.taxes] == [
        (D(22), D("241.03"), D("53.03")), (D(4), D("59.70"), D("2.39"))]
    assert (draft.net_amount, draft.tax_amount, draft.gross_amount) == (
        D("300.73"), D("55.42"), D("356.15"))
    assert draft.number == "" and not draft.is_posted


def test_posting_numbers_the_invoice_and_fixes_terms_due_dates_and_reference() -> None:
    invoice = builders.draft_invoice(("1", "100.00", "22"))
    invoice.post("INV-2026-00042", TERMS_3060, builders.ROUNDING)
    assert invoice.is_posted and invoice.number == "INV-2026-00042"
    assert [(i.due_date, i.amount) for i in invoice.installments] == [
        (date(2026, 4, 1), D("61.00")), (date(2026, 5, 1), D("61.00"))]
    assert invoice.due_date == date(2026, 5, 1)
    assert (invoice.discount_percent, invoice.discount_until, invoice.discount_amount) == (
        D(2), date(2026, 3, 12), D("2.44"))
    assert invoice.payment_terms_text == "50% at 30 days, 50% at 60 days; 2% discount if " \
                                         "paid within 10 days"
    assert iso11649.is_valid(invoice.remittance_reference)
    [event] = invoice.events
    assert (event.name, event.data["number"], event.data["gross_amount"]) == (
        "posted", "INV-2026-00042", "122.00")
    with pytest.raises(InvalidTransition):
        invoice.post("INV-2026-00043", TERMS_3060, builders.ROUNDING)
    assert invoice.number == "INV-2026-00042"


def test_foreign_currency_amounts_are_converted_per_breakdown() -> None:
    invoice = builders.draft_invoice(("3", "33.33", "22"), currency="USD", fx_rate="0.9137")
    [tax] = invoice.taxes
    assert (tax.taxable_amount, tax.tax_amount) == (D("99.99"), D("22.00"))
    assert (tax.taxable_amount_company, tax.tax_amount_company) == (D("91.36"), D("20.10"))
    assert invoice.gross_amount_company == D("111.46")
    assert invoice.tax_amount_company == D("20.10")


@pytest.mark.parametrize(("changes", "field"), [
    ({"lines": []}, "lines"), ({"fx_rate": D(0)}, "fx_rate"),
])
def test_a_draft_needs_lines_and_a_positive_rate(changes: dict[str, object], field: str) -> None:
    base: dict[str, object] = {
        "kind": InvoiceKind.INVOICE, "company_id": 1, "customer_id": 1, "currency": "EUR",
        "company_currency": "EUR", "fx_rate": D(1), "issue_date": ON,
        "seller": builders.SELLER, "buyer": builders.BUYER,
        "lines": builders.invoice_lines(("1", "1.00", "22")), "rounding": builders.ROUNDING}
    base.update(changes)
    with pytest.raises(InvalidInput) as error:
        Invoice.draft(**base)  # type: ignore[arg-type]
    assert error.value.field == field


def test_a_credit_note_has_no_terms_and_is_due_at_once() -> None:
    note = builders.draft_invoice(("1", "10.00", "22"), kind=InvoiceKind.CREDIT_NOTE)
    note.post("CN-2026-00001", TERMS_3060, builders.ROUNDING)
    assert [(i.due_date, i.amount) for i in note.installments] == [(ON, D("12.20"))]
    assert note.remittance_reference == "" and note.discount_amount == 0


# -- credit note lines ---------------------------------------------------------------------------

def _ids(invoice: Invoice) -> list[int]:
    return [line.id for line in invoice.lines if line.id is not None]


def test_crediting_the_whole_invoice_credits_what_is_left_of_every_line() -> None:
    invoice = builders.posted_invoice(("5", "120.00", "22"), ("2", "19.90", "4"))
    first, second = _ids(invoice)
    lines = credit_note_lines(invoice, None, {first: (D(2), D("240.00"))})
    assert [(x.corrects_line_id, x.quantity, x.unit_price) for x in lines] == [
        (first, D(3), D("120.00")), (second, D(2), D("19.90"))]
    assert all(x.vat_rate in (D(22), D(4)) and x.vat_code == "S" for x in lines)


def test_a_partial_credit_note_credits_a_quantity_or_a_lower_price() -> None:
    invoice = builders.posted_invoice(("5", "120.00", "22"))
    [line_id] = _ids(invoice)
    [by_quantity] = credit_note_lines(invoice, [(line_id, D(1), None)], {})
    assert (by_quantity.quantity, by_quantity.unit_price) == (D(1), D("120.00"))
    [by_price] = credit_note_lines(invoice, [(line_id, None, D("12.00"))], {})
    assert (by_price.quantity, by_price.unit_price) == (D(5), D("12.00"))


@pytest.mark.parametrize(("requested", "credited", "error", "field"), [
    ([(0, D(6), None)], None, RuleViolation, "lines[0].quantity"),
    ([(0, D(3), None)], (D(3), D("360.00")), RuleViolation, "lines[0].quantity"),
    ([(0, None, None)], (D(5), D("600.00")), RuleViolation, "lines[0].quantity"),
    ([(0, D(1), D("120.01"))], None, RuleViolation, "lines[0].unit_price"),
    ([(0, D(1), None), (0, D(1), None)], None, InvalidInput, "lines[1].invoice_line_id"),
    ([(999_999, D(1), None)], None, InvalidInput, "lines[0].invoice_line_id"),
    ([], None, InvalidInput, "lines"),
])
def test_a_credit_note_never_credits_more_than_was_invoiced(
        requested: list[tuple[int, Decimal | None, Decimal | None]],
        credited: tuple[Decimal, Decimal] | None, error: type[Exception],
        field: str) -> None:
    invoice = builders.posted_invoice(("5", "120.00", "22"))
    [line_id] = _ids(invoice)
    requested = [(line_id if i == 0 else i, q, p) for i, q, p in requested]
    with pytest.raises(error) as raised:
        credit_note_lines(invoice, requested, {line_id: credited} if credited else {})
    assert getattr(raised.value, "field", None) == field


def test_rounding_cannot_credit_more_net_than_the_line_carried() -> None:
    """3 x 0.335 = 1.005 -> 1.01 invoiced; one unit credited at a time is 0.34 each, so the
    third credit would bring the credited net to 1.02: refused."""
    invoice = builders.posted_invoice(("3", "0.335", "22"))
    [line_id] = _ids(invoice)
    assert invoice.lines[0].net_amount == D("1.01")
    [one] = credit_note_lines(invoice, [(line_id, D(1), None)], {})
    assert one.quantity == D(1)
    credit_note_lines(invoice, [(line_id, D(1), None)], {line_id: (D(1), D("0.34"))})
    with pytest.raises(RuleViolation) as error:
        credit_note_lines(invoice, [(line_id, D(1), None)], {line_id: (D(2), D("0.68"))})
    assert error.value.field == "lines[0].quantity"


def test_only_posted_invoices_can_be_credited() -> None:
    with pytest.raises(RuleViolation):
        credit_note_lines(builders.draft_invoice(), None, {})
    note = builders.draft_invoice(kind=InvoiceKind.CREDIT_NOTE)
    note.post("CN-2026-00001", None, builders.ROUNDING)
    with pytest.raises(RuleViolation):
        credit_note_lines(note, None, {})
