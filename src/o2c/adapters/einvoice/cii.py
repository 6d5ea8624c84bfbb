"""UN/CEFACT Cross Industry Invoice (D16B) for Factur-X / ZUGFeRD, profile EN 16931."""

from __future__ import annotations

from lxml import etree

from o2c.adapters.einvoice.xmlutil import amount, number, sub, to_bytes, ymd
from o2c.domain.einvoice import AllowanceCharge, Document, Party

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
NSMAP = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}
GUIDELINE_EN16931 = "urn:cen.eu:en16931:2017"


def _r(tag: str) -> str:
    return f"{{{RAM}}}{tag}"


def _date(parent: etree._Element, tag: str, day: object, ns: str = UDT) -> None:
    from datetime import date

    assert isinstance(day, date)
    holder = sub(parent, _r(tag))
    sub(holder, f"{{{ns}}}DateTimeString", ymd(day), format="102")


def _party(parent: etree._Element, tag: str, party: Party, seller: bool) -> None:
    p = sub(parent, _r(tag))
    sub(p, _r("Name"), party.name)
    if party.legal_id:
        legal = sub(p, _r("SpecifiedLegalOrganization"))
        if party.legal_scheme:
            sub(legal, _r("ID"), party.legal_id, schemeID=party.legal_scheme)
        else:
            sub(legal, _r("ID"), party.legal_id)
    address = sub(p, _r("PostalTradeAddress"))
    if party.postal_code:
        sub(address, _r("PostcodeCode"), party.postal_code)
    if party.line1:
        sub(address, _r("LineOne"), party.line1)
    if party.line2:
        sub(address, _r("LineTwo"), party.line2)
    if party.city:
        sub(address, _r("CityName"), party.city)
    sub(address, _r("CountryID"), party.country)
    if party.region:
        sub(address, _r("CountrySubDivisionName"), party.region)
    endpoint = party.endpoint()
    if endpoint and endpoint[0] == "EM":
        uri = sub(p, _r("URIUniversalCommunication"))
        sub(uri, _r("URIID"), endpoint[1], schemeID="EM")
    elif endpoint:
        uri = sub(p, _r("URIUniversalCommunication"))
        sub(uri, _r("URIID"), endpoint[1], schemeID=endpoint[0])
    if party.vat_id:
        reg = sub(p, _r("SpecifiedTaxRegistration"))
        sub(reg, _r("ID"), party.vat_id, schemeID="VA")


def _tax(parent: etree._Element, tag: str, code: str, rate: object) -> None:
    from decimal import Decimal

    assert isinstance(rate, Decimal)
    tax = sub(parent, _r(tag))
    sub(tax, _r("TypeCode"), "VAT")
    sub(tax, _r("CategoryCode"), code)
    if code != "O":
        sub(tax, _r("RateApplicablePercent"), number(rate))


def _allowance_charge(parent: etree._Element, ac: AllowanceCharge, currency: str,
                      document_level: bool) -> None:
    e = sub(parent, _r("SpecifiedTradeAllowanceCharge"))
    indicator = sub(e, _r("ChargeIndicator"))
    sub(indicator, f"{{{UDT}}}Indicator", "true" if ac.charge else "false")
    if ac.percent is not None:
        sub(e, _r("CalculationPercent"), number(ac.percent))
    if ac.base_amount is not None:
        sub(e, _r("BasisAmount"), amount(ac.base_amount, currency))
    sub(e, _r("ActualAmount"), amount(ac.amount, currency))
    if ac.reason_code:
        sub(e, _r("ReasonCode"), ac.reason_code)
    if ac.reason:
        sub(e, _r("Reason"), ac.reason)
    if document_level:
        _tax(e, "CategoryTradeTax", ac.vat_code, ac.vat_rate)


