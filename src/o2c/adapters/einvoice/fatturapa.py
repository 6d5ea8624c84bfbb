"""FatturaPA 1.2.3 for Italian sellers: FPR12 (B2B) and FPA12 (public administration), sent
through the Sistema di Interscambio (SdI).

DatiTrasmissione with CodiceDestinatario/PEC, RegimeFiscale, DatiRiepilogo per rate, Natura
for zero-rated and exempt lines, reverse charge, stamp duty (bollo virtuale), split payment
(EsigibilitaIVA S), and the file name convention `IT<vat>_<progressive>.xml`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from lxml import etree

from o2c.adapters.einvoice.xmlutil import SAFE_PARSER, sub, to_bytes
from o2c.domain.einvoice import Document, DocumentPreferences, Party
from o2c.domain.errors import InvalidInput
from o2c.domain.money import ZERO

NS = "http://ivaservizi.agenziaentrate.gov.it/docs/xsd/fatture/v1.2"
DS = "http://www.w3.org/2000/09/xmldsig#"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

# EN 16931 VAT category -> Natura (and the law it rests on).
NATURA: dict[str, tuple[str, str]] = {
    "Z": ("N3.6", "Operazione non imponibile"),
    "E": ("N4", "Operazione esente art. 10 DPR 633/72"),
    "AE": ("N6.9", "Inversione contabile art. 17 DPR 633/72"),
    "K": ("N3.2", "Cessione intracomunitaria non imponibile art. 41 DL 331/93"),
    "G": ("N3.1", "Esportazione non imponibile art. 8 DPR 633/72"),
    "O": ("N2.2", "Operazione non soggetta"),
}
# UNCL 4461 payment means -> ModalitaPagamento.
MODALITA = {"58": "MP05", "30": "MP05", "31": "MP05", "49": "MP19", "59": "MP20", "10": "MP01",
            "20": "MP02", "48": "MP08", "57": "MP05"}
_B36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _two(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.01")), "f")


def _at_least_two(value: Decimal) -> str:
    """Quantita / PrezzoUnitario: 2 to 8 decimals."""
    normalized = value.normalize()
    exponent = normalized.as_tuple().exponent
    assert isinstance(exponent, int)
    if exponent > -2:
        return _two(value)
    return format(value.quantize(Decimal(1).scaleb(max(exponent, -8))), "f")


def progressive(sequence: int) -> str:
    """Five alphanumerics for the file name and ProgressivoInvio (base 36, 60 million)."""
    if not 0 < sequence < 36 ** 5:
        raise ValueError(f"progressive {sequence} out of range")
    text = ""
    while sequence:
        sequence, digit = divmod(sequence, 36)
        text = _B36[digit] + text
    return text.rjust(5, "0")


def _vat_parts(vat_id: str, country: str) -> tuple[str, str]:
    vat = vat_id.replace(" ", "").upper()
    if len(vat) > 2 and vat[:2].isalpha():
        return vat[:2], vat[2:]
    return country, vat


def file_name(doc: Document, sequence: int) -> str:
    country, code = _vat_parts(doc.seller.vat_id or doc.seller.legal_id, doc.seller.country)
    return f"{country}{code}_{progressive(sequence)}.xml"


@dataclass(frozen=True, slots=True)
class FatturaPA:
    file_name: str
    xml: bytes
    format: str  # FPR12 | FPA12


def _anagrafica(parent: etree._Element, party: Party, seller: bool, field: str) -> None:
    data = sub(parent, "DatiAnagrafici")
    if party.vat_id:
        country, code = _vat_parts(party.vat_id, party.country)
        ident = sub(data, "IdFiscaleIVA")
        sub(ident, "IdPaese", country)
        sub(ident, "IdCodice", code)
    if party.legal_id and party.country == "IT":
        sub(data, "CodiceFiscale", party.legal_id.upper())
    if not party.vat_id and not (party.legal_id and party.country == "IT"):
        if party.country == "IT":
            raise InvalidInput(f"an Italian {'seller' if seller else 'buyer'} needs a partita "
                               "IVA or a codice fiscale", field=f"{field}.vat_id")
        ident = sub(data, "IdFiscaleIVA")
        sub(ident, "IdPaese", party.country)
        sub(ident, "IdCodice", "99999999999")  # SdI convention for foreign private persons
    anagrafica = sub(data, "Anagrafica")
    sub(anagrafica, "Denominazione", party.name[:80])
    if seller:
        sub(data, "RegimeFiscale", party.regime_fiscale or "RF01")
    sede = sub(parent, "Sede")
    if not party.line1 or not party.city:
        raise InvalidInput(f"FatturaPA needs the {'seller' if seller else 'buyer'}'s street "
                           "and city", field=f"{field}.address")
    sub(sede, "Indirizzo", party.line1[:60])
    cap = party.postal_code if party.country == "IT" else "00000"
    if len(cap) != 5 or not cap.isdigit():
        raise InvalidInput(f"Italian postal code (CAP) must have 5 digits, got {cap!r}",
                           field=f"{field}.address.postal_code")
    sub(sede, "CAP", cap)
    sub(sede, "Comune", party.city[:60])
    if party.country == "IT" and len(party.region) == 2:
        sub(sede, "Provincia", party.region.upper())
    sub(sede, "Nazione", party.country)


def write(doc: Document, preferences: DocumentPreferences | None, sequence: int) -> FatturaPA:
    """The FatturaPA of `doc`; `sequence` numbers the transmission (file name and
    ProgressivoInvio)."""
    if doc.seller.country != "IT":
        raise InvalidInput("FatturaPA is for Italian sellers", field="format")
    prefs = preferences or DocumentPreferences(customer_id=0)
    public = prefs.public_administration
    fmt = "FPA12" if public else "FPR12"
    root = etree.Element(f"{{{NS}}}FatturaElettronica", nsmap={"p": NS, "ds": DS, "xsi": XSI})
    root.set("versione", fmt)
    header = sub(root, "FatturaElettronicaHeader")
    transmission = sub(header, "DatiTrasmissione")
    transmitter = sub(transmission, "IdTrasmittente")
    country, code = _vat_parts(doc.seller.vat_id or doc.seller.legal_id, "IT")
    sub(transmitter, "IdPaese", country)
    sub(transmitter, "IdCodice", code)
    sub(transmission, "ProgressivoInvio", progressive(sequence))
    sub(transmission, "FormatoTrasmissione", fmt)
    if doc.buyer.country != "IT":
        recipient = "XXXXXXX"
    elif prefs.codice_destinatario:
        recipient = prefs.codice_destinatario
    elif public:
        raise InvalidInput("a public administration customer needs its 6-character office "
                           "code (Codice Univoco Ufficio)", field="codice_destinatario")
    else:
        recipient = "0000000"
    sub(transmission, "CodiceDestinatario", recipient)
    if prefs.pec and recipient == "0000000":
        sub(transmission, "PECDestinatario", prefs.pec)
    seller = sub(header, "CedentePrestatore")
    _anagrafica(seller, doc.seller, True, "seller")
    buyer = sub(header, "CessionarioCommittente")
    _anagrafica(buyer, doc.buyer, False, "buyer")

    body = sub(root, "FatturaElettronicaBody")
    general = sub(body, "DatiGenerali")
    document = sub(general, "DatiGeneraliDocumento")
    sub(document, "TipoDocumento", "TD04" if doc.is_credit_note else "TD01")
    sub(document, "Divisa", doc.currency)
    sub(document, "Data", doc.issue_date.isoformat())
    sub(document, "Numero", doc.number)
    if doc.stamp_duty:
        bollo = sub(document, "DatiBollo")
        sub(bollo, "BolloVirtuale", "SI")
        sub(bollo, "ImportoBollo", _two(doc.stamp_duty))
    sub(document, "ImportoTotaleDocumento", _two(doc.totals.tax_inclusive))
    if doc.note:
        sub(document, "Causale", doc.note[:200])
    if doc.order_reference:
        order = sub(general, "DatiOrdineAcquisto")
        sub(order, "IdDocumento", doc.order_reference[:20])
    if doc.preceding_invoice:
        linked = sub(general, "DatiFattureCollegate")
        sub(linked, "IdDocumento", doc.preceding_invoice[:20])
        if doc.preceding_invoice_date:
            sub(linked, "Data", doc.preceding_invoice_date.isoformat())

    goods = sub(body, "DatiBeniServizi")
    number = 0
    for line in doc.lines:
        number += 1
        e = sub(goods, "DettaglioLinee")
        sub(e, "NumeroLinea", str(number))
        if line.seller_item_id:
            item = sub(e, "CodiceArticolo")
            sub(item, "CodiceTipo", "SKU")
            sub(item, "CodiceValore", line.seller_item_id[:35])
        sub(e, "Descrizione", line.name[:1000])
        sub(e, "Quantita", _at_least_two(line.quantity))
        sub(e, "UnitaMisura", line.unit)
        sub(e, "PrezzoUnitario", _at_least_two(line.net_price))
        for ac in line.allowances_charges:
            discount = sub(e, "ScontoMaggiorazione")
            sub(discount, "Tipo", "MG" if ac.charge else "SC")
            sub(discount, "Importo", _at_least_two(ac.amount / line.quantity)
                if line.quantity else _two(ac.amount))
        sub(e, "PrezzoTotale", _at_least_two(line.net_amount))
        sub(e, "AliquotaIVA", _two(line.vat_rate))
        if line.vat_code in NATURA:
            sub(e, "Natura", NATURA[line.vat_code][0])
    for ac in doc.allowances_charges:
        number += 1
        e = sub(goods, "DettaglioLinee")
        sub(e, "NumeroLinea", str(number))
        sub(e, "TipoCessionePrestazione", "AC" if ac.charge else "SC")
        sub(e, "Descrizione", ac.reason or ("Maggiorazione" if ac.charge else "Sconto"))
        sub(e, "PrezzoUnitario", _two(ac.signed))
        sub(e, "PrezzoTotale", _two(ac.signed))
        sub(e, "AliquotaIVA", _two(ac.vat_rate))
        if ac.vat_code in NATURA:
            sub(e, "Natura", NATURA[ac.vat_code][0])
    for b in doc.breakdown:
        summary = sub(goods, "DatiRiepilogo")
        sub(summary, "AliquotaIVA", _two(b.rate))
        if b.code in NATURA:
            sub(summary, "Natura", NATURA[b.code][0])
        sub(summary, "ImponibileImporto", _two(b.taxable))
        sub(summary, "Imposta", _two(b.tax))
        if b.tax:
            sub(summary, "EsigibilitaIVA", "S" if doc.split_payment else "I")
        if b.code in NATURA:
            sub(summary, "RiferimentoNormativo", (b.exemption_reason
                                                  or NATURA[b.code][1])[:100])

    if doc.payment_means_code or doc.due_date:
        payment = sub(body, "DatiPagamento")
        sub(payment, "CondizioniPagamento", "TP02")
        detail = sub(payment, "DettaglioPagamento")
        sub(detail, "ModalitaPagamento", MODALITA.get(doc.payment_means_code, "MP05"))
        if doc.due_date:
            sub(detail, "DataScadenzaPagamento", doc.due_date.isoformat())
        due = doc.totals.payable - (doc.totals.tax_total if doc.split_payment else ZERO)
        sub(detail, "ImportoPagamento", _two(due))
        if doc.payee_iban:
            sub(detail, "IBAN", doc.payee_iban.replace(" ", ""))
        if doc.payee_bic:
            sub(detail, "BIC", doc.payee_bic)
        if doc.remittance_info:
            sub(detail, "CodicePagamento", doc.remittance_info[:60])
    return FatturaPA(file_name(doc, sequence), to_bytes(root), fmt)


@dataclass(frozen=True, slots=True)
class ParsedFattura:
    """What we read back from a FatturaPA file (ours or an official sample)."""

    format: str
    seller_vat: str
    buyer_name: str
    documents: tuple[tuple[str, str, Decimal], ...]  # (TipoDocumento, Numero, total)
    summaries: tuple[tuple[Decimal, str, Decimal, Decimal], ...]  # rate, natura, base, tax


def parse(xml: bytes) -> ParsedFattura:
    root = etree.fromstring(xml, parser=SAFE_PARSER)
    if etree.QName(root).localname != "FatturaElettronica":
        raise InvalidInput("not a FatturaPA document", field="/")

    def text(node: etree._Element, path: str) -> str:
        found = node.find(path)
        return (found.text or "").strip() if found is not None else ""

    header = root.find("FatturaElettronicaHeader")
    if header is None:
        raise InvalidInput("FatturaPA without header", field="/FatturaElettronicaHeader")
    seller = (text(header, "CedentePrestatore/DatiAnagrafici/IdFiscaleIVA/IdPaese")
              + text(header, "CedentePrestatore/DatiAnagrafici/IdFiscaleIVA/IdCodice"))
    buyer = (text(header, "CessionarioCommittente/DatiAnagrafici/Anagrafica/Denominazione")
             or " ".join(filter(None, (
                 text(header, "CessionarioCommittente/DatiAnagrafici/Anagrafica/Nome"),
                 text(header, "CessionarioCommittente/DatiAnagrafici/Anagrafica/Cognome")))))
    documents = []
    summaries = []
    for body in root.iterfind("FatturaElettronicaBody"):
        general = "DatiGenerali/DatiGeneraliDocumento/"
        total = text(body, general + "ImportoTotaleDocumento")
        documents.append((text(body, general + "TipoDocumento"), text(body, general + "Numero"),
                          Decimal(total) if total else ZERO))
        for summary in body.iterfind("DatiBeniServizi/DatiRiepilogo"):
            summaries.append((Decimal(text(summary, "AliquotaIVA")), text(summary, "Natura"),
                              Decimal(text(summary, "ImponibileImporto")),
                              Decimal(text(summary, "Imposta"))))
    return ParsedFattura(root.get("versione", ""), seller, buyer, tuple(documents),
                         tuple(summaries))
