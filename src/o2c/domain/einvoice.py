"""The one EN 16931 model: the semantic invoice (BT-/BG- terms) every document format is
written from (PDF, CII/Factur-X, UBL/Peppol, FatturaPA) and incoming invoices are read into.

Amounts are exact `Decimal`s rounded to the currency (at most 2 decimals, BR-DEC); totals follow
EN 16931: BR-CO-10 (sum of line nets), BR-CO-13 (tax exclusive = lines - allowances +
charges), BR-CO-15 (tax inclusive = exclusive + VAT), BR-CO-16 (payable = inclusive - prepaid
+ rounding), and VAT once per breakdown (BR-CO-17)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from o2c.domain.commands import Command
from o2c.domain.errors import InvalidInput
from o2c.domain.invoicing import Invoice, InvoiceKind, PartySnapshot
from o2c.domain.money import ZERO, plain, round_amount
from o2c.domain.parties import Registration, TaxIdentifiers
from o2c.domain.payment_terms import EarlyPaymentDiscount, Installment
from o2c.domain.tax import DOMESTIC_REVERSE_CHARGE_TEXT, EXEMPT_TEXT, EXPORT_TEXT, INTRA_EU_TEXT

HUNDRED = Decimal(100)

# VAT categories (UNCL 5305) whose rate is 0 and which need an exemption reason (BR-x-10).
EXEMPT_CATEGORIES = frozenset({"E", "AE", "K", "G", "O"})
# VATEX codes by category when our invoice carries only a text.
DEFAULT_VATEX = {"AE": "VATEX-EU-AE", "K": "VATEX-EU-IC", "G": "VATEX-EU-G", "O": "VATEX-EU-O"}
DEFAULT_EXEMPTION_TEXT = {"E": EXEMPT_TEXT, "AE": DOMESTIC_REVERSE_CHARGE_TEXT,
                          "K": INTRA_EU_TEXT, "G": EXPORT_TEXT,
                          "O": "Not subject to VAT"}

# Peppol endpoint / party identifier schemes (ISO 6523 ICD / EAS) for a VAT number by country.
VAT_EAS = {"IT": "0211", "FR": "9957", "ES": "9920", "DE": "9930", "BE": "9925", "NL": "9944",
           "AT": "9914", "PT": "9946", "IE": "9935", "LU": "9938", "PL": "9945", "SE": "9955",
           "DK": "0198", "FI": "0213", "GR": "9933", "HU": "9910", "CZ": "9929", "SK": "9950",
           "SI": "9949", "HR": "9934", "RO": "9947", "BG": "9926", "LT": "9937", "LV": "9939",
           "EE": "9931", "CY": "9928", "MT": "9943"}


class DocumentFormat(StrEnum):
    PDF = "pdf"
    FACTURX = "facturx"
    UBL = "ubl"
    FATTURAPA = "fatturapa"

    @property
    def media_type(self) -> str:
        return "application/pdf" if self in (DocumentFormat.PDF, DocumentFormat.FACTURX) \
            else "application/xml"

    @property
    def is_xml(self) -> bool:
        return self in (DocumentFormat.UBL, DocumentFormat.FATTURAPA)


@dataclass(frozen=True, slots=True)
class DocumentPreferences:
    """How a customer wants its invoices: format, e-invoicing addresses and delivery."""

    customer_id: int
    format: DocumentFormat = DocumentFormat.PDF
    peppol_id: str = ""  # "scheme:identifier", e.g. "0208:0123456789"
    codice_destinatario: str = ""  # SdI recipient code: 7 characters (6 for the PA)
    pec: str = ""  # certified e-mail for SdI when there is no recipient code
    public_administration: bool = False  # FatturaPA FPA12 instead of FPR12
    delivery_email: str = ""  # where invoices go (the customer's e-mail when empty)
    attach_xml: bool = False  # also attach the structured XML to the e-mail

    def __post_init__(self) -> None:
        if self.peppol_id and (":" not in self.peppol_id
                               or not all(self.peppol_id.split(":", 1))):
            raise InvalidInput(f"Peppol id must look like 'scheme:identifier' (0208:0123456789)"
                               f", got {self.peppol_id!r}", field="peppol_id")
        code = self.codice_destinatario
        if code and (len(code) not in (6, 7) or not code.isalnum() or code.upper() != code):
            raise InvalidInput("CodiceDestinatario must be 7 upper-case letters or digits (6 for"
                               f" public administration offices), got {code!r}",
                               field="codice_destinatario")
        if self.public_administration and code and len(code) != 6:
            raise InvalidInput("a public administration office code has 6 characters",
                               field="codice_destinatario")
        for name in ("pec", "delivery_email"):
            value = getattr(self, name)
            if value and ("@" not in value or " " in value):
                raise InvalidInput(f"{name} is not an e-mail address: {value!r}", field=name)


@dataclass(frozen=True)
class SetDocumentPreferences(Command):
    customer_id: int
    format: str = "pdf"
    peppol_id: str = ""
    codice_destinatario: str = ""
    pec: str = ""
    public_administration: bool = False
    delivery_email: str = ""
    attach_xml: bool = False


@dataclass(frozen=True, slots=True)
class Party:
    """BG-4 seller / BG-7 buyer."""

    name: str  # BT-27 / BT-44
    country: str  # BT-40 / BT-55
    vat_id: str = ""  # BT-31 / BT-48: VAT identifiers only, with their country prefix
    legal_id: str = ""  # BT-30 / BT-47: the national tax number (EIN, RFC, codice fiscale)
    legal_scheme: str = ""  # BT-30-1 / BT-47-1: its ISO 6523 ICD code where there is one
    tax_scheme: str = ""  # what legal_id is: EIN, RFC, CF, SIREN, NIF ... (labels, FatturaPA)
    line1: str = ""  # BT-35 / BT-50
    line2: str = ""
    city: str = ""  # BT-37 / BT-52
    postal_code: str = ""  # BT-38 / BT-53
    region: str = ""  # BT-39 / BT-54
    email: str = ""  # BT-43 / BT-58
    endpoint_scheme: str = ""  # BT-34-1 / BT-49-1
    endpoint_id: str = ""  # BT-34 / BT-49
    regime_fiscale: str = ""  # FatturaPA RegimeFiscale of an Italian seller
    registration: Registration | None = None  # the seller's company register data

    def endpoint(self, peppol: bool = False) -> tuple[str, str] | None:
        """Electronic address (BT-34 / BT-49): the explicit one, else the VAT number under its
        country's EAS, else (not in Peppol, whose EAS list has no EM) the e-mail address."""
        if self.endpoint_id:
            return self.endpoint_scheme, self.endpoint_id
        scheme = VAT_EAS.get(self.country)
        if self.vat_id and scheme:
            return scheme, self.vat_id
        if self.email and not peppol:
            return "EM", self.email
        return None


