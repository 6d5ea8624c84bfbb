"""Payments: received as customer credit, allocated to invoices (by hand or oldest first),
un-allocated with reversing entries, reversed when recorded in error."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from o2c.domain import commands as c
from o2c.domain.errors import (
    CurrencyMismatch,
    InvalidInput,
    NotFound,
    RuleViolation,
)
from o2c.domain.invoicing import convert
from o2c.domain.ledger import allocation_entry, payment_entry, reversal_entry
from o2c.domain.money import RoundingMode, in_minor_units
from o2c.domain.payments import (
    Allocation,
    Payment,
    PaymentMethod,
    SourceKind,
    allocate,
    unallocate,
)
from o2c.domain.receivables import OpenItem, OpenItemKind
from o2c.services.exchange import fx_rate
from o2c.services.uow import UnitOfWork


def book_allocation(uow: UnitOfWork, allocation: Allocation) -> Allocation:
    uow.allocations.add(allocation)
    uow.ledger.post(allocation_entry(allocation))
    return allocation


def record_payment(cmd: c.RecordPayment, uow: UnitOfWork) -> int:
    customer = uow.customers.find(cmd.customer_id)
    if customer is None:
        raise NotFound("customer", cmd.customer_id, field="customer_id")
    company = uow.companies.get(customer.company_id)
    if cmd.currency != customer.currency:
        raise CurrencyMismatch(customer.currency, cmd.currency, field="currency")
    try:
        method = PaymentMethod(cmd.method)
    except ValueError:
        raise InvalidInput(f"method must be one of {[m.value for m in PaymentMethod]}",
                           field="method") from None
    on = cmd.received_on or uow.today()
    rate = fx_rate(uow, cmd.currency, company, on)
    assert company.id is not None and customer.id is not None
    payment = Payment.receive(
        company_id=company.id, customer_id=customer.id, currency=cmd.currency,
        company_currency=company.currency, amount=cmd.amount, received_on=on, fx_rate=rate,
        amount_company=convert(cmd.amount, rate, company.currency, company.rounding.mode),
        method=method, reference=cmd.reference, payer_name=cmd.payer_name,
        payer_iban=cmd.payer_iban)
    uow.payments.add(payment)
    uow.ledger.post(payment_entry(payment))
    if cmd.allocations or cmd.auto_allocate:
        _allocate(uow, payment, cmd.allocations, cmd.auto_allocate, on, company.rounding.mode)
    assert payment.id is not None
    return payment.id


def allocate_payment(cmd: c.AllocatePayment, uow: UnitOfWork) -> list[int]:
    payment = uow.payments.get(cmd.payment_id, for_update=True)
    company = uow.companies.get(payment.company_id)
    if not cmd.allocations and not cmd.auto:
        raise InvalidInput("give allocations or ask for auto allocation", field="allocations")
    allocations = _allocate(uow, payment, cmd.allocations, cmd.auto,
                            cmd.on or uow.today(), company.rounding.mode)
    return [a.id for a in allocations if a.id is not None]


def _allocate(uow: UnitOfWork, payment: Payment, requests: tuple[c.AllocationInput, ...],
              auto: bool, on: date, mode: RoundingMode) -> list[Allocation]:
    if on < payment.received_on:
        raise RuleViolation("a payment cannot be allocated before it was received", field="on")
    if auto:
        items = uow.open_items.lock_open_invoices(payment.customer_id, payment.currency)
        plan = []
        left = payment.unapplied
        for item in items:
            if left <= 0:
                break
            amount = min(left, item.residual)
            plan.append((item, amount))
            left -= amount
    else:
        seen = set()
        for i, request in enumerate(requests):
            if request.invoice_id in seen:
                raise InvalidInput(f"invoice {request.invoice_id} is listed twice",
                                   field=f"allocations[{i}].invoice_id")
            seen.add(request.invoice_id)
        by_invoice = uow.open_items.lock_for_invoices(seen)
        plan = []
        for i, request in enumerate(requests):
            found = by_invoice.get(request.invoice_id)
            if found is None or found.kind is not OpenItemKind.INVOICE:
                raise NotFound("invoice", request.invoice_id,
                               field=f"allocations[{i}].invoice_id")
            plan.append((found, request.amount))
        total = sum((amount for _, amount in plan), Decimal(0))
        if total > payment.unapplied:
            raise RuleViolation(
                f"allocations total {total} but payment {payment.number} has only "
                f"{in_minor_units(payment.unapplied, payment.currency)} {payment.currency} "
                "unapplied", field="allocations")
    result = []
    for i, (item, amount) in enumerate(plan):
        try:
            result.append(book_allocation(uow, allocate(payment, item, amount, on, mode)))
        except RuleViolation as error:
            if error.field and not auto:
                error.field = f"allocations[{i}].{error.field}"
            raise
    return result


def _open_item_of(uow: UnitOfWork, invoice_id: int, field: str) -> OpenItem:
    item = uow.open_items.lock_for_invoices([invoice_id]).get(invoice_id)
    if item is None:
        raise NotFound("invoice", invoice_id, field=field)
    return item


def apply_credit_note(cmd: c.ApplyCreditNote, uow: UnitOfWork) -> int:
    credit = _open_item_of(uow, cmd.credit_note_id, "credit_note_id")
    target = _open_item_of(uow, cmd.invoice_id, "invoice_id")
    if credit.kind is not OpenItemKind.CREDIT_NOTE:
        raise RuleViolation(f"{credit.number} is not a credit note", field="credit_note_id")
    amount = cmd.amount if cmd.amount is not None else min(credit.residual, target.residual)
    company = uow.companies.get(credit.company_id)
    allocation = book_allocation(uow, allocate(credit, target, amount,
                                               cmd.on or uow.today(), company.rounding.mode))
    assert allocation.id is not None
    return allocation.id


def unallocate_payment(cmd: c.Unallocate, uow: UnitOfWork) -> int:
    """Undo an allocation: the invoice is open again, the credit is back, and a reversing
    entry mirrors the original one."""
    if not cmd.reason.strip():
        raise InvalidInput("un-allocating needs a reason", field="reason")
    allocation = uow.allocations.get(cmd.allocation_id, for_update=True)
    source: Payment | OpenItem
    if allocation.source_kind is SourceKind.PAYMENT:
        assert allocation.payment_id is not None
        source = uow.payments.get(allocation.payment_id, for_update=True)
    else:
        assert allocation.credit_note_id is not None
        source = _open_item_of(uow, allocation.credit_note_id, "allocation_id")
    target = _open_item_of(uow, allocation.invoice_id, "allocation_id")
    on = cmd.on or uow.today()
    unallocate(allocation, source, target, on, cmd.reason)
    entry_id = uow.lookups.entry_id_for("allocation", cmd.allocation_id)
    if entry_id is None:
        raise NotFound("journal entry of allocation", cmd.allocation_id)
    original = uow.ledger.get(entry_id)
    uow.ledger.post(reversal_entry(original, on, f"reversal of {original.memo}: {cmd.reason}"))
    return cmd.allocation_id


def reverse_payment(cmd: c.ReversePayment, uow: UnitOfWork) -> int:
    payment = uow.payments.get(cmd.payment_id, for_update=True)
    payment.reverse(cmd.reason)
    entry_id = uow.lookups.entry_id_for("payment", cmd.payment_id)
    if entry_id is None:
        raise NotFound("journal entry of payment", payment.label)
    original = uow.ledger.get(entry_id)
    uow.ledger.post(reversal_entry(original, cmd.on or uow.today(),
                                   f"reversal of {original.memo}: {cmd.reason}"))
    return cmd.payment_id