def write(doc: Document) -> bytes:
    cur = doc.currency
    root = etree.Element(f"{{{RSM}}}CrossIndustryInvoice", nsmap=NSMAP)
    context = sub(root, f"{{{RSM}}}ExchangedDocumentContext")
    guideline = sub(context, _r("GuidelineSpecifiedDocumentContextParameter"))
    sub(guideline, _r("ID"), GUIDELINE_EN16931)
    header = sub(root, f"{{{RSM}}}ExchangedDocument")
    sub(header, _r("ID"), doc.number)
    sub(header, _r("TypeCode"), doc.type_code)
    _date(header, "IssueDateTime", doc.issue_date)
    if doc.note:
        note = sub(header, _r("IncludedNote"))
        sub(note, _r("Content"), doc.note)

    transaction = sub(root, f"{{{RSM}}}SupplyChainTradeTransaction")
    for line in doc.lines:
        item = sub(transaction, _r("IncludedSupplyChainTradeLineItem"))
        line_doc = sub(item, _r("AssociatedDocumentLineDocument"))
        sub(line_doc, _r("LineID"), line.id)
        product = sub(item, _r("SpecifiedTradeProduct"))
        if line.seller_item_id:
            sub(product, _r("SellerAssignedID"), line.seller_item_id)
        sub(product, _r("Name"), line.name)
        agreement = sub(item, _r("SpecifiedLineTradeAgreement"))
        price = sub(agreement, _r("NetPriceProductTradePrice"))
        sub(price, _r("ChargeAmount"), number(line.net_price))
        delivery = sub(item, _r("SpecifiedLineTradeDelivery"))
        sub(delivery, _r("BilledQuantity"), number(line.quantity), unitCode=line.unit)
        settlement = sub(item, _r("SpecifiedLineTradeSettlement"))
        _tax(settlement, "ApplicableTradeTax", line.vat_code, line.vat_rate)
        for ac in line.allowances_charges:
            _allowance_charge(settlement, ac, cur, document_level=False)
        summation = sub(settlement, _r("SpecifiedTradeSettlementLineMonetarySummation"))
        sub(summation, _r("LineTotalAmount"), amount(line.net_amount, cur))

    agreement = sub(transaction, _r("ApplicableHeaderTradeAgreement"))
    if doc.buyer_reference:
        sub(agreement, _r("BuyerReference"), doc.buyer_reference)
    _party(agreement, "SellerTradeParty", doc.seller, seller=True)
    _party(agreement, "BuyerTradeParty", doc.buyer, seller=False)
    if doc.sales_order_reference:
        ref = sub(agreement, _r("SellerOrderReferencedDocument"))
        sub(ref, _r("IssuerAssignedID"), doc.sales_order_reference)
    if doc.order_reference:
        ref = sub(agreement, _r("BuyerOrderReferencedDocument"))
        sub(ref, _r("IssuerAssignedID"), doc.order_reference)

    delivery = sub(transaction, _r("ApplicableHeaderTradeDelivery"))
    if doc.deliver_to_country:
        ship_to = sub(delivery, _r("ShipToTradeParty"))
        address = sub(ship_to, _r("PostalTradeAddress"))
        sub(address, _r("CountryID"), doc.deliver_to_country)
    if doc.delivery_date:
        event = sub(delivery, _r("ActualDeliverySupplyChainEvent"))
        _date(event, "OccurrenceDateTime", doc.delivery_date)

    settlement = sub(transaction, _r("ApplicableHeaderTradeSettlement"))
    if doc.remittance_info:
        sub(settlement, _r("PaymentReference"), doc.remittance_info)
    if doc.tax_currency:
        sub(settlement, _r("TaxCurrencyCode"), doc.tax_currency)
    sub(settlement, _r("InvoiceCurrencyCode"), cur)
    if doc.payment_means_code:
        means = sub(settlement, _r("SpecifiedTradeSettlementPaymentMeans"))
        sub(means, _r("TypeCode"), doc.payment_means_code)
        if doc.payee_iban:
            account = sub(means, _r("PayeePartyCreditorFinancialAccount"))
            sub(account, _r("IBANID"), doc.payee_iban.replace(" ", ""))
        if doc.payee_bic:
            bank = sub(means, _r("PayeeSpecifiedCreditorFinancialInstitution"))
            sub(bank, _r("BICID"), doc.payee_bic)
    for b in doc.breakdown:
        tax = sub(settlement, _r("ApplicableTradeTax"))
        sub(tax, _r("CalculatedAmount"), amount(b.tax, cur))
        sub(tax, _r("TypeCode"), "VAT")
        if b.exemption_reason:
            sub(tax, _r("ExemptionReason"), b.exemption_reason)
        sub(tax, _r("BasisAmount"), amount(b.taxable, cur))
        sub(tax, _r("CategoryCode"), b.code)
        if b.exemption_code:
            sub(tax, _r("ExemptionReasonCode"), b.exemption_code)
        if b.code != "O":
            sub(tax, _r("RateApplicablePercent"), number(b.rate))
    for ac in doc.allowances_charges:
        _allowance_charge(settlement, ac, cur, document_level=True)
    if doc.payment_terms or doc.due_date:
        terms = sub(settlement, _r("SpecifiedTradePaymentTerms"))
        if doc.payment_terms:
            sub(terms, _r("Description"), doc.payment_terms)
        if doc.due_date:
            _date(terms, "DueDateDateTime", doc.due_date)
    t = doc.totals
    summation = sub(settlement, _r("SpecifiedTradeSettlementHeaderMonetarySummation"))
    sub(summation, _r("LineTotalAmount"), amount(t.line_total, cur))
    if doc.allowances_charges:
        sub(summation, _r("ChargeTotalAmount"), amount(t.charge_total, cur))
        sub(summation, _r("AllowanceTotalAmount"), amount(t.allowance_total, cur))
    sub(summation, _r("TaxBasisTotalAmount"), amount(t.tax_exclusive, cur))
    sub(summation, _r("TaxTotalAmount"), amount(t.tax_total, cur), currencyID=cur)
    if doc.tax_currency and doc.tax_total_accounting is not None:
        sub(summation, _r("TaxTotalAmount"),
            amount(doc.tax_total_accounting, doc.tax_currency), currencyID=doc.tax_currency)
    if t.rounding:
        sub(summation, _r("RoundingAmount"), amount(t.rounding, cur))
    sub(summation, _r("GrandTotalAmount"), amount(t.tax_inclusive, cur))
    if t.prepaid:
        sub(summation, _r("TotalPrepaidAmount"), amount(t.prepaid, cur))
    sub(summation, _r("DuePayableAmount"), amount(t.payable, cur))
    if doc.preceding_invoice:
        ref = sub(settlement, _r("InvoiceReferencedDocument"))
        sub(ref, _r("IssuerAssignedID"), doc.preceding_invoice)
        if doc.preceding_invoice_date:
            _date(ref, "FormattedIssueDateTime", doc.preceding_invoice_date, ns=QDT)
    return to_bytes(root)
