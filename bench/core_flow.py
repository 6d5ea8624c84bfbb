"""Order-to-cash throughput through the service layer.

N orders of L lines go through capture -> confirm (credit check + reservation) -> ship
(which posts the invoice: number, VAT, journal entry, open item, outbox) -> payment with
allocation to the invoice. Every step is one command, one transaction, as an API call would
be. The warehouse ships straight from reservation (delivery route ship_only); with
--delivery-route pick_ship or pick_pack_ship the shipments are also picked (and packed), one
command per step. Prints orders/s per stage and end to end, peak memory, and as its last line
one JSON object.

    python bench/core_flow.py --orders 10000 --db sqlite
    python bench/core_flow.py --orders 10000 --db sqlite --delivery-route pick_pack_ship
    python bench/core_flow.py --orders 1000 --db postgresql [--pg-url URL]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, date, datetime
from decimal import Decimal

from o2c.adapters.db import queries
from o2c.bootstrap import SettableClock, bootstrap
from o2c.config import Settings
from o2c.domain import commands as c
from o2c.domain.ledger import verify
from scratch import add_database_flags, machine_reference_ms, rss_mib, scratch_engine

D = Decimal



def setup_business(bus: object, customers: int, products: int, orders: int,
                   delivery_route: str = "pick_pack_ship") -> tuple[list[int], list[int]]:
    handle = bus.handle  # type: ignore[attr-defined]
    handle(c.CreatePaymentTerms("NET30", "Net 30 days", ((D(100), 30, False),)))
    company = handle(c.CreateCompany("BENCH", "Bench S.r.l.", "IT", "EUR",
                                     vat_id="IT00743110157",
                                     iban="IT60X0542811101000000123456"))
    handle(c.SetVatRate("IT", "standard", D(22), date(2020, 1, 1)))
    handle(c.SetVatRate("IT", "reduced", D(10), date(2020, 1, 1)))
    warehouse = handle(c.CreateWarehouse(company, "MAIN", "Main warehouse",
                                         delivery_route=delivery_route))
    product_ids = []
    for i in range(products):
        product = handle(c.CreateProduct(company, f"SKU-{i:04d}", f"Product {i}",
                                         (D("9.99") + D(i) / D(7)).quantize(D("0.0001")),
                                         vat_category="reduced" if i % 5 == 0 else "standard"))
        handle(c.ReceiveStock(warehouse, product, D(orders * 3 + 100), "opening stock"))
        product_ids.append(product)
    customer_ids = [handle(c.CreateCustomer(company, f"Customer {i:04d}", "IT",
                                            tax_code="RSSMRA80A01H501U",
                                            credit_limit=D(10_000_000)))
                    for i in range(customers)]
    return product_ids, customer_ids


def run(n: int, db: str, lines: int, pg_url: str,
        delivery_route: str = "ship_only") -> dict[str, object]:
    with scratch_engine(db, pg_url, "o2c-bench") as (url, engine):
        clock = SettableClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
        bus = bootstrap(Settings(database_url=url), engine=engine, clock=clock).bus
        products, customers = setup_business(bus, 200, 50, n, delivery_route)
        rss_setup = rss_mib()
        stages: dict[str, float] = {}

        def stage(name: str) -> float:
            stages[name] = stages.get(name, 0.0)
            return time.perf_counter()

        # Orders are kept as ids only, so memory tracks the database, not the loop.
        order_ids: list[int] = []
        started = stage("capture")
        for i in range(n):
            order_lines = tuple(
                c.OrderLineInput(products[(i * lines + k) % len(products)], D(1 + (i + k) % 4))
                for k in range(lines))
            order_ids.append(bus.handle(c.CreateOrder(customers[i % len(customers)],
                                                      order_lines, customer_reference=f"PO{i}")))
        stages["capture"] = time.perf_counter() - started

        shipment_ids: list[int] = []
        started = stage("confirm")
        for order_id in order_ids:
            result = bus.handle(c.ConfirmOrder(order_id))
            shipment_ids.append(result.shipment_ids[0])
        stages["confirm"] = time.perf_counter() - started

        if delivery_route != "ship_only":
            started = stage("pick_pack")
            for shipment_id in shipment_ids:
                bus.handle(c.PickShipment(shipment_id))
                if delivery_route == "pick_pack_ship":
                    bus.handle(c.PackShipment(shipment_id, packages=1))
            stages["pick_pack"] = time.perf_counter() - started

        # Where nobody packs, the packages are counted as the goods leave.
        packages = None if delivery_route == "pick_pack_ship" else 1
        started = stage("ship_and_invoice")
        for shipment_id in shipment_ids:
            bus.handle(c.ShipShipment(shipment_id, carrier="BRT", tracking_number=str(shipment_id),
                                      packages=packages))
        stages["ship_and_invoice"] = time.perf_counter() - started

        # The invoice of each order, to pay it with a matching bank transfer.
        invoices: list[tuple[int, int, Decimal]] = []
        with engine.connect() as conn:
            page = 0
            while True:
                batch = queries.list_invoices(conn, queries.Filters(),
                                              queries.PageRequest(limit=500, offset=page * 500))
                invoices.extend((row["id"], row["customer_id"], row["gross_amount"])
                                for row in batch.items)
                page += 1
                if page * 500 >= batch.total:
                    break
        started = stage("payment_allocation")
        for invoice_id, customer_id, gross in invoices:
            bus.handle(c.RecordPayment(customer_id, gross, "EUR", reference=f"inv {invoice_id}",
                                       allocations=(c.AllocationInput(invoice_id, gross),)))
        stages["payment_allocation"] = time.perf_counter() - started

        with engine.connect() as conn:
            checks = [check for figures in queries.ledger_figures(conn).values()
                      for check in verify(figures)]
            open_items = queries.list_invoices(conn, queries.Filters(extra={"open": True}),
                                               queries.PageRequest(limit=1)).total
        total = sum(stages.values())
        return {
            "n": n, "db": db, "lines_per_order": lines, "delivery_route": delivery_route,
            "end_to_end_orders_per_s": round(n / total, 1),
            "end_to_end_seconds": round(total, 2),
            "stages": {name: {"seconds": round(seconds, 3),
                              "orders_per_s": round(n / seconds, 1)}
                       for name, seconds in stages.items()},
            "invoices": len(invoices), "open_invoices_left": open_items,
            "ledger_verified": all(check.ok for check in checks),
            "rss_after_setup_mib": round(rss_setup, 1), "peak_rss_mib": round(rss_mib(), 1),
            "python": sys.version.split()[0],
            # How fast this machine is, to compare figures taken on different machines.
            "machine_reference_ms": machine_reference_ms(),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--lines", type=int, default=3)
    parser.add_argument("--delivery-route", default="ship_only",
                        choices=["ship_only", "pick_ship", "pick_pack_ship"],
                        help="the warehouse's steps: ship_only is the flow the bar names "
                             "(confirm -> ship -> invoice -> payment)")
    add_database_flags(parser)
    args = parser.parse_args()
    result = run(args.orders, args.db, args.lines, args.pg_url, args.delivery_route)
    for name, figures in result["stages"].items():  # type: ignore[attr-defined]
        print(f"{name:>20}: {figures['orders_per_s']:>8} orders/s  "
              f"({figures['seconds']} s)", file=sys.stderr)
    print(f"{'end to end':>20}: {result['end_to_end_orders_per_s']:>8} orders/s", file=sys.stderr)
    print(f"{'peak memory':>20}: {result['peak_rss_mib']} MiB", file=sys.stderr)
    print(f"{'machine reference':>20}: {result['machine_reference_ms']} ms "
          "(bench/scratch.py: lower is a faster machine)", file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
