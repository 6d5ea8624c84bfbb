"""Invoice documents: render a posted invoice or credit note in the format asked for (every
XML validated against its XSD and the EN 16931 schematron first), keep each customer's
document preferences, and deliver posted documents by e-mail from the outbox."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, Engine

from o2c.adapters.db import documents as store
from o2c.adapters.einvoice import cii, fatturapa, pdf, ubl, validation
from o2c.adapters.einvoice.xmlutil import Finding
from o2c.adapters.mail import Attachment, MailSettings, build_message, normalise_email
from o2c.domain.einvoice import (
    Document,
    DocumentFormat,
    DocumentPreferences,
    SetDocumentPreferences,
    from_invoice,
    with_credit_reference,
)
from o2c.domain.errors import Gone, InvalidInput, NotFound
from o2c.domain.events import Event
from o2c.services.uow import Clock, UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Rendered:
    format: DocumentFormat
    file_name: str
    media_type: str
    content: bytes


def parse_format(value: str) -> DocumentFormat:
    try:
        return DocumentFormat(value)
    except ValueError:
        raise InvalidInput(f"format must be one of {[f.value for f in DocumentFormat]}, got "
                           f"{value!r}", field="format") from None


def document_of(conn: Connection, invoice_id: int, now: datetime
                ) -> tuple[Document, DocumentPreferences | None]:
    """The EN 16931 model of a posted invoice or credit note, with its customer's
    preferences."""
    invoice = store.load_invoice(conn, invoice_id, now)
    prefs = store.preferences(conn, invoice.customer_id)
    doc = from_invoice(invoice, language=store.customer_language(conn, invoice.customer_id),
                       preferences=prefs)
    if invoice.corrects_invoice_id is not None:
        issued = store.issue_date(conn, invoice.corrects_invoice_id)
        if issued is not None:
            doc = with_credit_reference(doc, invoice.corrects_number, issued)
    return doc, prefs


def render_model(doc: Document, fmt: DocumentFormat, prefs: DocumentPreferences | None,
                 sequence: int, warnings: list[Finding] | None = None) -> Rendered:
    """Render `doc`; structured XML is validated before it is returned (InvalidDocument), its
    rule warnings collected in `warnings` when given."""
    base = doc.number.replace("/", "-")
    if fmt is DocumentFormat.PDF:
        return Rendered(fmt, f"{base}.pdf", fmt.media_type, pdf.render_pdf(doc))
    if fmt is DocumentFormat.FACTURX:
        xml = validation.ensure_valid("facturx-en16931", cii.write(doc), warnings=warnings)
        return Rendered(fmt, f"{base}.pdf", fmt.media_type, pdf.render_facturx(doc, xml))
    if fmt is DocumentFormat.UBL:
        xml = validation.ensure_valid(ubl.kind_of(doc), ubl.write(doc), warnings=warnings)
        return Rendered(fmt, f"{base}.xml", fmt.media_type, xml)
    fattura = fatturapa.write(doc, prefs, sequence)
    validation.ensure_valid("fatturapa", fattura.xml, warnings=warnings)
    return Rendered(fmt, fattura.file_name, fmt.media_type, fattura.xml)


def render(conn: Connection, invoice_id: int, fmt: DocumentFormat | None, now: datetime
           ) -> Rendered:
    """The document of a posted invoice in `fmt` (the customer's preferred format if None)."""
    doc, prefs = document_of(conn, invoice_id, now)
    chosen = fmt or (prefs.format if prefs else DocumentFormat.PDF)
    if doc.buyer_erased and chosen is not DocumentFormat.PDF:
        raise BuyerPurged(doc.number, chosen)
    return render_model(doc, chosen, prefs, invoice_id)


def formats_for(doc: Document) -> list[DocumentFormat]:
    """The formats a document can be produced in: PDF always; Factur-X and UBL unless the
    buyer's identity was purged; FatturaPA when the seller is Italian."""
    if doc.buyer_erased:
        return [DocumentFormat.PDF]
    formats = [DocumentFormat.PDF, DocumentFormat.FACTURX, DocumentFormat.UBL]
    if doc.seller.country == "IT":
        formats.append(DocumentFormat.FATTURAPA)
    return formats


@dataclass
class CheckRun:
    """What `check_all` found: documents and renderings checked, failures by document."""

    documents: int = 0
    rendered: dict[str, int] = field(default_factory=dict)
    peppol: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)  # valid, but a rule warns

    def as_dict(self) -> dict[str, Any]:
        return {"documents": self.documents, "rendered": self.rendered,
                "peppol": self.peppol, "failures": self.failures, "warnings": self.warnings}

    def add(self, other: CheckRun) -> None:
        self.documents += other.documents
        self.peppol += other.peppol
        for fmt, count in other.rendered.items():
            self.rendered[fmt] = self.rendered.get(fmt, 0) + count
        self.failures += other.failures
        self.warnings += other.warnings


