"""UBL 2.1 Invoice and CreditNote: Peppol BIS Billing 3.0 when the buyer has a Peppol endpoint
(its document settings), plain EN 16931 otherwise (a buyer outside Peppol is not given an
address Peppol would refuse, such as an e-mail endpoint)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from lxml import etree

from o2c.adapters.einvoice.xmlutil import amount, number, sub, to_bytes
from o2c.domain.einvoice import AllowanceCharge, Document, Party
from o2c.domain.errors import InvalidInput

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
PEPPOL_CUSTOMIZATION = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PEPPOL_PROFILE = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
EN16931_CUSTOMIZATION = "urn:cen.eu:en16931:2017"


class NotPeppolReachable(InvalidInput):
    """Peppol BIS was asked for a buyer without a Peppol endpoint id."""

    def __init__(self, buyer: str) -> None:
        super().__init__(f"{buyer} has no Peppol endpoint id: a Peppol BIS invoice cannot be "
                         "addressed to it; set peppol_id (scheme:identifier) in its document "
                         "settings, or send the EN 16931 UBL another way", field="peppol_id")


def _a(tag: str) -> str:
    return f"{{{CAC}}}{tag}"


def _b(tag: str) -> str:
    return f"{{{CBC}}}{tag}"


def _money(parent: etree._Element, tag: str, value: Decimal, currency: str) -> None:
    sub(parent, _b(tag), amount(value, currency), currencyID=currency)


def _tax_category(parent: etree._Element, tag: str, code: str, rate: Decimal,
                  reason: str = "", reason_code: str = "") -> None:
    category = sub(parent, _a(tag))
    sub(category, _b("ID"), code)
    if code != "O":
        sub(category, _b("Percent"), number(rate))
    if reason_code:
        sub(category, _b("TaxExemptionReasonCode"), reason_code)
    if reason:
        sub(category, _b("TaxExemptionReason"), reason)
    scheme = sub(category, _a("TaxScheme"))
    sub(scheme, _b("ID"), "VAT")


def _party(parent: etree._Element, tag: str, party: Party, peppol: bool) -> None:
    holder = sub(parent, _a(tag))
    p = sub(holder, _a("Party"))
    endpoint = party.endpoint(peppol)
    if endpoint:
        sub(p, _b("EndpointID"), endpoint[1], schemeID=endpoint[0])
    name = sub(p, _a("PartyName"))
    sub(name, _b("Name"), party.name)
    address = sub(p, _a("PostalAddress"))
    if party.line1:
        sub(address, _b("StreetName"), party.line1)
    if party.line2:
        sub(address, _b("AdditionalStreetName"), party.line2)
    if party.city:
        sub(address, _b("CityName"), party.city)
    if party.postal_code:
        sub(address, _b("PostalZone"), party.postal_code)
    if party.region:
        sub(address, _b("CountrySubentity"), party.region)
    country = sub(address, _a("Country"))
    sub(country, _b("IdentificationCode"), party.country)
    if party.vat_id:
        tax = sub(p, _a("PartyTaxScheme"))
        sub(tax, _b("CompanyID"), party.vat_id)
        scheme = sub(tax, _a("TaxScheme"))
        sub(scheme, _b("ID"), "VAT")
    legal = sub(p, _a("PartyLegalEntity"))
    sub(legal, _b("RegistrationName"), party.name)
    if party.legal_id:
        if party.legal_scheme:
            sub(legal, _b("CompanyID"), party.legal_id, schemeID=party.legal_scheme)
        else:
            sub(legal, _b("CompanyID"), party.legal_id)
    if party.email:
        contact = sub(p, _a("Contact"))
        sub(contact, _b("ElectronicMail"), party.email)


def _allowance_charge(parent: etree._Element, ac: AllowanceCharge, currency: str,
                      document_level: bool) -> None:
    e = sub(parent, _a("AllowanceCharge"))
    sub(e, _b("ChargeIndicator"), "true" if ac.charge else "false")
    if ac.reason_code:
        sub(e, _b("AllowanceChargeReasonCode"), ac.reason_code)
    if ac.reason:
        sub(e, _b("AllowanceChargeReason"), ac.reason)
    if ac.percent is not None:
        sub(e, _b("MultiplierFactorNumeric"), number(ac.percent))
    _money(e, "Amount", ac.amount, currency)
    if ac.base_amount is not None:
        _money(e, "BaseAmount", ac.base_amount, currency)
    if document_level:
        _tax_category(e, "TaxCategory", ac.vat_code, ac.vat_rate)


def _date(parent: etree._Element, tag: str, day: date) -> None:
    sub(parent, _b(tag), day.isoformat())


def write(doc: Document, peppol: bool | None = None) -> bytes:
    """The UBL of `doc`: Peppol BIS if `peppol` (default: whether the buyer has a Peppol
    endpoint), refused for a buyer without one."""
    peppol = doc.peppol if peppol is None else peppol
    if peppol and doc.buyer.endpoint(peppol=True) is None:
        raise NotPeppolReachable(doc.buyer.name)
    credit = doc.is_credit_note
    cur = doc.currency
    root = etree.Element(f"{{{CREDIT_NOTE_NS if credit else INVOICE_NS}}}"
                         f"{'CreditNote' if credit else 'Invoice'}",
                         nsmap={None: CREDIT_NOTE_NS if credit else INVOICE_NS,  # type: ignore[dict-item]
                                "cac": CAC, "cbc": CBC})
    sub(root, _b("CustomizationID"), PEPPOL_CUSTOMIZATION if peppol else EN16931_CUSTOMIZATION)
    if peppol:
        sub(root, _b("ProfileID"), PEPPOL_PROFILE)
    sub(root, _b("ID"), doc.number)
    _date(root, "IssueDate", doc.issue_date)
    if doc.due_date and not credit:
        _date(root, "DueDate", doc.due_date)
    sub(root, _b("CreditNoteTypeCode" if credit else "InvoiceTypeCode"), doc.type_code)
    if doc.note:
        sub(root, _b("Note"), doc.note)
    sub(root, _b("DocumentCurrencyCode"), cur)
    if doc.tax_currency:
        sub(root, _b("TaxCurrencyCode"), doc.tax_currency)
    # Peppol requires a buyer reference or an order reference (PEPPOL-EN16931-R003).
    sub(root, _b("BuyerReference"), doc.buyer_reference or doc.order_reference or doc.number)
    if doc.order_reference or doc.sales_order_reference:
        order = sub(root, _a("OrderReference"))
        sub(order, _b("ID"), doc.order_reference or "NA")
        if doc.sales_order_reference:
            sub(order, _b("SalesOrderID"), doc.sales_order_reference)
    if doc.preceding_invoice:
        billing = sub(root, _a("BillingReference"))
        ref = sub(billing, _a("InvoiceDocumentReference"))
        sub(ref, _b("ID"), doc.preceding_invoice)
        if doc.preceding_invoice_date:
            _date(ref, "IssueDate", doc.preceding_invoice_date)
    _party(root, "AccountingSupplierParty", doc.seller, peppol)
    _party(root, "AccountingCustomerParty", doc.buyer, peppol)
    if doc.delivery_date or doc.deliver_to_country:
        delivery = sub(root, _a("Delivery"))
        if doc.delivery_date:
            _date(delivery, "ActualDeliveryDate", doc.delivery_date)
        if doc.deliver_to_country:
            location = sub(delivery, _a("DeliveryLocation"))
            address = sub(location, _a("Address"))
            country = sub(address, _a("Country"))
            sub(country, _b("IdentificationCode"), doc.deliver_to_country)
    if doc.payment_means_code:
        means = sub(root, _a("PaymentMeans"))
        sub(means, _b("PaymentMeansCode"), doc.payment_means_code)
        if credit and doc.due_date:
            _date(means, "PaymentDueDate", doc.due_date)
        if doc.remittance_info:
            sub(means, _b("PaymentID"), doc.remittance_info)
        if doc.payee_iban:
            account = sub(means, _a("PayeeFinancialAccount"))
            sub(account, _b("ID"), doc.payee_iban.replace(" ", ""))
            if doc.payee_bic:
                branch = sub(account, _a("FinancialInstitutionBranch"))
                sub(branch, _b("ID"), doc.payee_bic)
    if doc.payment_terms:
        terms = sub(root, _a("PaymentTerms"))
        sub(terms, _b("Note"), doc.payment_terms)
    for ac in doc.allowances_charges:
        _allowance_charge(root, ac, cur, document_level=True)
    tax_total = sub(root, _a("TaxTotal"))
    _money(tax_total, "TaxAmount", doc.totals.tax_total, cur)
    for b in doc.breakdown:
        subtotal = sub(tax_total, _a("TaxSubtotal"))
        _money(subtotal, "TaxableAmount", b.taxable, cur)
        _money(subtotal, "TaxAmount", b.tax, cur)
        _tax_category(subtotal, "TaxCategory", b.code, b.rate, b.exemption_reason,
                      b.exemption_code)
    if doc.tax_currency and doc.tax_total_accounting is not None:
        accounting = sub(root, _a("TaxTotal"))
        _money(accounting, "TaxAmount", doc.tax_total_accounting, doc.tax_currency)
    t = doc.totals
    totals = sub(root, _a("LegalMonetaryTotal"))
    _money(totals, "LineExtensionAmount", t.line_total, cur)
    _money(totals, "TaxExclusiveAmount", t.tax_exclusive, cur)
    _money(totals, "TaxInclusiveAmount", t.tax_inclusive, cur)
    if doc.allowances_charges:
        _money(totals, "AllowanceTotalAmount", t.allowance_total, cur)
        _money(totals, "ChargeTotalAmount", t.charge_total, cur)
    if t.prepaid:
        _money(totals, "PrepaidAmount", t.prepaid, cur)
    if t.rounding:
        _money(totals, "PayableRoundingAmount", t.rounding, cur)
    _money(totals, "PayableAmount", t.payable, cur)
    for line in doc.lines:
        e = sub(root, _a("CreditNoteLine" if credit else "InvoiceLine"))
        sub(e, _b("ID"), line.id)
        sub(e, _b("CreditedQuantity" if credit else "InvoicedQuantity"), number(line.quantity),
            unitCode=line.unit)
        _money(e, "LineExtensionAmount", line.net_amount, cur)
        for ac in line.allowances_charges:
            _allowance_charge(e, ac, cur, document_level=False)
        item = sub(e, _a("Item"))
        sub(item, _b("Name"), line.name)
        if line.seller_item_id:
            ident = sub(item, _a("SellersItemIdentification"))
            sub(ident, _b("ID"), line.seller_item_id)
        _tax_category(item, "ClassifiedTaxCategory", line.vat_code, line.vat_rate)
        price = sub(e, _a("Price"))
        sub(price, _b("PriceAmount"), number(line.net_price), currencyID=cur)
    return to_bytes(root)


def kind_of(doc: Document, peppol: bool | None = None) -> str:
    """The validation kind of the UBL written for `doc` (Peppol rules on top for Peppol)."""
    peppol = doc.peppol if peppol is None else peppol
    prefix = "peppol" if peppol else "ubl"
    return f"{prefix}-creditnote" if doc.is_credit_note else f"{prefix}-invoice"
