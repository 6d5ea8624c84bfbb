"""Master data in the back-office: customers (with credit limits under dual control and
document settings), products and prices, warehouses and routes, written through the forms
and checked in the database."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from o2c.adapters.db import tables as t
from o2c.bootstrap import App
from o2c.server import create_app
from tests.e2e.web_support import Shop, csrf_of, open_shop, sign_in


@pytest.fixture
def shop(any_app: App) -> Shop:
    return open_shop(any_app)


@pytest.fixture
def browser(any_app: App, shop: Shop) -> Iterator[TestClient]:
    with TestClient(create_app(any_app), raise_server_exceptions=True) as client:
        yield client


def _row(app: App, table: Any, **where: Any) -> Any:
    with app.engine.connect() as conn:
        query = select(table)
        for key, value in where.items():
            query = query.where(table.c[key] == value)
        return conn.execute(query).mappings().one()


def _edit_form(browser: TestClient, url: str) -> dict[str, str]:
    """The form's current values as the browser would post them (inputs and selects)."""
    import re

    html = browser.get(url).text
    form = html[html.index(f'<form method="post" action="{url}"'):]
    form = form[:form.index("</form>")]
    values = {}
    for match in re.finditer(r'<input[^>]*name="([^"]+)"[^>]*>', form):
        tag = match.group(0)
        value = re.search(r'value="([^"]*)"', tag)
        if 'type="checkbox"' in tag and "checked" not in tag:
            continue
        values[match.group(1)] = value.group(1) if value else ""
    for match in re.finditer(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', match.group(2))
        values[match.group(1)] = chosen.group(1) if chosen else ""
    values["csrf_token"] = csrf_of(html)
    return values


@pytest.mark.parametrize("path", ["/customers/new", "/products", "/products/new",
                                  "/warehouses", "/warehouses/new"])
def test_master_data_pages_render_for_an_administrator(browser: TestClient, path: str) -> None:
    sign_in(browser, "admin")
    response = browser.get(path)
    assert response.status_code == 200, response.text


def test_a_customer_created_in_the_browser_is_stored_with_its_terms_and_address(
        browser: TestClient, any_app: App) -> None:
    sign_in(browser, "sales")
    form = browser.get("/customers/new")
    response = browser.post("/customers/new", data={
        "csrf_token": csrf_of(form.text), "name": "Bottega Verdi", "country": "it",
        "language": "it", "email": "conti@verdi.example", "payment_terms_code": "NET30",
        "invoice_policy": "on_shipment", "billing_line1": "Via Roma 1",
        "billing_city": "Modena", "billing_postal_code": "41121", "billing_region": "MO",
        "tax_code": "RSSMRA85T10A562S"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    row = _row(any_app, t.customers, name="Bottega Verdi")
    assert row["country"] == "IT" and row["payment_terms_code"] == "NET30"
    assert row["billing_address"]["city"] == "Modena"
    assert response.headers["location"] == f"/customers/{row['id']}"


def test_a_credit_manager_lowers_a_limit_directly(browser: TestClient, any_app: App,
                                                   shop: Shop) -> None:
    customer_id = shop.world.customers["rossi"]
    sign_in(browser, "credit_manager")
    form = _edit_form(browser, f"/customers/{customer_id}/edit")
    form["credit_limit"] = "1234.50"
    response = browser.post(f"/customers/{customer_id}/edit", data=form,
                            follow_redirects=False)
    assert response.status_code == 303, response.text
    assert _row(any_app, t.customers, id=customer_id)["credit_limit"] == Decimal("1234.50")


def test_a_raise_above_the_threshold_asks_for_approval_and_changes_nothing_until_approved(
        browser: TestClient, any_app: App, shop: Shop) -> None:
    customer_id = shop.world.customers["rossi"]
    before = _row(any_app, t.customers, id=customer_id)["credit_limit"]
    sign_in(browser, "credit_manager")
    page = browser.get(f"/customers/{customer_id}/edit")
    assert 'id="limit-rule"' in page.text and "dual control" in page.text
    form = _edit_form(browser, f"/customers/{customer_id}/edit")
    form["credit_limit"] = str((before or 0) + 50000)
    refused = browser.post(f"/customers/{customer_id}/edit", data=form)
    assert refused.status_code == 422
    assert 'id="approval-needed"' in refused.text
    assert _row(any_app, t.customers, id=customer_id)["credit_limit"] == before
    asked = browser.post(f"/customers/{customer_id}/credit-limit-request", data={
        "csrf_token": csrf_of(refused.text), "credit_limit": form["credit_limit"],
        "reason": "new framework contract"}, follow_redirects=False)
    assert asked.status_code == 303
    request = _row(any_app, t.approval_requests, object_id=customer_id, kind="credit_limit")
    assert request["state"] == "pending" and request["requested_by"] == "credit_manager"
    assert Decimal(request["payload"]["credit_limit"]) == Decimal(form["credit_limit"])
    assert _row(any_app, t.customers, id=customer_id)["credit_limit"] == before


def test_a_sales_clerk_edits_the_address_but_not_the_credit_limit(
        browser: TestClient, any_app: App, shop: Shop) -> None:
    customer_id = shop.world.customers["dupont"]
    sign_in(browser, "sales")
    form = _edit_form(browser, f"/customers/{customer_id}/edit")
    form["billing_city"] = "Lyon"
    saved = browser.post(f"/customers/{customer_id}/edit", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    assert _row(any_app, t.customers, id=customer_id)["billing_address"]["city"] == "Lyon"
    form = _edit_form(browser, f"/customers/{customer_id}/edit")
    before = _row(any_app, t.customers, id=customer_id)["credit_limit"]
    form["credit_limit"] = "1"
    refused = browser.post(f"/customers/{customer_id}/edit", data=form)
    assert refused.status_code == 422 and 'id="e-credit_limit"' in refused.text
    assert _row(any_app, t.customers, id=customer_id)["credit_limit"] == before


def test_document_settings_are_saved_from_the_customer_form(
        browser: TestClient, any_app: App, shop: Shop) -> None:
    customer_id = shop.world.customers["rossi"]
    sign_in(browser, "admin")
    page = browser.get(f"/customers/{customer_id}/edit")
    response = browser.post(f"/customers/{customer_id}/document-settings", data={
        "csrf_token": csrf_of(page.text), "format": "ubl", "peppol_id": "0088:1234567890128",
        "delivery_email": "ap@rossi.example"}, follow_redirects=False)
    assert response.status_code == 303
    row = _row(any_app, t.customer_document_settings, customer_id=customer_id)
    assert row["format"] == "ubl" and row["delivery_email"] == "ap@rossi.example"


def test_a_product_is_created_and_repriced_in_the_browser(browser: TestClient,
                                                          any_app: App) -> None:
    sign_in(browser, "sales")
    page = browser.get("/products/new")
    created = browser.post("/products/new", data={
        "csrf_token": csrf_of(page.text), "sku": "LAMP-01", "name": "Desk lamp",
        "unit_price": "39.90", "unit": "C62", "vat_category": "standard", "kind": "goods",
        "prices": "USD 44.50"}, follow_redirects=False)
    assert created.status_code == 303, created.text
    row = _row(any_app, t.products, sku="LAMP-01")
    assert row["unit_price"] == Decimal("39.90")
    assert Decimal(str(row["prices"]["USD"])) == Decimal("44.50")
    form = _edit_form(browser, f"/products/{row['id']}/edit")
    form["unit_price"] = "41.00"
    saved = browser.post(f"/products/{row['id']}/edit", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    assert _row(any_app, t.products, sku="LAMP-01")["unit_price"] == Decimal("41.00")


def test_a_wrong_price_is_shown_next_to_its_field_and_nothing_is_written(
        browser: TestClient, any_app: App) -> None:
    sign_in(browser, "admin")
    page = browser.get("/products/new")
    response = browser.post("/products/new", data={
        "csrf_token": csrf_of(page.text), "sku": "BAD-1", "name": "Bad", "unit_price": "abc",
        "unit": "C62", "vat_category": "standard", "kind": "goods"})
    assert response.status_code == 422 and 'id="e-unit_price"' in response.text
    with any_app.engine.connect() as conn:
        assert conn.execute(select(t.products).where(t.products.c.sku == "BAD-1")).first() \
            is None


def test_a_warehouse_is_created_and_its_route_changed(browser: TestClient,
                                                      any_app: App) -> None:
    sign_in(browser, "warehouse")
    page = browser.get("/warehouses/new")
    created = browser.post("/warehouses/new", data={
        "csrf_token": csrf_of(page.text), "code": "WH-NORTH", "name": "North depot",
        "delivery_route": "pick_pack_ship", "address_city": "Milano"}, follow_redirects=False)
    assert created.status_code == 303, created.text
    row = _row(any_app, t.warehouses, code="WH-NORTH")
    form = _edit_form(browser, f"/warehouses/{row['id']}/edit")
    form["delivery_route"] = "ship_only"
    saved = browser.post(f"/warehouses/{row['id']}/edit", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    assert _row(any_app, t.warehouses, code="WH-NORTH")["delivery_route"] == "ship_only"


def test_an_auditor_reads_products_but_may_not_edit_them(browser: TestClient,
                                                         shop: Shop) -> None:
    sign_in(browser, "auditor")
    assert browser.get("/products").status_code == 200
    assert browser.get("/products/new").status_code == 403
    assert browser.get(f"/customers/{shop.world.customers['rossi']}/edit").status_code == 403
