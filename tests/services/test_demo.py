"""The demo simulator: a believable, reproducible business whose books verify."""

from __future__ import annotations

import hashlib
import shutil
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from o2c.adapters.db import queries
from o2c.adapters.db import tables as t
from o2c.adapters.db.engine import make_engine
from o2c.adapters.identifiers import normalise_tax_code, normalise_vat_id
from o2c.demo import SeedOptions, SeedReport, seed
from o2c.domain.ledger import verify
from o2c.domain.orders import OrderState
from o2c.domain.receivables import PaymentStatus

SMALL = SeedOptions(customers=20, orders=300, seed=7, days=120)


@dataclass
class Seeded:
    engine: Engine
    report: SeedReport


def _seed(template: Path, folder: Path, options: SeedOptions) -> Seeded:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "o2c.db"
    shutil.copyfile(template, target)
    engine = make_engine(f"sqlite:///{target}")
    return Seeded(engine, seed(engine, options))


@pytest.fixture(scope="module")
def runs(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
         ) -> dict[str, Seeded]:
    folder = tmp_path_factory.mktemp("demo")
    seeded = {"first": _seed(sqlite_template, folder / "first", SMALL),
              "again": _seed(sqlite_template, folder / "again", SMALL),
              "other": _seed(sqlite_template, folder / "other",
                             SeedOptions(customers=5, orders=30, seed=8, days=30))}
    yield seeded  # type: ignore[misc]
    for run in seeded.values():
        run.engine.dispose()


@pytest.fixture(scope="module")
def demo(runs: dict[str, Seeded]) -> Engine:
    return runs["first"].engine


def digest(engine: Engine) -> dict[str, str]:
    """A hash of every row of every table, in primary-key order, per table."""
    result = {}
    with engine.connect() as conn:
        for table in t.metadata.sorted_tables:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            result[table.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return result


def test_the_same_seed_writes_the_same_rows_ids_numbers_and_amounts(
        runs: dict[str, Seeded]) -> None:
    first, again = digest(runs["first"].engine), digest(runs["again"].engine)

    assert first == again
    assert runs["first"].report.counts == runs["again"].report.counts


def test_another_seed_writes_another_business(runs: dict[str, Seeded]) -> None:
    first, other = digest(runs["first"].engine), digest(runs["other"].engine)

    assert first["sales_orders"] != other["sales_orders"]
    assert first["customers"] != other["customers"]


def test_the_simulated_books_verify(demo: Engine, runs: dict[str, Seeded]) -> None:
    with demo.connect() as conn:
        checks = [c for f in queries.ledger_figures(conn).values() for c in verify(f)]

    assert checks and all(check.ok for check in checks), checks
    assert runs["first"].report.ledger_ok


def test_the_year_ends_with_orders_in_every_state(runs: dict[str, Seeded]) -> None:
    report = runs["first"].report

    assert report.counts["orders"] == SMALL.orders
    assert {state for state, n in report.orders_by_state.items() if n} == {
        s.value for s in OrderState}
    assert sum(report.orders_by_state.values()) == SMALL.orders


def test_invoices_end_in_every_payment_status(runs: dict[str, Seeded], demo: Engine) -> None:
    report = runs["first"].report

    assert {status for status, n in report.invoices_by_payment_status.items() if n} == {
        s.value for s in PaymentStatus}
    with demo.connect() as conn:
        overdue = queries.list_invoices(conn, queries.Filters(
            extra={"kind": "invoice", "payment_status": "overdue"}),
            queries.PageRequest(limit=500), SMALL.end_date).items
    assert overdue and all(i["days_overdue"] > 0 for i in overdue)


def test_customers_bill_in_their_countrys_currency_with_valid_tax_ids(demo: Engine) -> None:
    with demo.connect() as conn:
        customers = queries.list_customers(conn, page=queries.PageRequest(limit=500)).items

    currency = {"IT": "EUR", "FR": "EUR", "ES": "EUR", "DE": "EUR", "MX": "MXN", "US": "USD"}
    assert {c["country"] for c in customers} <= set(currency)
    for customer in customers:
        assert customer["currency"] == currency[customer["country"]]
        if customer["vat_id"]:
            assert normalise_vat_id(customer["country"], customer["vat_id"]) \
                == customer["vat_id"]
        if customer["tax_code"]:  # EIN, RFC, codice fiscale: checked, never a VAT id
            assert normalise_tax_code(customer["country"], customer["tax_code"]) \
                == customer["tax_code"]
        if customer["country"] in ("US", "MX"):
            assert customer["vat_id"] == "" and customer["tax_code"]
        if customer["country"] == "IT":  # a partita IVA or, for a consumer, a codice fiscale
            assert customer["vat_id"] or customer["tax_code"]
    businesses = [c for c in customers if c["vat_id"] or c["country"] in ("US", "MX")]
    assert len(businesses) >= len(customers) * 3 // 4


def test_payments_come_late_partial_and_over_the_amount(demo: Engine) -> None:
    with demo.connect() as conn:
        payments = conn.execute(select(t.payments)).mappings().all()
        allocations = conn.execute(select(t.allocations)).mappings().all()
        open_items = conn.execute(select(t.open_items)).mappings().all()

    assert any(p["unapplied"] > 0 for p in payments), "over-payments stay as customer credit"
    assert {p["method"] for p in payments} >= {"bank_transfer"}
    assert any(0 < i["paid"] < i["amount"] for i in open_items), "partial payments"
    paid_on = {a["invoice_id"]: a["allocated_on"] for a in allocations
               if a["payment_id"] is not None}
    late = [i for i in open_items if i["invoice_id"] in paid_on and i["residual"] == 0
            and paid_on[i["invoice_id"]] > i["final_due_date"]]
    assert late, "some invoices are paid after their due date"


def test_goods_ship_in_parts_come_back_and_are_credited(demo: Engine) -> None:
    with demo.connect() as conn:
        events = conn.execute(select(t.event_log.c.object_type, t.event_log.c.event,
                                     t.event_log.c.data)).all()
        notes = conn.execute(select(t.invoices).where(t.invoices.c.kind == "credit_note")
                             ).mappings().all()

    kinds = Counter((e.object_type, e.event) for e in events)
    assert any(e.event == "shipped" and e.object_type == "shipment" and e.data["left_behind"]
               for e in events), "a partial shipment"
    assert kinds[("shipment", "delivered")] > 0
    assert kinds[("order", "credit_released")] > 0 and kinds[("order", "credit_rejected")] > 0
    assert notes and all(n["reason"] and n["corrects_invoice_id"] for n in notes)
    assert kinds[("stock", "received")] > 41  # opening stock and purchases during the period


def test_foreign_currency_sales_book_exchange_differences(demo: Engine) -> None:
    with demo.connect() as conn:
        rates = conn.execute(select(t.exchange_rates.c.currency, t.exchange_rates.c.rate)
                             ).all()
        fx_lines = conn.execute(select(t.journal_lines).where(
            t.journal_lines.c.account == "7700")).all()

    usd = sorted(r.rate for r in rates if r.currency == "USD")
    assert len(usd) > 50 and usd[0] < usd[-1] < usd[0] * Decimal("1.25")
    assert fx_lines, "payments at another day's rate realise exchange differences"
