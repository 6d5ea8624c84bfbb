"""Invoices and credit notes (posted automatically; corrected only by credit notes)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field

from o2c.api.schemas.common import Day, Dec, Input, Model, Quantity, Ref, UnitPrice
from o2c.domain import commands as c


class InvoiceOut(Model):
    id: int
    number: str
    kind: str = Field(description="invoice | credit_note")
    state: str
    company_id: int
    customer_id: int
    customer_code: str | None
    customer_name: str | None
    currency: str
    issue_date: dt.date
    due_date: dt.date | None
    order_id: int | None
    order_number: str
    shipment_id: int | None
    corrects_invoice_id: int | None
    corrects_number: str
    net_amount: Dec
    tax_amount: Dec
    gross_amount: Dec
    residual: Dec | None = Field(description="still owed (invoice) or still to use (credit "
                                             "note)")
    payment_status: str | None = Field(description="unpaid, partially_paid, paid, overdue or "
                                                   "credited, as of `as_of`; null for credit "
                                                   "notes")
    days_overdue: int
    credit_status: str | None = Field(
        None, description="credit notes: unapplied, partially_applied or applied; null for "
                          "invoices")
    next_due_date: dt.date | None = Field(
        None, description="when the oldest instalment not yet paid falls due; null for "
                          "credit notes")
    overdue_amount: Dec | None = Field(
        None, description="what is still owed of the instalments due before `as_of` (not "
                          "the whole residual); null for credit notes")
    remittance_reference: str


class InvoiceLineOut(Model):
    id: int
    line_no: int
    order_line_id: int | None
    corrects_line_id: int | None
    product_id: int | None
    sku: str
    description: str
    quantity: Dec
    unit: str
    unit_price: Dec
    discount_percent: Dec
    net_amount: Dec
    vat_code: str
    vat_rate: Dec
    exemption_reason: str


class InvoiceTaxOut(Model):
    vat_code: str
    vat_rate: Dec
    taxable_amount: Dec
    tax_amount: Dec
    tax_amount_company: Dec
    exemption_reason: str


class InstallmentOut(Model):
    due_date: dt.date
    amount: Dec


class EarlyPaymentDiscountOut(Model):
    percent: Dec
    until: dt.date | None
    amount: Dec


class AllocationOut(Model):
    id: int
    invoice_id: int
    invoice_number: str
    source_kind: str = Field(description="payment | credit_note")
    payment_id: int | None
    credit_note_id: int | None
    source_number: str
    currency: str
    amount: Dec
    allocated_on: dt.date
    reversed_on: dt.date | None


class CreditNoteRefOut(Model):
    id: int
    number: str
    issue_date: dt.date
    gross_amount: Dec
    reason: str


class InvoiceDetailOut(InvoiceOut):
    company_currency: str
    fx_rate: Dec
    delivery_date: dt.date | None
    order_reference: str
    buyer_reference: str
    reason: str
    seller: dict[str, Any]
    buyer: dict[str, Any]
    payment_means_code: str
    payee_iban: str
    payment_terms: str
    early_payment_discount: EarlyPaymentDiscountOut | None
    tax_amount_company: Dec
    gross_amount_company: Dec
    installments: list[InstallmentOut]
    lines: list[InvoiceLineOut]
    taxes: list[InvoiceTaxOut]
    allocations: list[AllocationOut]
    credit_notes: list[CreditNoteRefOut]


class CreditLineIn(Input):
    invoice_line_id: Ref
    quantity: Quantity | None = Field(None, description="what is left to credit when omitted")
    unit_price: UnitPrice | None = Field(None, description="the invoiced price when omitted; "
                                                           "lower it for a price reduction")


class CreditNoteIn(Input):
    reason: str = Field(min_length=1, max_length=500)
    lines: list[CreditLineIn] | None = Field(None, min_length=1, max_length=500,
                                             description="omit to credit the whole invoice")
    on: Day | None = Field(None, description="issue date; today when omitted")

    def command(self, invoice_id: int) -> c.CreateCreditNote:
        lines = None if self.lines is None else tuple(
            c.CreditLineInput(line.invoice_line_id, line.quantity, line.unit_price)
            for line in self.lines)
        return c.CreateCreditNote(invoice_id, self.reason, lines, self.on)
