"""SQL for invoice documents: customers' document preferences, the posted invoices documents
are rendered from, and delivery of `invoice.posted` outbox rows (claims, status)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from o2c.adapters.db import tables as t
from o2c.adapters.db.mapper import Repository
from o2c.adapters.db.repositories import INVOICES
from o2c.domain.einvoice import DocumentFormat, DocumentPreferences
from o2c.domain.errors import NotFound
from o2c.domain.invoicing import Invoice

INVOICE_POSTED = "invoice.posted"
EMAIL = "email"
# Attempts after which a delivery is given up (and reported as failed).
MAX_ATTEMPTS = 8
# A claimed row is invisible to other workers for this long (a crashed worker's claim expires).
LEASE = timedelta(minutes=10)

_s = t.customer_document_settings
_d = t.invoice_deliveries
_o = t.outbox


def preferences(conn: Connection, customer_id: int) -> DocumentPreferences | None:
    row = conn.execute(select(_s).where(_s.c.customer_id == customer_id)).mappings().first()
    if row is None:
        return None
    return DocumentPreferences(
        customer_id=row["customer_id"], format=DocumentFormat(row["format"]),
        peppol_id=row["peppol_id"], codice_destinatario=row["codice_destinatario"],
        pec=row["pec"], public_administration=row["public_administration"],
        delivery_email=row["delivery_email"], attach_xml=row["attach_xml"])


def save_preferences(conn: Connection, prefs: DocumentPreferences, now: datetime) -> None:
    values: dict[str, Any] = {
        "format": prefs.format.value, "peppol_id": prefs.peppol_id,
        "codice_destinatario": prefs.codice_destinatario, "pec": prefs.pec,
        "public_administration": prefs.public_administration,
        "delivery_email": prefs.delivery_email, "attach_xml": prefs.attach_xml,
        "updated_at": now}
    exists = conn.execute(select(_s.c.customer_id).where(
        _s.c.customer_id == prefs.customer_id)).first()
    if exists is None:
        conn.execute(insert(_s).values(customer_id=prefs.customer_id, **values))
    else:
        conn.execute(update(_s).where(_s.c.customer_id == prefs.customer_id).values(**values))


def customer_exists(conn: Connection, customer_id: int) -> bool:
    return conn.execute(select(t.customers.c.id).where(
        t.customers.c.id == customer_id)).first() is not None


def customer_language(conn: Connection, customer_id: int) -> str:
    language = conn.execute(select(t.customers.c.language).where(
        t.customers.c.id == customer_id)).scalar()
    return str(language or "en")


def load_invoice(conn: Connection, invoice_id: int, now: datetime) -> Invoice:
    """The invoice or credit note as the domain object (with lines and VAT breakdown)."""
    return Repository(conn, INVOICES, now).get(invoice_id)


def posted_document_ids(conn: Connection, limit: int | None = None) -> list[int]:
    """Every posted invoice and credit note, oldest first."""
    query = select(t.invoices.c.id).where(t.invoices.c.state == "posted").order_by(
        t.invoices.c.id)
    if limit is not None:
        query = query.limit(limit)
    return [int(row[0]) for row in conn.execute(query)]


def issue_date(conn: Connection, invoice_id: int | None) -> date | None:
    if invoice_id is None:
        return None
    return conn.execute(select(t.invoices.c.issue_date).where(
        t.invoices.c.id == invoice_id)).scalar()


def invoice_id_by_number(conn: Connection, number: str) -> int:
    found = conn.execute(select(t.invoices.c.id).where(t.invoices.c.number == number)).scalar()
    if found is None:
        raise NotFound("invoice", number, field="number")
    return int(found)


# -- delivery --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Claim:
    outbox_id: int
    invoice_id: int
    attempts: int  # including this one
    payload: dict[str, Any]


def claim_due(conn: Connection, now: datetime, limit: int, *, ids: list[int] | None = None,
              keys: list[str] | None = None, lease: timedelta = LEASE) -> list[Claim]:
    """Claim up to `limit` due `invoice.posted` rows for this worker (only those of `ids` or
    of dedup `keys` when given: a job that stands for some rows).

    Each claim is a conditional UPDATE (still undelivered and still due at the value read),
    so two workers never both win a row; PostgreSQL also skips rows another worker has
    locked. The claim pushes `available_at` one lease ahead: if the worker dies, the row comes
    back after the lease."""
    query = (select(_o.c.id, _o.c.available_at, _o.c.attempts, _o.c.payload)
             .where(_o.c.topic == INVOICE_POSTED, _o.c.delivered_at.is_(None),
                    _o.c.available_at <= now, _o.c.attempts < MAX_ATTEMPTS)
             .order_by(_o.c.available_at, _o.c.id).limit(limit))
    if ids is not None:
        query = query.where(_o.c.id.in_(ids))
    if keys is not None:
        query = query.where(_o.c.dedup_key.in_(keys))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claims = []
    for row in conn.execute(query).mappings().all():
        won = conn.execute(
            update(_o).where(_o.c.id == row["id"], _o.c.delivered_at.is_(None),
                             _o.c.available_at == row["available_at"])
            .values(available_at=now + lease, attempts=_o.c.attempts + 1)).rowcount
        if won == 1:
            claims.append(Claim(row["id"], int(row["payload"]["invoice_id"]),
                                row["attempts"] + 1, row["payload"]))
    return claims


def due_ids(conn: Connection, now: datetime) -> list[int]:
    """The `invoice.posted` rows due for delivery at `now`, oldest first."""
    return [int(i) for i in conn.execute(
        select(_o.c.id).where(_o.c.topic == INVOICE_POSTED, _o.c.delivered_at.is_(None),
                              _o.c.available_at <= now, _o.c.attempts < MAX_ATTEMPTS)
        .order_by(_o.c.id)).scalars()]


def delivery_status(conn: Connection, invoice_id: int, channel: str = EMAIL) -> str | None:
    return conn.execute(select(_d.c.status).where(
        _d.c.invoice_id == invoice_id, _d.c.channel == channel)).scalar()


def record_delivery(conn: Connection, claim: Claim, now: datetime, *, status: str,
                    recipient: str = "", formats: str = "", message_id: str = "",
                    error: str = "", retry_at: datetime | None = None) -> None:
    """Write the delivery's status and settle the outbox row: done (sent, skipped, failed for
    good) or due again at `retry_at`."""
    values: dict[str, Any] = {
        "outbox_id": claim.outbox_id, "status": status, "recipient": recipient,
        "formats": formats, "attempts": claim.attempts, "message_id": message_id,
        "last_error": error[:2000], "updated_at": now,
        "sent_at": now if status == "sent" else None}
    changed = conn.execute(update(_d).where(
        _d.c.invoice_id == claim.invoice_id, _d.c.channel == EMAIL,
        _d.c.status != "sent").values(**values)).rowcount
    if not changed and delivery_status(conn, claim.invoice_id) is None:
        conn.execute(insert(_d).values(invoice_id=claim.invoice_id, channel=EMAIL, **values))
    if retry_at is None:
        conn.execute(update(_o).where(_o.c.id == claim.outbox_id).values(
            delivered_at=now, last_error=error[:2000]))
    else:
        conn.execute(update(_o).where(_o.c.id == claim.outbox_id).values(
            available_at=retry_at, last_error=error[:2000]))


def deliveries(conn: Connection, invoice_id: int | None = None) -> list[dict[str, Any]]:
    query = (select(_d, t.invoices.c.number).join(t.invoices, t.invoices.c.id == _d.c.invoice_id)
             .order_by(_d.c.id))
    if invoice_id is not None:
        query = query.where(_d.c.invoice_id == invoice_id)
    return [dict(r) for r in conn.execute(query).mappings().all()]
