"""Incoming e-invoices: UBL 2.1 Invoice/CreditNote (EN 16931, Peppol BIS) and CII (EN 16931,
XRechnung, Peppol, alone or inside a Factur-X / ZUGFeRD 2.x PDF, every Factur-X profile from
MINIMUM to EXTENDED) read into the EN 16931 model, with what each profile carries (MINIMUM and
BASIC WL have no lines). The rules a CII file is checked with follow its specification
identifier (BT-24). ZUGFeRD 1.0 is refused with a message. Untrusted input: no entities, no
network; a UTF-8 byte order mark is dropped."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import facturx
from lxml import etree

from o2c.adapters.einvoice import cii, ubl
from o2c.adapters.einvoice.xmlutil import UntrustedXML, parse_untrusted
from o2c.domain.einvoice import AllowanceCharge, Document, Line, Party, Totals, VatBreakdown
from o2c.domain.errors import InvalidInput
from o2c.domain.money import ZERO

_CII = {"rsm": cii.RSM, "ram": cii.RAM, "udt": cii.UDT, "qdt": cii.QDT}
_UBL = {"cac": ubl.CAC, "cbc": ubl.CBC}
FATTURAPA_NS = "http://ivaservizi.agenziaentrate.gov.it/docs/xsd/fatture/v1.2"


ZUGFERD1_NS = "urn:ferd:CrossIndustryDocument:invoice:1p0"
PEPPOL_BIS = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
EN16931 = "urn:cen.eu:en16931:2017"
# CII specification identifiers (BT-24) of the Factur-X / ZUGFeRD 2.x profiles -> the rules
# they are checked with. "urn:cen.eu:en16931:2017" alone is the EN 16931 profile when the XML
# came out of a Factur-X/ZUGFeRD PDF and plain EN 16931 CII otherwise.
FACTURX_PROFILES = {
    "urn:factur-x.eu:1p0:minimum": "facturx-minimum",
    "urn:zugferd.de:2p0:minimum": "facturx-minimum",
    "urn:factur-x.eu:1p0:basicwl": "facturx-basicwl",
    "urn:zugferd.de:2p0:basicwl": "facturx-basicwl",
    "urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic": "facturx-basic",
    "urn:zugferd.de:2p0:basic": "facturx-basic",
    "urn:cen.eu:en16931:2017#conformant#urn:factur-x.eu:1p0:extended": "facturx-extended",
    "urn:cen.eu:en16931:2017#conformant#urn:zugferd.de:2p0:extended": "facturx-extended",
}
BOM = b"\xef\xbb\xbf"


def guideline(root: etree._Element) -> str:
    """BT-24 of a CII document."""
    found = root.xpath("rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContext"
                       "Parameter/ram:ID/text()", namespaces=_CII)
    return str(found[0]).strip() if isinstance(found, list) and found else ""


def cii_kind(root: etree._Element, in_pdf: bool) -> str:
    """The validation kind of a CII document, chosen by its specification identifier (BT-24)
    and by whether it came inside a PDF (Factur-X / ZUGFeRD) or alone."""
    spec = guideline(root)
    if spec in FACTURX_PROFILES:
        return FACTURX_PROFILES[spec]
    if spec == EN16931:
        return "facturx-en16931" if in_pdf else "cii"
    if spec.startswith(PEPPOL_BIS):
        return "cii-peppol"
    # XRechnung and the other EN 16931 CIUS, and any other CII D16B: the EN 16931 rules.
    return "cii"


def _xml_root(data: bytes) -> etree._Element:
    try:
        return parse_untrusted(data)
    except (etree.XMLSyntaxError, UntrustedXML) as exc:
        raise InvalidInput(f"not an acceptable XML document: {exc}", field="file") from None


def detect(data: bytes) -> tuple[str, bytes]:
    """(validation kind, XML) of a file: a Factur-X/ZUGFeRD PDF yields its embedded CII. A
    UTF-8 byte order mark is dropped (SaxonC refuses it before the XML declaration)."""
    in_pdf = data.startswith(b"%PDF")
    if in_pdf:
        try:
            _name, xml = facturx.get_xml_from_pdf(data, check_xsd=False)
        except Exception as exc:  # pypdf raises many kinds on a damaged file
            raise InvalidInput(f"the PDF cannot be read (damaged or truncated?): {exc}",
                               field="file") from None
        if not xml:
            raise InvalidInput("the PDF carries no Factur-X/ZUGFeRD XML", field="file")
        data = bytes(xml)
    data = data.removeprefix(BOM)
    root = _xml_root(data)
    tag = etree.QName(root)
    if tag.namespace == cii.RSM:
        return cii_kind(root, in_pdf), data
    if tag.namespace == ZUGFERD1_NS:
        raise InvalidInput("ZUGFeRD 1.0 (2014) is not read: ask the sender for ZUGFeRD 2.x or "
                           "Factur-X, which carry the same invoice in EN 16931 form",
                           field="file")
    if tag.namespace == ubl.INVOICE_NS:
        return ("peppol-invoice" if _is_peppol_ubl(root) else "ubl-invoice"), data
    if tag.namespace == ubl.CREDIT_NOTE_NS:
        return ("peppol-creditnote" if _is_peppol_ubl(root) else "ubl-creditnote"), data
    if tag.namespace == FATTURAPA_NS:
        return "fatturapa", data
    raise InvalidInput(f"unknown e-invoice syntax {tag.text!r}", field="file")


def _is_peppol_ubl(root: etree._Element) -> bool:
    found = root.xpath("cbc:CustomizationID/text()", namespaces=_UBL)
    return bool(isinstance(found, list) and found and str(found[0]).strip().startswith(
        PEPPOL_BIS))


def parse(data: bytes) -> Document:
    kind, xml = detect(data)
    root = parse_untrusted(xml)
    if kind == "fatturapa":
        raise InvalidInput("FatturaPA is read with fatturapa.parse", field="file")
    if kind.startswith(("ubl", "peppol")):
        return _Ubl(root).document()
    return _Cii(root).document()


def _decimal(text: str | None, where: str) -> Decimal:
    try:
        return Decimal((text or "").strip())
    except InvalidOperation:
        raise InvalidInput(f"not a number: {text!r}", field=where) from None


class _Reader:
    ns: dict[str, str]

    def __init__(self, root: etree._Element) -> None:
        self.root = root

    def text(self, node: etree._Element, path: str) -> str:
        found = node.xpath(path, namespaces=self.ns)
        if isinstance(found, list) and found:
            first = found[0]
            if isinstance(first, etree._Element):
                return (first.text or "").strip()
            return str(first).strip()
        return ""

    def number(self, node: etree._Element, path: str, default: Decimal | None = None
               ) -> Decimal:
        text = self.text(node, path)
        if not text:
            if default is not None:
                return default
            raise InvalidInput(f"missing {path}", field=path)
        return _decimal(text, path)

    def all(self, node: etree._Element, path: str) -> list[etree._Element]:
        found = node.xpath(path, namespaces=self.ns)
        return [e for e in found if isinstance(e, etree._Element)] \
            if isinstance(found, list) else []


class _Cii(_Reader):
    ns = _CII

    def _date(self, node: etree._Element, path: str) -> date | None:
        text = self.text(node, path)
        return datetime.strptime(text, "%Y%m%d").date() if text else None

    def _party(self, node: etree._Element | None) -> Party:
        if node is None:
            return Party(name="", country="")
        uri = self.all(node, "ram:URIUniversalCommunication/ram:URIID")
        scheme = uri[0].get("schemeID", "") if uri else ""
        return Party(
            name=self.text(node, "ram:Name"),
            country=self.text(node, "ram:PostalTradeAddress/ram:CountryID"),
            vat_id=self.text(node, "ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']"),
            legal_id=self.text(node, "ram:SpecifiedLegalOrganization/ram:ID"),
            line1=self.text(node, "ram:PostalTradeAddress/ram:LineOne"),
            line2=self.text(node, "ram:PostalTradeAddress/ram:LineTwo"),
            city=self.text(node, "ram:PostalTradeAddress/ram:CityName"),
            postal_code=self.text(node, "ram:PostalTradeAddress/ram:PostcodeCode"),
            region=self.text(node, "ram:PostalTradeAddress/ram:CountrySubDivisionName"),
            endpoint_scheme=scheme if scheme != "EM" else "",
            endpoint_id=(uri[0].text or "") if uri and scheme != "EM" else "",
            email=(uri[0].text or "") if uri and scheme == "EM" else "")

    def _ac(self, node: etree._Element) -> AllowanceCharge:
        percent = self.text(node, "ram:CalculationPercent")
        base = self.text(node, "ram:BasisAmount")
        return AllowanceCharge(
            charge=self.text(node, "ram:ChargeIndicator/udt:Indicator") == "true",
            amount=self.number(node, "ram:ActualAmount"),
            reason=self.text(node, "ram:Reason"), reason_code=self.text(node, "ram:ReasonCode"),
            base_amount=_decimal(base, "BasisAmount") if base else None,
            percent=_decimal(percent, "CalculationPercent") if percent else None,
            vat_code=self.text(node, "ram:CategoryTradeTax/ram:CategoryCode"),
            vat_rate=self.number(node, "ram:CategoryTradeTax/ram:RateApplicablePercent", ZERO))

    def document(self) -> Document:
        r = self.root
        tx = "rsm:SupplyChainTradeTransaction/"
        settlement = self.all(r, tx + "ram:ApplicableHeaderTradeSettlement")[0]
        agreement = self.all(r, tx + "ram:ApplicableHeaderTradeAgreement")[0]
        currency = self.text(settlement, "ram:InvoiceCurrencyCode")
        tax_currency = self.text(settlement, "ram:TaxCurrencyCode")
        lines = []
        for item in self.all(r, tx + "ram:IncludedSupplyChainTradeLineItem"):
            ls = "ram:SpecifiedLineTradeSettlement/"
            lines.append(Line(
                id=self.text(item, "ram:AssociatedDocumentLineDocument/ram:LineID"),
                name=self.text(item, "ram:SpecifiedTradeProduct/ram:Name"),
                seller_item_id=self.text(item, "ram:SpecifiedTradeProduct/ram:SellerAssignedID"),
                quantity=self.number(item, "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity"),
                unit=self.text(item, "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity/"
                                     "@unitCode"),
                net_price=self.number(item, "ram:SpecifiedLineTradeAgreement/"
                                            "ram:NetPriceProductTradePrice/ram:ChargeAmount"),
                net_amount=self.number(item, ls + "ram:SpecifiedTradeSettlementLineMonetary"
                                                  "Summation/ram:LineTotalAmount"),
                vat_code=self.text(item, ls + "ram:ApplicableTradeTax/ram:CategoryCode"),
                vat_rate=self.number(item, ls + "ram:ApplicableTradeTax/"
                                                "ram:RateApplicablePercent", ZERO),
                allowances_charges=tuple(self._ac(a) for a in self.all(
                    item, ls + "ram:SpecifiedTradeAllowanceCharge"))))
        breakdown = tuple(
            VatBreakdown(code=self.text(t, "ram:CategoryCode"),
                         rate=self.number(t, "ram:RateApplicablePercent", ZERO),
                         taxable=self.number(t, "ram:BasisAmount"),
                         tax=self.number(t, "ram:CalculatedAmount"),
                         exemption_reason=self.text(t, "ram:ExemptionReason"),
                         exemption_code=self.text(t, "ram:ExemptionReasonCode"))
            for t in self.all(settlement, "ram:ApplicableTradeTax"))
        s = self.all(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")[0]
        tax_total = self.number(s, f"ram:TaxTotalAmount[@currencyID='{currency}']", ZERO)
        accounting = self.text(s, f"ram:TaxTotalAmount[@currencyID='{tax_currency}']") \
            if tax_currency and tax_currency != currency else ""
        allowance_total = self.number(s, "ram:AllowanceTotalAmount", ZERO)
        charge_total = self.number(s, "ram:ChargeTotalAmount", ZERO)
        tax_exclusive = self.number(s, "ram:TaxBasisTotalAmount")
        # Factur-X MINIMUM carries no lines and no BT-106: derive it (BR-CO-13).
        derived_line_total = tax_exclusive + allowance_total - charge_total
        totals = Totals(
            line_total=self.number(s, "ram:LineTotalAmount",
                                   None if lines else derived_line_total),
            allowance_total=allowance_total, charge_total=charge_total,
            tax_exclusive=tax_exclusive, tax_total=tax_total,
            tax_inclusive=self.number(s, "ram:GrandTotalAmount"),
            prepaid=self.number(s, "ram:TotalPrepaidAmount", ZERO),
            rounding=self.number(s, "ram:RoundingAmount", ZERO),
            payable=self.number(s, "ram:DuePayableAmount"))
        issue = self._date(r, "rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString")
        if issue is None:
            raise InvalidInput("missing issue date (BT-2)", field="IssueDateTime")
        return Document(
            specification=guideline(r),
            type_code=self.text(r, "rsm:ExchangedDocument/ram:TypeCode"),
            number=self.text(r, "rsm:ExchangedDocument/ram:ID"), issue_date=issue,
            currency=currency,
            seller=self._party(next(iter(self.all(agreement, "ram:SellerTradeParty")), None)),
            buyer=self._party(next(iter(self.all(agreement, "ram:BuyerTradeParty")), None)),
            lines=tuple(lines), breakdown=breakdown, totals=totals,
            allowances_charges=tuple(self._ac(a) for a in self.all(
                settlement, "ram:SpecifiedTradeAllowanceCharge")),
            tax_currency=tax_currency if accounting else "",
            tax_total_accounting=_decimal(accounting, "TaxTotalAmount") if accounting else None,
            due_date=self._date(settlement, "ram:SpecifiedTradePaymentTerms/"
                                            "ram:DueDateDateTime/udt:DateTimeString"),
            buyer_reference=self.text(agreement, "ram:BuyerReference"),
            order_reference=self.text(agreement, "ram:BuyerOrderReferencedDocument/"
                                                 "ram:IssuerAssignedID"),
            sales_order_reference=self.text(agreement, "ram:SellerOrderReferencedDocument/"
                                                       "ram:IssuerAssignedID"),
            preceding_invoice=self.text(settlement, "ram:InvoiceReferencedDocument/"
                                                    "ram:IssuerAssignedID"),
            payment_means_code=self.text(settlement, "ram:SpecifiedTradeSettlementPaymentMeans"
                                                     "/ram:TypeCode"),
            payee_iban=self.text(settlement, "ram:SpecifiedTradeSettlementPaymentMeans/"
                                             "ram:PayeePartyCreditorFinancialAccount/ram:IBANID"),
            remittance_info=self.text(settlement, "ram:PaymentReference"),
            payment_terms=self.text(settlement, "ram:SpecifiedTradePaymentTerms/"
                                                "ram:Description"),
            note=self.text(r, "rsm:ExchangedDocument/ram:IncludedNote/ram:Content"))


class _Ubl(_Reader):
    ns = _UBL

    def _date(self, node: etree._Element, path: str) -> date | None:
        text = self.text(node, path)
        return date.fromisoformat(text) if text else None

    def _party(self, node: etree._Element | None) -> Party:
        if node is None:
            return Party(name="", country="")
        endpoint = self.all(node, "cbc:EndpointID")
        return Party(
            name=self.text(node, "cac:PartyLegalEntity/cbc:RegistrationName")
            or self.text(node, "cac:PartyName/cbc:Name"),
            country=self.text(node, "cac:PostalAddress/cac:Country/cbc:IdentificationCode"),
            vat_id=self.text(node, "cac:PartyTaxScheme[cac:TaxScheme/cbc:ID='VAT']/"
                                   "cbc:CompanyID"),
            legal_id=self.text(node, "cac:PartyLegalEntity/cbc:CompanyID"),
            line1=self.text(node, "cac:PostalAddress/cbc:StreetName"),
            line2=self.text(node, "cac:PostalAddress/cbc:AdditionalStreetName"),
            city=self.text(node, "cac:PostalAddress/cbc:CityName"),
            postal_code=self.text(node, "cac:PostalAddress/cbc:PostalZone"),
            region=self.text(node, "cac:PostalAddress/cbc:CountrySubentity"),
            email=self.text(node, "cac:Contact/cbc:ElectronicMail"),
            endpoint_scheme=endpoint[0].get("schemeID", "") if endpoint else "",
            endpoint_id=(endpoint[0].text or "") if endpoint else "")

    def _ac(self, node: etree._Element) -> AllowanceCharge:
        percent = self.text(node, "cbc:MultiplierFactorNumeric")
        base = self.text(node, "cbc:BaseAmount")
        return AllowanceCharge(
            charge=self.text(node, "cbc:ChargeIndicator") == "true",
            amount=self.number(node, "cbc:Amount"),
            reason=self.text(node, "cbc:AllowanceChargeReason"),
            reason_code=self.text(node, "cbc:AllowanceChargeReasonCode"),
            base_amount=_decimal(base, "BaseAmount") if base else None,
            percent=_decimal(percent, "MultiplierFactorNumeric") if percent else None,
            vat_code=self.text(node, "cac:TaxCategory/cbc:ID"),
            vat_rate=self.number(node, "cac:TaxCategory/cbc:Percent", ZERO))

    def document(self) -> Document:
        r = self.root
        credit = etree.QName(r).localname == "CreditNote"
        currency = self.text(r, "cbc:DocumentCurrencyCode")
        tax_currency = self.text(r, "cbc:TaxCurrencyCode")
        lines = []
        for e in self.all(r, "cac:CreditNoteLine" if credit else "cac:InvoiceLine"):
            quantity = "cbc:CreditedQuantity" if credit else "cbc:InvoicedQuantity"
            lines.append(Line(
                id=self.text(e, "cbc:ID"), name=self.text(e, "cac:Item/cbc:Name"),
                seller_item_id=self.text(e, "cac:Item/cac:SellersItemIdentification/cbc:ID"),
                quantity=self.number(e, quantity), unit=self.text(e, quantity + "/@unitCode"),
                net_price=self.number(e, "cac:Price/cbc:PriceAmount"),
                net_amount=self.number(e, "cbc:LineExtensionAmount"),
                vat_code=self.text(e, "cac:Item/cac:ClassifiedTaxCategory/cbc:ID"),
                vat_rate=self.number(e, "cac:Item/cac:ClassifiedTaxCategory/cbc:Percent", ZERO),
                allowances_charges=tuple(self._ac(a) for a in self.all(
                    e, "cac:AllowanceCharge"))))
        tax_totals = self.all(r, "cac:TaxTotal")
        main = next((t for t in tax_totals if self.all(t, "cac:TaxSubtotal")),
                    tax_totals[0] if tax_totals else None)
        breakdown: tuple[VatBreakdown, ...] = ()
        tax_total = ZERO
        if main is not None:
            tax_total = self.number(main, "cbc:TaxAmount")
            breakdown = tuple(
                VatBreakdown(code=self.text(s, "cac:TaxCategory/cbc:ID"),
                             rate=self.number(s, "cac:TaxCategory/cbc:Percent", ZERO),
                             taxable=self.number(s, "cbc:TaxableAmount"),
                             tax=self.number(s, "cbc:TaxAmount"),
                             exemption_reason=self.text(s, "cac:TaxCategory/"
                                                           "cbc:TaxExemptionReason"),
                             exemption_code=self.text(s, "cac:TaxCategory/"
                                                         "cbc:TaxExemptionReasonCode"))
                for s in self.all(main, "cac:TaxSubtotal"))
        accounting = next((self.text(t, "cbc:TaxAmount") for t in tax_totals
                           if t is not main and tax_currency), "")
        m = self.all(r, "cac:LegalMonetaryTotal")[0]
        totals = Totals(
            line_total=self.number(m, "cbc:LineExtensionAmount"),
            allowance_total=self.number(m, "cbc:AllowanceTotalAmount", ZERO),
            charge_total=self.number(m, "cbc:ChargeTotalAmount", ZERO),
            tax_exclusive=self.number(m, "cbc:TaxExclusiveAmount"), tax_total=tax_total,
            tax_inclusive=self.number(m, "cbc:TaxInclusiveAmount"),
            prepaid=self.number(m, "cbc:PrepaidAmount", ZERO),
            rounding=self.number(m, "cbc:PayableRoundingAmount", ZERO),
            payable=self.number(m, "cbc:PayableAmount"))
        issue = self._date(r, "cbc:IssueDate")
        if issue is None:
            raise InvalidInput("missing issue date (BT-2)", field="IssueDate")
        supplier = self.all(r, "cac:AccountingSupplierParty/cac:Party")
        customer = self.all(r, "cac:AccountingCustomerParty/cac:Party")
        return Document(
            specification=self.text(r, "cbc:CustomizationID"),
            type_code=self.text(r, "cbc:CreditNoteTypeCode" if credit else "cbc:InvoiceTypeCode"),
            number=self.text(r, "cbc:ID"), issue_date=issue, currency=currency,
            seller=self._party(supplier[0] if supplier else None),
            buyer=self._party(customer[0] if customer else None),
            lines=tuple(lines), breakdown=breakdown, totals=totals,
            allowances_charges=tuple(self._ac(a) for a in self.all(r, "cac:AllowanceCharge")),
            tax_currency=tax_currency if accounting else "",
            tax_total_accounting=_decimal(accounting, "TaxTotal") if accounting else None,
            due_date=self._date(r, "cbc:DueDate")
            or self._date(r, "cac:PaymentMeans/cbc:PaymentDueDate"),
            buyer_reference=self.text(r, "cbc:BuyerReference"),
            order_reference=self.text(r, "cac:OrderReference/cbc:ID"),
            sales_order_reference=self.text(r, "cac:OrderReference/cbc:SalesOrderID"),
            preceding_invoice=self.text(r, "cac:BillingReference/cac:InvoiceDocumentReference/"
                                           "cbc:ID"),
            payment_means_code=self.text(r, "cac:PaymentMeans/cbc:PaymentMeansCode"),
            payee_iban=self.text(r, "cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID"),
            remittance_info=self.text(r, "cac:PaymentMeans/cbc:PaymentID"),
            payment_terms=self.text(r, "cac:PaymentTerms/cbc:Note"),
            note=self.text(r, "cbc:Note"))
