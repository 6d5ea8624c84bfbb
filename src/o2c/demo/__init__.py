"""A seeded simulator of a business: `seed()` fills an empty database with a year of
customers, orders, shipments, invoices, returns and payments, all through the message bus.

    o2c demo seed --customers 200 --orders 5000 --seed 42

The same options always write the same data (rows, ids, numbers, amounts)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine

from o2c.adapters.db import queries
from o2c.bootstrap import SettableClock, bootstrap
from o2c.config import Settings
from o2c.demo.report import SeedReport, summarise
from o2c.demo.simulator import Business
from o2c.domain.errors import Conflict, InvalidInput

DEFAULT_END_DATE = date(2026, 10, 31)


@dataclass(frozen=True)
class SeedOptions:
    customers: int = 200
    orders: int = 5000
    seed: int = 42
    end_date: date = DEFAULT_END_DATE  # a fixed day, not today: runs are reproducible
    days: int = 365  # how long the simulated period is, ending on `end_date`

    def __post_init__(self) -> None:
        if not 1 <= self.customers <= 100_000:
            raise InvalidInput("customers must be between 1 and 100000", field="customers")
        if not 0 <= self.orders <= 1_000_000:
            raise InvalidInput("orders must be between 0 and 1000000", field="orders")
        if not 7 <= self.days <= 3660:
            raise InvalidInput("days must be between 7 and 3660", field="days")

    @property
    def first_day(self) -> date:
        return self.end_date - timedelta(days=self.days - 1)


class DatabaseNotEmpty(Conflict):
    def __init__(self) -> None:
        super().__init__("the database already holds a company; the demo seeds an empty "
                         "database only (start from a new one, e.g. `make reset`, then "
                         "`o2c db upgrade`)", field="database")


def seed(engine: Engine, options: SeedOptions = SeedOptions(), *,
         progress: Callable[[int, int], None] | None = None) -> SeedReport:
    """Simulate the business described by `options` into the (migrated, empty) database of
    `engine`; `progress(days_done, days)` is called after each simulated day."""
    with engine.connect() as conn:
        if queries.default_company_id(conn) is not None:
            raise DatabaseNotEmpty()
    started = time.perf_counter()
    clock = SettableClock(datetime.combine(options.first_day, datetime.min.time(), UTC))
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False))
    app = bootstrap(settings, engine=engine, clock=clock)
    business = Business(app, clock, random.Random(options.seed), customers=options.customers,
                        orders=options.orders, first_day=options.first_day,
                        last_day=options.end_date)
    business.run(progress)
    return summarise(engine, business.commands, options.first_day, options.end_date,
                     time.perf_counter() - started)


__all__ = ["DEFAULT_END_DATE", "DatabaseNotEmpty", "SeedOptions", "SeedReport", "seed"]
