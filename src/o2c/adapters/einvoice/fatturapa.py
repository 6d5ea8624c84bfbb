"""FatturaPA 1.2.3 for Italian sellers: FPR12 (B2B) and FPA12 (public administration), sent
through the Sistema di Interscambio (SdI).

DatiTrasmissione with CodiceDestinatario/PEC, the seller's IscrizioneREA, RegimeFiscale,
DatiRiepilogo per rate, Natura (with the Italian law each rests on) for every operation without
Italian VAT: intra-EU supplies (N3.2), exports (N3.1), services to businesses abroad (N2.1,
art. 7-ter), domestic reverse charge (N6.9), exempt (N4), excluded (N1) and distance sales to
EU consumers under the OSS (N7, the foreign VAT shown per line but not as Italian VAT); stamp
duty (bollo virtuale), split payment (EsigibilitaIVA S), instalments (TP01, one
DettaglioPagamento each) and early-payment discounts; foreign buyers identified per SdI's
rules (their own tax number, 99999999999 for a private person), and the file name
`IT<vat>_<progressive>.xml`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lxml import etree

from o2c.adapters.einvoice.xmlutil import SAFE_PARSER, sub, to_bytes
from o2c.domain.einvoice import Document, DocumentPreferences, Line, Party, VatBreakdown
from o2c.domain.errors import InvalidInput
from o2c.domain.money import ZERO, allocate
from o2c.domain.parties import EU_COUNTRIES, Registration

NS = "http://ivaservizi.agenziaentrate.gov.it/docs/xsd/fatture/v1.2"
DS = "http://www.w3.org/2000/09/xmldsig#"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

# Natura and the law it rests on (RiferimentoNormativo, at most 100 characters).
N1 = ("N1", "Esclusa ex art. 15 DPR 633/72")
N2_1 = ("N2.1", "Non soggetta art. 7-ter DPR 633/72: servizi a committente non residente")
N2_2 = ("N2.2", "Non soggetta ad IVA, artt. 2-5 DPR 633/72")
N3_1 = ("N3.1", "Non imponibile art. 8 c. 1 lett. a) DPR 633/72: esportazione")
N3_2 = ("N3.2", "Non imponibile art. 41 c. 1 lett. a) DL 331/93: cessione intracomunitaria")
N4 = ("N4", "Esente art. 10 DPR 633/72")
N6_9 = ("N6.9", "Inversione contabile art. 17 c. 6 DPR 633/72")
N7 = ("N7", "IVA assolta in altro Stato UE, vendita a distanza art. 41 c. 1 lett. b) DL 331/93")
BY_CATEGORY = {"Z": N1, "E": N4, "K": N3_2, "G": N3_1, "O": N2_2}
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
    """IdPaese and IdCodice of a VAT id (Greece's EL prefix is GR in IdPaese)."""
    vat = vat_id.replace(" ", "").upper()
    prefix = "EL" if country == "GR" else country
    if vat.startswith(prefix):
        return country, vat[len(prefix):]
    return country, vat


def file_name(doc: Document, sequence: int) -> str:
    country, code = _vat_parts(doc.seller.vat_id or doc.seller.legal_id, doc.seller.country)
    return f"{country}{code}_{progressive(sequence)}.xml"


@dataclass(frozen=True, slots=True)
class FatturaPA:
    file_name: str
    xml: bytes
    format: str  # FPR12 | FPA12


def is_distance_sale(doc: Document, code: str, rate: Decimal) -> bool:
    """A sale of goods to a consumer in another EU country taxed there (OSS): VAT of the
    buyer's country, not Italian VAT."""
    country = doc.deliver_to_country or doc.buyer.country
    return (code in ("S", "Z") and rate > 0 and country != doc.seller.country
            and country in EU_COUNTRIES and not doc.buyer.vat_id)


def natura(doc: Document, code: str, rate: Decimal) -> tuple[str, str] | None:
    """(Natura, RiferimentoNormativo) of an operation without Italian VAT; None when Italian
    VAT is charged."""
    if is_distance_sale(doc, code, rate):
        return N7
    if code == "AE":
        # Reverse charge across borders is a service (goods to EU businesses are K): taxed
        # where the business buyer is (art. 7-ter); at home, domestic reverse charge.
        return N2_1 if doc.buyer.country != doc.seller.country else N6_9
    return BY_CATEGORY.get(code)


def _identity(data: etree._Element, party: Party, seller: bool, field: str) -> None:
    """IdFiscaleIVA and CodiceFiscale: an Italian party by its partita IVA and/or codice
    fiscale; a foreign one by its VAT id, else its own tax number (EIN, RFC ...) under its
    country, else (a private person) 99999999999."""
    if party.country == "IT":
        if party.vat_id:
            country, code = _vat_parts(party.vat_id, "IT")
            ident = sub(data, "IdFiscaleIVA")
            sub(ident, "IdPaese", country)
            sub(ident, "IdCodice", code)
        fiscal = party.legal_id if party.tax_scheme in ("CF", "") else ""
        if fiscal:
            sub(data, "CodiceFiscale", fiscal.upper())
        if not party.vat_id and not fiscal:
            raise InvalidInput(f"an Italian {'seller' if seller else 'buyer'} needs a partita "
                               "IVA or a codice fiscale", field=f"{field}.tax_code")
        return
    if party.vat_id:
        country, code = _vat_parts(party.vat_id, party.country)
    else:
        country, code = party.country, party.legal_id or "99999999999"
    ident = sub(data, "IdFiscaleIVA")
    sub(ident, "IdPaese", country)
    sub(ident, "IdCodice", code[:28])


def _rea(parent: etree._Element, registration: Registration | None) -> None:
    """IscrizioneREA of the seller: office, number, share capital, sole shareholder (SU/SM)
    and liquidation state (LS/LN)."""
    if registration is None or not registration.register_number:
        return
    rea = sub(parent, "IscrizioneREA")
    sub(rea, "Ufficio", registration.register_office)
    sub(rea, "NumeroREA", registration.register_number[:20])
    if registration.share_capital is not None:
        sub(rea, "CapitaleSociale", _two(registration.share_capital))
    sub(rea, "SocioUnico", "SU" if registration.sole_shareholder else "SM")
    sub(rea, "StatoLiquidazione", "LS" if registration.in_liquidation else "LN")


def _anagrafica(parent: etree._Element, party: Party, seller: bool, field: str) -> None:
    data = sub(parent, "DatiAnagrafici")
    _identity(data, party, seller, field)
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
    if seller:
        _rea(parent, party.registration)


def _line(goods: etree._Element, doc: Document, number: int, line: Line) -> None:
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
    nature = natura(doc, line.vat_code, line.vat_rate)
    sub(e, "AliquotaIVA", _two(ZERO if nature else line.vat_rate))
    if nature:
        sub(e, "Natura", nature[0])
    if nature is N7:  # the VAT charged is the buyer country's, declared through the OSS
        other = sub(e, "AltriDatiGestionali")
        sub(other, "TipoDato", "IVA OSS")
        country = doc.deliver_to_country or doc.buyer.country
        sub(other, "RiferimentoTesto", f"IVA {country} {_two(line.vat_rate)}% (OSS)")
        sub(other, "RiferimentoNumero", _two(line.vat_rate))


def _summaries(goods: etree._Element, doc: Document) -> None:
    groups: dict[tuple[Decimal, str], list[VatBreakdown]] = {}
    for b in doc.breakdown:
        nature = natura(doc, b.code, b.rate)
        key = (ZERO, nature[0]) if nature else (b.rate, "")
        groups.setdefault(key, []).append(b)
    for (rate, _nature), members in groups.items():
        summary = sub(goods, "DatiRiepilogo")
        sub(summary, "AliquotaIVA", _two(rate))
        nature = natura(doc, members[0].code, members[0].rate)
        if nature:
            sub(summary, "Natura", nature[0])
        sub(summary, "ImponibileImporto", _two(sum((b.taxable for b in members), ZERO)))
        sub(summary, "Imposta", _two(ZERO if nature else sum((b.tax for b in members), ZERO)))
        if not nature:
            sub(summary, "EsigibilitaIVA", "S" if doc.split_payment else "I")
        else:
            sub(summary, "RiferimentoNormativo", nature[1][:100])


def _payments(body: etree._Element, doc: Document) -> None:
    """TP02 with one DettaglioPagamento when everything falls due at once; TP01 with one per
    instalment otherwise. An early-payment discount goes with the first (or only) one."""
    if not (doc.payment_means_code or doc.due_date):
        return
    due_total = doc.totals.payable - (doc.totals.tax_total if doc.split_payment else ZERO)
    schedule: list[tuple[date | None, Decimal]] = [
        (i.due_date, i.amount) for i in doc.installments] or [(doc.due_date, doc.totals.payable)]
    amounts = allocate(due_total, [amount for _, amount in schedule], doc.currency) \
        if due_total != sum((a for _, a in schedule), ZERO) and due_total > 0 \
        else [amount for _, amount in schedule]
    payment = sub(body, "DatiPagamento")
    sub(payment, "CondizioniPagamento", "TP01" if len(schedule) > 1 else "TP02")
    for index, ((day, _), amount) in enumerate(zip(schedule, amounts, strict=True)):
        detail = sub(payment, "DettaglioPagamento")
        sub(detail, "ModalitaPagamento", MODALITA.get(doc.payment_means_code, "MP05"))
        if day:
            sub(detail, "DataScadenzaPagamento", day.isoformat())
        sub(detail, "ImportoPagamento", _two(amount))
        if doc.payee_iban:
            sub(detail, "IBAN", doc.payee_iban.replace(" ", ""))
        if doc.payee_bic:
            sub(detail, "BIC", doc.payee_bic)
        discount = doc.early_discount
        if discount is not None and index == 0:
            sub(detail, "ScontoPagamentoAnticipato", _two(discount.amount))
            sub(detail, "DataLimitePagamentoAnticipato", discount.until.isoformat())
        if doc.remittance_info:
            sub(detail, "CodicePagamento", doc.remittance_info[:60])


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
        _line(goods, doc, number, line)
    for ac in doc.allowances_charges:
        number += 1
        e = sub(goods, "DettaglioLinee")
        sub(e, "NumeroLinea", str(number))
        sub(e, "TipoCessionePrestazione", "AC" if ac.charge else "SC")
        sub(e, "Descrizione", ac.reason or ("Maggiorazione" if ac.charge else "Sconto"))
        sub(e, "PrezzoUnitario", _two(ac.signed))
        sub(e, "PrezzoTotale", _two(ac.signed))
        nature = natura(doc, ac.vat_code, ac.vat_rate)
        sub(e, "AliquotaIVA", _two(ZERO if nature else ac.vat_rate))
        if nature:
            sub(e, "Natura", nature[0])
    _summaries(goods, doc)
    _payments(body, doc)
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
