"""Parallel delivery workers on SQLite and PostgreSQL: each due outbox row is claimed by
exactly one of them."""

from __future__ import annotations

import threading
from datetime import date

from o2c.adapters.db import documents as store
from o2c.bootstrap import App
from o2c.domain import commands as c
from o2c.services.uow import UnitOfWork
from tests.fixtures.world import build_world, line
from tests.services import support as s

ON = date(2026, 3, 2)


def test_parallel_workers_claim_every_due_invoice_exactly_once(any_app: App) -> None:
    world = build_world(any_app.bus)
    for _ in range(6):
        order_id = any_app.bus.handle(c.CreateOrder(
            world.customers["rossi"], (line(world.products["BOOK"], 1),), order_date=ON))
        [shipment_id] = any_app.bus.handle(c.ConfirmOrder(order_id, on=ON)).shipment_ids
        s.ship(any_app.bus, shipment_id, on=ON)
    now = any_app.clock()
    barrier = threading.Barrier(3)
    claimed: list[list[int]] = [[], [], []]
    failures: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            for _ in range(4):
                with UnitOfWork(any_app.engine, any_app.clock, f"worker-{i}") as uow:
                    claimed[i].extend(x.outbox_id for x in store.claim_due(uow.conn, now, 2))
                    uow.commit()
        except BaseException as error:  # reported below
            failures.append(error)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    every = [outbox_id for ids in claimed for outbox_id in ids]
    assert len(every) == len(set(every)) == 6
