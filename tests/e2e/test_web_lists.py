"""The back-office lists sort by column (whitelisted keys), show totals over every matching
row per currency, and download as CSV, checked against the database."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from o2c.adapters.db import queries
from o2c.adapters.db import tables as t
from o2c.adapters.db.queries import PageRequest
from o2c.bootstrap import App
from o2c.domain import commands as c
from o2c.domain.errors import InvalidInput
from o2c.server import create_app
from tests.e2e.web_support import Shop, open_shop, sign_in
from tests.fixtures.world import line


@pytest.fixture
def shop(any_app: App) -> Shop:
    shop = open_shop(any_app)
    for key, quantity in (("rossi", 1), ("dupont", 5), ("rossi", 3)):
        any_app.bus.handle(c.CreateOrder(shop.world.customers[key],
                                         (line(shop.world.products["DESK"], quantity),)))
    return shop


@pytest.fixture
def browser(any_app: App, shop: Shop) -> Iterator[TestClient]:
    with TestClient(create_app(any_app), raise_server_exceptions=True) as client:
        yield client


def _csv(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8").lstrip("\ufeff"))))


def test_orders_sort_by_total_both_ways(browser: TestClient) -> None:
    sign_in(browser, "sales")
    ascending = _csv(browser.get("/orders?sort=total&format=csv").content)
    totals = [Decimal(r["Total"]) for r in ascending]
    assert len(totals) == 5 and totals == sorted(totals)
    descending = _csv(browser.get("/orders?sort=-total&format=csv").content)
    assert [Decimal(r["Total"]) for r in descending] == sorted(totals, reverse=True)
    page = browser.get("/orders?sort=total")
    assert 'aria-sort="ascending"' in page.text and 'href="/orders?sort=-total"' in page.text


def test_an_unknown_sort_key_is_refused_by_the_query_and_ignored_by_the_page(
        browser: TestClient, any_app: App) -> None:
    with any_app.engine.connect() as conn, pytest.raises(InvalidInput):
        queries.list_orders(conn, page=PageRequest(sort="customer_name; drop table x"))
    sign_in(browser, "sales")
    assert browser.get("/orders?sort=id;drop").status_code == 200


def test_the_orders_total_row_sums_every_matching_order_not_just_the_page(
        browser: TestClient, any_app: App) -> None:
    sign_in(browser, "sales")
    so = t.sales_orders
    with any_app.engine.connect() as conn:
        expected = conn.execute(select(func.sum(so.c.gross_amount))).scalar_one()
    page = browser.get("/orders?offset=0&sort=date").text
    cell = re.search(r'id="total-EUR">([^<]+)<', page)
    assert cell is not None
    shown = Decimal(re.sub(r"[^0-9.]", "", cell.group(1)))
    assert shown == expected.quantize(Decimal("0.01"))
    assert "rows: 5" in page


def test_invoice_totals_keep_credit_notes_apart_and_match_the_open_items(
        browser: TestClient, any_app: App, shop: Shop) -> None:
    any_app.bus.handle(c.CreateCreditNote(shop.invoices["rossi"], "damaged"))
    sign_in(browser, "ar_clerk")
    page = browser.get("/invoices").text
    oi = t.open_items
    with any_app.engine.connect() as conn:
        residual = conn.execute(select(func.sum(oi.c.residual)).where(
            oi.c.kind == "invoice")).scalar_one()
    cell = re.search(r'id="open-invoice-EUR">([^<]+)<', page)
    assert cell is not None
    assert Decimal(re.sub(r"[^0-9.]", "", cell.group(1))) == residual.quantize(Decimal("0.01"))
    assert 'id="total-credit_note-EUR"' in page


def test_the_invoice_download_has_every_filtered_row(browser: TestClient,
                                                     any_app: App) -> None:
    sign_in(browser, "ar_clerk")
    rows = _csv(browser.get("/invoices?kind=invoice&format=csv&sort=number").content)
    with any_app.engine.connect() as conn:
        numbers = sorted(conn.execute(select(t.invoices.c.number).where(
            t.invoices.c.kind == "invoice")).scalars())
    assert [r["Number"] for r in rows] == numbers


def test_customers_and_payments_lists_sort_and_download(browser: TestClient,
                                                        any_app: App, shop: Shop) -> None:
    any_app.bus.handle(c.RecordPayment(shop.world.customers["rossi"], Decimal("10"), "EUR"))
    any_app.bus.handle(c.RecordPayment(shop.world.customers["dupont"], Decimal("99.5"), "EUR"))
    sign_in(browser, "admin")
    names = [r["Name"] for r in _csv(browser.get("/customers?sort=-name&format=csv").content)]
    assert names == sorted(names, reverse=True) and names
    amounts = [Decimal(r["Amount"]) for r in
               _csv(browser.get("/payments?sort=amount&format=csv").content)]
    assert amounts == [Decimal("10.00"), Decimal("99.50")]
    page = browser.get("/payments?sort=-amount")
    assert page.status_code == 200 and 'id="unapplied-EUR"' in page.text
