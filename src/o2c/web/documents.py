"""The printable invoice: one HTML page for the browser's print view and, through
WeasyPrint, for the PDF download. (E-invoice formats and PDF/A-3 come from the invoicing
documents module; this is the human-readable copy.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request

from o2c.web.render import environment, formatter

PRINT_CSS = Path(__file__).parent / "static" / "invoice-print.css"


def printable(request: Request, invoice: dict[str, Any], *, for_pdf: bool = False) -> str:
    fmt = formatter(request)
    return environment.get_template("invoice_print.html").render(
        i=invoice, fmt=fmt, _=fmt.gettext, lang=fmt.language,
        stylesheet=None if for_pdf else "/static/invoice-print.css")


def pdf(request: Request, invoice: dict[str, Any]) -> bytes:
    from weasyprint import CSS, HTML  # heavy import, only when a PDF is asked for

    document = HTML(string=printable(request, invoice, for_pdf=True))
    data: bytes = document.write_pdf(stylesheets=[CSS(filename=str(PRINT_CSS))])
    return data
