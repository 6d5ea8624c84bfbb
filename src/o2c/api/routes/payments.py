"""Payments: recorded as customer credit, allocated to invoices (by hand or oldest first),
un-allocated and reversed with reversing journal entries."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import JSONResponse
from sqlalchemy import Connection

from o2c.adapters.db import queries
from o2c.adapters.db.queries import Filters
from o2c.api.auth import Scope
from o2c.api.deps import Bus, Conn, Paging
from o2c.api.routes import location, router
from o2c.api.schemas.common import Day, Id, IdFilter, Page
from o2c.api.schemas.invoices import AllocationOut
from o2c.api.schemas.payments import (
    AllocateIn,
    AllocationsOut,
    PaymentDetailOut,
    PaymentIn,
    PaymentOut,
    ReverseIn,
)
from o2c.domain import commands as c
from o2c.domain.payments import PaymentState

payments = router("payments")


def present_payment(conn: Connection, payment_id: int) -> PaymentDetailOut:
    return PaymentDetailOut.model_validate(queries.payment(conn, payment_id))


def present_allocation(conn: Connection, allocation_id: int) -> AllocationOut:
    return AllocationOut.model_validate(queries.allocation(conn, allocation_id))


@payments.post("/payments", status_code=201, response_model=PaymentDetailOut)
def record_payment(body: PaymentIn, bus: Bus) -> JSONResponse:
    """Record money received. It becomes customer credit, then settles the invoices given in
    `allocations` (or the oldest open ones with `auto_allocate`); the rest stays unapplied."""
    return bus.run(body.command(), present_payment, payload=body, status_code=201,
                   location=location("payments"))


@payments.get("/payments", response_model=Page[PaymentOut])
def list_payments(
    conn: Conn, page: Paging, scope: Scope,
    company_id: IdFilter = None, customer_id: IdFilter = None,
    state: PaymentState | None = None,
    unapplied: Annotated[bool, Query(description="only payments with credit left")] = False,
    date_from: Annotated[Day | None, Query(description="received on or after")] = None,
    date_to: Annotated[Day | None, Query(description="received on or before")] = None,
    q: Annotated[str | None, Query(max_length=200,
                                   description="payment number, reference or customer "
                                               "name")] = None,
) -> dict[str, Any]:
    filters = Filters(company_id=company_id, customer_id=scope or customer_id,
                      state=state.value if state else None, date_from=date_from,
                      date_to=date_to, q=q, extra={"unapplied": unapplied})
    return queries.list_payments(conn, filters, page).as_dict()


@payments.get("/payments/{payment_id}", response_model=PaymentDetailOut)
def get_payment(payment_id: Id, conn: Conn) -> dict[str, Any]:
    return queries.payment(conn, payment_id)


@payments.post("/payments/{payment_id}/allocations", status_code=201,
               response_model=AllocationsOut)
def allocate_payment(payment_id: Id, body: AllocateIn, bus: Bus) -> JSONResponse:
    """Apply unapplied money of the payment to invoices (or the oldest first with `auto`)."""
    def present(conn: Connection, allocation_ids: list[int]) -> AllocationsOut:
        payment = present_payment(conn, payment_id)
        made = set(allocation_ids)
        return AllocationsOut(allocations=[a for a in payment.allocations if a.id in made],
                              payment=payment)

    return bus.run(body.command(payment_id), present, payload=body, status_code=201)


@payments.post("/payments/{payment_id}/reverse", response_model=PaymentDetailOut)
def reverse_payment(payment_id: Id, body: ReverseIn, bus: Bus) -> JSONResponse:
    """A payment recorded in error or returned by the bank; un-allocate it first."""
    return bus.run(c.ReversePayment(payment_id, body.reason, body.on), present_payment,
                   payload=body)


allocations = router("allocations")


@allocations.get("/allocations", response_model=Page[AllocationOut])
def list_allocations(
    conn: Conn, page: Paging, scope: Scope, customer_id: IdFilter = None,
    invoice_id: IdFilter = None,
    payment_id: IdFilter = None, credit_note_id: IdFilter = None,
    active: Annotated[bool, Query(description="only those not reversed")] = False,
) -> dict[str, Any]:
    extra: dict[str, Any] = {"invoice_id": invoice_id, "payment_id": payment_id,
                             "credit_note_id": credit_note_id, "active": active}
    return queries.list_allocations(conn, Filters(customer_id=scope or customer_id, extra=extra),
                                    page).as_dict()


@allocations.get("/allocations/{allocation_id}", response_model=AllocationOut)
def get_allocation(allocation_id: Id, conn: Conn) -> dict[str, Any]:
    return queries.allocation(conn, allocation_id)


@allocations.post("/allocations/{allocation_id}/reverse", response_model=AllocationOut)
def unallocate(allocation_id: Id, body: ReverseIn, bus: Bus) -> JSONResponse:
    """Undo an allocation: the invoice is open again, the money is credit again, and a
    reversing journal entry mirrors the original one."""
    return bus.run(c.Unallocate(allocation_id, body.reason, body.on), present_allocation,
                   payload=body)
