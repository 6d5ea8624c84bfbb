"""Unit of work: one database transaction, the repositories bound to it, and the events the
aggregates raised while it was open."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from operator import itemgetter
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine

from o2c.adapters.db.engine import write_connections
from o2c.adapters.db.idempotency import IdempotencyStore
from o2c.adapters.db.mapper import Change, Mapping, Repository
from o2c.adapters.db.master_data_cache import CacheView, master_data_cache
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
    OpenItemRepository,
    Outbox,
    StockRepository,
)
from o2c.adapters.db.security import AuditEntry, append_audit
from o2c.adapters.jobs import JobEngine
from o2c.domain.access import Controls, Principal, system
from o2c.domain.catalog import Product
from o2c.domain.events import Event
from o2c.domain.inventory import Warehouse
from o2c.domain.invoicing import Invoice
from o2c.domain.orders import SalesOrder
from o2c.domain.parties import Company, Customer
from o2c.domain.payments import Allocation, Payment
from o2c.domain.shipping import Shipment

Clock = Callable[[], datetime]


_REPOSITORIES: dict[str, tuple[type[Repository[Any]], Mapping[Any]]] = {
    "companies": (Repository, COMPANIES), "customers": (Repository, CUSTOMERS),
    "products": (Repository, PRODUCTS), "warehouses": (Repository, WAREHOUSES),
    "stock": (StockRepository, STOCK), "orders": (Repository, ORDERS),
    "shipments": (Repository, SHIPMENTS), "invoices": (Repository, INVOICES),
    "open_items": (OpenItemRepository, OPEN_ITEMS), "payments": (Repository, PAYMENTS),
    "allocations": (Repository, ALLOCATIONS),
}


_DEFAULT_CONTROLS = Controls()
_by_sequence = itemgetter(0)


def _nothing_to_flush() -> None:
    pass


class UnitOfWork:
    """Repositories are created on first use, so a small command pays only for what it
    touches."""

    conn: Connection
    companies: Repository[Company]
    customers: Repository[Customer]
    products: Repository[Product]
    warehouses: Repository[Warehouse]
    stock: StockRepository
    orders: Repository[SalesOrder]
    shipments: Repository[Shipment]
    invoices: Repository[Invoice]
    open_items: OpenItemRepository
    payments: Repository[Payment]
    allocations: Repository[Allocation]
    ledger: Ledger
    event_store: EventStore
    outbox: Outbox
    lookups: Lookups
    idempotency: IdempotencyStore

    def __init__(self, engine: Engine, clock: Clock, actor: str = "system",
                 jobs: JobEngine | None = None) -> None:
        self.engine = engine
        self.jobs = jobs
        self._deferred: list[tuple[str, dict[str, Any]]] = []
        self.clock = clock
        self.actor = actor
        self._committed = False
        self._repositories: list[Repository[Any]] = []
        self._events: list[Event] = []
        # Who the command runs for and what the audit trail records about it (set by the bus).
        self.principal: Principal = system(actor)
        self.request_id: str | None = None
        self.command_name = ""
        self.reason: str | None = None
        self.controls = _DEFAULT_CONTROLS  # the bus gives its own
        self.dual_control = False  # thresholds apply to users, not to local system actors
        self.store_personal = True  # False while erasing: old values are not kept anywhere
        self.approval_id: int | None = None  # set while an approved request is carried out
        self.extra_changes: list[Change] = []
        self.audit_object: tuple[str, int] | None = None  # the record's object when not the
        # first one changed

    def __getattr__(self, name: str) -> Any:
        found = _REPOSITORIES.get(name)
        if found is None:
            raise AttributeError(name)
        kind, mapping = found
        repository: Repository[Any] = kind(self.conn, mapping, self.now, self.cache)
        self._repositories.append(repository)
        setattr(self, name, repository)
        return repository

    def __enter__(self) -> UnitOfWork:
        self._connections = write_connections(self.engine)
        self.conn = self._connections.acquire()
        self._tx = self._connections.begin(self.conn)
        self.now = self.clock()
        c = self.conn
        cache = master_data_cache(self.engine)
        self.cache: CacheView | None = None if cache is None else cache.view(c)
        self.ledger = Ledger(c, self.now)
        self.event_store = EventStore(c)
        self.outbox = Outbox(c, self.now)
        self.lookups = Lookups(c, autoflush=self.flush, cache=self.cache)
        self.idempotency = IdempotencyStore(c, self.now)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if not self._committed and self._tx.is_active:
                self._tx.rollback()
        except BaseException:
            self.conn.close()
            raise
        finally:
            # Lookups calls back into this unit of work (autoflush): without that link the
            # finished unit of work and everything it loaded are freed at once, by reference
            # counting, instead of waiting for the cyclic garbage collector.
            self.lookups.autoflush = _nothing_to_flush
        self._connections.release(self.conn)

    def defer(self, task: str, **kwargs: Any) -> None:
        """Enqueue a background job that commits with this unit of work. PostgreSQL: in this
        transaction, in procrastinate's table. SQLite: handed to the in-process worker after
        the commit (when it runs; otherwise the schedules find the work in the database).
        Without a job engine (a bare unit of work) nothing is enqueued: the schedules find
        the work in the database."""
        jobs = self.jobs
        if jobs is None or task in jobs.not_deferred:
            return
        if jobs.postgres:
            jobs.defer_in(self.conn, task, **kwargs)
        else:
            self._deferred.append((task, kwargs))

    def today(self) -> date:
        return self.now.date()

    def flush(self) -> None:
        for repository in self._repositories:
            repository.flush()

    def collect_events(self) -> list[Event]:
        """Events raised since the last call; they are also kept for the event log."""
        pending: list[tuple[int, Event]] = []
        for repository in self._repositories:
            for aggregate in repository.tracked():
                raised = aggregate.events
                if raised:
                    object_type, object_id = aggregate.object_type, aggregate.id
                    assert object_id is not None
                    pending.extend((e.sequence, Event(object_type, object_id, e.name, e.data))
                                   for e in raised)
                    raised.clear()
        if not pending:
            return []
        pending.sort(key=_by_sequence)  # as raised, across aggregates
        events = [event for _, event in pending]
        self._events.extend(events)
        return events

    def commit(self) -> None:
        self.flush()
        self.collect_events()
        # The whole transaction's events are appended at once: one statement per command.
        self.event_store.append(self._events, self.now, self.actor)
        if self.command_name:
            changes = [change for repository in self._repositories
                       for change in repository.changes] + self.extra_changes
            if self.audit_object is not None:
                changes.sort(key=lambda change: (change[0], change[1]) != self.audit_object)
            append_audit(self.conn, AuditEntry(
                self.principal.actor, self.principal.role.value, self.request_id,
                self.command_name, self.reason, changes, self.store_personal), self.now)
        self._tx.commit()
        self._committed = True
        if self.cache is not None:
            self.cache.publish()
        if self._deferred and self.jobs is not None and self.jobs.running:
            for task, kwargs in self._deferred:
                self.jobs.defer(task, **kwargs)
        self._deferred.clear()
