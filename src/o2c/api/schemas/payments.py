"""Payments, their allocation to invoices, credit notes applied to invoices."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from o2c.api.schemas.common import Amount, Day, Dec, Input, Model, Ref
from o2c.api.schemas.invoices import AllocationOut
from o2c.domain import commands as c
from o2c.domain.payments import PaymentMethod


class AllocationIn(Input):
    invoice_id: Ref
    amount: Amount


class PaymentIn(Input):
    customer_id: Ref
    amount: Amount
    currency: str = Field(min_length=3, max_length=3, description="must be the customer's")
    received_on: Day | None = Field(None, description="today when omitted")
    method: PaymentMethod = PaymentMethod.BANK_TRANSFER
    reference: str = Field("", max_length=300, description="the payer's remittance text")
    payer_name: str = Field("", max_length=200)
    payer_iban: str = Field("", max_length=34)
    allocations: list[AllocationIn] = Field(default_factory=list, max_length=500)
    auto_allocate: bool = Field(False, description="settle the oldest open invoices first")

    def command(self) -> c.RecordPayment:
        return c.RecordPayment(
            self.customer_id, self.amount, self.currency, received_on=self.received_on,
            method=self.method.value, reference=self.reference, payer_name=self.payer_name,
            payer_iban=self.payer_iban,
            allocations=tuple(c.AllocationInput(a.invoice_id, a.amount)
                              for a in self.allocations),
            auto_allocate=self.auto_allocate)


class AllocateIn(Input):
    allocations: list[AllocationIn] = Field(default_factory=list, max_length=500)
    auto: bool = Field(False, description="settle the oldest open invoices first")
    on: Day | None = None

    def command(self, payment_id: int) -> c.AllocatePayment:
        return c.AllocatePayment(
            payment_id, tuple(c.AllocationInput(a.invoice_id, a.amount)
                              for a in self.allocations), self.auto, self.on)


class ApplyCreditNoteIn(Input):
    invoice_id: Ref
    amount: Amount | None = Field(None, description="as much as both allow when omitted")
    on: Day | None = None

    def command(self, credit_note_id: int) -> c.ApplyCreditNote:
        return c.ApplyCreditNote(credit_note_id, self.invoice_id, self.amount, self.on)


class ReverseIn(Input):
    reason: str = Field(min_length=1, max_length=500)
    on: Day | None = None


class PaymentOut(Model):
    id: int
    number: str
    company_id: int
    customer_id: int
    customer_name: str | None
    currency: str
    amount: Dec
    unapplied: Dec = Field(description="not yet allocated: credit the customer can use")
    received_on: dt.date
    method: str
    reference: str
    payer_name: str
    payer_iban: str
    state: str
    fx_rate: Dec


class PaymentDetailOut(PaymentOut):
    allocations: list[AllocationOut]


class AllocationsOut(Model):
    allocations: list[AllocationOut] = Field(description="the allocations just made")
    payment: PaymentDetailOut
