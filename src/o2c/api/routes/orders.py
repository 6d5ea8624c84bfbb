"""Sales orders: capture, the credit decision at confirmation, release or rejection of held
orders, cancellation, and reserving backorders."""

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
from o2c.api.routes import location, router
from o2c.api.schemas.common import Day, Id, IdFilter, Page
from o2c.api.schemas.orders import (
    CancelIn,
    ConfirmationOut,
    ConfirmIn,
    OrderDetailOut,
    OrderIn,
    OrderOut,
    RejectIn,
    ReleaseIn,
    ReservationOut,
    ReserveIn,
    confirmation,
)
from o2c.domain import commands as c
from o2c.domain.orders import OrderState, ShippingStatus
from o2c.services.orders import ConfirmResult

orders = router("orders")


def order_presenter(today: date) -> Any:
    def present(conn: Connection, order_id: int) -> OrderDetailOut:
        return OrderDetailOut.model_validate(queries.order(conn, order_id, today))

    return present


def confirmation_presenter(today: date) -> Any:
    def present(conn: Connection, result: ConfirmResult) -> ConfirmationOut:
        return confirmation(result, queries.order(conn, result.order_id, today))

    return present


@orders.post("/orders", status_code=201, response_model=OrderDetailOut)
def create_order(body: OrderIn, bus: Bus, today: Today) -> JSONResponse:
    """Capture a draft order: priced from the price list unless `unit_price` is given, VAT
    determined per line. Nothing is reserved until it is confirmed."""
    return bus.run(body.command(), order_presenter(today), payload=body, status_code=201,
                   location=location("orders"))


@orders.get("/orders", response_model=Page[OrderOut])
def list_orders(
    conn: Conn, page: Paging, scope: Scope,
    company_id: IdFilter = None, customer_id: IdFilter = None,
    state: OrderState | None = None, shipping_status: ShippingStatus | None = None,
    date_from: Annotated[Day | None, Query(description="order date from")] = None,
    date_to: Annotated[Day | None, Query(description="order date to (inclusive)")] = None,
    q: Annotated[str | None, Query(max_length=200,
                                   description="order number, customer name or code, or "
                                               "customer reference")] = None,
) -> dict[str, Any]:
    filters = Filters(company_id=company_id, customer_id=scope or customer_id,
                      state=state.value if state else None, date_from=date_from,
                      date_to=date_to, q=q,
                      extra={"shipping_status": shipping_status.value if shipping_status
                             else None})
    return queries.list_orders(conn, filters, page).as_dict()


@orders.get("/orders/{order_id}", response_model=OrderDetailOut)
def get_order(order_id: Id, conn: Conn, today: Today) -> dict[str, Any]:
    """The order with its lines, shipments and invoices."""
    return queries.order(conn, order_id, today)


@orders.post("/orders/{order_id}/confirm", response_model=ConfirmationOut)
def confirm_order(order_id: Id, bus: Bus, today: Today,
                  body: ConfirmIn | None = None) -> JSONResponse:
    """Run the credit check. Approved: the order is confirmed and reserves its stock (what
    is missing is a backorder). Not approved: the order goes on credit hold (state
    `credit_hold`, `credit_check.reasons` say why) and waits for release or rejection."""
    body = body or ConfirmIn()
    return bus.run(c.ConfirmOrder(order_id, body.on), confirmation_presenter(today),
                   payload=body)


@orders.post("/orders/{order_id}/release", response_model=ConfirmationOut)
def release_order(order_id: Id, body: ReleaseIn, bus: Bus, today: Today) -> JSONResponse:
    """A credit manager releases a held order: it is confirmed and reserves its stock."""
    return bus.run(c.ReleaseOrder(order_id, body.reason, body.on),
                   confirmation_presenter(today), payload=body)


@orders.post("/orders/{order_id}/reject", response_model=OrderDetailOut)
def reject_order(order_id: Id, body: RejectIn, bus: Bus, today: Today) -> JSONResponse:
    return bus.run(c.RejectOrder(order_id, body.reason), order_presenter(today), payload=body)


@orders.post("/orders/{order_id}/cancel", response_model=OrderDetailOut)
def cancel_order(order_id: Id, bus: Bus, today: Today,
                 body: CancelIn | None = None) -> JSONResponse:
    """Cancel an order not yet shipped or invoiced; its reservations go back to stock."""
    body = body or CancelIn()
    return bus.run(c.CancelOrder(order_id, body.reason), order_presenter(today), payload=body)


@orders.post("/orders/{order_id}/reserve", response_model=ReservationOut)
def reserve_backorders(order_id: Id, bus: Bus, today: Today,
                       body: ReserveIn | None = None) -> JSONResponse:
    """Try again to reserve what the order is still waiting for."""
    body = body or ReserveIn()

    def present(conn: Connection, shipment_ids: list[int]) -> ReservationOut:
        return ReservationOut(shipment_ids=shipment_ids, order=OrderDetailOut.model_validate(
            queries.order(conn, order_id, today)))

    return bus.run(c.ReserveBackorders(order_id, body.on), present, payload=body)
