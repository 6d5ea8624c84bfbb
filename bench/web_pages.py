"""How fast the back-office and portal pages answer at demo size.

Seeds the demo business (customers, orders over a year) into a fresh SQLite database unless
--database-url points at one already seeded, signs in as an administrator and as a portal
customer, and times every main page (median and 95th percentile over --repeat requests,
through the whole app: routing, authentication, queries, templates). Last line: one JSON
object.

    python bench/web_pages.py --customers 200 --orders 5000 --repeat 20
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select


def seed(url: str, customers: int, orders: int) -> float:
    env = {**os.environ, "O2C_DATABASE_URL": url}
    o2c = str(Path(sys.executable).with_name("o2c"))
    started = time.perf_counter()
    subprocess.run([o2c, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run([o2c, "demo", "seed", "--customers", str(customers), "--orders",
                    str(orders), "--quiet"], env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--orders", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database-url", default="",
                        help="an already seeded database (default: seed a new SQLite one)")
    args = parser.parse_args()

    url = args.database_url
    seed_seconds = None
    if not url:
        folder = tempfile.mkdtemp(prefix="o2c-web-bench-")
        url = f"sqlite:///{folder}/o2c.db"
        seed_seconds = round(seed(url, args.customers, args.orders), 1)
    os.environ["O2C_DATABASE_URL"] = url

    from o2c.adapters.db import tables as t
    from o2c.bootstrap import bootstrap
    from o2c.domain.access import CreateUser
    from o2c.server import create_app

    app = bootstrap()
    with app.engine.connect() as conn:
        order_count = conn.execute(select(func.count()).select_from(t.sales_orders)).scalar_one()
        invoice_count = conn.execute(select(func.count()).select_from(t.invoices)).scalar_one()
        order_id = conn.execute(select(func.max(t.sales_orders.c.id))).scalar_one()
        invoice_id, customer_id = conn.execute(
            select(t.invoices.c.id, t.invoices.c.customer_id)
            .order_by(t.invoices.c.id.desc()).limit(1)).one()
        code = conn.execute(select(t.customers.c.code)
                            .where(t.customers.c.id == customer_id)).scalar_one()
        product_id, sku = conn.execute(select(t.products.c.id, t.products.c.sku)
                                       .order_by(t.products.c.id).limit(1)).one()
        warehouse_id = conn.execute(select(func.min(t.warehouses.c.id))).scalar_one()
        taken = set(conn.execute(select(t.users.c.username)).scalars())
    password = "bench password 1234"
    for name, role, customer in (("bench-admin", "admin", None),
                                 ("bench-portal", "customer", customer_id)):
        if name not in taken:
            app.bus.handle(CreateUser(name, password, role, customer))

    pages = {
        "back-office": ["/", "/orders", "/orders?state=completed&q=a", f"/orders/{order_id}",
                        "/credit-holds", "/warehouse", "/warehouse?view=stock", "/invoices",
                        "/invoices?payment_status=overdue", "/invoices?aging=1_30",
                        f"/invoices/{invoice_id}", "/payments",
                        f"/payments/new?customer={code}", "/customers",
                        f"/customers/{customer_id}", f"/customers/{customer_id}?view=statement",
                        # issue 18 part C: ledger views, master data, sorted lists, new order
                        "/ledger/trial-balance", "/ledger/journal", "/ledger/journal?account=1200",
                        "/reports/aging", f"/customers/{customer_id}/ledger",
                        "/customers/new", f"/customers/{customer_id}/edit", "/products",
                        "/products/new", f"/products/{product_id}/edit", "/warehouses",
                        "/warehouses/new", f"/warehouses/{warehouse_id}/edit",
                        "/orders?sort=-total", "/invoices?sort=open", "/payments?sort=amount",
                        "/customers?sort=-credit_limit", f"/orders/new?customer={code}"],
        "portal": ["/portal", "/portal/orders", "/portal/invoices", "/portal/payments",
                   "/portal/statement", f"/portal/invoices/{invoice_id}"],
    }
    results: dict[str, dict[str, float]] = {}
    server = create_app(app)
    for who, user in (("back-office", "bench-admin"), ("portal", "bench-portal")):
        with TestClient(server) as client:
            form = client.get("/login").text
            token = form.split('name="csrf_token" value="')[1].split('"')[0]
            signed = client.post("/login", data={"username": user, "password": password,
                                                 "csrf_token": token})
            assert signed.status_code == 200, signed.text[:300]
            for path in pages[who]:
                timings = []
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    response = client.get(path)
                    timings.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, (path, response.status_code)
                timings.sort()
                results[path] = {"median_ms": round(statistics.median(timings), 1),
                                 "p95_ms": round(timings[int(0.95 * (len(timings) - 1))], 1)}
                print(f"{path:45} median {results[path]['median_ms']:7.1f} ms   "
                      f"p95 {results[path]['p95_ms']:7.1f} ms")
        if who == "back-office":  # the new-order form's live preview (htmx POST)
            timings = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                response = client.post("/orders/new/preview", data={
                    "csrf_token": token, "customer": code, "sku_0": sku, "quantity_0": "2"},
                    headers={"X-CSRF-Token": token})
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, ("preview", response.status_code)
            timings.sort()
            results["POST /orders/new/preview"] = {
                "median_ms": round(statistics.median(timings), 1),
                "p95_ms": round(timings[int(0.95 * (len(timings) - 1))], 1)}
            print(f"{'POST /orders/new/preview':45} median "
                  f"{results['POST /orders/new/preview']['median_ms']:7.1f} ms   p95 "
                  f"{results['POST /orders/new/preview']['p95_ms']:7.1f} ms")
    # Downloads are files, not pages: timed apart, not held to the page budget.
    downloads: dict[str, dict[str, float]] = {}
    with TestClient(server) as client:
        form = client.get("/login").text
        token = form.split('name="csrf_token" value="')[1].split('"')[0]
        client.post("/login", data={"username": "bench-admin", "password": password,
                                    "csrf_token": token})
        for path in ("/reports/aging?format=xlsx", "/ledger/trial-balance?format=xlsx",
                     f"/customers/{customer_id}/ledger?format=csv", "/invoices?format=csv",
                     "/orders?format=csv"):
            timings = []
            for _ in range(max(args.repeat // 4, 3)):
                started = time.perf_counter()
                response = client.get(path)
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (path, response.status_code)
            timings.sort()
            downloads[path] = {"median_ms": round(statistics.median(timings), 1),
                               "p95_ms": round(timings[int(0.95 * (len(timings) - 1))], 1),
                               "bytes": len(response.content)}
            print(f"download {path:36} median {downloads[path]['median_ms']:7.1f} ms   "
                  f"({downloads[path]['bytes']} bytes)")
    slowest = max(results, key=lambda p: results[p]["p95_ms"])
    print(json.dumps({"db": url.split(":")[0], "orders": order_count,
                      "invoices": invoice_count, "repeat": args.repeat,
                      "seed_seconds": seed_seconds, "pages": results, "downloads": downloads,
                      "slowest_page": slowest,
                      "slowest_p95_ms": results[slowest]["p95_ms"],
                      "all_under_300_ms": all(r["p95_ms"] < 300 for r in results.values())}))


if __name__ == "__main__":
    main()
