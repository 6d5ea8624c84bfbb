"""The event log: every state change with its time and actor (the audit trail)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query

from o2c.adapters.db import queries
from o2c.api.deps import Conn, Paging
from o2c.api.routes import router
from o2c.api.schemas.common import Id, IdFilter, Page
from o2c.api.schemas.ledger import EventOut
from o2c.domain.errors import NotFound

events = router("events")


@events.get("/events", response_model=Page[EventOut])
def list_events(
    conn: Conn, page: Paging,
    object_type: Annotated[str | None, Query(
        max_length=40, description="order, shipment, invoice, payment, allocation, customer, "
                                   "product, stock, open_item, company...")] = None,
    object_id: IdFilter = None,
) -> dict[str, Any]:
    """Events in the order they happened, optionally of one object."""
    return queries.list_events(conn, object_type, object_id, page).as_dict()


# Per-object event logs: path collection -> object type in the log.
SUBJECTS = {
    "companies": "company", "customers": "customer", "products": "product",
    "warehouses": "warehouse", "orders": "order", "shipments": "shipment",
    "invoices": "invoice", "payments": "payment", "allocations": "allocation",
}


def _object_events(object_type: str) -> Callable[..., dict[str, Any]]:
    def object_events(object_id: Id, conn: Conn, page: Paging) -> dict[str, Any]:
        if not queries.object_exists(conn, object_type, object_id):
            raise NotFound(object_type, object_id)
        return queries.list_events(conn, object_type, object_id, page).as_dict()

    object_events.__doc__ = f"The {object_type}'s events in the order they happened."
    return object_events


def _register(target: APIRouter) -> None:
    for collection, object_type in SUBJECTS.items():
        target.add_api_route(f"/{collection}/{{object_id}}/events", _object_events(object_type),
                             methods=["GET"], response_model=Page[EventOut],
                             name=f"{object_type}_events", tags=[collection])


_register(events)
