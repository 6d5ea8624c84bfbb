"""Invoice documents: `o2c invoice render`, `o2c invoice check`, `o2c customer documents`
and `o2c outbox deliver`."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from o2c.adapters.db import documents as store
from o2c.adapters.einvoice import fatturapa, incoming, validation
from o2c.adapters.mail import MailSettings, SmtpMailer
from o2c.cli.core import (
    JsonOption,
    O2CGroup,
    app,
    customer_id,
    invoice_id,
    print_json,
    reading,
    run,
    say,
)
from o2c.cli.masterdata import customers
from o2c.cli.receivables import invoices
from o2c.domain.einvoice import DocumentFormat, SetDocumentPreferences
from o2c.domain.errors import InvalidInput
from o2c.services import documents as service

FormatOption = Annotated[str | None, typer.Option(
    "--format", "-f", help="pdf, facturx, ubl or fatturapa (default: the customer's).")]


@invoices.command("render")
def render(number: Annotated[str, typer.Argument(help="Invoice or credit note number (or id).")],
           fmt: FormatOption = None,
           output: Annotated[Path | None, typer.Option(
               "--output", "-o", help="File to write (default: the document's own name; "
                                      "'-' for standard output).")] = None) -> None:
    """Render a posted invoice or credit note; XML is validated (XSD + EN 16931) first."""
    chosen = service.parse_format(fmt) if fmt else None
    with reading() as conn:
        rendered = service.render(conn, invoice_id(conn, number), chosen, app().clock())
    if output is not None and str(output) == "-":
        sys.stdout.buffer.write(rendered.content)
        return
    target = output or Path(rendered.file_name)
    target.write_bytes(rendered.content)
    say(f"{rendered.format.value}: wrote {target} ({len(rendered.content)} bytes)")


@invoices.command("check")
def check(file: Annotated[Path, typer.Argument(help="UBL, CII, Factur-X PDF or FatturaPA.",
                                               exists=True, dir_okay=False, readable=True)],
          as_json: JsonOption = False) -> None:
    """Validate an e-invoice (XSD + EN 16931 schematron) and show its totals."""
    data = file.read_bytes()
    kind, xml = incoming.detect(data)
    report = validation.validate(kind, xml)
    result = {"file": str(file), "kind": kind, "valid": report.ok,
              "errors": [str(f) for f in report.errors],
              "warnings": [str(f) for f in report.findings if f not in report.errors]}
    if report.ok and kind == "fatturapa":
        fattura = fatturapa.parse(xml)
        result |= {"format": fattura.format, "seller": fattura.seller_vat,
                   "documents": [f"{kind_} {number} {total}"
                                 for kind_, number, total in fattura.documents]}
    elif report.ok:
        doc = incoming.parse(data)
        result |= {"number": doc.number, "currency": doc.currency,
                   "tax_exclusive": doc.totals.tax_exclusive, "tax": doc.totals.tax_total,
                   "payable": doc.totals.payable}
    if as_json:
        print_json(result)
    else:
        for key, value in result.items():
            if isinstance(value, list):
                for item in value:
                    say(f"{key[:-1]}: {item}")
            else:
                say(f"{key}: {value}")
    if not report.ok:
        raise typer.Exit(2)


@invoices.command("check-all")
def check_all(limit: Annotated[int | None, typer.Option(
                  "--limit", min=1, help="Check only the first N documents.")] = None,
              as_json: JsonOption = False) -> None:
    """Render every posted invoice and credit note in every format it can have (PDF,
    Factur-X, UBL or Peppol BIS, FatturaPA) and validate each: XSD, EN 16931, the Peppol
    rules for Peppol UBL, SdI's rules for FatturaPA. Exit code 2 when any fails."""
    o2c = app()
    total = service.CheckRun()
    with reading() as conn:
        ids = store.posted_document_ids(conn, limit)
        with Progress(disable=as_json or not sys.stdout.isatty()) as progress:
            task = progress.add_task("checking documents", total=len(ids))
            for start in range(0, len(ids), CHECK_BATCH):
                batch = ids[start:start + CHECK_BATCH]
                total.add(service.check_all(conn, o2c.clock(), ids=batch))
                progress.advance(task, len(batch))
    if as_json:
        print_json(total.as_dict())
    else:
        say(f"{total.documents} documents ({total.peppol} for Peppol buyers): "
            + ", ".join(f"{count} {fmt}" for fmt, count in sorted(total.rendered.items())))
        for failure in total.failures:
            say(f"FAILED {failure['number']} {failure['format']}: {failure['error']}")
        for rule, count in sorted(Counter(w["rule"] for w in total.warnings).items()):
            say(f"warning {rule}: {count} document(s)", "yellow")
        say(f"{len(total.failures)} failed", "bold red" if total.failures else "bold green")
    if total.failures:
        raise typer.Exit(2)


