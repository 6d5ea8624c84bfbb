"""Shipments: pick, pack, ship (which posts the invoice), deliver, cancel."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import JSONResponse
from sqlalchemy import Connection

from o2c.adapters.db import queries
from o2c.adapters.db.queries import MAX_LIMIT, Filters, PageRequest
from o2c.api.auth import Scope
from o2c.api.deps import Bus, Conn, Paging, Today
from o2c.api.routes import router
from o2c.api.schemas.common import Day, Id, IdFilter, Page
from o2c.api.schemas.orders import (
    CancelIn,
    DeliverIn,
    PackIn,
    PickIn,
    ShipIn,
    ShipmentDetailOut,
    ShipmentOut,
    ShippedOut,
)
from o2c.domain import commands as c
from o2c.domain.shipping import ShipmentState

shipments = router("shipments")

OPEN_STATES = ",".join(s.value for s in (ShipmentState.READY, ShipmentState.PICKED,
                                         ShipmentState.PACKED))


def shipment_detail(conn: Connection, shipment_id: int, today: date) -> ShipmentDetailOut:
    shipment = queries.shipment(conn, shipment_id)
    shipment["invoices"] = queries.shipment_invoices(conn, shipment_id, today)
    return ShipmentDetailOut.model_validate(shipment)


def shipment_presenter(today: date) -> Any:
    def present(conn: Connection, shipment_id: int) -> ShipmentDetailOut:
        return shipment_detail(conn, shipment_id, today)

    return present


@shipments.get("/shipments", response_model=Page[ShipmentOut])
def list_shipments(
    conn: Conn, page: Paging, scope: Scope,
    company_id: IdFilter = None, customer_id: IdFilter = None,
    order_id: IdFilter = None, warehouse_id: IdFilter = None,
    state: Annotated[list[ShipmentState] | None,
                     Query(max_length=10,
                           description="one or more states (repeat the parameter)")] = None,
    date_from: Annotated[Day | None, Query(description="created on or after")] = None,
    date_to: Annotated[Day | None, Query(description="created on or before")] = None,
) -> dict[str, Any]:
    filters = Filters(company_id=company_id, customer_id=scope or customer_id,
                      state=",".join(s.value for s in state) if state else None,
                      date_from=date_from, date_to=date_to,
                      extra={"order_id": order_id, "warehouse_id": warehouse_id})
    return queries.list_shipments(conn, filters, page).as_dict()


@shipments.get("/shipments/{shipment_id}", response_model=ShipmentDetailOut)
def get_shipment(shipment_id: Id, conn: Conn, today: Today) -> ShipmentDetailOut:
    return shipment_detail(conn, shipment_id, today)


@shipments.post("/shipments/{shipment_id}/pick", response_model=ShipmentDetailOut)
def pick_shipment(shipment_id: Id, bus: Bus, today: Today,
                  body: PickIn | None = None) -> JSONResponse:
    body = body or PickIn()
    return bus.run(c.PickShipment(shipment_id, body.on), shipment_presenter(today),
                   payload=body)


@shipments.post("/shipments/{shipment_id}/pack", response_model=ShipmentDetailOut)
def pack_shipment(shipment_id: Id, bus: Bus, today: Today,
                  body: PackIn | None = None) -> JSONResponse:
    body = body or PackIn()
    return bus.run(c.PackShipment(shipment_id, body.packages, body.on),
                   shipment_presenter(today), payload=body)


@shipments.post("/shipments/{shipment_id}/ship", response_model=ShippedOut)
def ship_shipment(shipment_id: Id, bus: Bus, today: Today,
                  body: ShipIn | None = None) -> JSONResponse:
    """The goods leave: stock goes down and the invoice for what shipped is posted (for
    customers billed on shipment). With `lines`, only those quantities ship; the rest stays
    reserved on a follow-up shipment."""
    body = body or ShipIn()

    def present(conn: Connection, _id: int) -> ShippedOut:
        shipment = shipment_detail(conn, shipment_id, today)
        still_open = queries.list_shipments(
            conn, Filters(state=OPEN_STATES, extra={"order_id": shipment.order_id}),
            PageRequest(limit=MAX_LIMIT)).items
        return ShippedOut(shipment=shipment, invoices=list(shipment.invoices),
                          open_shipments=[ShipmentOut.model_validate(s) for s in still_open])

    return bus.run(body.command(shipment_id), present, payload=body)


@shipments.post("/shipments/{shipment_id}/deliver", response_model=ShipmentDetailOut)
def deliver_shipment(shipment_id: Id, bus: Bus, today: Today,
                     body: DeliverIn | None = None) -> JSONResponse:
    body = body or DeliverIn()
    return bus.run(c.DeliverShipment(shipment_id, body.on), shipment_presenter(today),
                   payload=body)


@shipments.post("/shipments/{shipment_id}/cancel", response_model=ShipmentDetailOut)
def cancel_shipment(shipment_id: Id, bus: Bus, today: Today,
                    body: CancelIn | None = None) -> JSONResponse:
    """Cancel a shipment not yet shipped: the goods go back to stock, the order lines back to
    backorder."""
    body = body or CancelIn()
    return bus.run(c.CancelShipment(shipment_id, body.reason), shipment_presenter(today),
                   payload=body)