def check_all(conn: Connection, now: datetime, limit: int | None = None,
              ids: list[int] | None = None) -> CheckRun:
    """Render every posted document in every format it can have, each XML validated against
    its XSD, the EN 16931 schematron, the Peppol rules for Peppol UBL and SdI's rules for
    FatturaPA (render refuses anything invalid); failures are collected, not raised."""
    run = CheckRun()
    for invoice_id in store.posted_document_ids(conn, limit) if ids is None else ids:
        run.documents += 1
        doc, prefs = document_of(conn, invoice_id, now)
        run.peppol += doc.peppol
        for fmt in formats_for(doc):
            warnings: list[Finding] = []
            try:
                render_model(doc, fmt, prefs, invoice_id, warnings)
            except (InvalidInput, validation.InvalidDocument) as exc:
                run.failures.append({"number": doc.number, "format": fmt.value,
                                     "error": str(exc)})
                continue
            run.rendered[fmt.value] = run.rendered.get(fmt.value, 0) + 1
            run.warnings += [{"number": doc.number, "format": fmt.value, "rule": w.rule,
                              "warning": str(w)} for w in warnings]
    return run


class BuyerPurged(Gone):
    """The buyer's data was purged after its retention period (GDPR): the e-invoice can no
    longer be produced; the PDF still can, with a pseudonym."""

    def __init__(self, number: str, fmt: DocumentFormat) -> None:
        super().__init__(f"the buyer of {number} was erased and its data purged after the "
                         f"retention period: a {fmt.value} document can no longer be "
                         "produced (the PDF still can, with a pseudonym)", field="format",
                         number=number)


def set_document_preferences(command: SetDocumentPreferences, uow: UnitOfWork) -> None:
    """Handler: store how a customer wants its invoices."""
    if not store.customer_exists(uow.conn, command.customer_id):
        raise NotFound("customer", command.customer_id, field="customer_id")
    prefs = DocumentPreferences(
        customer_id=command.customer_id, format=parse_format(command.format),
        peppol_id=command.peppol_id.strip(),
        codice_destinatario=command.codice_destinatario.strip().upper(),
        pec=normalise_email(command.pec, "pec"),
        public_administration=command.public_administration,
        delivery_email=normalise_email(command.delivery_email, "delivery_email"),
        attach_xml=command.attach_xml)
    store.save_preferences(uow.conn, prefs, uow.now)
    uow.event_store.append([Event("customer", command.customer_id, "document_settings_changed", {
        "format": prefs.format.value, "peppol_id": prefs.peppol_id,
        "codice_destinatario": prefs.codice_destinatario, "pec": prefs.pec,
        "public_administration": prefs.public_administration,
        "delivery_email": prefs.delivery_email, "attach_xml": prefs.attach_xml})],
        uow.now, uow.actor)


# -- delivery ---------------------------------------------------------------------------------


class Mailer(Protocol):
    settings: MailSettings

    def send(self, message: Any) -> None: ...


