"""What the PDF says of payment and of the seller: each instalment with its date and amount,
the early-payment discount, in the document's language; the Italian seller's register data
(art. 2250 c.c.); a national tax number under its own name, never "VAT number"."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from o2c.adapters.einvoice import pdf
from o2c.domain.parties import Registration
from o2c.domain.payment_terms import EarlyPaymentDiscount, Installment
from tests.fixtures.einvoices import BUYER_US, SITUATIONS, document, sample

D = Decimal


def _in_instalments(language: str) -> object:
    doc = sample(language=language)
    half = doc.totals.payable / 2
    return replace(doc, installments=(Installment(date(2026, 12, 2), half),
                                      Installment(date(2027, 1, 1), doc.totals.payable - half)),
                   early_discount=EarlyPaymentDiscount(D(2), date(2026, 11, 12), D("6.10")))


@pytest.mark.parametrize(("language", "expected"), [
    ("en", ["Payment in 2 instalments", "due on 2026-12-02", "due on 2027-01-01",
            "2% early-payment discount (6.10 EUR) if paid by 2026-11-12"]),
    ("it", ["Pagamento in 2 rate", "con scadenza 02/12/2026", "con scadenza 01/01/2027",
            "Sconto pagamento anticipato 2% (6,10 EUR) entro il 12/11/2026"]),
    ("fr", ["Paiement en 2 échéances", "à échéance du 02/12/2026"]),
    ("es", ["Pago en 2 plazos", "con vencimiento el 01/01/2027"])])
def test_each_instalment_is_shown_with_its_date_and_amount_in_the_documents_language(
        language: str, expected: list[str]) -> None:
    doc = _in_instalments(language)
    lines = pdf.payment_lines(doc)  # type: ignore[arg-type]
    for text in expected:
        assert any(text in line for line in lines), (text, lines)
    assert len([line for line in lines if "2026-12-02" in line or "02/12/2026" in line]) == 1
    html = pdf.html(doc)  # type: ignore[arg-type]
    assert all(line in html for line in lines[:3])


def test_a_single_due_date_is_one_line_and_a_credit_note_has_none() -> None:
    assert pdf.payment_lines(sample()) == ["Payment due on 2026-12-02"]
    assert pdf.payment_lines(sample(credit=True)) == []


def test_the_italian_sellers_register_data_is_on_the_pdf() -> None:
    doc = sample(language="it")
    seller = replace(doc.seller, registration=Registration(
        tax_code="00743110157", register_office="MI", register_number="1234567",
        share_capital=D("50000.00"), sole_shareholder=True))
    line = pdf.register_line(replace(doc, seller=seller))
    assert line == "REA MI-1234567 · Capitale sociale 50.000,00 EUR i.v. · Socio unico"
    assert pdf.register_line(doc) == ""


def test_a_us_tax_number_is_labelled_as_what_it_is_not_as_a_vat_number() -> None:
    category, rate, _ = SITUATIONS["export"]
    doc = document([("Chair", D(1), D("100.00"), category, rate)], buyer=BUYER_US)
    html = pdf.html(doc)
    assert "745667571" in html and "EIN" in html
    assert "VAT number" not in html.split("745667571")[0][-200:]
