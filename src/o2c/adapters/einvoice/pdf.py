"""Human-readable invoices and credit notes: HTML/CSS templates (one per document type,
localised) rendered by WeasyPrint as PDF/A-3b with embedded fonts; Factur-X embeds the CII
XML into that PDF/A-3 with the Factur-X XMP and the AF relationship (`factur-x` library)."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import facturx
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from o2c.adapters.einvoice import cii
from o2c.adapters.einvoice.labels import labels, legal_mentions
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
    }
    env.filters.update(filters)
    template = env.get_template("credit_note.html" if doc.is_credit_note else "invoice.html")
    words = labels(language)
    title = words["credit_note" if doc.is_credit_note else "invoice"]
    return template.render(doc=doc, L=words, title=title, mentions=legal_mentions(doc))


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
        pdf_metadata={"author": doc.seller.name, "keywords": "Factur-X, Invoice",
                      "title": f"{doc.seller.name}: {title} {doc.number}",
                      "subject": f"Factur-X {title} {doc.number}"},
        lang=doc.language, afrelationship="data")
    return bytes(result)


def render_facturx(doc: Document, cii_xml: bytes | None = None) -> bytes:
    return embed_facturx(render_pdf(doc), cii_xml or cii.write(doc), doc)
