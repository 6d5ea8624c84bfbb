"""How fast the back-office's bank review pages answer with many lines waiting for review.

Setup (not timed): the demo business seeded into a fresh SQLite database (or --database-url,
already migrated and seeded), then a camt.053.001.08 statement of --lines incoming payments
uploaded and matched through the bus as the web page does (ImportBankFile, MatchBankLines
without applying): each line names an open invoice of the demo (its RF reference or number) or
only its payer, so the matcher proposes and the lines wait for review. Timed, through the
whole app (routing, sign-in session, queries, templates): the statements page, the first,
a middle (by key) and the last page of the lines waiting for review, and one line's page;
median and 95th percentile over --repeat requests. Last line: one JSON object.

    python bench/bank_review.py --lines 10000 --repeat 20
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
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select


def seed(url: str, customers: int, orders: int) -> None:
    env = {**os.environ, "O2C_DATABASE_URL": url}
    o2c = str(Path(sys.executable).with_name("o2c"))
    subprocess.run([o2c, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run([o2c, "demo", "seed", "--customers", str(customers), "--orders",
                    str(orders), "--quiet"], env=env, check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=10000,
                        help="statement lines to leave waiting for review")
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database-url", default="",
                        help="an already seeded database (default: seed a new SQLite one)")
    args = parser.parse_args()

    url = args.database_url
    started = time.perf_counter()
    if not url:
        folder = tempfile.mkdtemp(prefix="o2c-bank-review-")
        url = f"sqlite:///{folder}/o2c.db"
        seed(url, args.customers, args.orders)
    os.environ["O2C_DATABASE_URL"] = url

    from o2c.adapters.bank import camt
    from o2c.adapters.db import tables as t
    from o2c.bootstrap import bootstrap
    from o2c.domain import commands as c
    from o2c.domain.access import CreateUser
    from o2c.domain.bank import Statement, StatementLine
    from o2c.server import create_app

    app = bootstrap()
    as_of = app.clock().date()
    with app.engine.connect() as conn:
        iban, currency = conn.execute(select(t.companies.c.iban, t.companies.c.currency)
                                      .order_by(t.companies.c.id).limit(1)).one()
        items = conn.execute(
            select(t.open_items.c.number, t.open_items.c.residual,
                   t.invoices.c.remittance_reference, t.customers.c.name)
            .join(t.invoices, t.invoices.c.id == t.open_items.c.invoice_id)
            .join(t.customers, t.customers.c.id == t.open_items.c.customer_id)
            .where(t.open_items.c.kind == "invoice", t.OPEN_ITEM,
                   t.open_items.c.currency == currency)
            .order_by(t.open_items.c.invoice_id)).all()
        taken = set(conn.execute(select(t.users.c.username)).scalars())
    if not items:
        raise SystemExit("the database has no open invoice to pay")
    lines = []
    for i in range(args.lines):
        number, residual, reference, name = items[i % len(items)]
        amount = Decimal(residual).quantize(Decimal("0.01"))
        way = i % 3  # by RF reference, by invoice number in the text, by payer name only
        lines.append(StatementLine(
            "", as_of - timedelta(days=i % 60), None, amount, currency,
            bank_reference=f"BENCH-{i}", counterparty_name=name,
            structured_reference=reference if way == 0 else "",
            remittance=f"payment {number}" if way == 1 else "payment"))
    total = sum((x.amount for x in lines), Decimal(0))
    content = camt.write([Statement("BENCH-REVIEW", iban.replace(" ", ""), currency,
                                    Decimal(0), total, as_of - timedelta(days=60), as_of,
                                    lines=lines)])
    app.bus.handle(c.ImportBankFile(content, "bench-review.xml"), actor="bench")
    app.bus.handle(c.MatchBankLines(as_of), actor="bench")
    bl = t.bank_lines
    with app.engine.connect() as conn:
        waiting = conn.execute(select(func.count()).select_from(bl).where(
            bl.c.status == "proposed")).scalar_one()
        keys = conn.execute(select(bl.c.booking_date, bl.c.id).where(bl.c.status == "proposed")
                            .order_by(bl.c.booking_date, bl.c.id)).all()
    setup_seconds = round(time.perf_counter() - started, 1)
    middle, last = keys[len(keys) // 2], keys[max(len(keys) - 51, 0)]
    password = "bench password 1234"
    if "bench-clerk" not in taken:
        app.bus.handle(CreateUser("bench-clerk", password, "ar_clerk"))

    def key(k: tuple[date, int]) -> str:
        return f"{k[0].isoformat()}.{k[1]}"

    pages = ["/bank", "/bank/lines?status=proposed",
             f"/bank/lines?status=proposed&after={key(middle)}",
             f"/bank/lines?status=proposed&after={key(last)}", f"/bank/lines/{keys[0][1]}"]
    results: dict[str, dict[str, float]] = {}
    with TestClient(create_app(app)) as client:
        form = client.get("/login").text
        token = form.split('name="csrf_token" value="')[1].split('"')[0]
        signed = client.post("/login", data={"username": "bench-clerk", "password": password,
                                             "csrf_token": token})
        assert signed.status_code == 200, signed.text[:300]
        for path in pages:
            timings = []
            for _ in range(args.repeat):
                began = time.perf_counter()
                response = client.get(path)
                timings.append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200, (path, response.status_code)
            timings.sort()
            results[path] = {"p50_ms": round(statistics.median(timings), 1),
                             "p95_ms": round(timings[int(0.95 * (len(timings) - 1))], 1)}
            print(f"{path:60} p50 {results[path]['p50_ms']:7.1f} ms   "
                  f"p95 {results[path]['p95_ms']:7.1f} ms")
    review = results["/bank/lines?status=proposed"]
    slowest = max(results, key=lambda p: results[p]["p95_ms"])
    print(json.dumps({"db": url.split(":")[0], "lines_waiting": waiting,
                      "open_invoices": len(items), "repeat": args.repeat,
                      "setup_seconds": setup_seconds, "pages": results,
                      "p50_ms": review["p50_ms"], "p95_ms": review["p95_ms"],
                      "slowest_page": slowest, "slowest_p95_ms": results[slowest]["p95_ms"],
                      "all_under_500_ms": all(r["p95_ms"] < 500 for r in results.values())}))


if __name__ == "__main__":
    main()
