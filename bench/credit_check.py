"""How the credit check scales with a customer's paid history.

Every confirmation checks credit: open receivables, the oldest overdue item, unapplied
payments and credit notes, confirmed orders not yet invoiced. Those sums must read what is
still open, not the whole history, or confirming an order for a ten-year customer would cost
a hundred times what it costs for a new one.

C customers first confirm T orders each with no history (timed: "fresh", after an untimed
round of the same size that warms up statements and caches). Then each gets H
orders carried through the whole flow (pick, pack, ship with its invoice, payment allocated),
so the history is H paid invoices and H applied payments per customer, with O invoices left
open. Then each confirms T more orders (timed: "with history"). Prints the mean
confirmation time of both and their ratio; last line: one JSON object.

    python bench/credit_check.py --customers 4 --history 2500 --confirmations 250 --db sqlite
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from core_flow import setup_business
from o2c.adapters.db import queries
from o2c.bootstrap import SettableClock, bootstrap
from o2c.config import Settings
from o2c.domain import commands as c
from scratch import add_database_flags, machine_reference_ms, scratch_engine

D = Decimal


def run(customers: int, history: int, open_left: int, confirmations: int, db: str,
        pg_url: str) -> dict[str, Any]:
    with scratch_engine(db, pg_url, "o2c-credit") as (url, engine):
        clock = SettableClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
        bus = bootstrap(Settings(database_url=url), engine=engine, clock=clock).bus
        total_orders = customers * (history + 3 * confirmations)
        products, customer_ids = setup_business(bus, customers, 20, total_orders)

        def order(customer_id: int, i: int) -> int:
            return int(bus.handle(c.CreateOrder(customer_id, (
                c.OrderLineInput(products[i % len(products)], D(1 + i % 3)),))))

        def confirm_round(label: str) -> float:
            """Mean microseconds of one confirmation (credit check and reservation)."""
            drafts = [order(cu, i) for i in range(confirmations) for cu in customer_ids]
            started = time.perf_counter()
            for order_id in drafts:
                bus.handle(c.ConfirmOrder(order_id))
            elapsed = time.perf_counter() - started
            for order_id in drafts:  # untimed: each round starts with nothing confirmed
                bus.handle(c.CancelOrder(order_id, reason="bench round over"))
            print(f"{label:>14}: {elapsed / len(drafts) * 1e6:8.0f} µs per confirmation",
                  file=sys.stderr)
            return elapsed / len(drafts) * 1e6

        confirm_round("warm-up")  # statements compiled, caches filled
        fresh = confirm_round("fresh")
        started = time.perf_counter()
        for i in range(history):
            for customer_id in customer_ids:
                result = bus.handle(c.ConfirmOrder(order(customer_id, i)))
                shipment = result.shipment_ids[0]
                bus.handle(c.PickShipment(shipment))
                bus.handle(c.PackShipment(shipment, packages=1))
                bus.handle(c.ShipShipment(shipment, carrier="BRT", tracking_number=str(i)))
            if (i + 1) % 500 == 0:
                print(f"history: {i + 1}/{history} orders per customer", file=sys.stderr)
        invoices: list[dict[str, Any]] = []
        with engine.connect() as conn:
            while True:
                page = queries.list_invoices(conn, queries.Filters(extra={"open": True}),
                                             queries.PageRequest(limit=500,
                                                                 offset=len(invoices)))
                invoices.extend(page.items)
                if len(invoices) >= page.total:
                    break
        kept_open: dict[int, int] = {}
        for row in invoices:  # each customer keeps its first O invoices (as listed) unpaid
            kept_open[row["customer_id"]] = kept_open.get(row["customer_id"], 0) + 1
            if kept_open[row["customer_id"]] > open_left:
                bus.handle(c.RecordPayment(row["customer_id"], row["gross_amount"], "EUR",
                                           reference=row["number"], allocations=(
                                               c.AllocationInput(row["id"],
                                                                 row["gross_amount"]),)))
        setup_seconds = time.perf_counter() - started
        with_history = confirm_round("with history")
        return {"db": db, "customers": customers, "history_per_customer": history,
                "open_per_customer": open_left, "confirmations_per_round": confirmations,
                "confirm_us_fresh": round(fresh), "confirm_us_with_history": round(with_history),
                "ratio": round(with_history / fresh, 2),
                "history_setup_seconds": round(setup_seconds, 1),
                "machine_reference_ms": machine_reference_ms()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=4)
    parser.add_argument("--history", type=int, default=2500,
                        help="paid orders per customer before the second round")
    parser.add_argument("--open", type=int, default=5, dest="open_left",
                        help="invoices per customer left unpaid")
    parser.add_argument("--confirmations", type=int, default=250,
                        help="orders per customer confirmed in each timed round")
    add_database_flags(parser)
    args = parser.parse_args()
    print(json.dumps(run(args.customers, args.history, args.open_left, args.confirmations,
                         args.db, args.pg_url)))


if __name__ == "__main__":
    main()