@dataclass(frozen=True, slots=True)
class AllowanceCharge:
    """BG-20 / BG-21 (document) and BG-27 / BG-28 (line)."""

    charge: bool
    amount: Decimal  # BT-92 / BT-99 / BT-136 / BT-141
    reason: str = ""  # BT-97 / BT-104
    reason_code: str = ""  # BT-98 (UNCL 5189) / BT-105 (UNCL 7161)
    base_amount: Decimal | None = None  # BT-93 / BT-100
    percent: Decimal | None = None  # BT-94 / BT-101
    vat_code: str = ""  # BT-95 / BT-102 (document level only)
    vat_rate: Decimal = ZERO  # BT-96 / BT-103

    @property
    def signed(self) -> Decimal:
        return self.amount if self.charge else -self.amount


@dataclass(frozen=True, slots=True)
class Line:
    """BG-25 invoice line."""

    id: str  # BT-126
    name: str  # BT-153
    quantity: Decimal  # BT-129
    unit: str  # BT-130
    net_price: Decimal  # BT-146
    net_amount: Decimal  # BT-131 = qty x price + charges - allowances
    vat_code: str  # BT-151
    vat_rate: Decimal  # BT-152
    seller_item_id: str = ""  # BT-155
    allowances_charges: tuple[AllowanceCharge, ...] = ()

    @property
    def allowance_total(self) -> Decimal:
        return sum((a.amount for a in self.allowances_charges if not a.charge), ZERO)

    @property
    def charge_total(self) -> Decimal:
        return sum((a.amount for a in self.allowances_charges if a.charge), ZERO)


