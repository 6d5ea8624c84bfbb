"""Invoice documents: the PDF, Factur-X, UBL (Peppol BIS 3.0) or FatturaPA of a posted invoice
or credit note; each customer's document preferences; delivery status."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from o2c.adapters.db import documents as store
from o2c.api.deps import AppDep, Bus, Conn
from o2c.api.routes import router
from o2c.api.schemas.common import Id
from o2c.domain.einvoice import DocumentFormat, SetDocumentPreferences
from o2c.domain.errors import NotFound
from o2c.services import documents as service

documents = router("documents")


class DocumentSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: DocumentFormat = Field(DocumentFormat.PDF, description="preferred document format")
    peppol_id: str = Field("", max_length=100,
                           description="Peppol participant id, scheme:identifier")
    codice_destinatario: str = Field("", max_length=7,
                                     description="SdI recipient code (7 characters; 6 for "
                                                 "public administration offices)")
    pec: str = Field("", max_length=200,
                     description="certified e-mail for SdI when there is no code")
    public_administration: bool = False
    delivery_email: str = Field("", max_length=200,
                                description="where invoices are e-mailed (the customer's "
                                            "e-mail when empty)")
    attach_xml: bool = Field(False, description="also attach the structured XML")


class DocumentSettingsOut(DocumentSettings):
    customer_id: int


class DeliveryOut(BaseModel):
    invoice_id: int
    number: str
    channel: str
    status: str
    recipient: str
    formats: str
    attempts: int
    message_id: str
    last_error: str
    sent_at: Any


@documents.get(
    "/invoices/{invoice_id}/document",
    responses={200: {"content": {"application/pdf": {}, "application/xml": {}},
                     "description": "the document"}},
    response_class=Response)
def get_invoice_document(
    invoice_id: Id, conn: Conn, app: AppDep,
    format: Annotated[DocumentFormat | None, Query(
        description="pdf, facturx (PDF/A-3 with CII), ubl (Peppol BIS 3.0) or fatturapa; "
                    "the customer's preferred format when omitted")] = None,
) -> Response:
    """The posted invoice or credit note as a document. Every XML is validated against its
    XSD and the EN 16931 schematron before it is returned (422 naming the rules otherwise)."""
    rendered = service.render(conn, invoice_id, format, app.clock())
    return Response(rendered.content, media_type=rendered.media_type, headers={
        "Content-Disposition": f'attachment; filename="{rendered.file_name}"'})


def _settings(conn: Connection, customer_id: int) -> DocumentSettingsOut:
    if not store.customer_exists(conn, customer_id):
        raise NotFound("customer", customer_id)
    prefs = store.preferences(conn, customer_id)
    if prefs is None:
        return DocumentSettingsOut(customer_id=customer_id)
    return DocumentSettingsOut(
        customer_id=customer_id, format=prefs.format, peppol_id=prefs.peppol_id,
        codice_destinatario=prefs.codice_destinatario, pec=prefs.pec,
        public_administration=prefs.public_administration,
        delivery_email=prefs.delivery_email, attach_xml=prefs.attach_xml)


@documents.get("/customers/{customer_id}/document-settings",
               response_model=DocumentSettingsOut)
def get_document_settings(customer_id: Id, conn: Conn) -> DocumentSettingsOut:
    """How the customer receives invoices (defaults when never set)."""
    return _settings(conn, customer_id)


@documents.put("/customers/{customer_id}/document-settings",
               response_model=DocumentSettingsOut)
def put_document_settings(customer_id: Id, body: DocumentSettings, bus: Bus) -> JSONResponse:
    """Set the preferred format, Peppol id, CodiceDestinatario/PEC and delivery e-mail."""
    command = SetDocumentPreferences(customer_id, **body.model_dump(mode="json"))
    return bus.run(command, lambda conn, _: _settings(conn, customer_id), payload=body)


@documents.get("/invoices/{invoice_id}/deliveries", response_model=list[DeliveryOut])
def list_invoice_deliveries(invoice_id: Id, conn: Conn) -> list[dict[str, Any]]:
    """Delivery status of the document (sent, retrying, failed, skipped)."""
    return store.deliveries(conn, invoice_id)