CHECK_BATCH = 20  # documents between two steps of the progress bar


@invoices.command("deliveries")
def deliveries(number: Annotated[str, typer.Argument(help="Invoice or credit note number.")],
               as_json: JsonOption = False) -> None:
    """Delivery status of a document: sent, retrying, failed or skipped."""
    with reading() as conn:
        rows = store.deliveries(conn, invoice_id(conn, number))
    if as_json:
        print_json(rows)
        return
    if not rows:
        say(f"{number}: not delivered yet")
    for row in rows:
        when = row["sent_at"].isoformat() if row["sent_at"] else ""
        say(f"{row['number']}: {row['status']} by {row['channel']} to {row['recipient']} "
            f"({row['formats']}) after {row['attempts']} attempt(s) {when} {row['last_error']}")


@customers.command("documents")
def customer_documents(
    customer: Annotated[str, typer.Argument(help="Customer code or id.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="pdf, facturx, ubl or "
                                                            "fatturapa.")] = "pdf",
    peppol_id: Annotated[str, typer.Option(help="Peppol id scheme:identifier.")] = "",
    codice_destinatario: Annotated[str, typer.Option(help="SdI recipient code.")] = "",
    pec: Annotated[str, typer.Option(help="PEC address for SdI.")] = "",
    public_administration: Annotated[bool, typer.Option(
        "--public-administration", help="FatturaPA FPA12 (public administration).")] = False,
    delivery_email: Annotated[str, typer.Option(help="Send invoices to this address.")] = "",
    attach_xml: Annotated[bool, typer.Option("--attach-xml", help="Also e-mail the "
                                                                  "XML.")] = False,
) -> None:
    """Set how a customer receives its invoices."""
    if fmt not in {f.value for f in DocumentFormat}:
        raise InvalidInput(f"format must be one of {[f.value for f in DocumentFormat]}",
                           field="format")
    with reading() as conn:
        cid = customer_id(conn, customer)
    run(SetDocumentPreferences(cid, fmt, peppol_id, codice_destinatario, pec,
                               public_administration, delivery_email, attach_xml))
    say(f"customer {customer}: invoices as {fmt}")


outbox = typer.Typer(cls=O2CGroup, no_args_is_help=True, help="Deliver queued external "
                                                              "effects.")


@outbox.command("deliver")
def deliver(limit: Annotated[int, typer.Option(help="Rows per batch.")] = 100,
            batches: Annotated[int, typer.Option(help="Stop after this many batches.")] = 100,
            as_json: JsonOption = False) -> None:
    """E-mail posted invoices and credit notes to customers (SMTP from O2C_SMTP_HOST,
    O2C_SMTP_PORT, O2C_SMTP_FROM); failures are retried later, nothing is sent twice."""
    o2c = app()
    mailer = SmtpMailer(MailSettings.from_env())
    total: dict[str, list[object]] = {"sent": [], "skipped": [], "retrying": [], "failed": [],
                                      "errors": []}
    with Progress(disable=as_json or not sys.stdout.isatty()) as progress:
        task = progress.add_task("delivering", total=None)
        for _ in range(batches):
            result = service.deliver(o2c.engine, o2c.clock, mailer, limit)
            for key in total:
                total[key].extend(getattr(result, key))
            progress.advance(task, result.claimed)
            if result.claimed < limit:
                break
    summary = {key: len(value) for key, value in total.items() if key != "errors"}
    if as_json:
        print_json({**summary, "errors": total["errors"]})
        return
    say(", ".join(f"{key} {value}" for key, value in summary.items()))
    for error in total["errors"]:
        say(f"error: {error}", "red")