@dataclass(frozen=True, slots=True)
class VatBreakdown:
    """BG-23."""

    code: str  # BT-118
    rate: Decimal  # BT-119
    taxable: Decimal  # BT-116
    tax: Decimal  # BT-117
    exemption_reason: str = ""  # BT-120
    exemption_code: str = ""  # BT-121


@dataclass(frozen=True, slots=True)
class Totals:
    """BG-22."""

    line_total: Decimal  # BT-106
    allowance_total: Decimal  # BT-107
    charge_total: Decimal  # BT-108
    tax_exclusive: Decimal  # BT-109
    tax_total: Decimal  # BT-110
    tax_inclusive: Decimal  # BT-112
    prepaid: Decimal = ZERO  # BT-113
    rounding: Decimal = ZERO  # BT-114
    payable: Decimal = ZERO  # BT-115


@dataclass(frozen=True, slots=True)
class Document:
    """An EN 16931 invoice (type 380) or credit note (381)."""

    type_code: str  # BT-3
    number: str  # BT-1
    issue_date: date  # BT-2
    currency: str  # BT-5
    seller: Party
    buyer: Party
    lines: tuple[Line, ...]
    breakdown: tuple[VatBreakdown, ...]
    totals: Totals
    allowances_charges: tuple[AllowanceCharge, ...] = ()
    tax_currency: str = ""  # BT-6, when VAT is also stated in the accounting currency
    tax_total_accounting: Decimal | None = None  # BT-111
    due_date: date | None = None  # BT-9
    buyer_reference: str = ""  # BT-10
    order_reference: str = ""  # BT-13
    sales_order_reference: str = ""  # BT-14
    preceding_invoice: str = ""  # BT-25
    preceding_invoice_date: date | None = None  # BT-26
    delivery_date: date | None = None  # BT-72
    deliver_to_country: str = ""  # BT-80
    payment_means_code: str = ""  # BT-81
    payee_iban: str = ""  # BT-84
    payee_bic: str = ""  # BT-86
    remittance_info: str = ""  # BT-83
    payment_terms: str = ""  # BT-20
    note: str = ""  # BT-22
    language: str = "en"  # for the human-readable rendering only
    # FatturaPA specifics (ignored by the other formats)
    stamp_duty: Decimal = ZERO  # DatiBollo/ImportoBollo
    split_payment: bool = False  # EsigibilitaIVA = S (scissione dei pagamenti)
    # The buyer's identity was purged after the retention period: only the PDF (with a
    # pseudonym) can still be produced; an e-invoice needs who the buyer was.
    buyer_erased: bool = False
    # The buyer has a Peppol endpoint (set in its document settings): the UBL goes out as
    # Peppol BIS Billing 3.0 and is checked with the Peppol rules too.
    peppol: bool = False
    installments: tuple[Installment, ...] = ()  # when what is due falls due
    early_discount: EarlyPaymentDiscount | None = None
    specification: str = ""  # BT-24 of a document read in (CustomizationID / guideline)

    @property
    def is_credit_note(self) -> bool:
        return self.type_code == "381"


def vatex(code: str, reason: str) -> tuple[str, str]:
    """(reason text, VATEX code) for a breakdown of category `code`; both empty for S/Z."""
    if code not in EXEMPT_CATEGORIES:
        return "", ""
    return reason or DEFAULT_EXEMPTION_TEXT[code], DEFAULT_VATEX.get(code, "")


