"""Human-readable invoices and credit notes: HTML/CSS templates (one per document type,
localised) rendered by WeasyPrint as PDF/A-3b with embedded fonts; Factur-X embeds the CII
XML into that PDF/A-3 with the Factur-X XMP and the AF relationship (`factur-x` library)."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

import facturx
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from o2c.adapters.einvoice import cii
from o2c.adapters.einvoice.labels import (
    exemption_note,
    labels,
    legal_mentions,
    tax_number_label,
    terms_words,
)
from o2c.domain.einvoice import Document
from o2c.domain.money import minor_units
from o2c.domain.references import format_creditor_reference

TEMPLATES = Path(__file__).parent / "templates"
UNIT_SYMBOLS = {"C62": "", "H87": "pz", "KGM": "kg", "GRM": "g", "LTR": "l", "MTR": "m",
                "HUR": "h", "DAY": "d", "MTK": "m²", "MTQ": "m³"}
# factur-x logs every step at INFO; keep our logs readable.
logging.getLogger("factur-x").setLevel(logging.WARNING)


def _group(text: str, sep: str) -> str:
    out: list[str] = []
    while len(text) > 3:
        out.insert(0, text[-3:])
        text = text[:-3]
    out.insert(0, text)
    return sep.join(out)


def format_number(value: Decimal, language: str, places: int | None = None) -> str:
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places))
    text = format(value, "f")
    negative = text.startswith("-")
    text = text.lstrip("-")
    whole, _, fraction = text.partition(".")
    thousands, decimal_mark = {"en": (",", "."), "fr": ("\u202f", ",")}.get(
        language, (".", ","))
    result = _group(whole, thousands) + (decimal_mark + fraction if fraction else "")
    return ("-" if negative else "") + result


def _price_places(value: Decimal, places: int) -> int:
    """Unit prices show the currency's decimals, more when they carry more (0,034567)."""
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(places, -exponent)


@cache
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATES)),
                       autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True)


def html(doc: Document) -> str:
    env = _environment()
    language = doc.language
    places = minor_units(doc.currency)
    filters: dict[str, Any] = {
        "money": lambda v: format_number(v, language, places),
        "price": lambda v: format_number(v, language, _price_places(v, places)),
        "qty": lambda v: format_number(v.normalize(), language),
        "day": lambda d: d.strftime("%d/%m/%Y" if language != "en" else "%Y-%m-%d")
        if isinstance(d, date) else "",
        "unit": lambda u: UNIT_SYMBOLS.get(u, u),
        "rf": format_creditor_reference,
        "exemption": lambda b: exemption_note(b.code, b.exemption_reason, language),
    }
    env.filters.update(filters)
    template = env.get_template("credit_note.html" if doc.is_credit_note else "invoice.html")
    words = labels(language)
    title = words["credit_note" if doc.is_credit_note else "invoice"]
    return template.render(doc=doc, L=words, title=title, mentions=legal_mentions(doc),
                           payment_lines=payment_lines(doc), register=register_line(doc),
                           tax_label=lambda party: tax_number_label(party.tax_scheme,
                                                                    language))


def _day(doc: Document, day: date) -> str:
    return day.strftime("%d/%m/%Y" if doc.language != "en" else "%Y-%m-%d")


def payment_lines(doc: Document) -> list[str]:
    """When what is due falls due, in the document's language: each instalment with its date
    and amount, and the early-payment discount."""
    words = terms_words(doc.language)
    places = minor_units(doc.currency)

    def money(value: Decimal) -> str:
        return f"{format_number(value, doc.language, places)} {doc.currency}"

    lines = []
    if len(doc.installments) > 1:
        lines.append(words["instalments"].format(n=len(doc.installments)))
        lines += [words["due"].format(amount=money(i.amount), date=_day(doc, i.due_date))
                  for i in doc.installments]
    elif doc.due_date and not doc.is_credit_note:
        lines.append(words["single"].format(date=_day(doc, doc.due_date)))
    discount = doc.early_discount
    if discount is not None:
        lines.append(words["discount"].format(
            percent=format_number(discount.percent.normalize(), doc.language),
            amount=money(discount.amount), date=_day(doc, discount.until)))
    return lines


def register_line(doc: Document) -> str:
    """The seller's company register data (Italy: art. 2250 c.c.): REA office and number,
    share capital, sole shareholder, liquidation."""
    registration = doc.seller.registration
    if registration is None:
        return ""
    words = terms_words(doc.language)
    parts = []
    if registration.register_number:
        parts.append(f"{words['rea']} {registration.register_office}-"
                     f"{registration.register_number}")
    if registration.share_capital is not None:
        currency = doc.tax_currency or doc.currency
        amount = format_number(registration.share_capital, doc.language, 2)
        parts.append(f"{words['capital']} {amount} {currency} {words['paid_in']}")
    if registration.sole_shareholder:
        parts.append(words["sole"])
    if registration.in_liquidation:
        parts.append(words["liquidation"])
    return " · ".join(parts)


def render_pdf(doc: Document) -> bytes:
    """The PDF/A-3b invoice or credit note, fonts embedded."""
    from weasyprint import HTML  # imported late: loading pango costs ~0.3 s

    pdf = HTML(string=html(doc), base_url=str(TEMPLATES)).write_pdf(
        pdf_variant="pdf/a-3b", uncompressed_pdf=False)
    assert pdf is not None
    return bytes(pdf)


def embed_facturx(pdf: bytes, cii_xml: bytes, doc: Document) -> bytes:
    """Attach the CII as factur-x.xml (AFRelationship Data) with the Factur-X XMP."""
    title = labels(doc.language)["credit_note" if doc.is_credit_note else "invoice"]
    result = facturx.generate_from_binary(
        pdf, cii_xml, flavor="factur-x", level="en16931", check_xsd=False,
        pdf_metadata={"author": doc.seller.name, "keywords": "",
                      "title": f"{doc.seller.name}: {title} {doc.number}",
                      "subject": f"Factur-X {title} {doc.number}"},
        lang=doc.language, afrelationship="data")
    return info_as_xmp(bytes(result))


def info_as_xmp(pdf: bytes) -> bytes:
    """PDF/A requires the document information dictionary to agree with the XMP metadata:
    /Producer as the XMP's pdf:Producer (factur-x writes its own there, WeasyPrint's stays in
    the dictionary), and no /Keywords, which the XMP does not carry."""
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(BytesIO(pdf))
    xmp = reader.xmp_metadata
    info = {key: value for key, value in (reader.metadata or {}).items()
            if key != "/Keywords"}
    if xmp is not None and xmp.pdf_producer:
        info["/Producer"] = xmp.pdf_producer
    writer = PdfWriter(clone_from=reader)
    writer.metadata = info
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def render_facturx(doc: Document, cii_xml: bytes | None = None) -> bytes:
    return embed_facturx(render_pdf(doc), cii_xml or cii.write(doc), doc)
