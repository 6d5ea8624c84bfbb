"""Invoices and credit notes. Invoices are posted by shipping (or confirming, for customers
billed on order); a posted document never changes: credit notes correct it."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import JSONResponse
from sqlalchemy import Connection

from o2c.adapters.db import queries
from o2c.adapters.db.queries import Filters
from o2c.api.auth import Scope
from o2c.api.deps import Bus, Conn, Paging, Today
from o2c.api.routes import PREFIX, location, router
from o2c.api.schemas.common import Day, Id, IdFilter, Page
from o2c.api.schemas.invoices import AllocationOut, CreditNoteIn, InvoiceDetailOut, InvoiceOut
from o2c.api.schemas.payments import ApplyCreditNoteIn
from o2c.domain.invoicing import InvoiceKind
from o2c.domain.receivables import PaymentStatus

invoices = router("invoices")

AsOf = Annotated[date | None, Query(description="date payment status and days overdue are "
                                                "computed for; today when omitted")]


@invoices.get("/invoices", response_model=Page[InvoiceOut])
def list_invoices(
    conn: Conn, page: Paging, today: Today, scope: Scope,
    company_id: IdFilter = None, customer_id: IdFilter = None,
    kind: InvoiceKind | None = None, order_id: IdFilter = None,
    payment_status: PaymentStatus | None = None,
    open_only: Annotated[bool, Query(alias="open", description="only documents with "
                                 "something left (owed, or credit to use)")] = False,
    date_from: Annotated[Day | None, Query(description="issued on or after")] = None,
    date_to: Annotated[Day | None, Query(description="issued on or before")] = None,
    q: Annotated[str | None, Query(max_length=200, description="number, customer name or order "
                                               "reference contains")] = None,
    as_of: AsOf = None,
) -> dict[str, Any]:
    extra: dict[str, Any] = {"kind": kind.value if kind else None, "order_id": order_id,
                             "payment_status": payment_status.value if payment_status
                             else None, "open": open_only}
    filters = Filters(company_id=company_id, customer_id=scope or customer_id, date_from=date_from,
                      date_to=date_to, q=q, extra=extra)
    return queries.list_invoices(conn, filters, page, as_of or today).as_dict()


@invoices.get("/invoices/{invoice_id}", response_model=InvoiceDetailOut)
def get_invoice(invoice_id: Id, conn: Conn, today: Today, as_of: AsOf = None
                ) -> dict[str, Any]:
    """The invoice (or credit note) with lines, VAT breakdown, instalments, allocations and
    the credit notes that correct it."""
    return queries.invoice(conn, invoice_id, as_of or today)


@invoices.post("/invoices/{invoice_id}/credit-notes", status_code=201,
               response_model=InvoiceDetailOut)
def create_credit_note(invoice_id: Id, body: CreditNoteIn, bus: Bus,
                       today: Today) -> JSONResponse:
    """Credit the whole invoice (omit `lines`) or some lines, quantities or a lower price.
    The credit note settles the invoice first; what the invoice no longer owes stays as
    customer credit."""
    def present(conn: Connection, note_id: int) -> InvoiceDetailOut:
        return InvoiceDetailOut.model_validate(queries.invoice(conn, note_id, today))

    return bus.run(body.command(invoice_id), present, payload=body, status_code=201,
                   location=location("invoices"))


@invoices.post("/credit-notes/{credit_note_id}/apply", status_code=201,
               response_model=AllocationOut)
def apply_credit_note(credit_note_id: Id, body: ApplyCreditNoteIn, bus: Bus) -> JSONResponse:
    """Use what is left of a credit note to settle another invoice of the same customer."""
    def present(conn: Connection, allocation_id: int) -> AllocationOut:
        return AllocationOut.model_validate(queries.allocation(conn, allocation_id))

    return bus.run(body.command(credit_note_id), present, payload=body, status_code=201,
                   location=lambda b: f"{PREFIX}/allocations/{b['id']}")
