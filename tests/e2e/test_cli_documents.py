"""`o2c invoice render`, `o2c invoice check`, `o2c customer documents` and `o2c outbox deliver`
against a real, migrated SQLite database (and a real SMTP server for delivery)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from o2c.adapters.einvoice import incoming
from o2c.bootstrap import App
from o2c.cli import app as cli_app
from o2c.domain import commands as c
from tests.fixtures.smtp import smtp_server
from tests.fixtures.world import World, build_world, line
from tests.services import support as s

ON = date(2026, 3, 2)


def invoke(url: str, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli_app, ["--database-url", url, *args], env=env)


@pytest.fixture
def number(app: App, db_url: str) -> str:
    world: World = build_world(app.bus)
    order_id = app.bus.handle(c.CreateOrder(world.customers["dupont"],
                                            (line(world.products["DESK"], 1),), order_date=ON))
    [shipment_id] = app.bus.handle(c.ConfirmOrder(order_id, on=ON)).shipment_ids
    s.ship(app.bus, shipment_id, on=ON)
    [invoice] = s.invoices_of_order(app.engine, order_id)
    return str(invoice["number"])


def test_render_writes_the_document_and_check_validates_it(db_url: str, number: str,
                                                           tmp_path: Path) -> None:
    target = tmp_path / "invoice.xml"
    rendered = invoke(db_url, "invoice", "render", number, "--format", "ubl", "-o", str(target))
    assert rendered.exit_code == 0, rendered.output
    assert incoming.parse(target.read_bytes()).number == number
    pdf = tmp_path / "invoice.pdf"
    assert invoke(db_url, "invoice", "render", number, "-f", "facturx", "-o",
                  str(pdf)).exit_code == 0
    checked = invoke(db_url, "invoice", "check", str(pdf), "--json")
    assert checked.exit_code == 0, checked.output
    report = json.loads(checked.stdout)
    assert (report["kind"], report["valid"], report["number"]) == ("facturx-en16931", True, number)
    broken = tmp_path / "broken.xml"
    broken.write_bytes(target.read_bytes().replace(b"<cbc:PayableAmount currencyID=\"EUR\">",
                                                   b"<cbc:PayableAmount currencyID=\"EUR\">1"))
    fattura = tmp_path / "fattura.xml"
    assert invoke(db_url, "invoice", "render", number, "-f", "fatturapa", "-o",
                  str(fattura)).exit_code == 2  # Dupont has no address on file
    failed = invoke(db_url, "invoice", "check", str(broken))
    assert failed.exit_code == 2 and "BR-CO-16" in failed.stdout


def test_check_of_a_damaged_pdf_or_a_missing_file_is_a_clear_error(
        db_url: str, number: str, tmp_path: Path) -> None:
    pdf = tmp_path / "invoice.pdf"
    assert invoke(db_url, "invoice", "render", number, "-f", "facturx", "-o",
                  str(pdf)).exit_code == 0
    truncated = tmp_path / "truncated.pdf"
    truncated.write_bytes(pdf.read_bytes()[: pdf.stat().st_size // 2])
    checked = invoke(db_url, "invoice", "check", str(truncated))
    assert checked.exit_code == 2 and "cannot be read" in checked.stderr
    assert ("Traceback" not in checked.output and checked.exception is None) or \
        isinstance(checked.exception, SystemExit)
    missing = invoke(db_url, "invoice", "check", str(tmp_path / "nowhere.xml"))
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_check_all_renders_and_validates_every_posted_document(db_url: str,
                                                              number: str) -> None:
    # Dupont has no street on file: its FatturaPA cannot be produced, and check-all says so.
    checked = invoke(db_url, "invoice", "check-all", "--json")
    assert checked.exit_code == 2, checked.output
    report = json.loads(checked.stdout)
    assert report["documents"] == 1
    assert report["rendered"] == {"pdf": 1, "facturx": 1, "ubl": 1}
    [failure] = report["failures"]
    assert (failure["number"], failure["format"]) == (number, "fatturapa")
    assert "street and city" in failure["error"]
    human = invoke(db_url, "invoice", "check-all")
    assert human.exit_code == 2 and "1 failed" in human.stdout


def test_render_of_an_unknown_format_or_invoice_is_a_clear_error(db_url: str,
                                                                 number: str) -> None:
    bad = invoke(db_url, "invoice", "render", number, "--format", "docx")
    assert bad.exit_code == 2 and "format must be one of" in bad.stderr
    missing = invoke(db_url, "invoice", "render", "INV-2026-09999")
    assert missing.exit_code == 2 and "does not exist" in missing.stderr


def test_customer_documents_then_outbox_deliver_mails_the_invoice_once(
        db_url: str, number: str) -> None:
    set_prefs = invoke(db_url, "customer", "documents", "C-00002", "--format", "ubl",
                       "--delivery-email", "ap@dupont.example")
    assert set_prefs.exit_code == 0, set_prefs.output
    with smtp_server() as (inbox, port):
        env = {"O2C_SMTP_HOST": "127.0.0.1", "O2C_SMTP_PORT": str(port)}
        first = invoke(db_url, "outbox", "deliver", "--json", env=env)
        second = invoke(db_url, "outbox", "deliver", "--json", env=env)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["sent"] == 1
    assert json.loads(second.stdout)["sent"] == 0
    status = invoke(db_url, "invoice", "deliveries", number, "--json")
    assert json.loads(status.stdout)[0]["status"] == "sent"
    [message] = inbox.messages
    assert message["To"] == "ap@dupont.example"
    assert {a.get_filename() for a in message.iter_attachments()} == {f"{number}.pdf",
                                                                      f"{number}.xml"}


def test_check_reads_official_fatturapa_samples(db_url: str) -> None:
    examples = Path(__file__).resolve().parents[1] / "fixtures" / "fatturapa"
    # The official sample passes the XSD, but SdI would refuse its fictitious partita IVA.
    sample = invoke(db_url, "invoice", "check", str(examples / "IT01234567890_FPA01.xml"),
                    "--json")
    assert sample.exit_code == 2, sample.output
    report = json.loads(sample.stdout)
    assert report["kind"] == "fatturapa" and not report["valid"]
    assert all(e.startswith(("SdI-00301", "SdI-00302", "SdI-00305", "SdI-00306"))
               for e in report["errors"]), report["errors"]
    bad = invoke(db_url, "invoice", "check", str(examples / "IT01234567890_FPR02.xml"))
    assert bad.exit_code == 2 and "ContattiTrasmittente" in bad.stdout
