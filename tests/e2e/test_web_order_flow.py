"""An order through the back-office: the new-order form previews prices, VAT, the running
total and the customer's credit position before saving (the same pricing as the saved
order); confirming says the credit result and the shipment; the order page links to the
next step."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from o2c.adapters.db import tables as t
from o2c.bootstrap import App
from o2c.domain import commands as c
from o2c.server import create_app
from tests.e2e.conftest import row_counts
from tests.e2e.web_support import Shop, csrf_of, open_shop, sign_in, text_of
from tests.fixtures.world import line


@pytest.fixture
def shop(any_app: App) -> Shop:
    return open_shop(any_app)


@pytest.fixture
def browser(any_app: App, shop: Shop) -> Iterator[TestClient]:
    with TestClient(create_app(any_app), raise_server_exceptions=True) as client:
        yield client


def _amount(text: str) -> Decimal:
    return Decimal(re.sub(r"[^0-9.\-]", "", text))


def test_the_preview_prices_the_order_exactly_as_saving_it_does(
        browser: TestClient, any_app: App, shop: Shop) -> None:
    sign_in(browser, "sales")
    form = browser.get("/orders/new")
    data = {"csrf_token": csrf_of(form.text), "customer": shop.codes["rossi"],
            "sku_0": "CHAIR", "quantity_0": "3", "sku_1": "DESK", "quantity_1": "1",
            "line_count": "5"}
    before = row_counts(any_app.engine)
    preview = browser.post("/orders/new/preview", data=data)
    assert preview.status_code == 200
    assert row_counts(any_app.engine) == before  # a preview writes nothing
    total = _amount(text_of(preview.text, "preview-total"))
    exposure = _amount(text_of(preview.text, "preview-exposure"))
    assert _amount(text_of(preview.text, "preview-exposure-after")) == exposure + total
    created = browser.post("/orders/new", data=data, follow_redirects=False)
    assert created.status_code == 303
    order_id = int(created.headers["location"].rsplit("/", 1)[1])
    with any_app.engine.connect() as conn:
        stored = conn.execute(select(t.sales_orders.c.gross_amount, t.sales_orders.c.tax_amount)
                              .where(t.sales_orders.c.id == order_id)).one()
    assert total == stored.gross_amount.quantize(Decimal("0.01"))
    assert _amount(text_of(preview.text, "preview-tax")) == stored.tax_amount.quantize(
        Decimal("0.01")) > 0


def test_the_preview_names_an_unknown_product_and_shows_the_credit_position(
        browser: TestClient, shop: Shop) -> None:
    sign_in(browser, "sales")
    form = browser.get(f"/orders/new?customer={shop.codes['dupont']}")
    assert 'id="preview-credit"' in form.text  # the customer's position before any line
    preview = browser.post("/orders/new/preview", data={
        "csrf_token": csrf_of(form.text), "customer": shop.codes["dupont"],
        "sku_0": "NOPE", "quantity_0": "1"})
    assert "no product with SKU NOPE" in preview.text


def test_confirming_in_the_browser_says_the_credit_result_and_the_shipment(
        browser: TestClient, any_app: App, shop: Shop) -> None:
    order_id = any_app.bus.handle(c.CreateOrder(shop.world.customers["rossi"],
                                                (line(shop.world.products["CHAIR"], 1),)))
    sign_in(browser, "sales")
    page = browser.get(f"/orders/{order_id}")
    confirmed = browser.post(f"/orders/{order_id}/confirm",
                             data={"csrf_token": csrf_of(page.text)})
    text = html_lib.unescape(confirmed.text)
    assert "confirmed: credit check passed (exposure after this order" in text
    with any_app.engine.connect() as conn:
        shipment_id = conn.execute(select(t.shipments.c.id).where(
            t.shipments.c.order_id == order_id)).scalar_one()
    assert "Stock reserved on shipment SHP-" in text
    assert f'href="/warehouse/shipments/{shipment_id}"' in text  # the next step


def test_a_credit_hold_is_reported_with_its_reasons(browser: TestClient, any_app: App,
                                                   shop: Shop) -> None:
    customer_id = shop.world.customers["dupont"]
    any_app.bus.handle(c.UpdateCustomer(customer_id, {"credit_limit": Decimal("1")}))
    order_id = any_app.bus.handle(c.CreateOrder(customer_id,
                                                (line(shop.world.products["DESK"], 1),)))
    sign_in(browser, "admin")
    page = browser.get(f"/orders/{order_id}")
    held = browser.post(f"/orders/{order_id}/confirm", data={"csrf_token": csrf_of(page.text)})
    text = html_lib.unescape(held.text)
    assert re.search(r"is on credit hold: .*limit", text)
    assert f'href="/credit-holds#order-{order_id}"' in text


def test_an_invoiced_order_links_to_its_invoice_and_to_registering_a_payment(
        browser: TestClient, shop: Shop) -> None:
    sign_in(browser, "admin")
    page = browser.get(f"/orders/{shop.orders['rossi']}").text
    steps = page[page.index('id="next-steps"'):]
    steps = steps[:steps.index("</section>")]
    assert f'href="/invoices/{shop.invoices["rossi"]}"' in steps
    assert f'href="/payments/new?customer={shop.codes["rossi"]}"' in steps
