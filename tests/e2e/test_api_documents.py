"""GET /api/v1/invoices/{id}/document?format=... and the customer's document settings."""

from __future__ import annotations

from datetime import date

import facturx
from fastapi.testclient import TestClient

from o2c.adapters.einvoice import incoming
from o2c.bootstrap import App
from o2c.domain import commands as c
from tests.e2e.conftest import API
from tests.fixtures.world import World, line
from tests.services import support as s

ON = date(2026, 3, 2)


def _invoice(app: App, world: World) -> int:
    order_id = app.bus.handle(c.CreateOrder(world.customers["dupont"],
                                            (line(world.products["CHAIR"], 2),), order_date=ON))
    [shipment_id] = app.bus.handle(c.ConfirmOrder(order_id, on=ON)).shipment_ids
    s.ship(app.bus, shipment_id, on=ON)
    [invoice] = s.invoices_of_order(app.engine, order_id)
    return int(invoice["id"])


def test_the_api_serves_ubl_and_factur_x_documents_of_a_posted_invoice(
        client: TestClient, any_app: App, world: World) -> None:
    invoice_id = _invoice(any_app, world)
    number = s.row(any_app.engine, s.t.invoices, invoice_id)["number"]
    ubl = client.get(f"{API}/invoices/{invoice_id}/document", params={"format": "ubl"})
    assert ubl.status_code == 200, ubl.text
    assert ubl.headers["content-type"].startswith("application/xml")
    assert f'filename="{number}.xml"' in ubl.headers["content-disposition"]
    assert incoming.parse(ubl.content).number == number
    pdf = client.get(f"{API}/invoices/{invoice_id}/document?format=facturx")
    assert pdf.headers["content-type"] == "application/pdf"
    name, xml = facturx.get_xml_from_pdf(pdf.content, check_xsd=True)
    assert name == "factur-x.xml" and number.encode() in xml


def test_document_settings_are_stored_and_choose_the_default_format(
        client: TestClient, any_app: App, world: World) -> None:
    customer_id = world.customers["dupont"]
    url = f"{API}/customers/{customer_id}/document-settings"
    assert client.get(url).json()["format"] == "pdf"
    put = client.put(url, json={"format": "ubl", "peppol_id": "0009:30326504500017",
                                "delivery_email": "ap@dupont.example", "attach_xml": True})
    assert put.status_code == 200, put.text
    assert put.json()["peppol_id"] == "0009:30326504500017"
    invoice_id = _invoice(any_app, world)
    document = client.get(f"{API}/invoices/{invoice_id}/document")
    assert b'<cbc:EndpointID schemeID="0009">30326504500017</cbc:EndpointID>' in document.content


def test_bad_document_requests_are_problems(client: TestClient, any_app: App,
                                            world: World) -> None:
    invoice_id = _invoice(any_app, world)
    bad = client.get(f"{API}/invoices/{invoice_id}/document", params={"format": "docx"})
    assert bad.status_code == 422
    missing = client.get(f"{API}/invoices/99999/document", params={"format": "pdf"})
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    url = f"{API}/customers/{world.customers['rossi']}/document-settings"
    wrong = client.put(url, json={"format": "fatturapa", "codice_destinatario": "abc"})
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "codice_destinatario"
    # FatturaPA needs the buyer's address: the rule is named, nothing is rendered
    no_address = client.get(f"{API}/invoices/{invoice_id}/document?format=fatturapa")
    assert no_address.status_code == 422
    assert no_address.json()["errors"][0]["field"] == "buyer.address"
