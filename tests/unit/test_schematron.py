"""The vendored Peppol XSLTs are exactly what our Schematron compiler makes of the vendored
official .sch files, and the compiled rules fire (a broken document is caught)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from o2c.adapters.einvoice import schematron, ubl, validation
from tests.fixtures.einvoices import BUYER_FR, document

PEPPOL = Path(schematron.__file__).parent / "schemas" / "peppol"


@pytest.mark.parametrize("syntax", ["UBL", "CII"])
def test_the_vendored_peppol_xslt_is_the_compiled_official_schematron(syntax: str) -> None:
    source = (PEPPOL / f"PEPPOL-EN16931-{syntax}.sch").read_bytes()
    assert schematron.compile_schematron(source) == \
        (PEPPOL / f"PEPPOL-EN16931-{syntax}.xslt").read_bytes()


def test_a_peppol_invoice_without_buyer_or_order_reference_fires_r003() -> None:


    xml = ubl.write(document([("Chair", Decimal(1), Decimal(10), "K", Decimal(0))], buyer=BUYER_FR))
    for tag in (b"cbc:BuyerReference", b"cac:OrderReference"):
        start, end = xml.index(b"<" + tag + b">"), xml.index(b"</" + tag + b">")
        xml = xml[:start] + xml[end + len(tag) + 3:]
    report = validation.validate("peppol-invoice", xml)
    assert report.rules() == {"PEPPOL-EN16931-R003"}
