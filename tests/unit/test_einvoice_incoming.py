"""Incoming e-invoices: the CEN EN 16931 test examples (UBL and CII, vendored under
tests/fixtures/en16931 from ConnectingEurope/eInvoicing-EN16931, EUPL 1.2) all parse and pass
the EN 16931 rules; CII rules are picked by the specification identifier (BT-24), so
XRechnung CII is not held to Factur-X; a byte order mark does not break the check; Factur-X
MINIMUM is read with what it carries; ZUGFeRD 1.0 is refused with a message."""

from __future__ import annotations

from pathlib import Path

import pytest
from stdnum import ean
from stdnum.se import orgnr

from o2c.adapters.einvoice import cii, incoming, validation
from o2c.domain.errors import InvalidInput
from tests.fixtures.einvoices import sample

EXAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "en16931"
FILES = sorted(p for p in EXAMPLES.glob("*/*") if p.suffix.lower() == ".xml")
EN16931_ONLY = {"peppol-invoice": "ubl-invoice", "peppol-creditnote": "ubl-creditnote",
                "cii-peppol": "cii"}


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.name}" for p in FILES])
def test_cen_examples_parse_and_pass_the_en16931_rules(path: Path) -> None:
    data = path.read_bytes()
    kind, xml = incoming.detect(data)
    report = validation.validate(EN16931_ONLY.get(kind, kind), xml)
    assert report.ok, [str(f) for f in report.errors]
    doc = incoming.parse(data)
    assert doc.number and doc.currency and doc.lines
    assert doc.totals.payable == doc.totals.tax_inclusive - doc.totals.prepaid \
        + doc.totals.rounding


def test_the_peppol_rules_find_only_the_fake_swedish_and_gln_numbers_of_the_test_files(
        ) -> None:
    """The Peppol-labelled test files pass the Peppol rules except where they use made-up
    organisation numbers and GLNs, which the 2025 rules check and which fail their check
    digits independently (python-stdnum)."""
    peppol = [p for p in FILES if incoming.detect(p.read_bytes())[0].startswith("peppol")]
    assert len(peppol) >= 25
    for path in peppol:
        kind, xml = incoming.detect(path.read_bytes())
        for finding in validation.validate(kind, xml).errors:
            assert finding.rule in ("PEPPOL-COMMON-R049", "PEPPOL-COMMON-R040", "SE-R-013"), (
                path.name, str(finding))
            if finding.rule == "PEPPOL-COMMON-R049":
                assert not orgnr.is_valid(finding.value)
            if finding.rule == "PEPPOL-COMMON-R040":
                assert not ean.is_valid(finding.value)


def test_xrechnung_cii_is_checked_with_the_en16931_rules_not_the_factur_x_profile() -> None:
    data = (EXAMPLES / "cii" / "XRechnung-O.xml").read_bytes()
    kind, xml = incoming.detect(data)
    assert kind == "cii"
    assert validation.validate(kind, xml).ok
    # The Factur-X EN 16931 profile would refuse it: that is what it used to be held to.
    assert not validation.validate("facturx-en16931", xml).ok


def test_a_file_starting_with_a_byte_order_mark_is_checked_not_crashed() -> None:
    xml = cii.write(sample())
    kind, stripped = incoming.detect(b"\xef\xbb\xbf" + xml)
    assert (kind, stripped) == ("cii", xml)
    assert validation.validate(kind, stripped).ok
    assert incoming.parse(b"\xef\xbb\xbf" + xml).number == sample().number


