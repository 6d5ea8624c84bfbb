"""The Sistema di Interscambio's field rules for FatturaPA that the XSD cannot express: the
checks SdI runs on every file and rejects it for (error codes of the Agenzia delle Entrate's
"elenco controlli", Specifiche tecniche 1.9), plus the identity checks of the parties.

Each failure is a `Finding` with the SdI error code as its rule, the XPath of the element and
the value found there, like the schematron findings of the other formats."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal, InvalidOperation

from lxml import etree
from stdnum.it import codicefiscale, iva

from o2c.adapters.einvoice.xmlutil import SAFE_PARSER, Finding

CENT = Decimal("0.01")
EURO = Decimal(1)
# Natura codes in force since 1 January 2021 (the generic N2, N3 and N6 were withdrawn).
NATURE = frozenset({"N1", "N2.1", "N2.2", "N3.1", "N3.2", "N3.3", "N3.4", "N3.5", "N3.6", "N4",
                    "N5", "N6.1", "N6.2", "N6.3", "N6.4", "N6.5", "N6.6", "N6.7", "N6.8",
                    "N6.9", "N7"})


def _number(node: etree._Element, path: str) -> Decimal | None:
    text = node.findtext(path)
    if text is None:
        return None
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        return None


def _where(node: etree._Element) -> str:
    return node.getroottree().getpath(node)


def _nature_and_rate(findings: list[Finding], node: etree._Element) -> tuple[Decimal, str]:
    rate = _number(node, "AliquotaIVA") or Decimal(0)
    nature = (node.findtext("Natura") or "").strip()
    if rate == 0 and not nature:
        findings.append(Finding("SdI-00400", "fatal", "AliquotaIVA is 0: Natura is required "
                                "(00400)", _where(node), "0.00"))
    if rate != 0 and nature:
        findings.append(Finding("SdI-00401", "fatal", "Natura must not be given with a VAT rate "
                                "other than 0 (00401)", _where(node), nature))
    if nature and nature not in NATURE:
        findings.append(Finding("SdI-00445", "fatal", f"Natura {nature} is not a code in force "
                                "(N2, N3 and N6 need their sub-codes since 2021) (00445)",
                                _where(node), nature))
    return rate, nature


def _line_total(findings: list[Finding], line: etree._Element) -> None:
    """00423: PrezzoTotale = PrezzoUnitario (less discounts, plus surcharges) x Quantita."""
    price = _number(line, "PrezzoUnitario")
    total = _number(line, "PrezzoTotale")
    if price is None or total is None:
        return
    quantity = _number(line, "Quantita") or EURO
    unit = price
    for adjustment in line.iterfind("ScontoMaggiorazione"):
        sign = -1 if adjustment.findtext("Tipo") == "SC" else 1
        amount = _number(adjustment, "Importo")
        percent = _number(adjustment, "Percentuale")
        if amount is not None:
            unit += sign * amount
        elif percent is not None:
            unit += sign * unit * percent / 100
    expected = unit * quantity
    if abs(expected - total) > CENT:
        findings.append(Finding("SdI-00423", "fatal", f"PrezzoTotale {total} differs from "
                                f"PrezzoUnitario x Quantita = {expected:.8f} (00423)",
                                _where(line), str(total)))


def _party(findings: list[Finding], party: etree._Element, role: str) -> None:
    data = party.find("DatiAnagrafici")
    if data is None:
        return
    country = (data.findtext("IdFiscaleIVA/IdPaese") or "").strip()
    code = (data.findtext("IdFiscaleIVA/IdCodice") or "").strip()
    fiscal = (data.findtext("CodiceFiscale") or "").strip()
    if role == "CessionarioCommittente" and not code and not fiscal:
        findings.append(Finding("SdI-00417", "fatal", "the buyer needs IdFiscaleIVA or "
                                "CodiceFiscale (00417)", _where(data), ""))
    if country == "IT" and code and not iva.is_valid(code):
        findings.append(Finding("SdI-00305" if role == "CessionarioCommittente" else "SdI-00301",
                                "fatal", f"{role}: IdCodice {code} is not a valid partita IVA",
                                _where(data), code))
    if fiscal and not (codicefiscale.is_valid(fiscal) or iva.is_valid(fiscal)):
        findings.append(Finding("SdI-00306" if role == "CessionarioCommittente" else "SdI-00302",
                                "fatal", f"{role}: CodiceFiscale {fiscal} is not valid",
                                _where(data), fiscal))
    if country and (len(country) != 2 or not country.isalpha() or not country.isupper()):
        findings.append(Finding("SdI-IdPaese", "fatal", f"{role}: IdPaese {country!r} is not "
                                "an ISO 3166-1 alpha-2 code", _where(data), country))


def check(xml: bytes) -> list[Finding]:
    """SdI's rules on a schema-valid FatturaPA: 00400, 00401, 00445 (Natura), 00419 (a
    DatiRiepilogo for every rate and Natura of the lines), 00421 (Imposta), 00422
    (ImponibileImporto), 00423 (PrezzoTotale), 00417, 00301/00302/00305/00306 (identifiers)."""
    root = etree.fromstring(xml, parser=SAFE_PARSER)
    findings: list[Finding] = []
    header = root.find("FatturaElettronicaHeader")
    if header is not None:
        for role in ("CedentePrestatore", "CessionarioCommittente"):
            party = header.find(role)
            if party is not None:
                _party(findings, party, role)
    for body in root.iterfind("FatturaElettronicaBody"):
        goods = body.find("DatiBeniServizi")
        if goods is None:
            continue
        lines: dict[tuple[Decimal, str], Decimal] = defaultdict(Decimal)
        for line in goods.iterfind("DettaglioLinee"):
            key = _nature_and_rate(findings, line)
            _line_total(findings, line)
            lines[key] += _number(line, "PrezzoTotale") or Decimal(0)
        summaries: set[tuple[Decimal, str]] = set()
        for summary in goods.iterfind("DatiRiepilogo"):
            key = _nature_and_rate(findings, summary)
            summaries.add(key)
            base = _number(summary, "ImponibileImporto") or Decimal(0)
            tax = _number(summary, "Imposta") or Decimal(0)
            rounding = (_number(summary, "Arrotondamento") or Decimal(0)) + (
                _number(summary, "SpeseAccessorie") or Decimal(0))
            expected_tax = (base * key[0] / 100).quantize(CENT)
            if abs(expected_tax - tax) > CENT:
                findings.append(Finding("SdI-00421", "fatal", f"Imposta {tax} differs from "
                                        f"ImponibileImporto x AliquotaIVA = {expected_tax} "
                                        "(00421)", _where(summary), str(tax)))
            if key in lines and abs(lines[key] + rounding - base) > EURO:
                findings.append(Finding("SdI-00422", "fatal", f"ImponibileImporto {base} "
                                        f"differs from the lines' PrezzoTotale {lines[key]} "
                                        "(00422)", _where(summary), str(base)))
        for rate, nature in sorted(set(lines) - summaries):
            findings.append(Finding("SdI-00419", "fatal", f"no DatiRiepilogo for AliquotaIVA "
                                    f"{rate} Natura {nature or '-'} of the lines (00419)",
                                    _where(goods), ""))
    return findings