def compute(currency: str, lines: Iterable[Line], allowances_charges: Iterable[AllowanceCharge],
            reasons: dict[str, str] | None = None, prepaid: Decimal = ZERO
            ) -> tuple[tuple[VatBreakdown, ...], Totals]:
    """VAT breakdown and totals of a document per EN 16931: the taxable amount of each
    (category, rate) is its line nets plus document charges minus document allowances, and
    its VAT is rounded once (BR-CO-17)."""
    lines = tuple(lines)
    doc_ac = tuple(allowances_charges)
    reasons = reasons or {}
    groups: dict[tuple[str, Decimal], Decimal] = {}
    for line in lines:
        key = (line.vat_code, plain(line.vat_rate))
        groups[key] = groups.get(key, ZERO) + line.net_amount
    for ac in doc_ac:
        key = (ac.vat_code, plain(ac.vat_rate))
        groups[key] = groups.get(key, ZERO) + ac.signed
    breakdown = []
    for (code, rate), taxable in sorted(groups.items(), key=lambda g: (g[0][0], -g[0][1])):
        tax = round_amount(taxable * rate / HUNDRED, currency)
        reason, exemption_code = vatex(code, reasons.get(code, ""))
        breakdown.append(VatBreakdown(code, rate, taxable, tax, reason, exemption_code))
    line_total = sum((line.net_amount for line in lines), ZERO)
    allowance_total = sum((a.amount for a in doc_ac if not a.charge), ZERO)
    charge_total = sum((a.amount for a in doc_ac if a.charge), ZERO)
    exclusive = line_total - allowance_total + charge_total
    tax_total = sum((b.tax for b in breakdown), ZERO)
    inclusive = exclusive + tax_total
    totals = Totals(line_total, allowance_total, charge_total, exclusive, tax_total, inclusive,
                    prepaid, ZERO, inclusive - prepaid)
    return tuple(breakdown), totals


def line_net(quantity: Decimal, price: Decimal, currency: str,
             allowances_charges: Iterable[AllowanceCharge] = ()) -> Decimal:
    """BT-131: quantity x net price rounded, plus line charges, minus line allowances."""
    return round_amount(quantity * price, currency) + sum(
        (a.signed for a in allowances_charges), ZERO)


def _party(snapshot: PartySnapshot, **extra: Any) -> Party:
    """A party with its tax identifiers typed: the VAT id to BT-31/48, the national tax
    number (with its scheme) to BT-30/47."""
    ids = TaxIdentifiers.of(snapshot.country, snapshot.vat_id, snapshot.tax_code)
    address = snapshot.address
    return Party(name=snapshot.name, country=snapshot.country, vat_id=ids.vat_id,
                 legal_id=ids.national, legal_scheme=ids.icd if ids.national else "",
                 tax_scheme=ids.scheme if ids.national else "",
                 line1=address.line1, line2=address.line2, city=address.city,
                 postal_code=address.postal_code, region=address.region,
                 email=snapshot.email, **extra)


