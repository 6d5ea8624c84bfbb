"""Property: whatever invoice we build (several rates, line and document allowances and
charges, credit notes, foreign currency, zero-rated, exempt, reverse charge, intra-EU supply,
export), the CII and the UBL we write pass the official XSD and the EN 16931 schematron with no
fatal assert, reading them back gives the same totals and VAT breakdown, and the FatturaPA
passes its 1.2.3 XSD."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from o2c.adapters.einvoice import cii, fatturapa, incoming, ubl, validation
from o2c.domain.einvoice import HUNDRED, Document
from o2c.domain.money import round_amount
from tests.fixtures.einvoices import documents


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_generated_invoices_validate_and_read_back_with_the_same_totals(doc: Document) -> None:
    t = doc.totals
    # EN 16931 arithmetic of the model itself
    assert t.line_total == sum(line.net_amount for line in doc.lines)  # BR-CO-10
    assert t.tax_exclusive == t.line_total - t.allowance_total + t.charge_total  # BR-CO-13
    assert t.tax_inclusive == t.tax_exclusive + t.tax_total  # BR-CO-15
    assert t.payable == t.tax_inclusive - t.prepaid + t.rounding  # BR-CO-16
    for b in doc.breakdown:  # BR-CO-17
        assert b.tax == round_amount(b.taxable * b.rate / HUNDRED, doc.currency)
    for kind, xml in (("facturx-en16931", cii.write(doc)), (ubl.kind_of(doc), ubl.write(doc))):
        report = validation.validate(kind, xml)
        assert report.ok, (kind, [str(f) for f in report.errors])
        back = incoming.parse(xml)
        assert back.totals == doc.totals, kind
        assert back.breakdown == doc.breakdown, kind
        assert back.tax_total_accounting == doc.tax_total_accounting, kind
        assert (back.type_code, back.currency) == (doc.type_code, doc.currency)
    # The same document as FatturaPA (our seller is Italian) passes the 1.2.3 XSD, and its
    # DatiRiepilogo add up to the document total.
    fattura = fatturapa.write(doc, None, 1)
    validation.ensure_valid("fatturapa", fattura.xml)
    summaries = fatturapa.parse(fattura.xml).summaries
    assert sum(base + tax for _, _, base, tax in summaries) == t.tax_inclusive
