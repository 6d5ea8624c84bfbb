"""Unit of work: one database transaction, the repositories bound to it, and the events the
aggregates raised while it was open."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine

from o2c.adapters.db.engine import WRITE
from o2c.adapters.db.idempotency import IdempotencyStore
from o2c.adapters.db.mapper import Repository
from o2c.adapters.db.repositories import (
    ALLOCATIONS,
    COMPANIES,
    CUSTOMERS,
    INVOICES,
    OPEN_ITEMS,
    ORDERS,
    PAYMENTS,
    PRODUCTS,
    SHIPMENTS,
    STOCK,
    WAREHOUSES,
    EventStore,
    Ledger,
    Lookups,
    Outbox,
)
from o2c.domain.catalog import Product
from o2c.domain.events import Event
from o2c.domain.inventory import StockLevel, Warehouse
from o2c.domain.invoicing import Invoice
from o2c.domain.orders import SalesOrder
from o2c.domain.parties import Company, Customer
from o2c.domain.payments import Allocation, Payment
from o2c.domain.receivables import OpenItem
from o2c.domain.shipping import Shipment

Clock = Callable[[], datetime]


class UnitOfWork:
    conn: Connection
    companies: Repository[Company]
    customers: Repository[Customer]
    products: Repository[Product]
    warehouses: Repository[Warehouse]
    stock: Repository[StockLevel]
    orders: Repository[SalesOrder]
    shipments: Repository[Shipment]
    invoices: Repository[Invoice]
    open_items: Repository[OpenItem]
    payments: Repository[Payment]
    allocations: Repository[Allocation]
    ledger: Ledger
    event_store: EventStore
    outbox: Outbox
    lookups: Lookups
    idempotency: IdempotencyStore

    def __init__(self, engine: Engine, clock: Clock, actor: str = "system") -> None:
        self.engine = engine
        self.clock = clock
        self.actor = actor
        self._committed = False

    def __enter__(self) -> UnitOfWork:
        self.conn = self.engine.connect().execution_options(**{WRITE: True})
        self._tx = self.conn.begin()
        self.now = self.clock()
        c = self.conn
        self.companies = Repository(c, COMPANIES, self.now)
        self.customers = Repository(c, CUSTOMERS, self.now)
        self.products = Repository(c, PRODUCTS, self.now)
        self.warehouses = Repository(c, WAREHOUSES, self.now)
        self.stock = Repository(c, STOCK, self.now)
        self.orders = Repository(c, ORDERS, self.now)
        self.shipments = Repository(c, SHIPMENTS, self.now)
        self.invoices = Repository(c, INVOICES, self.now)
        self.open_items = Repository(c, OPEN_ITEMS, self.now)
        self.payments = Repository(c, PAYMENTS, self.now)
        self.allocations = Repository(c, ALLOCATIONS, self.now)
        self._repositories: list[Repository[Any]] = [
            self.companies, self.customers, self.products, self.warehouses, self.stock,
            self.orders, self.shipments, self.invoices, self.open_items, self.payments,
            self.allocations]
        self.ledger = Ledger(c, self.now)
        self.event_store = EventStore(c)
        self.outbox = Outbox(c, self.now)
        self.lookups = Lookups(c)
        self.idempotency = IdempotencyStore(c, self.now)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if not self._committed and self._tx.is_active:
                self._tx.rollback()
        finally:
            self.conn.close()

    def today(self) -> date:
        return self.now.date()

    def flush(self) -> None:
        for repository in self._repositories:
            repository.flush()

    def collect_events(self) -> list[Event]:
        events: list[Event] = []
        for repository in self._repositories:
            for aggregate in repository.tracked():
                if aggregate.events:
                    assert aggregate.id is not None
                    events.extend(Event(aggregate.object_type, aggregate.id, e.name, e.data)
                                  for e in aggregate.events)
                    aggregate.events.clear()
        return events

    def commit(self) -> None:
        self.flush()
        self._tx.commit()
        self._committed = True