@dataclass
class DeliveryRun:
    claimed: int = 0
    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"claimed": self.claimed, "sent": self.sent, "skipped": self.skipped,
                "retrying": self.retrying, "failed": self.failed, "errors": self.errors}


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 ... minutes after each failed attempt, at most 6 hours."""
    return timedelta(minutes=min(2 ** (attempts - 1), 360))


SUBJECTS = {"it": ("Fattura", "Nota di credito"), "fr": ("Facture", "Avoir"),
            "es": ("Factura", "Factura rectificativa"), "de": ("Rechnung", "Gutschrift"),
            "en": ("Invoice", "Credit note")}


def _attachments(doc: Document, prefs: DocumentPreferences | None, invoice_id: int
                 ) -> list[Rendered]:
    fmt = prefs.format if prefs else DocumentFormat.PDF
    human = DocumentFormat.FACTURX if fmt is DocumentFormat.FACTURX else DocumentFormat.PDF
    result = [render_model(doc, human, prefs, invoice_id)]
    if fmt.is_xml:
        result.append(render_model(doc, fmt, prefs, invoice_id))
    elif prefs and prefs.attach_xml:
        result.append(render_model(doc, DocumentFormat.UBL, prefs, invoice_id))
    return result


def deliver(engine: Engine, clock: Clock, mailer: Mailer, limit: int = 100, *,
            ids: list[int] | None = None, keys: list[str] | None = None,
            lease: timedelta = store.LEASE) -> DeliveryRun:
    """Deliver due `invoice.posted` outbox rows by e-mail. Rows are claimed first (parallel
    workers never share one); a document already sent is never sent again; a failure is
    retried later with backoff and given up after store.MAX_ATTEMPTS attempts. `ids` or
    `keys` restrict the run to those outbox rows (a job's chunk, one invoice's job)."""
    run = DeliveryRun()
    with UnitOfWork(engine, clock, "delivery") as uow:
        claims = store.claim_due(uow.conn, uow.now, limit, ids=ids, keys=keys, lease=lease)
        uow.commit()
    run.claimed = len(claims)
    for claim in claims:
        number = str(claim.payload.get("number", claim.invoice_id))
        outcome: dict[str, Any]
        try:
            outcome = _deliver_one(engine, clock, mailer, claim)
        except Exception as exc:  # rendering or SMTP: retried, reported per record
            log.warning("delivery of %s failed: %s", number, exc)
            error = f"{type(exc).__name__}: {exc}"
            give_up = claim.attempts >= store.MAX_ATTEMPTS
            with UnitOfWork(engine, clock, "delivery") as uow:
                status = "failed" if give_up else "retrying"
                store.record_delivery(
                    uow.conn, claim, uow.now, status=status,
                    error=error, retry_at=None if give_up else uow.now + backoff(claim.attempts))
                _event(uow, claim, f"delivery_{status}", attempt=claim.attempts, error=error)
                uow.commit()
            (run.failed if give_up else run.retrying).append(number)
            run.errors.append({"number": number, "error": error})
            continue
        getattr(run, outcome["status"]).append(number)
    return run


def _event(uow: UnitOfWork, claim: store.Claim, name: str, **data: Any) -> None:
    """Delivery steps go to the event log too (audit trail, process mining)."""
    uow.event_store.append([Event("invoice", claim.invoice_id, name, data)], uow.now, uow.actor)


def _deliver_one(engine: Engine, clock: Clock, mailer: Mailer, claim: store.Claim
                 ) -> dict[str, Any]:
    with engine.connect() as conn:
        if store.delivery_status(conn, claim.invoice_id) == "sent":
            status: dict[str, Any] = {"status": "sent", "already": True}
        else:
            status = {"status": "pending"}
            doc, prefs = document_of(conn, claim.invoice_id, clock())
    if status.get("already"):
        # Sent by an earlier run whose outbox update was lost: settle the row, send nothing.
        with UnitOfWork(engine, clock, "delivery") as uow:
            store.record_delivery(uow.conn, claim, uow.now, status="sent")
            uow.commit()
        return {"status": "skipped"}
    recipient = (prefs.delivery_email if prefs and prefs.delivery_email else doc.buyer.email)
    if not recipient:
        with UnitOfWork(engine, clock, "delivery") as uow:
            store.record_delivery(uow.conn, claim, uow.now, status="skipped",
                                  error="the customer has no e-mail address for invoices")
            uow.commit()
        return {"status": "skipped"}
    files = _attachments(doc, prefs, claim.invoice_id)
    words = SUBJECTS.get(doc.language, SUBJECTS["en"])
    title = words[1] if doc.is_credit_note else words[0]
    message_id = f"<{doc.number}.{claim.invoice_id}@o2c.invoices>"
    message = build_message(
        mailer.settings, to=recipient, subject=f"{title} {doc.number} - {doc.seller.name}",
        body=f"{title} {doc.number}\n{doc.seller.name}\n\n"
             f"{doc.totals.payable} {doc.currency}\n",
        message_id=message_id,
        attachments=[Attachment(f.file_name, f.media_type, f.content) for f in files])
    mailer.send(message)
    with UnitOfWork(engine, clock, "delivery") as uow:
        formats = ",".join(f.format.value for f in files)
        store.record_delivery(uow.conn, claim, uow.now, status="sent", recipient=recipient,
                              formats=formats, message_id=message_id)
        _event(uow, claim, "sent", to=recipient, formats=formats, message_id=message_id,
               attempt=claim.attempts)
        uow.commit()
    return {"status": "sent"}