def from_invoice(invoice: Invoice, *, language: str = "en",
                 preferences: DocumentPreferences | None = None,
                 regime_fiscale: str = "RF01") -> Document:
    """The EN 16931 view of a posted invoice or credit note.

    The posted document's own totals and VAT breakdown are used as they are (they were computed
    with the EN 16931 rules when it was posted); the model adds what formats need on top."""
    if not invoice.is_posted:
        raise InvalidInput(f"{invoice.label} is a draft: only posted documents are rendered",
                           field="invoice")
    s, b = invoice.seller, invoice.buyer
    endpoint: dict[str, str] = {}
    if preferences and preferences.peppol_id:
        scheme, ident = preferences.peppol_id.split(":", 1)
        endpoint = {"endpoint_scheme": scheme, "endpoint_id": ident}
    registration = s.registration
    seller = _party(replace(s, tax_code=s.tax_code or (registration.tax_code
                                                       if registration else "")),
                    regime_fiscale=regime_fiscale if s.country == "IT" else "",
                    registration=registration)
    buyer = _party(b, **endpoint)
    lines = tuple(
        Line(id=str(line.line_no), name=line.description, quantity=line.quantity,
             # BT-146 stays the list price; our line discount becomes a line allowance
             unit=line.unit, net_price=line.unit_price,
             net_amount=line.net_amount, vat_code=line.vat_code, vat_rate=plain(line.vat_rate),
             seller_item_id=line.sku,
             allowances_charges=_line_discount(line.quantity, line.unit_price,
                                               line.discount_percent, line.net_amount,
                                               invoice.currency))
        for line in invoice.lines)
    breakdown = tuple(
        VatBreakdown(t.vat_code, plain(t.vat_rate), t.taxable_amount, t.tax_amount,
                     *vatex(t.vat_code, t.exemption_reason))
        for t in invoice.taxes)
    line_total = sum((line.net_amount for line in lines), ZERO)
    totals = Totals(line_total, ZERO, ZERO, invoice.net_amount, invoice.tax_amount,
                    invoice.gross_amount, ZERO, ZERO, invoice.gross_amount)
    foreign = invoice.currency != invoice.company_currency
    credit = invoice.kind is InvoiceKind.CREDIT_NOTE
    any_vat_zero = any(t.vat_code in ("K", "G") for t in invoice.taxes)
    return Document(
        type_code=invoice.kind.type_code, number=invoice.number, issue_date=invoice.issue_date,
        currency=invoice.currency, seller=seller, buyer=buyer, lines=lines,
        breakdown=breakdown, totals=totals,
        tax_currency=invoice.company_currency if foreign else "",
        tax_total_accounting=invoice.tax_amount_company if foreign else None,
        due_date=invoice.due_date, buyer_reference=invoice.buyer_reference,
        order_reference=invoice.order_reference, sales_order_reference=invoice.order_number,
        preceding_invoice=invoice.corrects_number if credit else "",
        delivery_date=invoice.delivery_date or (invoice.issue_date if any_vat_zero else None),
        deliver_to_country=b.address.country or b.country if any_vat_zero else "",
        payment_means_code=invoice.payment_means_code, payee_iban=invoice.payee_iban,
        payee_bic=s.bic, remittance_info=invoice.remittance_reference,
        payment_terms=invoice.payment_terms_text, note=invoice.reason, language=language,
        buyer_erased=b.erased, peppol=bool(endpoint),
        installments=tuple(invoice.installments) if not credit else (),
        early_discount=EarlyPaymentDiscount(invoice.discount_percent, invoice.discount_until,
                                            invoice.discount_amount)
        if invoice.discount_percent and invoice.discount_until else None,
        stamp_duty=stamp_duty(seller, breakdown, totals.tax_inclusive),
        split_payment=bool(preferences and preferences.public_administration
                           and seller.country == "IT" and buyer.country == "IT"))


# Italian stamp duty: EUR 2.00 on documents over EUR 77.47 without VAT (exempt operations).
STAMP_DUTY = Decimal("2.00")
STAMP_DUTY_THRESHOLD = Decimal("77.47")


def stamp_duty(seller: Party, breakdown: Iterable[VatBreakdown], total: Decimal) -> Decimal:
    exempt = sum((b.taxable for b in breakdown if b.code in ("E", "O") and b.tax == 0), ZERO)
    if seller.country == "IT" and exempt > STAMP_DUTY_THRESHOLD:
        return STAMP_DUTY
    return ZERO


def _line_discount(quantity: Decimal, unit_price: Decimal, discount_percent: Decimal,
                   net_amount: Decimal, currency: str) -> tuple[AllowanceCharge, ...]:
    """Our line discount percent as an EN 16931 line allowance (BG-27), so that
    BT-131 = qty x price - allowance holds exactly."""
    if not discount_percent:
        return ()
    base = round_amount(quantity * unit_price, currency)
    return (AllowanceCharge(charge=False, amount=base - net_amount, reason="Discount",
                            reason_code="95", base_amount=base,
                            percent=discount_percent.normalize()),)


def with_credit_reference(document: Document, number: str, issued: date) -> Document:
    return replace(document, preceding_invoice=number, preceding_invoice_date=issued)


__all__ = ["AllowanceCharge", "Document", "DocumentFormat", "DocumentPreferences", "Line",
           "Party", "SetDocumentPreferences", "Totals", "VatBreakdown", "compute",
           "from_invoice", "line_net"]
