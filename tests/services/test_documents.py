"""Documents of posted invoices and credit notes, in every format, validated before they leave;
customers' document preferences; delivery by e-mail through the outbox, against a real SMTP
server, exactly once."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from o2c.adapters.db import documents as store
from o2c.adapters.db import tables as t
from o2c.adapters.einvoice import fatturapa, incoming, pdf, validation
from o2c.adapters.mail import MailSettings, SmtpMailer
from o2c.bootstrap import App
from o2c.domain import commands as c
from o2c.domain.einvoice import DocumentFormat, SetDocumentPreferences
from o2c.domain.errors import InvalidInput, NotFound
from o2c.services import documents as service
from o2c.services.uow import UnitOfWork
from tests.fixtures.smtp import free_port, smtp_server
from tests.fixtures.world import World, line
from tests.services import support as s

D = Decimal
ON = date(2026, 3, 2)


ADDRESSES = {
    "rossi": {"line1": "Via Po 2", "city": "Torino", "postal_code": "10121", "region": "TO",
              "country": "IT"},
    "dupont": {"line1": "1 rue de Rivoli", "city": "Paris", "postal_code": "75001",
               "country": "FR"},
    "acme_us": {"line1": "1 Main St", "city": "Boston", "postal_code": "02108",
                "country": "US"},
}


@pytest.fixture(autouse=True)
def addresses(app: App, world: World) -> None:
    """FatturaPA needs street and city of both parties."""
    for code, address in ADDRESSES.items():
        app.bus.handle(c.UpdateCustomer(world.customers[code], {"billing_address": address}))


def _invoice(app: App, world: World, customer: str, *lines: c.OrderLineInput) -> int:
    order_id = app.bus.handle(c.CreateOrder(world.customers[customer], lines, order_date=ON))
    [shipment_id] = app.bus.handle(c.ConfirmOrder(order_id, on=ON)).shipment_ids
    s.ship(app.bus, shipment_id, on=ON)
    [invoice] = s.invoices_of_order(app.engine, order_id)
    return int(invoice["id"])


def _render(app: App, invoice_id: int, fmt: DocumentFormat) -> service.Rendered:
    with app.engine.connect() as conn:
        return service.render(conn, invoice_id, fmt, app.clock())


@pytest.mark.parametrize("customer", ["rossi", "dupont", "acme_us"])
def test_a_posted_invoice_renders_in_every_format_and_reads_back_with_its_totals(
        app: App, world: World, customer: str) -> None:
    invoice_id = _invoice(app, world, customer, line(world.products["CHAIR"], 2),
                          line(world.products["BOOK"], 3),
                          line(world.products["SCREW"], 1000, "0.034567"))
    posted = s.row(app.engine, t.invoices, invoice_id)
    for fmt in (DocumentFormat.UBL, DocumentFormat.FACTURX):
        rendered = _render(app, invoice_id, fmt)
        doc = incoming.parse(rendered.content)
        assert (doc.totals.tax_exclusive, doc.totals.tax_total, doc.totals.payable) == (
            posted["net_amount"], posted["tax_amount"], posted["gross_amount"])
        assert doc.number == posted["number"] and doc.currency == posted["currency"]
    if posted["currency"] != "EUR":  # BT-6 / BT-111: VAT also in the accounting currency
        assert doc.tax_currency == "EUR"
        assert doc.tax_total_accounting == posted["tax_amount_company"]
    fattura = _render(app, invoice_id, DocumentFormat.FATTURAPA)
    assert fattura.file_name == f"IT00743110157_{fatturapa.progressive(invoice_id)}.xml"
    parsed = fatturapa.parse(fattura.content)
    assert parsed.documents[0] == ("TD01", posted["number"], posted["gross_amount"])
    assert _render(app, invoice_id, DocumentFormat.PDF).content.startswith(b"%PDF")


def test_a_partial_credit_note_renders_as_ubl_credit_note_pointing_at_the_invoice(
        app: App, world: World) -> None:
    invoice_id = _invoice(app, world, "dupont", line(world.products["CHAIR"], 2),
                          line(world.products["DESK"], 1))
    lines = s.rows(app.engine, t.invoice_lines, t.invoice_lines.c.invoice_id == invoice_id)
    credit_id = app.bus.handle(c.CreateCreditNote(
        invoice_id, "one chair returned", (c.CreditLineInput(lines[0]["id"], D(1)),), on=ON))
    rendered = _render(app, credit_id, DocumentFormat.UBL)
    assert b"<CreditNote" in rendered.content
    doc = incoming.parse(rendered.content)
    invoice = s.row(app.engine, t.invoices, invoice_id)
    assert (doc.type_code, doc.preceding_invoice) == ("381", invoice["number"])
    assert doc.totals.payable == s.row(app.engine, t.invoices, credit_id)["gross_amount"]
    assert validation.validate("facturx-en16931", _cii_of(app, credit_id)).ok


def _cii_of(app: App, invoice_id: int) -> bytes:
    _, xml = incoming.detect(_render(app, invoice_id, DocumentFormat.FACTURX).content)
    return xml


def test_the_customer_preferred_format_is_used_when_none_is_asked(app: App,
                                                                   world: World) -> None:
    invoice_id = _invoice(app, world, "rossi", line(world.products["CHAIR"], 1))
    app.bus.handle(SetDocumentPreferences(world.customers["rossi"], "fatturapa",
                                          codice_destinatario="ABC1234"))
    with app.engine.connect() as conn:
        rendered = service.render(conn, invoice_id, None, app.clock())
    assert rendered.format is DocumentFormat.FATTURAPA
    assert b"<CodiceDestinatario>ABC1234</CodiceDestinatario>" in rendered.content


def test_bad_document_preferences_are_refused_and_nothing_is_written(app: App,
                                                                     world: World) -> None:
    before = s.row_counts(app.engine)
    with pytest.raises(InvalidInput) as error:
        app.bus.handle(SetDocumentPreferences(world.customers["rossi"], "fatturapa",
                                              codice_destinatario="abc"))
    assert error.value.field == "codice_destinatario"
    with pytest.raises(InvalidInput, match="format"):
        app.bus.handle(SetDocumentPreferences(world.customers["rossi"], "docx"))
    with pytest.raises(NotFound):
        app.bus.handle(SetDocumentPreferences(999, "pdf"))
    with pytest.raises(InvalidInput, match="Peppol"):
        app.bus.handle(SetDocumentPreferences(world.customers["rossi"], "ubl",
                                              peppol_id="0208"))
    assert s.row_counts(app.engine) == before


def test_a_missing_invoice_has_no_document(app: App, world: World) -> None:
    with app.engine.connect() as conn, pytest.raises(NotFound):
        service.render(conn, 12345, DocumentFormat.PDF, app.clock())


def test_fatturapa_without_the_buyer_address_is_refused_naming_the_field(
        app: App, world: World) -> None:
    invoice_id = _invoice(app, world, "rossi", line(world.products["CHAIR"], 1))
    app.bus.handle(c.UpdateCustomer(world.customers["rossi"], {"billing_address": {}}))
    invoice_id = _invoice(app, world, "rossi", line(world.products["CHAIR"], 1))
    with pytest.raises(InvalidInput) as error:
        _render(app, invoice_id, DocumentFormat.FATTURAPA)
    assert error.value.field == "buyer.address"


# -- delivery ----------------------------------------------------------------------------------


def _mailer(port: int) -> SmtpMailer:
    return SmtpMailer(MailSettings(host="127.0.0.1", port=port, sender="billing@acme.example",
                                   timeout=5))


def test_posted_invoices_are_mailed_once_with_the_documents_the_customer_wants(
        app: App, world: World) -> None:
    app.bus.handle(SetDocumentPreferences(world.customers["dupont"], "ubl",
                                          delivery_email="invoices@dupont.example"))
    app.bus.handle(SetDocumentPreferences(world.customers["rossi"], "facturx"))
    rossi = _invoice(app, world, "rossi", line(world.products["CHAIR"], 1))
    dupont = _invoice(app, world, "dupont", line(world.products["DESK"], 1))
    us = _invoice(app, world, "acme_us", line(world.products["BOOK"], 2))  # no e-mail
    with smtp_server() as (inbox, port):
        run = service.deliver(app.engine, app.clock, _mailer(port))
        again = service.deliver(app.engine, app.clock, _mailer(port))
    assert (len(run.sent), len(run.skipped), run.errors) == (2, 1, [])
    assert (again.claimed, again.sent) == (0, [])
    by_to = {m["To"]: m for m in inbox.messages}
    assert set(by_to) == {"ap@rossi.example", "invoices@dupont.example"}
    dupont_files = {a.get_filename(): a.get_content_type()
                    for a in by_to["invoices@dupont.example"].iter_attachments()}
    number = s.row(app.engine, t.invoices, dupont)["number"]
    assert dupont_files == {f"{number}.pdf": "application/pdf",
                            f"{number}.xml": "application/xml"}
    [rossi_pdf] = list(by_to["ap@rossi.example"].iter_attachments())
    assert incoming.parse(rossi_pdf.get_content()).number == s.row(
        app.engine, t.invoices, rossi)["number"]
    assert by_to["ap@rossi.example"]["Subject"].startswith("Fattura")
    with app.engine.connect() as conn:
        assert store.delivery_status(conn, rossi) == "sent"
        assert store.delivery_status(conn, us) == "skipped"
        assert conn.execute(select(t.outbox.c.delivered_at).where(
            t.outbox.c.delivered_at.is_(None))).first() is None


def test_a_failing_smtp_server_is_retried_later_and_the_invoice_is_sent_exactly_once(
        app: App, world: World) -> None:
    invoice_id = _invoice(app, world, "rossi", line(world.products["CHAIR"], 1))
    port = free_port()  # nothing listens there yet
    failed = service.deliver(app.engine, app.clock, _mailer(port))
    assert failed.retrying and failed.errors and not failed.sent
    with app.engine.connect() as conn:
        assert store.delivery_status(conn, invoice_id) == "retrying"
    with smtp_server(port) as (inbox, _):
        too_early = service.deliver(app.engine, app.clock, _mailer(port))
        assert too_early.claimed == 0  # backing off
        app.clock.set(app.clock() + timedelta(minutes=2))
        sent = service.deliver(app.engine, app.clock, _mailer(port))
        app.clock.set(app.clock() + timedelta(hours=1))
        later = service.deliver(app.engine, app.clock, _mailer(port))
    assert (len(sent.sent), later.claimed, len(inbox.messages)) == (1, 0, 1)
    [delivery] = store.deliveries(app.engine.connect(), invoice_id)
    assert (delivery["status"], delivery["attempts"]) == ("sent", 2)
    assert delivery["message_id"] == inbox.messages[0]["Message-ID"]
    assert [e for e in s.event_names(app.engine, "invoice", invoice_id)
            if e.startswith(("sent", "delivery"))] == ["delivery_retrying", "sent"]


def test_two_workers_never_claim_the_same_outbox_row(app: App, world: World) -> None:
    _invoice(app, world, "rossi", line(world.products["CHAIR"], 1))
    now = app.clock()
    with UnitOfWork(app.engine, app.clock) as first:
        mine = store.claim_due(first.conn, now, 10)
        first.commit()
    with UnitOfWork(app.engine, app.clock) as second:
        theirs = store.claim_due(second.conn, now, 10)
    assert len(mine) == 1 and theirs == []


def test_a_french_buyers_pdf_has_its_exemption_note_and_courtesy_copy_mention_in_french(
        app: App, world: World) -> None:
    invoice_id = _invoice(app, world, "dupont", line(world.products["CHAIR"], 1))
    with app.engine.connect() as conn:
        document, _ = service.document_of(conn, invoice_id, app.clock())
    page = pdf.html(document)
    assert "Livraison intracommunautaire VATEX-EU-IC" in page
    assert "Copie de courtoisie" in page
    assert "Intra-community" not in page and "Courtesy copy" not in page
    assert "30 days" not in page and "days" not in page