def test_factur_x_minimum_is_read_with_what_it_carries() -> None:
    xml = cii.write(sample()).replace(b"urn:cen.eu:en16931:2017<",
                                      b"urn:factur-x.eu:1p0:minimum<")
    root = incoming.parse_untrusted(xml)
    assert incoming.cii_kind(root, in_pdf=True) == "facturx-minimum"
    minimum = (b'<?xml version="1.0" encoding="UTF-8"?>'
               b'<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:'
               b'CrossIndustryInvoice:100" xmlns:ram="urn:un:unece:uncefact:data:standard:'
               b'ReusableAggregateBusinessInformationEntity:100" xmlns:udt="urn:un:unece:'
               b'uncefact:data:standard:UnqualifiedDataType:100">'
               b"<rsm:ExchangedDocumentContext><ram:GuidelineSpecifiedDocumentContextParameter>"
               b"<ram:ID>urn:factur-x.eu:1p0:minimum</ram:ID>"
               b"</ram:GuidelineSpecifiedDocumentContextParameter></rsm:ExchangedDocumentContext>"
               b"<rsm:ExchangedDocument><ram:ID>F-1</ram:ID><ram:TypeCode>380</ram:TypeCode>"
               b'<ram:IssueDateTime><udt:DateTimeString format="102">20260301</udt:DateTimeString>'
               b"</ram:IssueDateTime></rsm:ExchangedDocument><rsm:SupplyChainTradeTransaction>"
               b"<ram:ApplicableHeaderTradeAgreement><ram:SellerTradeParty><ram:Name>Vendeur"
               b"</ram:Name><ram:PostalTradeAddress><ram:CountryID>FR</ram:CountryID>"
               b"</ram:PostalTradeAddress><ram:SpecifiedTaxRegistration>"
               b'<ram:ID schemeID="VA">FR40303265045</ram:ID></ram:SpecifiedTaxRegistration>'
               b"</ram:SellerTradeParty><ram:BuyerTradeParty><ram:Name>Acheteur</ram:Name>"
               b"</ram:BuyerTradeParty></ram:ApplicableHeaderTradeAgreement>"
               b"<ram:ApplicableHeaderTradeDelivery/><ram:ApplicableHeaderTradeSettlement>"
               b"<ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>"
               b"<ram:SpecifiedTradeSettlementHeaderMonetarySummation>"
               b"<ram:TaxBasisTotalAmount>100.00</ram:TaxBasisTotalAmount>"
               b'<ram:TaxTotalAmount currencyID="EUR">20.00</ram:TaxTotalAmount>'
               b"<ram:GrandTotalAmount>120.00</ram:GrandTotalAmount>"
               b"<ram:DuePayableAmount>120.00</ram:DuePayableAmount>"
               b"</ram:SpecifiedTradeSettlementHeaderMonetarySummation>"
               b"</ram:ApplicableHeaderTradeSettlement></rsm:SupplyChainTradeTransaction>"
               b"</rsm:CrossIndustryInvoice>")
    assert validation.validate("facturx-minimum", minimum).ok
    doc = incoming.parse(minimum)
    assert (doc.number, doc.lines, doc.specification) == ("F-1", (),
                                                           "urn:factur-x.eu:1p0:minimum")
    assert (doc.totals.tax_exclusive, doc.totals.tax_total, doc.totals.payable) == (
        100, 20, 120)
    assert doc.seller.vat_id == "FR40303265045"


def test_zugferd_1_is_refused_with_a_message_saying_what_to_ask_for() -> None:
    old = (b'<?xml version="1.0"?><rsm:CrossIndustryDocument xmlns:rsm="urn:ferd:'
           b'CrossIndustryDocument:invoice:1p0"/>')
    with pytest.raises(InvalidInput, match=r"ZUGFeRD 1\.0.*ZUGFeRD 2\.x or Factur-X"):
        incoming.detect(old)


@pytest.mark.parametrize(("spec", "kind"), [
    (b"urn:factur-x.eu:1p0:basicwl", "facturx-basicwl"),
    (b"urn:zugferd.de:2p0:basicwl", "facturx-basicwl"),
    (b"urn:zugferd.de:2p0:minimum", "facturx-minimum"),
    (b"urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic", "facturx-basic"),
    (b"urn:cen.eu:en16931:2017#conformant#urn:zugferd.de:2p0:extended", "facturx-extended"),
    (b"urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0", "cii"),
])
def test_basic_wl_and_zugferd_2_profiles_are_checked_with_their_own_rules(spec: bytes,
                                                                           kind: str) -> None:
    xml = cii.write(sample()).replace(b"urn:cen.eu:en16931:2017<", spec + b"<")
    assert incoming.cii_kind(incoming.parse_untrusted(xml), in_pdf=True) == kind
