"""Invoices are created and posted automatically (on shipment, or on order for customers who
are billed up front); credit notes correct them. Posting numbers the document, books the
journal entry, opens the receivable and queues delivery, all in one transaction."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from o2c.domain import commands as c
from o2c.domain.errors import NotFound, RuleViolation
from o2c.domain.events import Event
from o2c.domain.invoicing import (
    Invoice,
    InvoiceKind,
    LineToInvoice,
    PartySnapshot,
    credit_note_lines,
)
from o2c.domain.ledger import invoice_entry
from o2c.domain.orders import SalesOrder
from o2c.domain.parties import Company, Customer, InvoicePolicy, Registration
from o2c.domain.payment_terms import PaymentTerms
from o2c.domain.payments import allocate
from o2c.domain.receivables import OpenItem, OpenItemKind
from o2c.services.exchange import fx_rate
from o2c.services.payments import book_allocation
from o2c.services.uow import UnitOfWork


def seller_snapshot(company: Company) -> PartySnapshot:
    return PartySnapshot(name=company.name, country=company.country, vat_id=company.vat_id,
                         tax_code=company.registration.tax_code,
                         address=company.address, email=company.email, code=company.code,
                         iban=company.iban, bic=company.bic,
                         registration=company.registration
                         if company.registration != Registration() else None)


def buyer_snapshot(customer: Customer) -> PartySnapshot:
    return PartySnapshot(name=customer.name, country=customer.country, vat_id=customer.vat_id,
                         tax_code=customer.tax_code, address=customer.billing_address,
                         email=customer.email, code=customer.code)


def post_invoice(uow: UnitOfWork, invoice: Invoice, company: Company,
                 terms: PaymentTerms | None) -> None:
    """Number the draft and store it posted, book it, open the receivable (or the customer
    credit of a credit note) and queue its delivery, all in the current transaction."""
    assert company.id is not None
    year = invoice.issue_date.year
    sequence = uow.lookups.next_number(company.id, invoice.kind.series, year)
    invoice.post(f"{invoice.kind.series}-{year}-{sequence:05d}", terms, company.rounding)
    uow.invoices.add(invoice)
    if invoice.gross_amount_company:  # a zero invoice (free goods) moves no money to book
        uow.ledger.post(invoice_entry(invoice))
    assert invoice.id is not None
    uow.open_items.add(OpenItem.for_document(
        invoice_id=invoice.id,
        kind=OpenItemKind.CREDIT_NOTE if invoice.is_credit_note else OpenItemKind.INVOICE,
        number=invoice.number, company_id=invoice.company_id,
        customer_id=invoice.customer_id, currency=invoice.currency,
        company_currency=invoice.company_currency, issue_date=invoice.issue_date,
        amount=invoice.gross_amount, amount_company=invoice.gross_amount_company,
        installments=invoice.installments))
    key = f"invoice.posted:{invoice.id}"
    uow.outbox.add("invoice.posted", key, {
        "invoice_id": invoice.id, "number": invoice.number, "kind": invoice.kind.value,
        "customer_id": invoice.customer_id, "email": invoice.buyer.email})
    uow.defer("o2c.deliver_invoice", key=key)  # e-mailed now; the schedule is the backstop


def invoice_order(uow: UnitOfWork, order: SalesOrder, quantities: dict[int, Decimal],
                  issue_date: date, shipment_id: int | None = None) -> Invoice:
    customer = uow.customers.get(order.customer_id)
    company = uow.companies.get(order.company_id)
    terms = uow.lookups.payment_terms(customer.payment_terms_code)
    if terms is None:
        raise NotFound("payment terms", customer.payment_terms_code)
    lines = []
    for line_id, qty in quantities.items():
        line = order.line(line_id)
        lines.append(LineToInvoice(
            order_line_id=line.id, product_id=line.product_id, sku=line.sku,
            description=line.description, quantity=qty, unit=line.unit,
            unit_price=line.unit_price, discount_percent=line.discount_percent,
            vat_code=line.vat_code, vat_rate=line.vat_rate,
            exemption_reason=line.exemption_reason))
    assert company.id is not None and customer.id is not None
    invoice = Invoice.draft(
        kind=InvoiceKind.INVOICE, company_id=company.id, customer_id=customer.id,
        currency=order.currency, company_currency=company.currency,
        fx_rate=fx_rate(uow, order.currency, company, issue_date), issue_date=issue_date,
        seller=seller_snapshot(company), buyer=buyer_snapshot(customer), lines=lines,
        rounding=company.rounding, order_id=order.id, order_number=order.number,
        order_reference=order.customer_reference, buyer_reference=customer.buyer_reference,
        shipment_id=shipment_id, delivery_date=issue_date if shipment_id else None)
    post_invoice(uow, invoice, company, terms)
    order.record_invoiced(quantities, invoice.gross_amount, invoice.number)
    return invoice


def on_shipment_shipped(event: Event, uow: UnitOfWork) -> None:
    """Policy: shipping invoices exactly what left the warehouse."""
    shipment = uow.shipments.get(event.object_id)
    order = uow.orders.get(shipment.order_id, for_update=True)
    customer = uow.customers.get(order.customer_id)
    if customer.invoice_policy is not InvoicePolicy.ON_SHIPMENT:
        return
    quantities = {}
    for line in shipment.lines:
        order_line = order.line(line.order_line_id)
        qty = min(line.quantity, order_line.shipped_qty - order_line.invoiced_qty)
        if qty > 0:
            quantities[line.order_line_id] = qty
    if quantities:
        assert shipment.shipped_on is not None
        invoice_order(uow, order, quantities, shipment.shipped_on, shipment.id)


def on_order_confirmed(event: Event, uow: UnitOfWork) -> None:
    """Policy: customers billed on order get the invoice when the order is confirmed."""
    order = uow.orders.get(event.object_id, for_update=True)
    customer = uow.customers.get(order.customer_id)
    if customer.invoice_policy is InvoicePolicy.ON_ORDER:
        quantities = order.uninvoiced(on_order=True)
        if quantities:
            invoice_order(uow, order, quantities, date.fromisoformat(event.data["on"]))


def create_credit_note(cmd: c.CreateCreditNote, uow: UnitOfWork) -> int:
    # Locking the invoice serialises credit notes against it, so two of them cannot both
    # credit the same quantity.
    invoice = uow.invoices.get(cmd.invoice_id, for_update=True)
    note = draft_credit_note(uow, invoice, cmd)
    post_invoice(uow, note, uow.companies.get(invoice.company_id), None)
    assert note.id is not None
    return note.id


def draft_credit_note(uow: UnitOfWork, invoice: Invoice, cmd: c.CreateCreditNote) -> Invoice:
    """The credit note `cmd` asks for, checked and priced but not posted (an approval request
    checks its lines with it before anyone decides)."""
    if not cmd.reason.strip():
        raise RuleViolation("a credit note needs a reason", field="reason")
    requested = None if cmd.lines is None else [
        (x.invoice_line_id, x.quantity, x.unit_price) for x in cmd.lines]
    assert invoice.id is not None
    lines = credit_note_lines(invoice, requested, uow.lookups.credited_so_far(invoice.id))
    company = uow.companies.get(invoice.company_id)
    customer = uow.customers.get(invoice.customer_id)
    on = cmd.on or uow.today()
    if on < invoice.issue_date:
        raise RuleViolation(f"a credit note cannot predate invoice {invoice.number} "
                            f"({invoice.issue_date})", field="on")
    # The credit note mirrors the invoice's exchange rate, so crediting it in full clears it
    # in the company currency too.
    return Invoice.draft(
        kind=InvoiceKind.CREDIT_NOTE, company_id=invoice.company_id,
        customer_id=invoice.customer_id, currency=invoice.currency,
        company_currency=invoice.company_currency, fx_rate=invoice.fx_rate, issue_date=on,
        seller=seller_snapshot(company), buyer=buyer_snapshot(customer), lines=lines,
        rounding=company.rounding, order_id=invoice.order_id,
        order_number=invoice.order_number, order_reference=invoice.order_reference,
        buyer_reference=invoice.buyer_reference, corrects_invoice_id=invoice.id,
        corrects_number=invoice.number, reason=cmd.reason)


def on_credit_note_posted(event: Event, uow: UnitOfWork) -> None:
    """Policy: a credit note first settles the invoice it corrects; what is left (the invoice
    was already paid) stays as credit the customer can use or be refunded."""
    if event.data.get("kind") != InvoiceKind.CREDIT_NOTE.value:
        return
    note = uow.invoices.get(event.object_id)
    if note.corrects_invoice_id is None:
        return
    items = uow.open_items.lock_for_invoices([event.object_id, note.corrects_invoice_id])
    credit, target = items[event.object_id], items[note.corrects_invoice_id]
    amount = min(credit.residual, target.residual)
    if amount > 0:
        company = uow.companies.get(note.company_id)
        book_allocation(uow, allocate(credit, target, amount, note.issue_date,
                                      company.rounding.mode))
